"""Open311 GeoReport v2 over the appeals: services are the 派单目录's categories, requests are the public
appeals, and the mySociety ``servicerequestupdates`` extension lets a caller follow one.

What is public: only appeals filed as public and not confidential, and of those only the matter itself —
category, status, dates, the lead department, the city — never the enterprise, a contact, a coordinate or
an address string. ``service_request_id`` is the 工单编号. Internal states map to open/closed (every state
but 办结/并单/转办/告知法定途径 is open); ``external_status_code`` on updates carries the internal state.

Formats: XML (required by the spec, with the UTF-8 declaration) and JSON (bare arrays; a service definition is
one object). Errors are arrays of ``{code, description}`` with 400 / 403 / 404. Datetimes carry +08:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import desc, select

from qinqing.appeals.config import KINDS, AppealsConfig
from qinqing.appeals.errors import InvalidAppeal, Open311Error
from qinqing.appeals.service import AppealService
from qinqing.appeals.states import STATE_LABELS, State, is_open
from qinqing.appeals.tables import appeals, updates
from qinqing.appeals.views import aware
from qinqing.appeals.workdays import CHINA
from qinqing.registry.standards import regions

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_ROWS = 1000
MAX_SPAN = timedelta(days=90)
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# XML element names of list items, by the list's element name (the spec's and FMS's).
ITEM_NAMES = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value", "endpoints": "endpoint", "formats": "format",
              "service_request_updates": "request_update"}


def w3c(moment: datetime | None) -> str | None:
    """W3C datetime with the offset, China time: 2026-09-14T09:00:00+08:00."""
    return aware(moment).astimezone(CHINA).isoformat(timespec="seconds") if moment is not None else None


def to_xml(root: str, value: Any) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n' + _element(root, value)


def _element(name: str, value: Any) -> str:
    if isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        return f"<{name}>" + "".join(_element(item, v) for v in value) + f"</{name}>"
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_element(k, v) for k, v in value.items()) + f"</{name}>"
    if value is None:
        return f"<{name}/>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def error_list(error: Open311Error | InvalidAppeal | Exception, status: int) -> list[dict]:
    message = getattr(error, "message", None) or str(error)
    return [{"code": status, "description": message}]


class GeoReport:
    """The GeoReport v2 operations; ``principal_for_key`` resolves an ``api_key`` to a principal (the
    platform's API tokens) or raises."""

    def __init__(self, service: AppealService, principal_for_key) -> None:
        self.service = service
        self.principal_for_key = principal_for_key

    def config(self) -> AppealsConfig:
        return self.service.config()

    def check_jurisdiction(self, jurisdiction_id: str | None) -> None:
        if jurisdiction_id and jurisdiction_id != self.config().open311.jurisdiction_id:
            raise Open311Error(f"jurisdiction_id {jurisdiction_id} 不存在。", status=404)

    def discovery(self, base_url: str) -> dict:
        config = self.config()
        changeset = w3c(datetime.now(UTC))
        return {"changeset": changeset, "contact": config.open311.contact, "key_service": config.open311.key_service,
                "endpoints": [{"specification": SPEC, "url": base_url.rstrip("/") + "/open311/v2",
                               "changeset": changeset, "type": "production",
                               "formats": ["text/xml", "application/json"]}]}

    def services(self) -> list[dict]:
        return [{"service_code": c.code, "service_name": c.name, "description": c.description, "metadata": True,
                 "type": c.open311_type, "keywords": ", ".join(c.keywords), "group": c.group}
                for c in self.config().categories]

    def definition(self, code: str) -> dict:
        if self.config().category(code) is None:
            raise Open311Error(f"service_code {code} 不存在。", status=404)
        yes_no = [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}]
        return {"service_code": code, "attributes": [
            _attribute("kind", "诉求类型", "singlevaluelist", True, 1,
                       [{"key": k, "name": v} for k, v in KINDS.items()]),
            _attribute("policy_id", "涉及的政策编号", "string", False, 2),
            _attribute("application_id", "涉及的申报编号", "string", False, 3),
            _attribute("disclose_identity", "同意向承办部门公开企业身份", "singlevaluelist", False, 4, yes_no),
            _attribute("public", "允许在公开接口中展示（不含企业身份）", "singlevaluelist", False, 5, yes_no),
            _attribute("confidential", "要求保密", "singlevaluelist", False, 6, yes_no),
        ]}

    def post(self, form: dict[str, Any]) -> list[dict]:
        """POST requests: form fields as the spec and FixMyStreet send them (``attribute[code]=v``)."""
        key = _text(form.get("api_key"))
        if not key:
            raise Open311Error("缺少 api_key。", status=403)
        try:
            principal = self.principal_for_key(key)
        except Exception:
            raise Open311Error("api_key 无效或已过期。", status=403) from None
        code = _text(form.get("service_code"))
        if not code:
            raise Open311Error("缺少 service_code。")
        category = self.config().category(code)
        if category is None:
            raise Open311Error(f"service_code {code} 不存在。", status=404)
        lat, long = _number(form.get("lat"), "lat"), _number(form.get("long"), "long")
        address_string, address_id = _text(form.get("address_string")), _text(form.get("address_id"))
        if not ((lat is not None and long is not None) or address_string or address_id):
            raise Open311Error("须提供 lat 与 long、address_string 或 address_id 之一。")
        description = _text(form.get("description"))
        if not description:
            raise Open311Error("缺少 description。")
        if len(description) > 4000:
            raise Open311Error("description 不能超过 4000 字。")
        attribute = _attributes(form)
        confidential = attribute.get("confidential") == "true"
        name = " ".join(p for p in (_text(form.get("last_name")), _text(form.get("first_name"))) if p) or None
        data = {
            "kind": attribute.get("kind") or "complaint", "category": code, "description": description,
            "title": description[:30], "policy_ref": attribute.get("policy_id") or None,
            "application_ref": attribute.get("application_id") or None,
            "disclose_identity": attribute.get("disclose_identity") == "true", "confidential": confidential,
            "public": attribute.get("public", "true") != "false" and not confidential,
            "contact_name": name, "contact_phone": _text(form.get("phone")), "contact_email": _text(form.get("email")),
            "address_string": address_string, "lat": lat, "long": long,
            "region_code": address_id if address_id and regions.is_valid(address_id) else None,
        }
        if principal.role.value != "enterprise":
            data["uscc"] = _text(form.get("account_id"))
            data["enterprise_name"] = name
        try:
            intake = self.service.submit(principal, data, channel="open311")
        except InvalidAppeal as error:
            raise Open311Error(error.message) from None
        notice = f"已受理。办理时限：{self._limit_text(intake.appeal.kind)}"
        if category.open311_type == "batch":
            return [{"token": intake.appeal.token, "service_notice": notice}]
        return [{"service_request_id": intake.appeal.number, "service_notice": notice, "account_id": None}]

    def _limit_text(self, kind: str) -> str:
        config = self.config()
        limit = config.time_limit("handle", kind=kind, channel="open311")
        return f"{limit.text}（{config.source_text(limit.source)}）"

    def token(self, token: str) -> list[dict]:
        with self.service.engine.connect() as connection:
            row = connection.execute(select(appeals.c.number).where(appeals.c.token == token)).first()
        if row is None:
            raise Open311Error("token 不存在。", status=404)
        return [{"service_request_id": row.number, "token": token}]

    def requests(self, params: dict[str, str]) -> list[dict]:
        """GET requests: by id list (overrides the rest), or service_code, status and dates (≤ 90 days;
        the last 90 by default), at most 1,000 rows, with ``page``/``page_size``."""
        config = self.config()
        query = select(appeals).where(appeals.c.public.is_(True), appeals.c.confidential.is_(False))
        ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
        if ids:
            query = query.where(appeals.c.number.in_(ids[:MAX_ROWS]))
        else:
            end = _date(params.get("end_date"), "end_date") or datetime.now(UTC)
            start = _date(params.get("start_date"), "start_date") or end - MAX_SPAN
            if end < start:
                raise Open311Error("end_date 早于 start_date。")
            if end - start > MAX_SPAN:
                raise Open311Error("start_date 与 end_date 相差不能超过 90 天。")
            query = query.where(appeals.c.created_at >= start, appeals.c.created_at <= end)
            if params.get("service_code"):
                query = query.where(appeals.c.category.in_(params["service_code"].split(",")))
            status = params.get("status") or ""
            closed = [s.value for s in State if not is_open(s)]
            if status == "open":
                query = query.where(appeals.c.state.notin_(closed))
            elif status == "closed":
                query = query.where(appeals.c.state.in_(closed))
            elif status:
                raise Open311Error("status 应为 open 或 closed。")
        page_size = _int(params.get("page_size"), "page_size", MAX_ROWS)
        page = _int(params.get("page"), "page", 1)
        if not 1 <= page_size <= MAX_ROWS or page < 1:
            raise Open311Error(f"page ≥ 1，1 ≤ page_size ≤ {MAX_ROWS}。")
        query = query.order_by(desc(appeals.c.created_at), desc(appeals.c.id)).limit(page_size).offset(
            (page - 1) * page_size)
        with self.service.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            notes = _latest_notes(connection, [r["id"] for r in rows])
            return [self._request(r, config, notes.get(r["id"])) for r in rows]

    def request(self, number: str) -> list[dict]:
        found = self.requests({"service_request_id": number})
        if not found:
            raise Open311Error(f"service_request_id {number} 不存在。", status=404)
        return found

    def request_updates(self, params: dict[str, str]) -> list[dict]:
        """FixMyStreet's ``servicerequestupdates``: the visible updates of public appeals in a date range."""
        end = _date(params.get("end_date"), "end_date") or datetime.now(UTC)
        start = _date(params.get("start_date"), "start_date") or end - MAX_SPAN
        if end - start > MAX_SPAN or end < start:
            raise Open311Error("start_date 与 end_date 须在 90 天以内。")
        query = (select(updates, appeals.c.number, appeals.c.state.label("appeal_state"))
                 .join(appeals, appeals.c.id == updates.c.appeal_id)
                 .where(appeals.c.public.is_(True), appeals.c.confidential.is_(False),
                        updates.c.visible.is_(True), updates.c.at >= start, updates.c.at <= end)
                 .order_by(updates.c.id).limit(MAX_ROWS))
        if params.get("service_request_id"):
            query = query.where(appeals.c.number == params["service_request_id"])
        with self.service.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        result = []
        for row in rows:
            state = State(row["to_state"] or row["appeal_state"])
            result.append({"update_id": str(row["id"]), "service_request_id": row["number"],
                           "status": "open" if is_open(state) else "closed", "updated_datetime": w3c(row["at"]),
                           "description": _public_note(row["action"], row["note"]), "media_url": None,
                           "external_status_code": state.value})
        return result

    def _request(self, row, config: AppealsConfig, note: str | None) -> dict:
        category = config.category(row["category"]) if row["category"] else None
        state = State(row["state"])
        return {
            "service_request_id": row["number"], "status": "open" if is_open(state) else "closed",
            "status_notes": note or STATE_LABELS[state], "service_name": category.name if category else "未分类",
            "service_code": row["category"], "description": row["description"],
            "agency_responsible": row["lead_department"], "service_notice": None,
            "requested_datetime": w3c(row["created_at"]), "updated_datetime": w3c(row["updated_at"]),
            "expected_datetime": None,  # deadlines stay internal; a caller follows the status and updates "address": regions.full_name(row["region_code"]) or row["region_code"],
            "address_id": row["region_code"], "zipcode": None, "lat": None, "long": None, "media_url": None,
        }


