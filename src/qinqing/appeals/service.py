"""接诉即办 operations: intake, dispatch, 签收, 退单/改派, 并单, 转办, 延期, 答复, 评价, 重办, 督办, 整改, 办结.

Every change runs in one transaction that checks the appeal's state with a compare-and-swap (an action not
allowed from the current state, or a state changed meanwhile, is ``IllegalTransition``: a 409), writes an
``appeals_updates`` row, emits the domain event and appends the audit row. The CLI, the web pages, the JSON
API and Open311 all call these methods; none of them touches the tables.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from qinqing import audit, events
from qinqing.accounts.authz import Principal, Role
from qinqing.appeals import clocks
from qinqing.appeals import events as appeal_events
from qinqing.appeals.config import (
    CLOCKS,
    KINDS,
    AppealsConfig,
    default_config,
    default_text,
    parse_config,
    text_hash,
)
from qinqing.appeals.errors import AppealForbidden, AppealNotFound, IllegalTransition, InvalidAppeal
from qinqing.appeals.states import ACTIONS, STATE_LABELS, TERMINAL, WORKING, State
from qinqing.appeals.tables import (
    appeals,
    assignments,
    attachments,
    config_revisions,
    deadlines,
    duplicates,
    extensions,
    ratings,
    updates,
)
from qinqing.appeals.text import Classifier, TfIdf, appeal_tokens, cosine
from qinqing.appeals.views import (
    MASKED,
    AppealView,
    DeadlineView,
    RatingView,
    UpdateView,
    actor_name,
    actor_role,
    aware,
    is_dispatcher,
    is_supervisor,
    may_see_identity,
)
from qinqing.appeals.workdays import CHINA
from qinqing.registry.standards import regions
from qinqing.registry.standards import uscc as uscc_standard

MAX_DESCRIPTION = 4000  # Open311's limit, used for every channel
MAX_ATTACHMENT_BYTES = 512 * 1024
_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")

audit.register_labels(
    actions={f"appeal.{a.name}": a.label for a in ACTIONS.values()}
    | {"appeal.accept_assist": "协办签收", "appeal.request_extension": "申请延期", "appeal.reject_extension": "驳回延期",
       "appeal.request_review": "申请评价复核", "appeal.uphold_rating": "复核维持评价", "appeal.clock": "时限提醒",
       "appeals.config_load": "更新派单目录"},
    object_types={"appeal": "诉求工单", "appeals_config": "派单目录"},
)


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    data: bytes


class AppealInput(BaseModel):
    """What an intake carries, whatever the channel (the portal form, an officer's phone record, the API)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = "complaint"
    category: str | None = None
    title: str = Field(default="", max_length=200)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    region_code: str | None = None
    policy_ref: str | None = Field(default=None, max_length=128)
    application_ref: str | None = Field(default=None, max_length=128)
    disclose_identity: bool = False
    confidential: bool = False
    public: bool = False
    uscc: str | None = None  # the caller's enterprise when an officer records a call or an integration posts
    enterprise_name: str | None = Field(default=None, max_length=200)
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=32)
    contact_email: str | None = Field(default=None, max_length=128)
    address_string: str | None = Field(default=None, max_length=256)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    attachments: list[Attachment] = []

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"诉求类型应为 {'、'.join(f'{k}（{v}）' for k, v in KINDS.items())} 之一")
        return value

    @field_validator("category", "region_code", "policy_ref", "application_ref", "uscc", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


@dataclass(frozen=True)
class Intake:
    appeal: AppealView
    dispatched: bool
    duplicates: tuple[dict, ...]
    hint: str | None  # why it waits for the desk (unclassified, a transfer or legal-route keyword, a duplicate)


@dataclass
class _Change:
    """One state change being written: the appeal row as read, and what the service adds to it."""

    row: RowMapping
    action: str
    to_state: State
    values: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


class AppealService:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock
        self._classifier: tuple[int, Classifier | None] | None = None

    # --- configuration ------------------------------------------------------------------------------

    def config(self, connection: Connection | None = None) -> AppealsConfig:
        return self._config(connection)[1]

    def _config(self, connection: Connection | None = None) -> tuple[int | None, AppealsConfig]:
        if connection is None:
            with self.engine.connect() as conn:
                return self._config(conn)
        row = connection.execute(select(config_revisions.c.id, config_revisions.c.text)
                                 .order_by(config_revisions.c.id.desc()).limit(1)).first()
        if row is None:
            return None, default_config()
        return row.id, _parsed(row.id, row.text)

    def load_config(self, principal: Principal, text: str, *, file: str = "appeals.yaml") -> int:
        """Store a new revision of the configuration (supervisors and admins); returns its id."""
        if not is_supervisor(principal):
            raise AppealForbidden("只有督查人员或管理员可以更新派单目录。")
        config = parse_config(text, file=file)
        with self.engine.begin() as connection:
            revision = int(connection.execute(insert(config_revisions).values(
                text=text, sha256=text_hash(text), note=config.revision_note[:256] or None,
                loaded_by=principal.username, loaded_at=self.clock())).inserted_primary_key[0])
            audit.record(connection, actor=principal.username, action="appeals.config_load",
                         object_type="appeals_config", object_id=revision, after={"sha256": text_hash(text)},
                         reason=config.revision_note or None)
        return revision

    def config_text(self) -> str:
        with self.engine.connect() as connection:
            row = connection.execute(select(config_revisions.c.text).order_by(config_revisions.c.id.desc())
                                     .limit(1)).first()
        return row.text if row is not None else default_text()

    # --- intake -------------------------------------------------------------------------------------

    def submit(self, principal: Principal, data: AppealInput | dict, *, channel: str | None = None) -> Intake:
        """受理: an enterprise files (portal or API), an officer records a call, an integration posts.

        The appeal is dispatched at once when its category is known (given, or suggested with a confidence
        at or above the threshold) and nothing asks for the desk's eye: a transfer or legal-route keyword,
        or a likely duplicate (which the desk may merge — it is never merged automatically)."""
        data = _validated(data)
        if _HTML_TAG.search(data.description):
            raise InvalidAppeal("诉求描述不能包含 HTML 标签。", field="description")
        now = self.clock()
        with self.engine.begin() as connection:
            revision, config = self._config(connection)
            channel = channel or ("portal" if principal.role is Role.ENTERPRISE else "phone")
            uscc, name = self._filer(connection, principal, data)
            region = self._region(connection, data, uscc, config)
            if data.category is not None and config.category(data.category) is None:
                raise InvalidAppeal(f"未知的诉求分类 {data.category}。", field="category")
            title = data.title or data.description[:30]
            suggestion = None if data.category else self._suggest(connection, config, title, data.description)
            category = data.category or (suggestion.category if suggestion
                                         and suggestion.confidence >= config.classifier.threshold else None)
            category_config = config.category(category) if category else None
            values = dict(
                number=None, token=secrets.token_hex(8), channel=channel, kind=data.kind, category=category,
                suggested_category=suggestion.category if suggestion else None,
                suggestion_confidence=suggestion.confidence if suggestion else None,
                dispatch_class=category_config.dispatch_class if category_config else "normal",
                region_code=region, title=title, description=data.description, uscc=uscc, enterprise_name=name,
                contact_name=data.contact_name, contact_phone=data.contact_phone,
                contact_email=data.contact_email, disclose_identity=data.disclose_identity and not data.confidential,
                confidential=data.confidential, public=data.public and not data.confidential,
                policy_ref=data.policy_ref, application_ref=data.application_ref,
                address_string=data.address_string, lat=data.lat, long=data.long, state=State.RECEIVED.value,
                lead_department=None, owner_department=config.dispatch_office, rehandle_count=0,
                merged_into=None, transfer_target=None, legal_route=None, reply_text=None,
                config_revision=revision, created_by=principal.username, created_at=now, updated_at=now)
            appeal_id = int(connection.execute(insert(appeals).values(**values)).inserted_primary_key[0])
            number = f"{now.astimezone(CHINA).strftime('%Y%m%d')}{appeal_id:06d}"
            connection.execute(update(appeals).where(appeals.c.id == appeal_id).values(number=number))
            for item in data.attachments:
                self._attach(connection, appeal_id, item, now)
            note = "已受理，工单编号 " + number
            self._log(connection, appeal_id, principal, config, "receive", None, State.RECEIVED, note, True)
            clocks.start(connection, config, appeal_id=appeal_id, clock="dispatch", at=now,
                         limit=config.time_limit("dispatch", dispatch_class=values["dispatch_class"],
                                                 kind=data.kind, channel=channel),
                         department=config.dispatch_office)
            events.emit(connection, appeal_events.AppealReceived(
                appeal_id=appeal_id, number=number, channel=channel, kind=data.kind, category=category,
                region_code=region), actor=principal.username)
            audit.record(connection, actor=principal.username, action="appeal.receive", object_type="appeal",
                         object_id=appeal_id, after={"state": State.RECEIVED.value, "number": number,
                                                     "sha256": hashlib.sha256(data.description.encode()).hexdigest()})
            found = self._find_duplicates(connection, config, appeal_id, now)
            hint = self._hold_reason(config, category, title + data.description, found)
            dispatched = False
            if hint is None:
                self._dispatch(connection, config, self._row(connection, appeal_id), None, category=category,
                               lead=None, assisting=None, note="按派单目录自动派单" + (
                                   f"（系统分类建议，置信度 {suggestion.confidence:.2f}）" if suggestion else ""))
                dispatched = True
        return Intake(self.get(principal, appeal_id), dispatched, tuple(found), hint)

    def _filer(self, connection: Connection, principal: Principal, data: AppealInput) -> tuple[str | None, str | None]:
        if principal.role is Role.ENTERPRISE:
            if not principal.uscc:
                raise AppealForbidden("企业账户未绑定统一社会信用代码，无法提交诉求。")
            return principal.uscc, data.enterprise_name or principal.display_name
        if data.uscc is not None:
            problem = uscc_standard.check(data.uscc)
            if problem:
                raise InvalidAppeal(f"统一社会信用代码有误：{problem}", field="uscc")
        if data.uscc is None and data.enterprise_name is None:
            raise InvalidAppeal("请填写来电企业的统一社会信用代码或名称。", field="uscc")
        return data.uscc, data.enterprise_name

    def _region(self, connection: Connection, data: AppealInput, uscc: str | None, config: AppealsConfig) -> str:
        if data.region_code is not None:
            if not regions.is_valid(data.region_code):
                raise InvalidAppeal(f"行政区划代码 {data.region_code} 不在 GB/T 2260 现行代码中。", field="region_code")
            return data.region_code
        if uscc is not None:
            from qinqing.registry.store import get_enterprise

            enterprise = get_enterprise(connection, uscc)
            if enterprise and enterprise.get("region_code"):
                return enterprise["region_code"]
        return config.open311.default_region

    def _attach(self, connection: Connection, appeal_id: int, item: Attachment, now: datetime) -> None:
        if len(item.data) > MAX_ATTACHMENT_BYTES:
            raise InvalidAppeal(f"附件 {item.filename} 超过 {MAX_ATTACHMENT_BYTES // 1024} KiB。", field="attachments")
        connection.execute(insert(attachments).values(
            appeal_id=appeal_id, filename=item.filename, content_type=item.content_type, size=len(item.data),
            sha256=hashlib.sha256(item.data).hexdigest(), data=item.data, created_at=now))

    def _hold_reason(self, config: AppealsConfig, category: str | None, text: str, found: list[dict]) -> str | None:
        hint = transfer_hint(config, text)
        if hint is not None:
            return f"疑似{hint['name']}事项（{hint['target']}），请派单席确认"
        route = legal_hint(config, text)
        if route is not None:
            return f"疑似应通过{route['name']}途径解决的事项，请派单席确认"
        if found:
            return f"发现 {len(found)} 件疑似重复诉求，请派单席确认是否并单"
        if category is None:
            return "未能自动分类，待人工派单"
        return None

    # --- duplicates and the classifier ----------------------------------------------------------------

    def _find_duplicates(self, connection: Connection, config: AppealsConfig, appeal_id: int,
                         now: datetime) -> list[dict]:
        """Same enterprise, or same category and city, within the window, open or recent: similar text
        (TF-IDF cosine ≥ threshold) is proposed for 并单. Nothing is merged."""
        row = self._row(connection, appeal_id)
        since = now - timedelta(days=config.duplicates.window_days)
        same = [appeals.c.uscc == row["uscc"]] if row["uscc"] else []
        if row["category"]:
            same.append(and_(appeals.c.category == row["category"],
                             func.substr(appeals.c.region_code, 1, 4) == row["region_code"][:4]))
        if not same:
            return []
        candidates = connection.execute(
            select(appeals.c.id, appeals.c.number, appeals.c.title, appeals.c.description, appeals.c.uscc,
                   appeals.c.state)
            .where(appeals.c.id != appeal_id, appeals.c.created_at >= since, or_(*same),
                   appeals.c.state.notin_([State.MERGED.value, State.TRANSFERRED.value, State.REFERRED.value]))
            .order_by(appeals.c.id.desc()).limit(500)).mappings().all()
        if not candidates:
            return []
        corpus = connection.execute(select(appeals.c.title, appeals.c.description)
                                    .where(appeals.c.created_at >= since).order_by(appeals.c.id.desc())
                                    .limit(2000)).all()
        vectoriser = TfIdf([appeal_tokens(t, d) for t, d in corpus])
        mine = vectoriser.sparse(appeal_tokens(row["title"], row["description"]))
        found = []
        for candidate in candidates:
            score = cosine(mine, vectoriser.sparse(appeal_tokens(candidate["title"], candidate["description"])))
            if score >= config.duplicates.threshold:
                basis = "same_enterprise" if row["uscc"] and candidate["uscc"] == row["uscc"] else "same_category_region"
                connection.execute(insert(duplicates).values(
                    appeal_id=appeal_id, candidate_id=candidate["id"], score=round(score, 4), basis=basis,
                    status="proposed", created_at=now, decided_by=None))
                found.append({"candidate_id": candidate["id"], "number": candidate["number"],
                              "title": candidate["title"], "score": round(score, 3), "basis": basis})
        return sorted(found, key=lambda f: -f["score"])[:5]

    def training_items(self, connection: Connection | None = None) -> tuple[list[list[str]], list[str]]:
        """The platform's own dispatched items and their final category (改派 corrects it), oldest first."""
        if connection is None:
            with self.engine.connect() as conn:
                return self.training_items(conn)
        rows = connection.execute(
            select(appeals.c.title, appeals.c.description, appeals.c.category)
            .where(appeals.c.dispatched_at.is_not(None), appeals.c.category.is_not(None))
            .order_by(appeals.c.id)).all()
        return [appeal_tokens(r.title, r.description) for r in rows], [r.category for r in rows]

    def classifier(self, connection: Connection | None = None) -> Classifier | None:
        """The dispatch classifier, retrained when the number of dispatched items changed."""
        if connection is None:
            with self.engine.connect() as conn:
                return self.classifier(conn)
        count = connection.execute(select(func.count()).select_from(appeals).where(
            appeals.c.dispatched_at.is_not(None), appeals.c.category.is_not(None))).scalar_one()
        if self._classifier is not None and self._classifier[0] == count:
            return self._classifier[1]
        config = self.config(connection)
        model = None
        if count >= config.classifier.min_training_items:
            tokens, labels = self.training_items(connection)
            if len(set(labels)) >= 2:
                model = Classifier.train(tokens, labels)
        self._classifier = (count, model)
        return model

    def _suggest(self, connection: Connection, config: AppealsConfig, title: str, description: str):
        model = self.classifier(connection)
        return model.suggest(appeal_tokens(title, description)) if model is not None else None

    def suggest(self, principal: Principal, appeal_id: int) -> dict:
        """The classifier's suggestion for an appeal (the desk's view of an unclassified item)."""
        view = self.get(principal, appeal_id)
        model = self.classifier()
        if model is None:
            return {"category": None, "confidence": None, "ranked": [], "trained_on": 0}
        suggestion = model.suggest(appeal_tokens(view.title, view.description))
        return {"category": suggestion.category, "confidence": round(suggestion.confidence, 3),
                "ranked": [(c, round(p, 3)) for c, p in suggestion.ranked[:3]], "trained_on": model.trained_on}

    # --- dispatch ------------------------------------------------------------------------------------

    def dispatch(self, principal: Principal, appeal_id: int, *, category: str, lead: str | None = None,
                 assisting: list[str] | None = None, note: str | None = None) -> AppealView:
        """派单 by the desk: the catalogue's 主办/协办 for the category and region unless named."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            self._require_desk(principal, config)
            row = self._row(connection, appeal_id)
            self._check("dispatch", row)
            self._dispatch(connection, config, row, principal, category=category, lead=lead, assisting=assisting,
                           note=note)
        return self.get(principal, appeal_id)

    def _dispatch(self, connection: Connection, config: AppealsConfig, row: RowMapping, principal: Principal | None,
                  *, category: str | None, lead: str | None, assisting: list[str] | None, note: str | None,
                  action: str = "dispatch") -> None:
        category_config = config.category(category) if category else None
        if category_config is None:
            raise InvalidAppeal(f"未知的诉求分类 {category}。", field="category")
        default_lead, default_assisting = config.route(category_config.code, row["region_code"])
        lead = (lead or "").strip() or default_lead
        assisting_list = [a.strip() for a in (assisting if assisting is not None else default_assisting)
                          if a.strip() and a.strip() != lead]
        now = self.clock()
        accept_limit = config.time_limit("accept", kind=row["kind"], channel=row["channel"])
        for department, role in [(lead, "lead"), *[(a, "assisting") for a in assisting_list]]:
            assignment_id = int(connection.execute(insert(assignments).values(
                appeal_id=row["id"], department=department, role=role, status="pending", dispatched_at=now,
                accept_due_at=clocks.compute(config, accept_limit, now).due_at.astimezone(UTC), accepted_at=None, ended_at=None,
                return_reason=None, return_upheld=None)).inserted_primary_key[0])
            clocks.start(connection, config, appeal_id=row["id"], clock="accept", limit=accept_limit, at=now,
                         department=department, assignment_id=assignment_id)
        clocks.stop(connection, config, row["id"], ("dispatch", "review_return"), now)
        text = f"派单至{lead}（主办）" + (f"，协办：{'、'.join(assisting_list)}" if assisting_list else "")
        self._transition(connection, config, principal, _Change(row, action, State.DISPATCHED, {
            "category": category_config.code, "dispatch_class": category_config.dispatch_class,
            "lead_department": lead, "dispatched_at": row["dispatched_at"] or now}),
            note=f"{text}。{note}" if note else text, visible=True, department=lead)

    def accept(self, principal: Principal, appeal_id: int) -> AppealView:
        """签收 by the department: the lead's 签收 starts the handling clock (办理时限 by kind × channel);
        首接负责 passes to it. An assisting department's 签收 changes no state."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            assignment = self._pending_assignment(connection, principal, row)
            now = self.clock()
            connection.execute(update(assignments).where(assignments.c.id == assignment["id"])
                               .values(status="accepted", accepted_at=now))
            clocks.stop(connection, config, appeal_id, ("accept",), now, department=assignment["department"])
            if assignment["role"] == "assisting":
                self._log(connection, appeal_id, principal, config, "accept_assist", None, None,
                          f"{assignment['department']}（协办）已签收", False, assignment["department"])
                audit.record(connection, actor=principal.username, action="appeal.accept_assist",
                             object_type="appeal", object_id=appeal_id, after={"assignment": assignment["id"]})
            else:
                self._check("accept", row)
                limit = config.time_limit("handle", kind=row["kind"], channel=row["channel"])
                clocks.start(connection, config, appeal_id=appeal_id, clock="handle", limit=limit, at=now,
                             department=assignment["department"])
                self._transition(connection, config, principal, _Change(row, "accept", State.HANDLING, {
                    "owner_department": assignment["department"], "accepted_at": now}),
                    note=f"{assignment['department']}已签收，办理时限 {limit.text}（{config.source_text(limit.source)}）",
                    visible=True, department=assignment["department"])
        return self.get(principal, appeal_id)

    def return_appeal(self, principal: Principal, appeal_id: int, reason: str) -> AppealView:
        """退单 / 派单异议 by the lead department, with a reason; the desk reviews it (改派 or 驳回)."""
        reason = _required(reason, "退单理由")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._check("return", row)
            assignment = self._pending_assignment(connection, principal, row)
            if assignment["role"] != "lead":
                raise AppealForbidden("协办部门不能退单，请与主办部门协商。")
            now = self.clock()
            connection.execute(update(assignments).where(assignments.c.id == assignment["id"]).values(
                status="returned", ended_at=now, return_reason=reason))
            clocks.stop(connection, config, appeal_id, ("accept",), now, department=assignment["department"])
            clocks.start(connection, config, appeal_id=appeal_id, clock="review_return", at=now,
                         limit=config.time_limit("review_return"), department=config.dispatch_office)
            self._transition(connection, config, principal, _Change(row, "return", State.RETURN_REVIEW, {}),
                             note=f"{assignment['department']}退单：{reason}", visible=False,
                             department=assignment["department"])
        return self.get(principal, appeal_id)

    def review_return(self, principal: Principal, appeal_id: int, *, approve: bool, category: str | None = None,
                      lead: str | None = None, assisting: list[str] | None = None, note: str | None = None) -> AppealView:
        """The desk's 派单异议审核: approve → 改派 (to another category or department; the classifier learns
        the corrected category), reject → the same department again, with the reason."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            self._require_desk(principal, config)
            row = self._row(connection, appeal_id)
            returned = connection.execute(
                select(assignments).where(assignments.c.appeal_id == appeal_id, assignments.c.status == "returned",
                                          assignments.c.return_upheld.is_(None), assignments.c.role == "lead")
                .order_by(assignments.c.id.desc())).mappings().first()
            if returned is None:
                raise IllegalTransition("该工单没有待审核的退单。", state=row["state"])
            connection.execute(update(assignments).where(assignments.c.id == returned["id"])
                               .values(return_upheld=approve))
            if approve:
                self._check("redispatch", row)
                if lead is None and (category or row["category"]) == row["category"]:
                    raise InvalidAppeal("改派需指定新的分类或新的主办部门。", field="lead")
                others = connection.execute(select(assignments.c.id).where(
                    assignments.c.appeal_id == appeal_id, assignments.c.status == "pending")).scalars().all()
                if others:  # the assisting departments of the wrong dispatch go with it
                    connection.execute(update(assignments).where(assignments.c.id.in_(others))
                                       .values(status="withdrawn", ended_at=self.clock()))
                    clocks.stop(connection, config, appeal_id, ("accept",), self.clock(), cancelled=True)
                self._dispatch(connection, config, row, principal, category=category or row["category"], lead=lead,
                               assisting=assisting, note=f"退单审核通过，改派。{note or ''}".strip(),
                               action="redispatch")
            else:
                self._check("reject_return", row)
                reason = _required(note or "", "驳回理由")
                now = self.clock()
                limit = config.time_limit("accept", kind=row["kind"], channel=row["channel"])
                assignment_id = int(connection.execute(insert(assignments).values(
                    appeal_id=appeal_id, department=returned["department"], role="lead", status="pending",
                    dispatched_at=now, accept_due_at=clocks.compute(config, limit, now).due_at.astimezone(UTC), accepted_at=None,
                    ended_at=None, return_reason=None, return_upheld=None)).inserted_primary_key[0])
                clocks.stop(connection, config, appeal_id, ("review_return",), now)
                clocks.start(connection, config, appeal_id=appeal_id, clock="accept", limit=limit, at=now,
                             department=returned["department"], assignment_id=assignment_id)
                self._transition(connection, config, principal, _Change(row, "reject_return", State.DISPATCHED, {}),
                                 note=f"退单驳回：{reason}", visible=False, department=returned["department"])
        return self.get(principal, appeal_id)

    def merge(self, principal: Principal, appeal_id: int, into: int, note: str | None = None) -> AppealView:
        """并单 (国办函〔2025〕66号: 重复诉求原则上并单处理), by the desk's decision only."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            self._require_desk(principal, config)
            row = self._row(connection, appeal_id)
            self._check("merge", row)
            target = self._row(connection, into)
            if into == appeal_id or State(target["state"]) in TERMINAL:
                raise InvalidAppeal("只能并入另一件未办结的工单。", field="into")
            now = self.clock()
            connection.execute(update(assignments).where(assignments.c.appeal_id == appeal_id,
                                                         assignments.c.status == "pending")
                               .values(status="withdrawn", ended_at=now))
            clocks.stop(connection, config, appeal_id, tuple(CLOCKS), now, cancelled=True)
            connection.execute(update(duplicates).where(duplicates.c.appeal_id == appeal_id,
                                                        duplicates.c.candidate_id == into)
                               .values(status="merged", decided_by=principal.username))
            self._transition(connection, config, principal, _Change(row, "merge", State.MERGED, {
                "merged_into": into, "closed_at": now}),
                note=f"与工单 {target['number']} 并单处理。{note or ''}".strip(), visible=True)
        return self.get(principal, appeal_id)

    def dismiss_duplicate(self, principal: Principal, appeal_id: int, candidate_id: int) -> None:
        with self.engine.begin() as connection:
            self._require_desk(principal, self.config(connection))
            connection.execute(update(duplicates).where(duplicates.c.appeal_id == appeal_id,
                                                        duplicates.c.candidate_id == candidate_id,
                                                        duplicates.c.status == "proposed")
                               .values(status="dismissed", decided_by=principal.username))

    def transfer(self, principal: Principal, appeal_id: int, target: str, note: str | None = None) -> AppealView:
        """即时转办 to 110 / 119 / 120 / 122 (国办函〔2025〕66号)."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            self._require_desk(principal, config)
            named = {t.target: t.name for t in config.transfers}
            if target not in named:
                raise InvalidAppeal(f"转办对象应为 {'、'.join(named)} 之一。", field="target")
            row = self._row(connection, appeal_id)
            self._check("transfer", row)
            now = self.clock()
            clocks.stop(connection, config, appeal_id, tuple(CLOCKS), now, cancelled=True)
            self._transition(connection, config, principal, _Change(row, "transfer", State.TRANSFERRED, {
                "transfer_target": target, "closed_at": now}),
                note=f"该诉求属于{named[target]}事项，已即时转 {target} 处理。{note or ''}".strip(), visible=True)
        return self.get(principal, appeal_id)

    def refer(self, principal: Principal, appeal_id: int, route: str, note: str | None = None) -> AppealView:
        """告知法定途径: litigation, arbitration, 复议, 纪检, 信息公开, 信访 — the enterprise is told the route."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            self._require_desk(principal, config)
            found = next((r for r in config.legal_routes if r.route == route), None)
            if found is None:
                raise InvalidAppeal(f"法定途径应为 {'、'.join(r.route for r in config.legal_routes)} 之一。", field="route")
            row = self._row(connection, appeal_id)
            self._check("refer", row)
            now = self.clock()
            clocks.stop(connection, config, appeal_id, tuple(CLOCKS), now, cancelled=True)
            self._transition(connection, config, principal, _Change(row, "refer", State.REFERRED, {
                "legal_route": route, "closed_at": now}), note=f"{found.notice}{note or ''}", visible=True)
        return self.get(principal, appeal_id)

    # --- handling --------------------------------------------------------------------------------------

    def request_extension(self, principal: Principal, appeal_id: int, working_days: int, reason: str) -> int:
        """延期 request by the lead department; a supervisor approves (the enterprise is then told)."""
        reason = _required(reason, "延期理由")
        if not 1 <= working_days <= 60:
            raise InvalidAppeal("延期天数应为 1–60 个工作日。", field="working_days")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_lead(principal, row)
            if State(row["state"]) not in WORKING:
                raise IllegalTransition("只有办理中的工单可以申请延期。", state=row["state"])
            clock = connection.execute(select(deadlines).where(
                deadlines.c.appeal_id == appeal_id, deadlines.c.status == "open",
                deadlines.c.clock.in_(("handle", "rehandle", "rectify")))).mappings().first()
            if clock is None:
                raise IllegalTransition("该工单没有正在计时的办理时限。", state=row["state"])
            pending = connection.execute(select(extensions.c.id).where(
                extensions.c.appeal_id == appeal_id, extensions.c.status == "pending")).first()
            if pending is not None:
                raise IllegalTransition("已有待审批的延期申请。", state=row["state"])
            now = self.clock()
            extension_id = int(connection.execute(insert(extensions).values(
                appeal_id=appeal_id, deadline_id=clock["id"], department=row["lead_department"],
                working_days=working_days, reason=reason, status="pending", requested_by=principal.username,
                requested_at=now, decided_by=None, decided_at=None, decision_note=None)).inserted_primary_key[0])
            self._log(connection, appeal_id, principal, config, "request_extension", None, None,
                      f"申请延期 {working_days} 个工作日：{reason}", False, row["lead_department"])
            audit.record(connection, actor=principal.username, action="appeal.request_extension",
                         object_type="appeal", object_id=appeal_id, after={"extension": extension_id,
                                                                           "working_days": working_days},
                         reason=reason)
        return extension_id

    def decide_extension(self, principal: Principal, extension_id: int, *, approve: bool,
                         note: str | None = None) -> AppealView:
        if not is_supervisor(principal):
            raise AppealForbidden("延期须由督查人员审批。")
        with self.engine.begin() as connection:
            config = self.config(connection)
            extension = connection.execute(select(extensions).where(extensions.c.id == extension_id)).mappings().first()
            if extension is None or extension["status"] != "pending":
                raise IllegalTransition("该延期申请不存在或已审批。")
            row = self._row(connection, extension["appeal_id"])
            now = self.clock()
            connection.execute(update(extensions).where(extensions.c.id == extension_id).values(
                status="approved" if approve else "rejected", decided_by=principal.username, decided_at=now,
                decision_note=note))
            if approve:
                due = clocks.extend(connection, config, extension["deadline_id"], extension["working_days"])
                self._log(connection, row["id"], principal, config, "extend", None, None,
                          f"办理时限经批准延长 {extension['working_days']} 个工作日，"
                          f"新的时限为 {due:%Y-%m-%d}。理由：{extension['reason']}", True, row["lead_department"])
            else:
                self._log(connection, row["id"], principal, config, "reject_extension", None, None,
                          f"延期申请未获批准。{note or ''}".strip(), False, row["lead_department"])
            events.emit(connection, appeal_events.ExtensionDecided(
                appeal_id=row["id"], extension_id=extension_id, approved=approve,
                working_days=extension["working_days"]), actor=principal.username)
            audit.record(connection, actor=principal.username,
                         action="appeal.extend" if approve else "appeal.reject_extension", object_type="appeal",
                         object_id=row["id"], after={"extension": extension_id, "approved": approve}, reason=note)
        return self.get(principal, row["id"])

    def reply(self, principal: Principal, appeal_id: int, text: str) -> AppealView:
        """答复 by the lead department: shown to the enterprise, which then rates it (the rating window)."""
        text = _required(text, "答复内容")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_lead(principal, row)
            self._check("reply", row)
            now = self.clock()
            clocks.stop(connection, config, appeal_id, ("handle", "rehandle"), now)
            clocks.start(connection, config, appeal_id=appeal_id, clock="rating", at=now,
                         limit=config.time_limit("rating", kind=row["kind"], channel=row["channel"]))
            self._transition(connection, config, principal, _Change(row, "reply", State.REPLIED, {
                "reply_text": text, "replied_at": now}), note=text, visible=True, department=row["lead_department"])
        return self.get(principal, appeal_id)

    def rate(self, principal: Principal, appeal_id: int, level: int, *, resolved: bool | None = None,
             comment: str | None = None) -> AppealView:
        """评价 on five levels (好差评). The enterprise rates its own appeal; the desk may record a 回访 call.
        A 差评 sends the appeal to 重办 the first time and to 督办 after that; otherwise it is 办结."""
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            if principal.role is Role.ENTERPRISE:
                if principal.uscc != row["uscc"]:
                    raise AppealNotFound()
                via = "enterprise"
            elif is_dispatcher(principal, config):
                via = "follow_up"
            else:
                raise AppealForbidden("评价由诉求企业作出，或由派单席回访时记录。")
            if level not in config.rating.levels:
                raise InvalidAppeal("评价应为 1–5 级（非常不满意 … 非常满意）。", field="level")
            self._check("rate", row)
            now = self.clock()
            round_ = 1 + connection.execute(select(func.count()).select_from(ratings)
                                            .where(ratings.c.appeal_id == appeal_id)).scalar_one()
            connection.execute(insert(ratings).values(
                appeal_id=appeal_id, round=round_, level=level, resolved=resolved, comment=(comment or None),
                via=via, rated_by=principal.username, rated_at=now, review_status="none", review_reason=None,
                review_requested_by=None, reviewed_by=None, reviewed_at=None, review_note=None))
            clocks.stop(connection, config, appeal_id, ("rating",), now)
            label = config.rating.levels[level]
            events.emit(connection, appeal_events.AppealRated(appeal_id=appeal_id, round=round_, level=level,
                                                              resolved=resolved), actor=principal.username)
            if level > config.rating.dissatisfied_max:
                self._transition(connection, config, principal, _Change(row, "rate", State.CLOSED,
                                                                        {"closed_at": now}),
                                 note=f"评价：{label}，已办结", visible=True)
            elif row["rehandle_count"] < config.rating.rehandle_limit:
                limit = config.time_limit("rehandle", kind=row["kind"], channel=row["channel"])
                clocks.start(connection, config, appeal_id=appeal_id, clock="rehandle", limit=limit, at=now,
                             department=row["lead_department"])
                self._transition(connection, config, principal, _Change(row, "rate", State.REHANDLING, {
                    "rehandle_count": row["rehandle_count"] + 1}),
                    note=f"评价：{label}，转重办（时限 {limit.text}，{config.source_text(limit.source)}）。"
                         + (comment or ""), visible=True, department=row["lead_department"])
            else:
                self._supervise(connection, config, principal, row, "rate",
                                f"评价：{label}，重办后仍不满意，转督办。" + (comment or ""))
        return self.get(principal, appeal_id)

    def request_rating_review(self, principal: Principal, appeal_id: int, reason: str) -> AppealView:
        """申诉复核: the lead department asks a supervisor to review a 差评 it considers mistaken or malicious."""
        reason = _required(reason, "申诉理由")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_lead(principal, row)
            rating = self._latest_rating(connection, appeal_id)
            if rating is None or rating["level"] > config.rating.dissatisfied_max or rating["review_status"] != "none":
                raise IllegalTransition("只能对尚未复核的差评申请复核。", state=row["state"])
            connection.execute(update(ratings).where(ratings.c.id == rating["id"]).values(
                review_status="requested", review_reason=reason, review_requested_by=principal.username))
            self._log(connection, appeal_id, principal, config, "request_review", None, None,
                      f"申请评价复核：{reason}", False, row["lead_department"])
            audit.record(connection, actor=principal.username, action="appeal.request_review",
                         object_type="appeal", object_id=appeal_id, after={"rating": rating["id"]}, reason=reason)
        return self.get(principal, appeal_id)

    def decide_rating_review(self, principal: Principal, appeal_id: int, *, void: bool, note: str) -> AppealView:
        """A supervisor's 复核: void the rating (it leaves the 满意率, and the 重办/督办 it caused ends in 办结)
        or uphold it."""
        note = _required(note, "复核意见")
        if not is_supervisor(principal):
            raise AppealForbidden("评价复核须由督查人员决定。")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            rating = self._latest_rating(connection, appeal_id)
            if rating is None or rating["review_status"] != "requested":
                raise IllegalTransition("该工单没有待复核的评价。", state=row["state"])
            now = self.clock()
            connection.execute(update(ratings).where(ratings.c.id == rating["id"]).values(
                review_status="voided" if void else "upheld", reviewed_by=principal.username, reviewed_at=now,
                review_note=note))
            if not void:
                self._log(connection, appeal_id, principal, config, "uphold_rating", None, None,
                          f"评价复核：维持原评价。{note}", False)
                audit.record(connection, actor=principal.username, action="appeal.uphold_rating",
                             object_type="appeal", object_id=appeal_id, after={"rating": rating["id"]}, reason=note)
            elif State(row["state"]) is State.CLOSED:
                self._log(connection, appeal_id, principal, config, "void_rating", None, None,
                          f"评价复核：撤销该评价。{note}", True)
                audit.record(connection, actor=principal.username, action="appeal.void_rating",
                             object_type="appeal", object_id=appeal_id, after={"rating": rating["id"]}, reason=note)
            else:
                self._check("void_rating", row)
                clocks.stop(connection, config, appeal_id, ("rehandle", "rectify"), now, cancelled=True)
                self._transition(connection, config, principal, _Change(row, "void_rating", State.CLOSED,
                                                                        {"closed_at": now}),
                                 note=f"评价复核：撤销该评价，工单办结。{note}", visible=True)
        return self.get(principal, appeal_id)

    def supervise(self, principal: Principal, appeal_id: int, instructions: str) -> AppealView:
        """督办 by a supervisor (also reached automatically by a second 不满意)."""
        instructions = _required(instructions, "督办意见")
        if not is_supervisor(principal):
            raise AppealForbidden("督办须由督查人员发起。")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._check("supervise", row)
            self._supervise(connection, config, principal, row, "supervise", f"督办：{instructions}")
        return self.get(principal, appeal_id)

    def _supervise(self, connection: Connection, config: AppealsConfig, principal: Principal | None, row: RowMapping,
                   action: str, note: str) -> None:
        now = self.clock()
        clocks.stop(connection, config, row["id"], ("handle", "rehandle", "rating"), now)
        limit = config.time_limit("rectify", kind=row["kind"], channel=row["channel"])
        clocks.start(connection, config, appeal_id=row["id"], clock="rectify", limit=limit, at=now,
                     department=row["lead_department"])
        self._transition(connection, config, principal, _Change(row, action, State.SUPERVISED, {}),
                         note=f"{note}（整改时限 {limit.text}）", visible=True, department=row["lead_department"])

    def rectify(self, principal: Principal, appeal_id: int, report: str) -> AppealView:
        """整改 report by the lead department under 督办."""
        report = _required(report, "整改情况")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_lead(principal, row)
            self._check("rectify", row)
            now = self.clock()
            clocks.stop(connection, config, appeal_id, ("rectify",), now)
            self._transition(connection, config, principal, _Change(row, "rectify", State.RECTIFIED, {
                "reply_text": report, "replied_at": now}), note=f"整改情况：{report}", visible=True,
                department=row["lead_department"])
        return self.get(principal, appeal_id)

    def confirm(self, principal: Principal, appeal_id: int, *, accept: bool = True, note: str | None = None) -> AppealView:
        """The supervisor confirms the 整改 (办结) or sends it back (整改不到位)."""
        if not is_supervisor(principal):
            raise AppealForbidden("整改确认须由督查人员作出。")
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            if accept:
                self._check("confirm", row)
                self._transition(connection, config, principal, _Change(row, "confirm", State.CLOSED, {
                    "closed_at": self.clock()}), note=f"督办确认整改到位，已办结。{note or ''}".strip(), visible=True)
            else:
                self._check("reopen_rectify", row)
                limit = config.time_limit("rectify", kind=row["kind"], channel=row["channel"])
                clocks.start(connection, config, appeal_id=appeal_id, clock="rectify", limit=limit, at=self.clock(),
                             department=row["lead_department"])
                self._transition(connection, config, principal, _Change(row, "reopen_rectify", State.SUPERVISED, {}),
                                 note=f"整改不到位，继续督办。{_required(note or '', '意见')}", visible=True,
                                 department=row["lead_department"])
        return self.get(principal, appeal_id)

    # --- clocks ----------------------------------------------------------------------------------------

    def fire_clock(self, deadline_id: int, stage: str) -> dict:
        """One stage of one clock (idempotent: a stage already fired, or a clock stopped, does nothing)."""
        now = self.clock()
        with self.engine.begin() as connection:
            config = self.config(connection)
            row = connection.execute(select(deadlines).where(deadlines.c.id == deadline_id)).mappings().first()
            if row is None or row["status"] != "open":
                return {"fired": False}
            due_stage = next((s for s in clocks.stages(config, row) if s.name == stage), None)
            if due_stage is None or now < due_stage.at:
                return {"fired": False}
            appeal = self._row(connection, row["appeal_id"])
            if stage == "expire":
                if State(appeal["state"]) is not State.REPLIED:
                    return {"fired": False}
                clocks.stop(connection, config, appeal["id"], ("rating",), now)
                self._transition(connection, config, None, _Change(appeal, "expire_rating", State.CLOSED, {
                    "closed_at": now}), note="评价期满未评价，工单办结（不计入满意率）", visible=True)
                return {"fired": True, "closed": appeal["id"]}
            if stage == "warn":
                if row["warned_at"] is not None or row["escalation_level"] > 0 or now >= aware(row["due_at"]):
                    return {"fired": False}  # a warning after expiry says nothing: escalation does
                connection.execute(update(deadlines).where(deadlines.c.id == deadline_id).values(warned_at=now))
                note = f"催办：{_clock_label(row)}将于 {aware(row['due_at']).astimezone(CHINA):%Y-%m-%d %H:%M} 到期"
                events.emit(connection, appeal_events.DeadlineWarned(
                    appeal_id=appeal["id"], deadline_id=deadline_id, clock=row["clock"], department=row["department"]))
            else:
                level = int(stage.removeprefix("escalate"))
                if row["escalation_level"] >= level:
                    return {"fired": False}
                connection.execute(update(deadlines).where(deadlines.c.id == deadline_id)
                                   .values(escalation_level=level))
                note = (f"《催办通知书》：{_clock_label(row)}已超期" if level == 1
                        else f"通报：{_clock_label(row)}超期仍未办理（第 {level} 级）")
                events.emit(connection, appeal_events.DeadlineEscalated(
                    appeal_id=appeal["id"], deadline_id=deadline_id, clock=row["clock"], level=level,
                    department=row["department"]))
            self._log(connection, appeal["id"], None, config, "clock", None, None, note, False, row["department"])
            audit.record(connection, actor="system:appeals.clock", action="appeal.clock", object_type="appeal",
                         object_id=appeal["id"], after={"deadline": deadline_id, "stage": stage}, reason=note)
        return {"fired": True, "stage": stage, "deadline_id": deadline_id}

    def sweep_clocks(self) -> dict:
        """Fire every stage that is due (the scheduled job; also what tests call with a moved clock)."""
        now = self.clock()
        with self.engine.connect() as connection:
            config = self.config(connection)
            rows = connection.execute(select(deadlines).where(deadlines.c.status == "open")).mappings().all()
        fired = 0
        for row in rows:
            for stage in clocks.stages(config, row):
                if stage.at <= now:
                    fired += self.fire_clock(row["id"], stage.name)["fired"]
        return {"fired": fired}

    # --- reading ---------------------------------------------------------------------------------------

    def get(self, principal: Principal, appeal_id: int) -> AppealView:
        with self.engine.connect() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_visible(connection, principal, row, config)
            return self._view(connection, principal, row, config, full=True)

    def list_for(self, principal: Principal, *, queue: str = "mine", limit: int = 200) -> list[AppealView]:
        """The lists the pages show: an enterprise's own; a department's queue; the desk's 待派单 / 退单审核;
        the supervisor's 督办 (supervised, rectified, overdue) and all."""
        with self.engine.connect() as connection:
            config = self.config(connection)
            query = select(appeals).order_by(appeals.c.id.desc()).limit(limit)
            if principal.role is Role.ENTERPRISE:
                query = query.where(appeals.c.uscc == principal.uscc)
            elif queue == "desk":
                self._require_desk(principal, config)
                query = query.where(appeals.c.state.in_([State.RECEIVED.value, State.RETURN_REVIEW.value]))
            elif queue == "supervision":
                if not is_supervisor(principal):
                    raise AppealForbidden("督办清单仅限督查人员查看。")
                overdue = select(deadlines.c.appeal_id).where(deadlines.c.status == "open",
                                                              deadlines.c.escalation_level > 0)
                query = query.where(or_(appeals.c.state.in_([State.SUPERVISED.value, State.RECTIFIED.value]),
                                        appeals.c.id.in_(overdue),
                                        appeals.c.id.in_(select(extensions.c.appeal_id)
                                                         .where(extensions.c.status == "pending")),
                                        appeals.c.id.in_(select(ratings.c.appeal_id)
                                                         .where(ratings.c.review_status == "requested"))))
            elif queue == "all":
                if not is_dispatcher(principal, config):
                    raise AppealForbidden("全部工单仅限派单席与督查人员查看。")
            else:
                if principal.role is not Role.OFFICER or not principal.department:
                    return []
                mine = select(assignments.c.appeal_id).where(assignments.c.department == principal.department)
                query = query.where(appeals.c.id.in_(mine), appeals.c.state.notin_([s.value for s in TERMINAL]))
            rows = connection.execute(query).mappings().all()
            return [self._view(connection, principal, r, config, full=False) for r in rows]

    def attachment(self, principal: Principal, appeal_id: int, attachment_id: int) -> tuple[str, str, bytes]:
        with self.engine.connect() as connection:
            config = self.config(connection)
            row = self._row(connection, appeal_id)
            self._require_visible(connection, principal, row, config)
            found = connection.execute(select(attachments).where(attachments.c.id == attachment_id,
                                                                 attachments.c.appeal_id == appeal_id)).mappings().first()
            if found is None:
                raise AppealNotFound("附件不存在。")
            return found["filename"], found["content_type"], found["data"]

    def pending_extensions(self, principal: Principal) -> list[dict]:
        if not is_supervisor(principal):
            raise AppealForbidden("延期审批仅限督查人员。")
        with self.engine.connect() as connection:
            rows = connection.execute(select(extensions, appeals.c.number).join(
                appeals, appeals.c.id == extensions.c.appeal_id).where(extensions.c.status == "pending")
                .order_by(extensions.c.id)).mappings().all()
        return [dict(r) for r in rows]

    # --- internals -------------------------------------------------------------------------------------

    def _row(self, connection: Connection, appeal_id: int) -> RowMapping:
        if not isinstance(appeal_id, int) or not 1 <= appeal_id <= 2**31 - 1:
            raise AppealNotFound()
        row = connection.execute(select(appeals).where(appeals.c.id == appeal_id)).mappings().first()
        if row is None:
            raise AppealNotFound()
        return row

    def _latest_rating(self, connection: Connection, appeal_id: int) -> RowMapping | None:
        return connection.execute(select(ratings).where(ratings.c.appeal_id == appeal_id)
                                  .order_by(ratings.c.round.desc()).limit(1)).mappings().first()

    @staticmethod
    def _check(action: str, row: RowMapping) -> None:
        state = State(row["state"])
        if state not in ACTIONS[action].sources:
            raise IllegalTransition(f"工单当前状态为“{STATE_LABELS[state]}”，不能{ACTIONS[action].label}。",
                                    state=state.value, action=action)

    def _require_desk(self, principal: Principal, config: AppealsConfig) -> None:
        if not is_dispatcher(principal, config):
            raise AppealForbidden(f"此操作仅限派单席（{config.dispatch_office}）或督查人员。")

    def _require_lead(self, principal: Principal, row: RowMapping) -> None:
        if principal.role is Role.ADMIN:
            return
        if principal.role is not Role.OFFICER or principal.department != row["lead_department"]:
            raise AppealForbidden("此操作仅限主办部门。")

    def _pending_assignment(self, connection: Connection, principal: Principal, row: RowMapping) -> RowMapping:
        if principal.role is not Role.OFFICER or not principal.department:
            raise AppealForbidden("签收或退单须由承办部门的工作人员操作。")
        found = connection.execute(select(assignments).where(
            assignments.c.appeal_id == row["id"], assignments.c.department == principal.department,
            assignments.c.status == "pending")).mappings().first()
        if found is None:
            raise IllegalTransition("本部门没有待签收的派单。", state=row["state"])
        return found

    def _require_visible(self, connection: Connection, principal: Principal, row: RowMapping,
                         config: AppealsConfig) -> None:
        if principal.role is Role.ENTERPRISE:
            if principal.uscc != row["uscc"]:
                raise AppealNotFound()  # an enterprise sees only its own appeals; others do not exist for it
            return
        if is_dispatcher(principal, config):
            return
        if principal.role is Role.OFFICER and principal.department:
            mine = connection.execute(select(assignments.c.id).where(
                assignments.c.appeal_id == row["id"], assignments.c.department == principal.department)).first()
            if mine is not None:
                return
        raise AppealNotFound()

    def _transition(self, connection: Connection, config: AppealsConfig, principal: Principal | None,
                    change: _Change, *, note: str, visible: bool, department: str | None = None) -> None:
        row, now = change.row, self.clock()
        result = connection.execute(update(appeals).where(appeals.c.id == row["id"], appeals.c.state == row["state"])
                                    .values(state=change.to_state.value, updated_at=now, **change.values))
        if result.rowcount != 1:
            raise IllegalTransition("工单状态已被他人更新，请刷新后重试。", state=row["state"], action=change.action)
        self._log(connection, row["id"], principal, config, change.action, State(row["state"]), change.to_state,
                  note, visible, department)
        events.emit(connection, appeal_events.AppealStateChanged(
            appeal_id=row["id"], action=change.action, from_state=row["state"], to_state=change.to_state.value,
            department=department), actor=actor_name(principal))
        audit.record(connection, actor=actor_name(principal), action=f"appeal.{change.action}", object_type="appeal",
                     object_id=row["id"], before={"state": row["state"]},
                     after={"state": change.to_state.value, **{k: _plain(v) for k, v in change.values.items()}},
                     reason=note[:2000])

    def _log(self, connection: Connection, appeal_id: int, principal: Principal | None, config: AppealsConfig,
             action: str, from_state: State | None, to_state: State | None, note: str | None, visible: bool,
             department: str | None = None) -> None:
        connection.execute(insert(updates).values(
            appeal_id=appeal_id, at=self.clock(), actor=actor_name(principal), actor_role=actor_role(principal, config),
            department=department or (principal.department if principal is not None else None), action=action,
            from_state=from_state.value if from_state else None, to_state=to_state.value if to_state else None,
            note=note, visible=visible))

    def _view(self, connection: Connection, principal: Principal, row: RowMapping, config: AppealsConfig, *,
              full: bool) -> AppealView:
        show = may_see_identity(principal, row, config)
        enterprise = principal.role is Role.ENTERPRISE
        appeal_id = row["id"]
        deadline_rows = connection.execute(select(deadlines).where(deadlines.c.appeal_id == appeal_id)
                                           .order_by(deadlines.c.id)).mappings().all()
        assisting = connection.execute(select(assignments.c.department).where(
            assignments.c.appeal_id == appeal_id, assignments.c.role == "assisting",
            assignments.c.status.in_(("pending", "accepted")))).scalars().all()
        extra: dict[str, Any] = {}
        update_views: tuple[UpdateView, ...] = ()
        rating_views: tuple[RatingView, ...] = ()
        extension_rows: tuple[dict, ...] = ()
        duplicate_rows: tuple[dict, ...] = ()
        attachment_rows: tuple[dict, ...] = ()
        if full:
            query = select(updates).where(updates.c.appeal_id == appeal_id).order_by(updates.c.id)
            if enterprise:
                query = query.where(updates.c.visible.is_(True))
            update_views = tuple(UpdateView(u["id"], aware(u["at"]), u["actor"], u["actor_role"], u["department"],
                                            u["action"], u["from_state"], u["to_state"], u["note"], u["visible"])
                                 for u in connection.execute(query).mappings().all())
            rating_views = tuple(
                RatingView(r["id"], r["round"], r["level"], config.rating.levels.get(r["level"], str(r["level"])),
                           r["resolved"], r["comment"], r["via"], aware(r["rated_at"]), r["review_status"],
                           r["review_reason"], r["review_note"])
                for r in connection.execute(select(ratings).where(ratings.c.appeal_id == appeal_id)
                                            .order_by(ratings.c.round)).mappings().all())
            if not enterprise:
                extension_rows = tuple(dict(e) for e in connection.execute(
                    select(extensions).where(extensions.c.appeal_id == appeal_id).order_by(extensions.c.id))
                    .mappings().all())
            if is_dispatcher(principal, config):
                duplicate_rows = tuple(
                    {"candidate_id": d["candidate_id"], "score": d["score"], "basis": d["basis"],
                     "status": d["status"], "number": d["number"], "title": d["title"]}
                    for d in connection.execute(
                        select(duplicates, appeals.c.number, appeals.c.title)
                        .join(appeals, appeals.c.id == duplicates.c.candidate_id)
                        .where(duplicates.c.appeal_id == appeal_id).order_by(duplicates.c.score.desc()))
                    .mappings().all())
                extra["transfer_hint"] = transfer_hint(config, row["title"] + row["description"])
                extra["legal_hint"] = legal_hint(config, row["title"] + row["description"])
            if show:
                attachment_rows = tuple(
                    {"id": a.id, "filename": a.filename, "size": a.size}
                    for a in connection.execute(select(attachments.c.id, attachments.c.filename, attachments.c.size)
                                                .where(attachments.c.appeal_id == appeal_id)).all())
        category = config.category(row["category"]) if row["category"] else None
        return AppealView(
            id=appeal_id, number=row["number"] or "", token=row["token"], channel=row["channel"], kind=row["kind"],
            category=row["category"], category_name=category.name if category else None,
            suggested_category=row["suggested_category"], suggestion_confidence=row["suggestion_confidence"],
            dispatch_class=row["dispatch_class"], region_code=row["region_code"], title=row["title"],
            description=row["description"], uscc=row["uscc"] or "" if show else MASKED,
            enterprise_name=(row["enterprise_name"] or "") if show else MASKED,
            contact_name=(row["contact_name"] or "") if show else MASKED,
            contact_phone=(row["contact_phone"] or "") if show else MASKED,
            contact_email=(row["contact_email"] or "") if show else MASKED,
            identity_masked=not show, disclose_identity=row["disclose_identity"], confidential=row["confidential"],
            public=row["public"], policy_ref=row["policy_ref"], application_ref=row["application_ref"],
            state=State(row["state"]), lead_department=row["lead_department"],
            owner_department=row["owner_department"], assisting=tuple(assisting),
            rehandle_count=row["rehandle_count"], merged_into=row["merged_into"],
            transfer_target=row["transfer_target"], legal_route=row["legal_route"], reply_text=row["reply_text"],
            created_at=aware(row["created_at"]), updated_at=aware(row["updated_at"]),
            closed_at=aware(row["closed_at"]),
            deadlines=tuple(_deadline_view(d, config) for d in deadline_rows),
            updates=update_views, ratings=rating_views, extensions=extension_rows, duplicates=duplicate_rows,
            attachments=attachment_rows, transfer_hint=extra.get("transfer_hint"), extra=extra)


# --- helpers ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _parsed_text(text: str) -> AppealsConfig:
    return parse_config(text)


def _parsed(revision: int, text: str) -> AppealsConfig:
    """Parsed once per text (keyed by the text itself: revision ids repeat across databases)."""
    return _parsed_text(text)


def _validated(data: AppealInput | dict) -> AppealInput:
    if isinstance(data, AppealInput):
        return data
    try:
        return AppealInput.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise InvalidAppeal(f"{_FIELD_LABELS.get(where, where)}：{message}", field=where,
                            problems=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                      for e in error.errors()]) from None


