"""Open311 GeoReport v2 under /open311 (discovery) and /open311/v2 (the six methods and FixMyStreet's
``servicerequestupdates``), in XML and JSON. A sub-application mounted by web/app.py: its POST takes an
``api_key`` (a platform API token), not a session, so the site's CSRF rule does not apply, and its errors
are the spec's arrays of ``{code, description}``. The work is in ``qinqing.appeals.open311``."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qinqing.appeals.errors import AppealError, Open311Error
from qinqing.appeals.open311 import FORMATS, GeoReport, error_list, to_xml
from qinqing.appeals.service import AppealService

log = logging.getLogger(__name__)


def _render(fmt: str, root: str, value, status: int = 200) -> Response:
    if fmt == "json":
        return Response(json.dumps(value, ensure_ascii=False), status_code=status, media_type=FORMATS["json"])
    return Response(to_xml(root, value), status_code=status, media_type=FORMATS["xml"])


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(f"不支持的格式 {fmt}（xml 或 json）。", status=404)
    return fmt


def build(parent: FastAPI) -> FastAPI:
    """The Open311 application; it reads the parent's services (database, accounts) at request time."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def gateway() -> GeoReport:
        cached = getattr(parent.state, "open311", None)
        if cached is None:
            services = parent.state.services
            cached = GeoReport(AppealService(services.engine), services.accounts.principal_for_token)
            parent.state.open311 = cached
        return cached

    def fmt_of(request: Request) -> str:
        return "json" if request.url.path.endswith(".json") else "xml"

    @app.exception_handler(AppealError)
    async def appeal_error(request: Request, error: AppealError) -> Response:
        status = error.status if error.status in (400, 403, 404) else 400
        return _render(fmt_of(request), "errors", error_list(error, status), status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        status = error.status_code if error.status_code in (400, 403, 404) else 400
        return _render(fmt_of(request), "errors", [{"code": status, "description": "请求有误。"}], status)

    @app.exception_handler(Exception)
    async def other_error(request: Request, error: Exception) -> Response:
        log.exception("open311 %s failed", request.url.path)
        return _render(fmt_of(request), "errors", [{"code": 400, "description": "服务处理失败，请稍后重试。"}], 400)

    def params(request: Request) -> dict[str, str]:
        result = {k: v for k, v in request.query_params.items() if v != ""}  # empty = absent (the spec)
        gateway().check_jurisdiction(result.get("jurisdiction_id"))
        return result

    @app.get("/discovery.{fmt}")
    def discovery(request: Request, fmt: str) -> Response:
        return _render(_format(fmt), "discovery", gateway().discovery(str(request.base_url).removesuffix("/open311/")))

    @app.get("/v2/services.{fmt}")
    def services(request: Request, fmt: str) -> Response:
        params(request)
        return _render(_format(fmt), "services", gateway().services())

    @app.get("/v2/services/{code}.{fmt}")
    def definition(request: Request, code: str, fmt: str) -> Response:
        params(request)
        return _render(_format(fmt), "service_definition", gateway().definition(code))

    @app.post("/v2/requests.{fmt}")
    async def post_request(request: Request, fmt: str) -> Response:
        fmt = _format(fmt)
        form = await request.form()
        data = {key: (form.getlist(key) if key.endswith("[]") else form.get(key)) for key in form.keys()}
        data = {k.removesuffix("[]"): v for k, v in data.items()}
        gateway().check_jurisdiction(data.get("jurisdiction_id") or None)
        return _render(fmt, "service_requests", gateway().post(data))

    @app.get("/v2/requests.{fmt}")
    def get_requests(request: Request, fmt: str) -> Response:
        return _render(_format(fmt), "service_requests", gateway().requests(params(request)))

    @app.get("/v2/requests/{number}.{fmt}")
    def get_request(request: Request, number: str, fmt: str) -> Response:
        params(request)
        return _render(_format(fmt), "service_requests", gateway().request(number))

    @app.get("/v2/tokens/{token}.{fmt}")
    def get_token(request: Request, token: str, fmt: str) -> Response:
        params(request)
        return _render(_format(fmt), "service_requests", gateway().token(token))

    @app.get("/v2/servicerequestupdates.{fmt}")
    def request_updates(request: Request, fmt: str) -> Response:
        return _render(_format(fmt), "service_request_updates", gateway().request_updates(params(request)))

    return app
