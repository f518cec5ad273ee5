"""The budget ledger: balanced, immutable journals; balances derived; nothing overdrawn (unit and property tests)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.db import make_engine, migrate
from qinqing.workflow import ledger
from qinqing.workflow.errors import InvalidAmount, LedgerError
from qinqing.workflow.ledger import Journal, Leg
from qinqing.workflow.money import fen, wan


def _fund(policy: str, amount: int, key: str = "f1") -> Journal:
    return Journal(key=f"fund:{policy}:{key}", kind="fund", policy_id=policy, actor="t",
                   legs=(Leg(ledger.funding_code(policy), -amount), Leg(ledger.budget_code(policy), amount)))


def _reserve(policy: str, uscc: str, amount: int, key: str) -> Journal:
    return Journal(key=key, kind="reserve", policy_id=policy, actor="t",
                   legs=(Leg(ledger.budget_code(policy), -amount), Leg(ledger.payable_code(policy, uscc), amount)))


def test_money_is_integer_fen_never_float() -> None:
    assert fen(Decimal("10.0001")) == 10_000_100 and wan(10_000_100) == Decimal("10.0001")
    with pytest.raises(InvalidAmount):
        fen(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        fen(Decimal("0.00000001"))


def test_an_unbalanced_journal_is_refused() -> None:
    with pytest.raises(LedgerError):
        Journal(key="k", kind="fund", policy_id="p", actor="t", legs=(Leg("budget:p", 5), Leg("funding:p", -4)))


def test_overdraw_replay_and_conflict(engine) -> None:
    with engine.begin() as conn:
        ledger.post_one(conn, _fund("p", 100))
        first = ledger.post_one(conn, _reserve("p", "E1", 60, "r1"))
        assert ledger.post_one(conn, _reserve("p", "E1", 60, "r1")) == first  # replay: the same journal
        with pytest.raises(LedgerError):
            ledger.post_one(conn, _reserve("p", "E1", 61, "r1"))  # same key, other content
        with pytest.raises(LedgerError) as error:
            ledger.post_one(conn, _reserve("p", "E2", 41, "r2"))  # only 40 left
        assert error.value.details["shortfall_fen"] == 1
        assert ledger.balance(conn, ledger.budget_code("p")) == 40
        assert ledger.verify_ledger(conn) == []


def test_entries_and_journals_refuse_update_and_delete(engine) -> None:
    with engine.begin() as conn:
        ledger.post_one(conn, _fund("p", 100))
    for statement in ("UPDATE workflow_entries SET amount_fen = 1", "DELETE FROM workflow_entries",
                      "UPDATE workflow_journals SET actor = 'x'", "DELETE FROM workflow_journals"):
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert ledger.balance(conn, ledger.budget_code("p")) == 100


@pytest.mark.postgres
def test_postgres_refuses_a_journal_that_does_not_sum_to_zero(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the balance trigger is PostgreSQL's")
    with engine.begin() as conn:
        ledger.post_one(conn, _fund("p", 100))
    with pytest.raises(sa.exc.DBAPIError, match="does not balance"), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO workflow_entries (journal_id, account_id, amount_fen, balance_after, "
                             "negative_allowed) VALUES (1, 2, 5, 105, false)")


# ---------------------------------------------------------------- property: any sequence keeps the invariants

OPS = st.lists(st.tuples(st.sampled_from(["fund", "reserve", "post", "void", "clawback", "return"]),
                         st.integers(0, 3), st.integers(1, 400)), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def property_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'l.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


_RUNS = iter(range(10**9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_of_commands_keeps_the_ledger_consistent(property_engine, ops) -> None:
    policy = f"p{next(_RUNS)}"
    pending: dict[int, tuple[int, str, int]] = {}  # reservation journal id → (amount, uscc, key number)
    posted: list[tuple[str, int]] = []
    model = {"budget": 0, "payable": 0, "paid": 0, "returned": 0, "funded": 0}
    for n, (op, who, amount) in enumerate(ops):
        uscc = f"E{who}"
        with property_engine.connect() as conn:
            tx = conn.begin()
            try:
                if op == "fund":
                    ledger.post_one(conn, _fund(policy, amount, str(n)))
                    model["funded"] += amount
                    model["budget"] += amount
                elif op == "reserve":
                    jid = ledger.post_one(conn, _reserve(policy, uscc, amount, f"{policy}:r{n}"))
                    pending[jid] = (amount, uscc, n)
                    model["budget"] -= amount
                    model["payable"] += amount
                elif op in ("post", "void") and pending:
                    jid, (reserved, owner, _k) = sorted(pending.items())[who % len(pending)]
                    paid = min(amount, reserved) if op == "post" else 0
                    legs = [Leg(ledger.payable_code(policy, owner), -reserved)]
                    if paid:
                        legs.append(Leg(ledger.paid_code(policy, owner), paid))
                    if reserved - paid:
                        legs.append(Leg(ledger.budget_code(policy), reserved - paid))
                    ledger.post_one(conn, Journal(key=f"{policy}:{op}{n}", kind=op, policy_id=policy, actor="t",
                                                  resolves=jid, legs=tuple(legs)))
                    del pending[jid]
                    model["payable"] -= reserved
                    model["paid"] += paid
                    model["budget"] += reserved - paid
                    if paid:
                        posted.append((owner, paid))
                elif op == "clawback" and posted:
                    owner, paid = posted.pop(who % len(posted))
                    ledger.post_one(conn, Journal(key=f"{policy}:c{n}", kind="clawback", policy_id=policy, actor="t",
                                                  legs=(Leg(ledger.paid_code(policy, owner), -paid),
                                                        Leg(ledger.returned_code(policy), paid))))
                    model["paid"] -= paid
                    model["returned"] += paid
                elif op == "return":  # a clawback larger than what was paid must be refused
                    with pytest.raises(LedgerError):
                        ledger.post_one(conn, Journal(
                            key=f"{policy}:x{n}", kind="clawback", policy_id=policy, actor="t",
                            legs=(Leg(ledger.paid_code(policy, uscc), -(10**9)),
                                  Leg(ledger.returned_code(policy), 10**9))))
                tx.commit()
            except LedgerError:
                tx.rollback()
                assert op == "reserve" and amount > model["budget"]  # only an overdraw is refused
    with property_engine.connect() as conn:
        assert ledger.verify_ledger(conn) == []
        totals = ledger.policy_totals(conn, [policy]).get(policy) or ledger.PolicyTotals(policy, 0, 0, 0, 0, 0)
    assert totals.balanced
    assert (totals.funded, totals.available, totals.reserved, totals.paid, totals.returned) == (
        model["funded"], model["budget"], model["payable"], model["paid"], model["returned"])
    assert min(totals.available, totals.reserved, totals.paid, totals.returned) >= 0
