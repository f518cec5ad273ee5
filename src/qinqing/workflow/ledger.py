"""The budget ledger: double-entry journals on the database, immutable, balances derived from the entries.

Accounts (one set per policy; ``E`` is the enterprise's USCC)::

    funding:P      the appropriation the budget comes from (the one account allowed below zero)
    budget:P       what is still available to award
    payable:P:E    reserved for the enterprise by an approval, not yet paid
    paid:P:E       paid to the enterprise's verified account
    returned:P     recovered by 追回 (clawback), not available again

A journal moves money between them and its entries sum to zero: ``fund`` funding→budget, ``reserve``
budget→payable (approval), ``post`` payable→paid (the bank confirmed; a partial post releases the rest to
budget in the same journal), ``void`` payable→budget (rejection after approval, decline, expiry),
``clawback`` paid→returned, ``bank_return`` paid→payable (the bank sent a paid transfer back). A post or a
void names the reservation it resolves, and the database lets a reservation be resolved once.

Concurrency: a journal takes row locks on every account it touches, in ascending id order, then reads
each account's latest ``balance_after`` and refuses to take one below zero. Every writer of an account
holds its lock, so the balance read is the committed one; the fixed order makes deadlocks impossible
among journals (callers lock their application rows first, in id order too). Each journal has a unique
``key``: posting a key again returns the journal already there (an idempotent replay), and a different
content under the same key is a conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from qinqing.workflow import bulk
from qinqing.workflow.errors import LedgerError
from qinqing.workflow.tables import accounts, entries, journals

KINDS = ("funding", "budget", "payable", "paid", "returned")


def funding_code(policy_id: str) -> str:
    return f"funding:{policy_id}"


def budget_code(policy_id: str) -> str:
    return f"budget:{policy_id}"


def payable_code(policy_id: str, uscc: str) -> str:
    return f"payable:{policy_id}:{uscc}"


def paid_code(policy_id: str, uscc: str) -> str:
    return f"paid:{policy_id}:{uscc}"


def returned_code(policy_id: str) -> str:
    return f"returned:{policy_id}"


@dataclass(frozen=True)
class Leg:
    account: str  # the account's code
    amount_fen: int  # + credit, − debit


@dataclass(frozen=True)
class Journal:
    key: str
    kind: str
    policy_id: str
    legs: tuple[Leg, ...]
    actor: str
    application_id: int | None = None
    payment_id: int | None = None
    resolves: int | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if sum(leg.amount_fen for leg in self.legs) != 0:
            raise LedgerError(f"账务分录不平衡：{self.key}", key=self.key)
        if any(type(leg.amount_fen) is not int or leg.amount_fen == 0 for leg in self.legs):
            raise LedgerError(f"分录金额须为非零整数（分）：{self.key}", key=self.key)


@dataclass
class Posted:
    """What ``post`` did: the journal id per key, and the keys that were already there (replays)."""

    ids: dict[str, int] = field(default_factory=dict)
    replayed: set[str] = field(default_factory=set)


def _kind_of(code: str) -> str:
    kind = code.split(":", 1)[0]
    if kind not in KINDS:
        raise LedgerError(f"未知的账户类型：{code}")
    return kind


def ensure_accounts(conn: Connection, codes: Iterable[str]) -> dict[str, int]:
    """The id of each account code, creating the missing ones."""
    return _ensure(conn, codes)[0]


def _ensure(conn: Connection, codes: Iterable[str]) -> tuple[dict[str, int], set[str]]:
    """The ids, and the codes this transaction created: no other transaction sees those before it commits
    (one inserting the same code waits on ours), so they need no lock and have no entries yet."""
    created: set[str] = set()
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for chunk in bulk.chunks(conn, wanted):
        found.update(conn.execute(select(accounts.c.code, accounts.c.id).where(bulk.among(conn, accounts.c.code, chunk))).all())
    missing = [c for c in wanted if c not in found]
    if missing:
        now = datetime.now(UTC)
        rows = []
        for code in missing:
            kind = _kind_of(code)
            parts = code.split(":")
            rows.append({"code": code, "kind": kind, "policy_id": parts[1], "uscc": parts[2] if len(parts) > 2 else None,
                         "negative_allowed": kind == "funding", "created_at": now})
        if conn.dialect.name == "postgresql":  # one statement, whatever the number of accounts
            created = set(conn.execute(text(
                "INSERT INTO workflow_accounts (code, kind, policy_id, uscc, negative_allowed, created_at) "
                "SELECT *, :now FROM unnest(CAST(:code AS text[]), CAST(:kind AS text[]), CAST(:policy AS text[]), "
                "CAST(:uscc AS text[]), CAST(:neg AS boolean[])) ON CONFLICT (code) DO NOTHING RETURNING code"),
                {"now": now, **{k: [r[c] for r in rows] for k, c in (("code", "code"), ("kind", "kind"), (
                    "policy", "policy_id"), ("uscc", "uscc"), ("neg", "negative_allowed"))}}).scalars())
        else:
            conn.execute(_insert_ignore(conn, accounts, ["code"]), rows)  # SQLite: one writer, no lock needed
        for chunk in bulk.chunks(conn, missing):
            found.update(conn.execute(select(accounts.c.code, accounts.c.id)
                                      .where(bulk.among(conn, accounts.c.code, chunk))).all())
    return found, created


def post(conn: Connection, batch: Sequence[Journal]) -> Posted:
    """Write ``batch`` in the caller's transaction, all or nothing.

    A key already in the ledger with the same content is a replay (its id is returned, nothing written);
    with other content, or a balance that would go below zero, or a reservation resolved twice, raises
    LedgerError and the caller's transaction must be rolled back."""
    result = Posted()
    if not batch:
        return result
    keys = [j.key for j in batch]
    if len(set(keys)) != len(keys):
        raise LedgerError("同一批次中账务键重复。")
    ids, created = _ensure(conn, (leg.account for j in batch for leg in j.legs))
    lock_accounts(conn, (i for code, i in ids.items() if code not in created))
    existing = _existing(conn, keys)
    fresh = []
    for journal in batch:
        if journal.key in existing:
            _same_or_raise(conn, journal, existing[journal.key], ids)
            result.ids[journal.key] = existing[journal.key]
            result.replayed.add(journal.key)
        else:
            fresh.append(journal)
    if not fresh:
        return result
    touched = {leg.account for j in fresh for leg in j.legs}
    balances = dict.fromkeys((ids[c] for c in touched), 0)
    balances.update(latest_balances(conn, (ids[c] for c in touched if c not in created)))
    negative_ok = {ids[c]: _kind_of(c) == "funding" for c in touched}  # as ensure_accounts created them
    entry_rows: list[dict] = []
    for journal in fresh:
        for leg in journal.legs:
            account_id = ids[leg.account]
            balances[account_id] += leg.amount_fen
            if balances[account_id] < 0 and not negative_ok[account_id]:
                raise LedgerError(
                    f"账户 {leg.account} 余额不足：还差 {-balances[account_id]} 分。",
                    account=leg.account, shortfall_fen=-balances[account_id], key=journal.key)
            entry_rows.append({"key": journal.key, "account_id": account_id, "amount_fen": leg.amount_fen,
                               "balance_after": balances[account_id], "negative_allowed": negative_ok[account_id]})
    now = datetime.now(UTC)
    journal_rows = [{"key": j.key, "kind": j.kind, "policy_id": j.policy_id, "application_id": j.application_id,
                     "payment_id": j.payment_id, "resolves": j.resolves, "actor": j.actor, "reason": j.reason,
                     "created_at": now} for j in fresh]
    new_ids = dict(zip((j.key for j in fresh), bulk.insert_with_ids(conn, journals, journal_rows)))
    for row in entry_rows:
        row["journal_id"] = new_ids[row.pop("key")]
    bulk.insert_rows(conn, entries, entry_rows)
    result.ids.update(new_ids)
    return result


