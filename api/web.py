"""The citizens' web page: GET / and its files under /static/ (api/static/: plain HTML, CSS and
JavaScript, no build step, nothing from another site, so it works offline).

The page asks POST /v1/ask with ``stream: true`` (Server-Sent Events read with fetch), opens citations
with GET /v1/passages/{id} and /v1/documents/{id}, and sends POST /v1/feedback. It is always served,
like /docs; the API calls it makes need a key only with VRAAGBAAK_REQUIRE_API_KEY.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import ApiError

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The page loads only its own files and talks only to this server.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}

router = APIRouter(include_in_schema=False)


def _file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    media_type = MEDIA_TYPES.get(path.suffix)
    # Only plain file names of known types directly in api/static: no folders, no dot files.
    if "/" in name or "\\" in name or name.startswith(".") or media_type is None or not path.is_file():
        raise ApiError(404, "not_found", f"no such file: /static/{name}")
    # no-cache: the browser revalidates (ETag), so a new version is seen at once.
    return FileResponse(path, media_type=media_type, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/")
async def page() -> FileResponse:
    return _file("index.html")


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    return _file(name)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return _file("favicon.svg")
