"""The 工单's states and the actions between them: one table, checked by the service for every change.

The closed loop follows 国办发〔2020〕53号 (受理、调度、办理、回复、督办、办结、回访、评价) and 国办函〔2025〕66号
(派单异议 → 退单/改派, 重复诉求并单, 110/119/120/122 即时转办, 诉讼/仲裁/复议/信访等告知法定途径)::

    受理 received ──派单──▶ 待签收 dispatched ──签收──▶ 办理中 handling ──答复──▶ 待评价 replied
       │   ▲                  │ 退单                    ▲  │ 延期 (approved; no state change)  │
       │   └── 改派/驳回 ◀── 退单审核 return_review     │  └───────────────────────────────┐ │评价
       ├─ 并单 → merged · 转办 → transferred · 告知法定途径 → referred                      ▼ ▼
       │                        重办中 rehandling ◀── 不满意 (first) ── 满意/未评 → 办结 closed
       │                        督办中 supervised ◀── 不满意 (second) or a supervisor's 督办
       └──────────────────────  督办中 ──整改──▶ 已整改 rectified ──确认──▶ 办结 closed
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    RETURN_REVIEW = "return_review"
    HANDLING = "handling"
    REPLIED = "replied"
    REHANDLING = "rehandling"
    SUPERVISED = "supervised"
    RECTIFIED = "rectified"
    CLOSED = "closed"
    MERGED = "merged"
    TRANSFERRED = "transferred"
    REFERRED = "referred"


STATE_LABELS = {
    State.RECEIVED: "已受理（待派单）",
    State.DISPATCHED: "已派单（待签收）",
    State.RETURN_REVIEW: "退单审核中",
    State.HANDLING: "办理中",
    State.REPLIED: "已答复（待评价）",
    State.REHANDLING: "重办中",
    State.SUPERVISED: "督办中",
    State.RECTIFIED: "已整改（待确认）",
    State.CLOSED: "已办结",
    State.MERGED: "已并单",
    State.TRANSFERRED: "已转办",
    State.REFERRED: "已告知法定途径",
}

TERMINAL = frozenset({State.CLOSED, State.MERGED, State.TRANSFERRED, State.REFERRED})
# States in which a department is working on the appeal (its handling clock runs).
WORKING = frozenset({State.HANDLING, State.REHANDLING, State.SUPERVISED})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[State]
    target: State | None  # None: the service decides (a rating goes to closed, rehandling or supervised)
    actor: str  # "dispatcher", "department", "enterprise", "supervisor", "system"


def _a(name: str, label: str, sources: set[State], target: State | None, actor: str) -> Action:
    return Action(name, label, frozenset(sources), target, actor)


_OPEN_BEFORE_HANDLING = {State.RECEIVED, State.DISPATCHED, State.RETURN_REVIEW}
ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("receive", "受理", set(), State.RECEIVED, "enterprise"),
    _a("dispatch", "派单", {State.RECEIVED}, State.DISPATCHED, "dispatcher"),
    _a("accept", "签收", {State.DISPATCHED}, State.HANDLING, "department"),
    _a("return", "退单", {State.DISPATCHED}, State.RETURN_REVIEW, "department"),
    _a("redispatch", "改派", {State.RETURN_REVIEW}, State.DISPATCHED, "dispatcher"),
    _a("reject_return", "驳回退单", {State.RETURN_REVIEW}, State.DISPATCHED, "dispatcher"),
    _a("merge", "并单", _OPEN_BEFORE_HANDLING, State.MERGED, "dispatcher"),
    _a("transfer", "转办", {State.RECEIVED}, State.TRANSFERRED, "dispatcher"),
    _a("refer", "告知法定途径", {State.RECEIVED}, State.REFERRED, "dispatcher"),
    _a("extend", "延期", set(WORKING), None, "supervisor"),
    _a("reply", "答复", {State.HANDLING, State.REHANDLING}, State.REPLIED, "department"),
    _a("rate", "评价", {State.REPLIED}, None, "enterprise"),
    _a("expire_rating", "评价期满办结", {State.REPLIED}, State.CLOSED, "system"),
    _a("supervise", "督办", {State.DISPATCHED, State.HANDLING, State.REHANDLING, State.REPLIED}, State.SUPERVISED,
       "supervisor"),
    _a("rectify", "整改", {State.SUPERVISED}, State.RECTIFIED, "department"),
    _a("confirm", "确认办结", {State.RECTIFIED}, State.CLOSED, "supervisor"),
    _a("reopen_rectify", "整改不到位", {State.RECTIFIED}, State.SUPERVISED, "supervisor"),
    _a("void_rating", "申诉复核：撤销评价", {State.REHANDLING, State.SUPERVISED, State.CLOSED}, None, "supervisor"),
)}


def allowed(action: str, state: State) -> bool:
    return state in ACTIONS[action].sources


def actions_from(state: State) -> list[Action]:
    """Every action possible from ``state`` (pages show the buttons the role may use)."""
    return [a for a in ACTIONS.values() if state in a.sources]


def is_open(state: State) -> bool:
    """Open311's open/closed: every state that is not terminal is open."""
    return state not in TERMINAL