def post_one(conn: Connection, journal: Journal) -> int:
    return post(conn, [journal]).ids[journal.key]


def lock_accounts(conn: Connection, account_ids: Iterable[int]) -> None:
    """Row locks on the accounts, in ascending id order (no-op on SQLite, whose writer lock serialises)."""
    ordered = sorted(set(account_ids))
    if conn.dialect.name != "postgresql" or not ordered:
        return
    conn.execute(select(accounts.c.id).where(bulk.among(conn, accounts.c.id, ordered)).order_by(accounts.c.id)
                 .with_for_update())


def latest_balances(conn: Connection, account_ids: Iterable[int]) -> dict[int, int]:
    """Each account's balance: its latest entry's ``balance_after`` (0 without entries)."""
    wanted = sorted(set(account_ids))
    out = dict.fromkeys(wanted, 0)
    for chunk in bulk.chunks(conn, wanted):
        latest = (select(entries.c.account_id, func.max(entries.c.id).label("id"))
                  .where(bulk.among(conn, entries.c.account_id, chunk)).group_by(entries.c.account_id).subquery())
        rows = conn.execute(select(entries.c.account_id, entries.c.balance_after)
                            .join(latest, entries.c.id == latest.c.id)).all()
        out.update(dict(rows))
    return out


def balance(conn: Connection, code: str) -> int:
    account_id = conn.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar()
    if account_id is None:
        return 0
    return latest_balances(conn, [account_id])[account_id]