# --- helpers -------------------------------------------------------------------------------------------

def _attribute(code: str, description: str, datatype: str, required: bool, order: int,
               values: list[dict] | None = None) -> dict:
    result = {"variable": True, "code": code, "datatype": datatype, "required": required,
              "datatype_description": None, "order": order, "description": description}
    if values is not None:
        result["values"] = values
    return result


def _attributes(form: dict[str, Any]) -> dict[str, str]:
    """``attribute[code]=v``; a multivaluelist's ``attribute[code][]`` keeps its values comma-joined."""
    found: dict[str, str] = {}
    for key, value in form.items():
        if key.startswith("attribute[") and "]" in key:
            code = key[len("attribute["):key.index("]")]
            values = value if isinstance(value, list) else [value]
            found[code] = ",".join(str(v) for v in values)
    return found


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    value = (str(value).strip() if value is not None else "") or None
    return value


def _number(value: Any, name: str) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise Open311Error(f"{name} 应为数字。") from None


def _int(value: Any, name: str, default: int) -> int:
    text = _text(value)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise Open311Error(f"{name} 应为整数。") from None


def _date(value: Any, name: str) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(f"{name} 应为 W3C 日期时间，如 2026-09-14T09:00:00+08:00。") from None
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment


def _latest_notes(connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = connection.execute(select(updates.c.appeal_id, updates.c.action, updates.c.note)
                              .where(updates.c.appeal_id.in_(ids), updates.c.visible.is_(True))
                              .order_by(updates.c.id)).all()
    return {r.appeal_id: _public_note(r.action, r.note) for r in rows}


def _public_note(action: str, note: str | None) -> str | None:
    """Replies and notes may name the enterprise: the public listing shows what happened, not the text."""
    from qinqing.appeals.states import ACTIONS

    known = ACTIONS.get(action)
    return known.label if known is not None else note
