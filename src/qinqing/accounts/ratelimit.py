"""Login rate limit: failed attempts are recorded in the database and counted over a sliding window,
per username and per client address, so the limit holds across workers and restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.engine import Connection

from qinqing.accounts.errors import LoginRateLimited
from qinqing.accounts.tables import login_attempts


@dataclass(frozen=True)
class LoginLimits:
    window: timedelta = timedelta(minutes=15)
    per_username: int = 5
    per_client: int = 30


def check_allowed(conn: Connection, username: str, client: str, limits: LoginLimits, now: datetime) -> None:
    since = now - limits.window
    failed = and_(login_attempts.c.succeeded.is_(False), login_attempts.c.attempted_at >= since)
    by_user = conn.execute(
        select(func.count()).where(failed, login_attempts.c.username == username)
    ).scalar_one()
    by_client = conn.execute(select(func.count()).where(failed, login_attempts.c.client == client)).scalar_one()
    if by_user >= limits.per_username or by_client >= limits.per_client:
        minutes = int(limits.window.total_seconds() // 60)
        raise LoginRateLimited(
            f"登录失败次数过多，请 {minutes} 分钟后再试。", username=username, retry_after_seconds=minutes * 60
        )


def record(conn: Connection, username: str, client: str, succeeded: bool, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    conn.execute(
        insert(login_attempts).values(username=username, client=client, attempted_at=now, succeeded=succeeded)
    )
    if succeeded:
        # A successful login clears the user's failures, so a typo earlier today does not count later.
        conn.execute(
            delete(login_attempts).where(
                login_attempts.c.username == username, login_attempts.c.succeeded.is_(False)
            )
        )