@dataclass(frozen=True)
class PolicyTotals:
    """A policy's money in 分: funded = available + reserved + paid + returned."""

    policy_id: str
    funded: int
    available: int
    reserved: int
    paid: int
    returned: int

    @property
    def balanced(self) -> bool:
        return self.funded == self.available + self.reserved + self.paid + self.returned


def policy_totals(conn: Connection, policy_ids: Iterable[str] | None = None) -> dict[str, PolicyTotals]:
    """Every policy's totals by account kind (sums of the latest balances)."""
    latest = select(entries.c.account_id, func.max(entries.c.id).label("id")).group_by(entries.c.account_id).subquery()
    query = (select(accounts.c.policy_id, accounts.c.kind, func.sum(entries.c.balance_after))
             .select_from(accounts.join(latest, latest.c.account_id == accounts.c.id)
                          .join(entries, entries.c.id == latest.c.id))
             .group_by(accounts.c.policy_id, accounts.c.kind))
    if policy_ids is not None:
        query = query.where(accounts.c.policy_id.in_(list(policy_ids)))
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    for policy_id, kind, total in conn.execute(query).all():
        sums[policy_id][kind] = int(total or 0)
    return {p: PolicyTotals(p, -s["funding"], s["budget"], s["payable"], s["paid"], s["returned"])
            for p, s in sorted(sums.items())}


def verify_ledger(conn: Connection) -> list[str]:
    """The history checker: every journal sums to zero, every account's ``balance_after`` is the running sum
    of its entries in order, no balance below zero unless allowed, the whole ledger sums to zero, and no
    reservation is resolved twice. Returns the problems found (empty = consistent)."""
    problems: list[str] = []
    for journal_id, total in conn.execute(
            select(entries.c.journal_id, func.sum(entries.c.amount_fen)).group_by(entries.c.journal_id)
            .having(func.sum(entries.c.amount_fen) != 0)).all():
        problems.append(f"journal {journal_id} sums to {total}")
    negative_ok = dict(conn.execute(select(accounts.c.id, accounts.c.negative_allowed)).all())
    running: dict[int, int] = defaultdict(int)
    grand = 0
    for account_id, amount, after in conn.execute(
            select(entries.c.account_id, entries.c.amount_fen, entries.c.balance_after).order_by(entries.c.id)):
        running[account_id] += amount
        grand += amount
        if running[account_id] != after:
            problems.append(f"account {account_id}: balance_after {after} but entries sum to {running[account_id]}")
        if after < 0 and not negative_ok.get(account_id, False):
            problems.append(f"account {account_id} below zero: {after}")
    if grand != 0:
        problems.append(f"the ledger sums to {grand}")
    twice = conn.execute(select(journals.c.resolves).where(journals.c.resolves.is_not(None))
                         .group_by(journals.c.resolves).having(func.count() > 1)).scalars().all()
    problems += [f"reservation {r} resolved more than once" for r in twice]
    return problems


def _existing(conn: Connection, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in bulk.chunks(conn, keys):
        found.update(conn.execute(select(journals.c.key, journals.c.id).where(bulk.among(conn, journals.c.key, chunk))).all())
    return found


def _same_or_raise(conn: Connection, journal: Journal, journal_id: int, ids: dict[str, int]) -> None:
    stored = conn.execute(select(journals.c.kind).where(journals.c.id == journal_id)).scalar()
    legs = sorted(conn.execute(select(entries.c.account_id, entries.c.amount_fen)
                               .where(entries.c.journal_id == journal_id)).all())
    wanted = sorted((ids[leg.account], leg.amount_fen) for leg in journal.legs)
    if stored != journal.kind or [tuple(r) for r in legs] != wanted:
        raise LedgerError(f"账务键 {journal.key} 已用于内容不同的分录。", key=journal.key)


def _insert_ignore(conn: Connection, table, keys: list[str]):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
