"""Login rate limit: slows a password guesser without letting anyone lock an account's owner out.

Three counters of failed logins, in the database so they hold across workers and restarts:

- per (account, client address): ``per_pair`` failures are free, then each failure doubles the wait
  before the next attempt from that address (``backoff``, 2×, 4×, … up to ``max_backoff``); a success
  clears it. Failures from one address never delay the owner on another.
- per client address, across accounts (password spraying): ``per_client`` free, then the same back-off.
- per account, from any address: past ``per_account`` failures the account is under attack and every
  (account, address) pair backs off after its *first* failure. This ceiling only slows: a first
  attempt from an address with no failures is always checked, so the owner can still log in.

A counter forgets its failures after ``window`` without one. :func:`reserve` charges the attempt to
all three counters *before* the password is checked, in one transaction whose updates are
compare-and-swap on a version column (rows locked ``FOR UPDATE`` on PostgreSQL, the write lock on
SQLite): concurrent attempts cannot all pass a check made before any of them is counted.
:func:`settle` then clears or refunds the charge and writes the audit row (``login_attempts``).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from qinqing.accounts.errors import LoginBusy, LoginRateLimited
from qinqing.accounts.tables import login_attempts, login_throttle

AUDIT_RETENTION = timedelta(days=30)
PRUNE_BATCH = 100  # rows deleted at most per login: pruning keeps up without making any login slow
AUDIT_TEXT_LIMIT = 64  # the audit columns are VARCHAR(64)
MAX_RETRIES = 20


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta = timedelta(hours=1)
    per_pair: int = 5
    per_client: int = 30
    per_account: int = 20
    backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Reservation:
    """One login attempt charged to its counters, to be settled once the password is checked."""

    username: str
    client: str
    pair: str
    account: str
    client_key: str


def _key(kind: str, *parts: str) -> str:
    return hashlib.sha256("\0".join((kind, *parts)).encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value  # SQLite: naive


def _effective(row, limits: LoginLimits, now: datetime) -> int:
    last = _aware(row["last_failure_at"])
    return 0 if last is None or now - last > limits.window else row["failures"]


def wait_after(failures: int, free: int, limits: LoginLimits) -> timedelta:
    """How long after the last failure the next attempt waits: nothing up to ``free`` failures, then
    ``backoff`` doubled per further failure, at most ``max_backoff`` (and never beyond the window)."""
    if failures <= 0 or failures < free:
        return timedelta(0)
    exponent = min(failures - max(free, 1), 30)
    return min(limits.backoff * 2**exponent, limits.max_backoff, limits.window)


def _wait_text(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def _insert_missing(conn: Connection, keys: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the store is SQLite or PostgreSQL
        raise NotImplementedError(f"login throttle on {conn.dialect.name}")
    rows = [{"key": k, "failures": 0, "last_failure_at": None, "version": 0} for k in keys]
    conn.execute(dialect_insert(login_throttle).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def reserve(engine: Engine, username: str, client: str, limits: LoginLimits, now: datetime) -> Reservation:
    """Charge one attempt to the counters of ``username`` (already normalised) and ``client``, or raise
    LoginRateLimited (nothing charged) if the attempt must wait."""
    reservation = Reservation(username, client, _key("pair", username, client), _key("account", username),
                              _key("client", client))
    keys = sorted({reservation.pair, reservation.account, reservation.client_key})
    for _ in range(MAX_RETRIES):
        with engine.connect() as conn, conn.begin() as transaction:
            if _charge(conn, reservation, keys, limits, now):
                return reservation
            transaction.rollback()  # another attempt changed a counter between our read and update: again
    raise LoginBusy()


def _charge(conn: Connection, r: Reservation, keys: list[str], limits: LoginLimits, now: datetime) -> bool:
    """Charge the attempt (True), or find a counter changed under us (False: roll back and retry)."""
    _insert_missing(conn, keys)
    rows = {row["key"]: row for row in conn.execute(
        select(login_throttle).where(login_throttle.c.key.in_(keys)).order_by(login_throttle.c.key).with_for_update()
    ).mappings()}
    if len(rows) != len(keys):
        return False  # pruned between insert and select
    failures = {k: _effective(rows[k], limits, now) for k in keys}
    under_attack = failures[r.account] >= limits.per_account
    for key, free in ((r.pair, 0 if under_attack else limits.per_pair), (r.client_key, limits.per_client)):
        last = _aware(rows[key]["last_failure_at"])
        wait = wait_after(failures[key], free, limits)
        if wait and now < last + wait:
            remaining = (last + wait - now).total_seconds()
            raise LoginRateLimited(f"登录失败次数过多，请 {_wait_text(remaining)}后再试。",
                                   retry_after_seconds=max(1, math.ceil(remaining)))
    for key in keys:
        changed = conn.execute(
            update(login_throttle)
            .where(login_throttle.c.key == key, login_throttle.c.version == rows[key]["version"])
            .values(failures=failures[key] + 1, last_failure_at=now, version=rows[key]["version"] + 1)
        ).rowcount
        if changed != 1:
            return False
    return True


def settle(engine: Engine, r: Reservation, succeeded: bool | None, limits: LoginLimits,
           now: datetime | None = None) -> None:
    """After the check: a success clears the (account, address) counter and refunds the others; None (the
    password was not checked at all) refunds all three; a failure keeps the charge. Writes the audit row,
    then prunes old audit and counter rows, a bounded batch at a time."""
    now = now or datetime.now(UTC)
    if succeeded is True:
        changes = {r.pair: "clear", r.account: "refund", r.client_key: "refund"}
    elif succeeded is None:
        changes = {r.pair: "refund", r.account: "refund", r.client_key: "refund"}
    else:
        changes = {}
    c = login_throttle.c
    with engine.begin() as conn:
        for key in sorted(changes):  # the order reserve() locks them in: no deadlock between the two
            if changes[key] == "clear":
                conn.execute(update(login_throttle).where(c.key == key).values(failures=0, version=c.version + 1))
            else:
                conn.execute(update(login_throttle).where(c.key == key, c.failures > 0)
                             .values(failures=c.failures - 1, version=c.version + 1))
        if succeeded is not None:
            record(conn, r.username, r.client, succeeded, now)
    with engine.begin() as conn:
        prune(conn, now, limits.window)


def record(conn: Connection, username: str, client: str, succeeded: bool, now: datetime | None = None) -> None:
    """The audit row of one checked login; username and client are cut to their column's 64 characters."""
    now = now or datetime.now(UTC)
    conn.execute(insert(login_attempts).values(username=username[:AUDIT_TEXT_LIMIT], client=client[:AUDIT_TEXT_LIMIT],
                                               attempted_at=now, succeeded=succeeded))


def prune(conn: Connection, now: datetime, window: timedelta) -> None:
    """Delete at most PRUNE_BATCH audit rows older than AUDIT_RETENTION and as many counters idle for
    longer than ``window`` (such a counter counts as zero anyway). Counter rows another login holds are
    skipped (SKIP LOCKED on PostgreSQL), so pruning never waits for or deadlocks with a login."""
    a, t = login_attempts.c, login_throttle.c
    old = select(a.id).where(a.attempted_at < now - AUDIT_RETENTION).order_by(a.attempted_at).limit(PRUNE_BATCH)
    conn.execute(delete(login_attempts).where(a.id.in_(old.scalar_subquery())))
    idle = (select(t.key).where(t.last_failure_at < now - window).order_by(t.last_failure_at).limit(PRUNE_BATCH)
            .with_for_update(skip_locked=True))
    conn.execute(delete(login_throttle).where(t.key.in_(idle.scalar_subquery())))
