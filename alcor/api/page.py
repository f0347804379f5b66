"""The web page at /ui/: plain HTML, JS and CSS files shipped in the package (no build step).

The page holds no data and no secrets: it reads the same API as any client (lists, then the
/v2.0/watch stream, and GET /nodes/{id} for delivery state), so it is served without a
caller; in token mode it asks for a token and sends it as X-Auth-Token.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from alcor import errors
from alcor.api import http

UI_DIR = Path(__file__).parent / "ui"
FILES = {
    "": ("index.html", "text/html"),
    "index.html": ("index.html", "text/html"),
    "app.js": ("app.js", "text/javascript"),
    "style.css": ("style.css", "text/css"),
}


async def _redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/ui/")


async def _file(request: web.Request) -> web.StreamResponse:
    found = FILES.get(request.match_info["name"])
    if found is None:
        return http.error_response(errors.NotFound())
    name, content_type = found
    return web.Response(
        body=(UI_DIR / name).read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def add_page_routes(app: web.Application) -> None:
    """Serve /ui/ (before the API's catch-all route)."""
    app.router.add_get("/ui", _redirect)
    app.router.add_get("/ui/{name:[a-z.]*}", _file)
