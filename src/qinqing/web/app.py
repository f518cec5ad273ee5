"""The FastAPI application: JSON API under /api (OpenAPI at /api/openapi.json) and Chinese pages.

Every URL is registered by one of the routers listed in ROUTERS, one module per resource.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from qinqing.accounts.sessions import SessionCodec
from qinqing.settings import Settings, get_settings
from qinqing.web import errors
from qinqing.web.deps import CSRF_FIELD, enforce_csrf
from qinqing.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware, SessionMiddleware
from qinqing.web.routes import (
    admin, appeals, audit, auth, editor, enterprises,
    indices, open311, pages, policies, supervision, workflow,
)
from qinqing.web.services import build_services, formatting, labels

HERE = Path(__file__).parent
ROUTERS = (auth.router, pages.router, policies.router, enterprises.router, editor.router, supervision.router,
           admin.router, appeals.router, audit.router, indices.router, workflow.router)
OPENAPI_URL = "/api/openapi.json"
SWAGGER_UI = "/static/vendor/swagger-ui"
# FastAPI's own page loads Swagger UI from a CDN (blank on an intranet) and starts it with an inline
# script (refused by the CSP): this one uses the vendored files and static/api-docs.js.
API_DOCS_HTML = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>亲清 qinqing · 接口文档</title>
<link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
<link rel="icon" type="image/png" href="{SWAGGER_UI}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"></div>
<script src="{SWAGGER_UI}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def _template_context(request: Request) -> dict:
    session = getattr(request.state, "session", None)
    codec = request.app.state.session_codec
    return {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": codec.csrf_token(session) if session else "",
        "csrf_field": CSRF_FIELD,
    }


async def api_docs() -> HTMLResponse:
    """Swagger UI for the OpenAPI document, from static/vendor/swagger-ui (no network needed)."""
    return HTMLResponse(API_DOCS_HTML)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               results_dir: str | Path | None = None) -> FastAPI:
    """The application for ``settings`` (QINQING_* environment by default) on an already-migrated database.

    ``results_dir`` is the matching results store; without one, 我的政策 evaluates policies directly.
    """
    from qinqing.db import make_engine

    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    results_dir = results_dir or settings.results_dir
    app = FastAPI(
        title="亲清 qinqing",
        description="惠企政策直达平台：政策库、政策计算器、企业画像与政策发布。",
        version="0.1.0",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # api_docs below, served from the package
        redoc_url=None,
        dependencies=[Depends(enforce_csrf)],
    )
    app.state.settings = settings
    app.state.services = build_services(settings, engine, results_dir)
    app.state.session_codec = SessionCodec(settings.secret_key or secrets.token_urlsafe(32))
    app.state.templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_template_context])
    formatting.install(app.state.templates.env)  # money, number, percent, measure (web/services/formatting.py)
    # Pages show 中文名 and 条件一/二…, never identifiers (web/services/labels.py).
    app.state.templates.env.globals.update(
        condition_label=labels.condition_label, fields_read=labels.fields_read, field_label=labels.field_label,
        derived_explained=labels.derived_explained, industry_label=labels.industry_label,
        path_label=labels.path_label,
        audit_trail=audit.audit_trail,  # 操作记录 sections (_audit_trail.html)
    )
    # Outermost last: the headers go on every answer, the body limit's 413 included.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SessionMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_api_route("/api/docs", api_docs, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/open311", open311.build(app))  # Open311 GeoReport v2 (its own errors and api_key, no CSRF)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
