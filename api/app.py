"""The FastAPI application: ``create_app(settings)``.

    uvicorn --factory api.app:create_app      # or: vraagbaak serve [--host H] [--port P]

The lifespan starts loading the model and index (building the index if there is none) in a worker
thread; the server answers at once, /readyz says when it is ready. Layers, outermost first: request
id + access log + metrics (api/observability.py), CORS (when VRAAGBAAK_CORS_ORIGINS is set), HEAD
answered as GET without the body (HeadAsGet), then the routes; errors in one shape (api/errors.py); API keys per route (api/security.py).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import admin, ask, documents, feedback, health, openai_compat, search, web
from api.errors import error_response, install_error_handlers
from api.openapi import build_openapi
from api.observability import REQUEST_ID_HEADER, Metrics, RequestContextMiddleware
from api.runtime import Runtime
from rag.config import Settings, load_settings
from rag.service import Vraagbaak

DOCS_ASSETS = "/docs-assets"  # Swagger UI and ReDoc files (api/app.py _offline_docs)

DESCRIPTION = """
Questions about Dutch government documents, answered from those documents with citations.

* **POST /v1/search**: the passages that answer a question, ranked, each with its citation.
* **POST /v1/ask**: a short answer whose sentences cite their sources as [n]; JSON or Server-Sent Events.
* **POST /v1/chat/completions**, **GET /v1/models**, **/v1/models/{id}**: OpenAI-compatible, for the `openai`
  clients and chat UIs.
* **GET /v1/documents**, **/v1/documents/{id}**, **/v1/passages/{id}**: what a citation points at.
* **POST /v1/feedback**: thumbs up or down on an answer; **GET /v1/feedback** lists it (API key), also as CSV.
* **GET /**: the web page for citizens.

Errors always look like `{"error": {"code": "...", "message": "...", "request_id": "..."}}`.
Send `Authorization: Bearer <key>` when keys are required (admin endpoints always).
"""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vraagbaak")
    except Exception:
        return "0"


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the API's error shape."""

    def preflight_response(self, request_headers):
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
        return error_response(response.status_code, "cors_rejected", f"CORS preflight refused: "
                              f"{response.body.decode(errors='replace')} (VRAAGBAAK_CORS_ORIGINS)", headers)


def _offline_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc with their files served from the fastapi-offline wheel, not a CDN."""
    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}{app.openapi_url}", title="Vraagbaak – API docs",
                                   swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title="Vraagbaak – API reference",
                              redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png", with_google_fonts=False)


class HeadAsGet:
    """HEAD wherever GET is, as RFC 9110 asks (load balancers and uptime checkers probe with it): one
    layer at app creation rather than a HEAD handler per route, so no route can miss it. The request goes
    on as a GET, so routing, keys, status and headers are the GET's; the body is dropped. The OpenAPI
    document lists the GETs only: HEAD is implied by GET. (Adding HEAD to each route's methods instead
    would put HEAD operations, with clashing operation ids, into FastAPI's document.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def create_app(settings: Settings | None = None, service: Vraagbaak | None = None) -> FastAPI:
    """The app for these settings (default: from VRAAGBAAK_* variables). ``service``: an already
    opened Vraagbaak to serve instead of loading one at startup (tests, embedding in another program)."""
    settings = settings or load_settings()
    if settings.require_api_key and not settings.api_keys:
        raise ValueError("VRAAGBAAK_REQUIRE_API_KEY=true needs at least one key in VRAAGBAAK_API_KEYS")
    metrics = Metrics()
    runtime = Runtime(settings=settings, metrics=metrics, preloaded=service)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await runtime.startup()
        try:
            yield
        finally:
            await runtime.shutdown()

    app = FastAPI(
        title="Vraagbaak",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank offline
        redoc_url=None,
        # No 307 to the path without (or with) a trailing slash: its Location was built from the Host header
        # (an open redirect) and it had an empty body; such a path is a 404 in the error shape.
        redirect_slashes=False,
    )
    _offline_docs(app)
    app.state.settings = settings
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(HeadAsGet)  # innermost: the access log and metrics still say HEAD
    if settings.cors_origins:
        app.add_middleware(
            JsonCORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],  # the OpenAI browser clients add their own x-stainless-* headers
            expose_headers=[REQUEST_ID_HEADER],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes,
                       body_timeout=settings.body_timeout)
    for module in (health, search, ask, openai_compat, documents, feedback, admin, web):
        app.include_router(module.router)
    app.openapi = lambda: build_openapi(app)  # optional security on public routes, limits from settings
    return app
