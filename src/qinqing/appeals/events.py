"""The appeals piece's domain events (written to the outbox by ``AppealService`` in the change's transaction)."""

from __future__ import annotations

from qinqing.events import Event


class AppealReceived(Event, type="appeals.received"):
    """A 工单 was taken in (受理), from the portal, a phone call, the API or Open311."""

    appeal_id: int
    number: str
    channel: str
    kind: str
    category: str | None
    region_code: str

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"


class AppealStateChanged(Event, type="appeals.state_changed"):
    """An action moved a 工单 between states (派单, 签收, 退单, 改派, 答复, 评价, 重办, 督办, 办结, …)."""

    appeal_id: int
    action: str
    from_state: str
    to_state: str
    department: str | None = None

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"


class AppealRated(Event, type="appeals.rated"):
    """The enterprise (or an officer's 回访 call) rated a reply on the five 好差评 levels."""

    appeal_id: int
    round: int
    level: int
    resolved: bool | None = None

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"


class DeadlineWarned(Event, type="appeals.deadline_warned"):
    """催办: a time limit is about to expire."""

    appeal_id: int
    deadline_id: int
    clock: str
    department: str | None = None

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"


class DeadlineEscalated(Event, type="appeals.deadline_escalated"):
    """A time limit expired: level 1 (催办通知书) the day after, level 2 (通报) later still overdue."""

    appeal_id: int
    deadline_id: int
    clock: str
    level: int
    department: str | None = None

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"


class ExtensionDecided(Event, type="appeals.extension_decided"):
    """A 延期 request was approved or rejected; an approval moves the deadline and tells the enterprise."""

    appeal_id: int
    extension_id: int
    approved: bool
    working_days: int

    @property
    def subject(self) -> str:
        return f"appeal:{self.appeal_id}"