_FIELD_LABELS = {"description": "诉求描述", "kind": "诉求类型", "title": "标题", "region_code": "行政区划",
                 "contact_phone": "联系电话", "lat": "纬度", "long": "经度"}


def _required(text: str, label: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidAppeal(f"请填写{label}。")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidAppeal(f"{label}不能超过 {MAX_DESCRIPTION} 字。")
    return text


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _clock_label(row) -> str:
    return f"{CLOCKS.get(row['clock'], row['clock'])}时限" + (f"（{row['department']}）" if row["department"] else "")


def _deadline_view(row, config: AppealsConfig) -> DeadlineView:
    limit = (f"{row['working_days']} 个工作日" + (f" + 延期 {row['extended_days']} 个工作日" if row["extended_days"] else "")
             if row["working_days"] is not None else f"{row['hours']:g} 小时")
    return DeadlineView(row["id"], row["clock"], row["department"], aware(row["due_at"]), aware(row["started_at"]),
                        limit, row["source"], config.source_text(row["source"]), row["calendar_version"],
                        row["calendar_covered"], row["status"], row["escalation_level"], row["extended_days"])


def transfer_hint(config: AppealsConfig, text: str) -> dict | None:
    """The emergency transfer (110/119/120/122) whose keyword the text contains, if any."""
    for transfer in config.transfers:
        if any(k in text for k in transfer.keywords):
            return {"target": transfer.target, "name": transfer.name}
    return None


def legal_hint(config: AppealsConfig, text: str) -> dict | None:
    for route in config.legal_routes:
        if any(k in text for k in route.keywords):
            return {"route": route.route, "name": route.name}
    return None


def ranking_for(service: AppealService, principal: Principal, start: datetime, end: datetime, *,
                by: str = "department"):
    """三率 rankings for supervisors, the desk and officers (who see every department's figures)."""
    from qinqing.appeals.metrics import rankings

    if principal.role is Role.ENTERPRISE:
        raise AppealForbidden("三率排名仅限政府工作人员查看。")
    if by not in ("department", "region"):
        raise InvalidAppeal("排名维度应为 department（部门）或 region（地区）。", field="by")
    with service.engine.connect() as connection:
        return rankings(connection, service.config(connection), start, end, by=by, now=service.clock())
