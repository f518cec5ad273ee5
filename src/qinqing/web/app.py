"""The FastAPI application: JSON API under /api (OpenAPI at /api/openapi.json) and Chinese pages.

Every URL is registered by one of the routers listed in ROUTERS, one module per resource.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from qinqing.accounts.sessions import SessionCodec
from qinqing.rules.amounts import plain
from qinqing.settings import Settings, get_settings
from qinqing.web import errors
from qinqing.web.deps import CSRF_FIELD, enforce_csrf
from qinqing.web.middleware import SessionMiddleware
from qinqing.web.routes import admin, auth, editor, enterprises, pages, policies, supervision
from qinqing.web.services import build_services, labels

HERE = Path(__file__).parent
ROUTERS = (auth.router, pages.router, policies.router, enterprises.router, editor.router, supervision.router,
           admin.router)


def money(value) -> str:
    """万元 amounts without trailing zeros or exponent: Decimal('50.0000') → '50'."""
    return "—" if value is None else plain(value)


def _template_context(request: Request) -> dict:
    session = getattr(request.state, "session", None)
    codec = request.app.state.session_codec
    return {
        "principal": getattr(request.state, "principal", None),
        "csrf_token": codec.csrf_token(session) if session else "",
        "csrf_field": CSRF_FIELD,
    }


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
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(enforce_csrf)],
    )
    app.state.settings = settings
    app.state.services = build_services(settings, engine, results_dir)
    app.state.session_codec = SessionCodec(settings.secret_key or secrets.token_urlsafe(32))
    app.state.templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_template_context])
    app.state.templates.env.filters["money"] = money
    # Pages show 中文名 and 条件一/二…, never identifiers (web/services/labels.py).
    app.state.templates.env.globals.update(
        condition_label=labels.condition_label, fields_read=labels.fields_read, field_label=labels.field_label,
        derived_explained=labels.derived_explained, industry_label=labels.industry_label,
        path_label=labels.path_label,
    )
    app.add_middleware(SessionMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
