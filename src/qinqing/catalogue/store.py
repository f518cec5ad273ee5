"""The policy catalogue store: policies as YAML text with metadata, versions, draft and published."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from qinqing import audit
from qinqing.catalogue.admission import admission_problems
from qinqing.catalogue.events import PolicyPublished
from qinqing.catalogue.errors import CatalogueError, DraftChanged, PolicyInvalid, PolicyNotFound, PolicyOwnedElsewhere
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.tables import policies, publications, remit_approvals, versions
from qinqing.events import emit
from qinqing.rules.model import Policy


@dataclass(frozen=True)
class PolicyEntry:
    """One version of a policy with its ownership and publication state."""

    policy_id: str
    version: int
    department: str
    title: str
    issuer: str
    level: str
    region_code: str
    industries: tuple[str, ...]
    support_type: str
    mode: str
    valid_from: date
    valid_to: date | None
    budget: Decimal | None
    yaml_text: str
    draft_version: int
    published_version: int | None
    updated_at: datetime

    @property
    def is_published(self) -> bool:
        return self.published_version is not None

    @property
    def has_unpublished_changes(self) -> bool:
        return self.published_version != self.draft_version

    @property
    def status_label(self) -> str:
        if self.published_version is None:
            return "草稿"
        return "已发布（有未发布的修改）" if self.has_unpublished_changes else "已发布"

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


_COLUMNS = (
    policies.c.policy_id,
    versions.c.version,
    policies.c.department,
    versions.c.title,
    versions.c.issuer,
    versions.c.level,
    versions.c.region_code,
    versions.c.industries,
    versions.c.support_type,
    versions.c.mode,
    versions.c.valid_from,
    versions.c.valid_to,
    versions.c.budget,
    versions.c.yaml_text,
    policies.c.draft_version,
    policies.c.published_version,
    policies.c.updated_at,
)


def _entry(row: RowMapping) -> PolicyEntry:
    values = dict(row)
    values["industries"] = tuple(values["industries"].split())
    return PolicyEntry(**values)


def _select(version_column):
    return select(*_COLUMNS).join(
        versions, and_(versions.c.policy_id == policies.c.policy_id, versions.c.version == version_column)
    )


class CatalogueStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, yaml_text: str, *, department: str, author: str, filename: str = "<editor>") -> PolicyEntry:
        """Validate and store ``yaml_text`` as the policy's new draft version (creating the policy if new).

        A policy belongs to the department that first saved it; saving it under another raises.
        A policy that fails admission (``admission.admission_problems``: compiling, amount range,
        dry run) raises PolicyInvalid before anything is written.
        """
        policy = admitted_policy(yaml_text, filename)
        with self.engine.begin() as conn:
            _save_in(conn, policy, yaml_text, department, author, datetime.now(UTC))
        return self.get(policy.id)

    def publish(self, policy_id: str, *, expected_version: int | None = None, published_by: str = "catalogue-loader",
                over_budget: bool = False, reason: str | None = None, approved_by: str | None = None) -> PolicyEntry:
        """Make the current draft the published version, once it passes admission again (the
        compiler may have changed since it was saved). With ``expected_version``, the draft must
        still be that version (what the officer previewed is what goes live). Each publication is
        logged in ``catalogue_publications`` in the same transaction: who, which version, and the
        reason given when it was published over budget; the same transaction writes the
        ``catalogue.policy_published`` event (re-matching it is a job, ``matching.service``)."""
        draft = self.get(policy_id)
        if expected_version is not None and draft.version != expected_version:
            raise DraftChanged(policy_id, expected_version, draft.version)
        admitted_policy(draft.yaml_text, policy_id)
        with self.engine.begin() as conn:
            _publish_in(conn, policy_id, draft.version, published_by, datetime.now(UTC), over_budget=over_budget,
                        reason=reason, approved_by=approved_by)
        return self.get(policy_id, published=True)

    def save_many(self, items: list[tuple[Policy, str, str]], *, author: str, publish: bool) -> list[int]:
        """Save (and publish) admitted policies — (policy, text, department) each — in one transaction:
        the same rows, audit entries and events as ``save`` then ``publish`` one by one, for a
        directory load. Admission is the caller's (``admitted_policy``); returns each new version."""
        now = datetime.now(UTC)
        versions_saved = []
        with self.engine.begin() as conn:
            for policy, text, department in items:
                version = _save_in(conn, policy, text, department, author, now)
                if publish:
                    _publish_in(conn, policy.id, version, author, now)
                versions_saved.append(version)
        return versions_saved

    def current_texts(self) -> dict[str, tuple[str, bool]]:
        """Every policy's draft text and whether that draft is the published version (a load's
        "unchanged" test, in one query)."""
        query = _select(policies.c.draft_version)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {r["policy_id"]: (r["yaml_text"], r["published_version"] == r["draft_version"]) for r in rows}

    def published_since(self, moment: datetime) -> int:
        """How many publications were made after ``moment`` (a re-match job's test: one policy, or so
        many that one full run costs less than re-matching each)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(publications)
                                    .where(publications.c.published_at > moment)).scalar() or 0)

    def publications(self, policy_id: str) -> list[dict]:
        """The publication log of a policy, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(publications).where(publications.c.policy_id == policy_id)
                                .order_by(publications.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def approve_remit(self, policy_id: str, version: int, *, approved_by: str, reason: str) -> None:
        """Record a supervisor's approval of ``version`` of a policy wider than its officer's remit."""
        with self.engine.begin() as conn:
            exists = conn.execute(select(remit_approvals.c.version).where(
                remit_approvals.c.policy_id == policy_id, remit_approvals.c.version == version)).first()
            if exists is None:
                conn.execute(insert(remit_approvals).values(
                    policy_id=policy_id, version=version, approved_by=approved_by, approved_at=datetime.now(UTC),
                    reason=reason))
                _audit(conn, "policy.remit_approve", approved_by, policy_id, _audit_state(conn, policy_id),
                       reason=reason)

    def remit_approval(self, policy_id: str, version: int) -> dict | None:
        """The supervisor's approval of that version, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(remit_approvals).where(
                remit_approvals.c.policy_id == policy_id, remit_approvals.c.version == version)).mappings().first()
        return dict(row) if row else None

    def get(self, policy_id: str, *, published: bool = False) -> PolicyEntry:
        """The draft (default) or the published version of a policy."""
        column = policies.c.published_version if published else policies.c.draft_version
        with self.engine.connect() as conn:
            row = conn.execute(_select(column).where(policies.c.policy_id == policy_id)).mappings().first()
        if row is None:
            raise PolicyNotFound(policy_id)
        return _entry(row)

    def department_of(self, policy_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(policies.c.department).where(policies.c.policy_id == policy_id)).scalar()

    def published(self) -> list[PolicyEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(_select(policies.c.published_version).order_by(policies.c.policy_id)).mappings().all()
        return [_entry(r) for r in rows]

    def published_policies(self) -> tuple[list[Policy], dict[str, CatalogueError]]:
        """Every published version parsed: the one catalogue every matching entry point reads. A
        version that no longer parses (the language changed after it was published) is returned
        apart, keyed by policy id, so that a run can leave it out and say so."""
        parsed: list[Policy] = []
        refused: dict[str, CatalogueError] = {}
        for entry in self.published():
            try:
                parsed.append(parse_policy(entry.yaml_text, entry.policy_id))
            except CatalogueError as error:
                refused[entry.policy_id] = error
        return parsed, refused

    def drafts(self, department: str | None = None) -> list[PolicyEntry]:
        """The latest version of every policy (of one department when given)."""
        query = _select(policies.c.draft_version).order_by(policies.c.updated_at.desc(), policies.c.policy_id)
        if department is not None:
            query = query.where(policies.c.department == department)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query).mappings().all()]

    def revision(self) -> tuple[int, int]:
        """Changes whenever the published catalogue changes: (policies published, sum of their versions)."""
        with self.engine.connect() as conn:
            count, total = conn.execute(
                select(func.count(policies.c.published_version), func.coalesce(func.sum(policies.c.published_version), 0))
            ).one()
        return int(count), int(total)


def admitted_policy(yaml_text: str, filename: str = "<editor>") -> Policy:
    """The policy in ``yaml_text`` when it parses and passes admission; PolicyInvalid otherwise.

    A text admitted once in this process is not admitted again (save then publish of one version
    would otherwise compile and dry-run it twice)."""
    policy = parse_policy(yaml_text, filename)
    key = hashlib.sha256(yaml_text.encode("utf-8")).digest()
    if key in _ADMITTED:
        return policy
    problems = admission_problems(policy, source=yaml_text)
    if problems:
        raise PolicyInvalid(problems, filename)
    if len(_ADMITTED) >= _ADMITTED_MAX:
        _ADMITTED.clear()
    _ADMITTED.add(key)
    return policy


_ADMITTED: set[bytes] = set()  # sha256 of texts that passed admission in this process
_ADMITTED_MAX = 100_000


def _save_in(conn: Connection, policy: Policy, yaml_text: str, department: str, author: str, now: datetime) -> int:
    """Store an admitted policy's text as its new draft version on ``conn``; returns the version."""
    current = conn.execute(
        select(policies).where(policies.c.policy_id == policy.id).with_for_update()
    ).mappings().first()
    before = _audit_state(conn, policy.id)
    if current is None:
        version = 1
        conn.execute(
            insert(policies).values(
                policy_id=policy.id, department=department, draft_version=1, published_version=None,
                created_at=now, updated_at=now,
            )
        )
    else:
        if current["department"] != department:
            raise PolicyOwnedElsewhere(
                f"政策 {policy.id} 属于{current['department']}，不能以{department}的名义保存。",
                policy_id=policy.id, department=current["department"],
            )
        version = _next_version(conn, policy.id)
        conn.execute(
            update(policies).where(policies.c.policy_id == policy.id).values(draft_version=version, updated_at=now)
        )
    conn.execute(insert(versions).values(**_version_values(policy, yaml_text, version, author, now)))
    _audit(conn, "policy.save", author, policy.id, before)
    return version


def _publish_in(conn: Connection, policy_id: str, version: int, published_by: str, now: datetime, *,
                over_budget: bool = False, reason: str | None = None, approved_by: str | None = None) -> None:
    """Make draft ``version`` the published one on ``conn``, with its log row, audit row and event."""
    before = _audit_state(conn, policy_id)
    result = conn.execute(
        update(policies)
        .where(policies.c.policy_id == policy_id, policies.c.draft_version == version)
        .values(published_version=version, published_at=now, updated_at=now)
    )
    if result.rowcount == 0:
        raise DraftChanged(policy_id, version, None)
    conn.execute(insert(publications).values(
        policy_id=policy_id, version=version, published_by=published_by, published_at=now,
        over_budget=over_budget, reason=reason or None, approved_by=approved_by))
    _audit(conn, "policy.publish", published_by, policy_id, before, reason=reason)
    emit(conn, PolicyPublished(policy_id=policy_id, version=version, published_by=published_by), actor=published_by)


def _audit_state(conn: Connection, policy_id: str) -> dict | None:
    """What the audit trail hashes of a policy: its owner, its draft and published versions and the
    SHA-256 of their texts; None before it exists."""
    row = conn.execute(select(policies.c.department, policies.c.draft_version, policies.c.published_version)
                       .where(policies.c.policy_id == policy_id)).first()
    if row is None:
        return None
    texts = dict(conn.execute(select(versions.c.version, versions.c.yaml_text).where(
        versions.c.policy_id == policy_id, versions.c.version.in_([row.draft_version, row.published_version or 0]))).all())
    digest = lambda v: hashlib.sha256(texts[v].encode("utf-8")).hexdigest() if v in texts else None  # noqa: E731
    return {"department": row.department, "draft_version": row.draft_version, "draft_sha256": digest(row.draft_version),
            "published_version": row.published_version, "published_sha256": digest(row.published_version)}


def _audit(conn: Connection, action: str, actor: str, policy_id: str, before: dict | None, *,
           reason: str | None = None) -> None:
    """One row of the audit trail for this change of a policy, in its transaction (last, so the trail's
    lock is held briefly); ``before`` is ``_audit_state`` read before the change."""
    audit.record(conn, actor=actor, action=action, object_type="policy", object_id=policy_id, before=before,
                 after=_audit_state(conn, policy_id), reason=reason)


def _next_version(conn: Connection, policy_id: str) -> int:
    latest = conn.execute(select(func.max(versions.c.version)).where(versions.c.policy_id == policy_id)).scalar()
    return int(latest or 0) + 1


def _version_values(policy: Policy, yaml_text: str, version: int, author: str, now: datetime) -> dict:
    return {
        "policy_id": policy.id,
        "version": version,
        "yaml_text": yaml_text,
        "title": policy.title,
        "issuer": policy.issuer,
        "level": policy.level,
        "region_code": policy.region,
        "industries": " ".join(policy.industries),
        "support_type": policy.support_type,
        "mode": policy.mode,
        "valid_from": policy.valid_from,
        "valid_to": policy.valid_to,
        "budget": policy.budget,
        "created_at": now,
        "created_by": author,
    }
