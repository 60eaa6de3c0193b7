"""GraphiQL served from our own origin: the page and its pinned, vendored assets.

The assets (React, ReactDOM, GraphiQL, its explorer plugin and their CSS) live in
`server/static/graphiql/` with their licences and a README saying how to refresh
them; nothing is loaded from a CDN, so GraphiQL works on a closed network. The page
sends a Content-Security-Policy that allows this origin only.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"

# Pinned versions: the file names carry them (see server/static/graphiql/README.md).
STYLESHEETS = ("graphiql-3.8.3.min.css", "plugin-explorer-1.0.2.css")
SCRIPTS = (
    "react-18.2.0.production.min.js",
    "react-dom-18.2.0.production.min.js",
    "graphiql-3.8.3.min.js",
    "plugin-explorer-1.0.2.umd.js",
    "sitedesk-graphiql.js",
)

# CodeMirror sets inline styles and GraphiQL embeds its fonts and icons as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def graphiql_html() -> str:
    links = "\n".join(f'    <link rel="stylesheet" href="{ASSETS_PATH}/{name}" />' for name in STYLESHEETS)
    scripts = "\n".join(f'    <script src="{ASSETS_PATH}/{name}"></script>' for name in SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Sitedesk GraphiQL</title>
{links}
    <style>body {{ margin: 0; height: 100vh; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
{scripts}
  </body>
</html>
"""


PAGE = graphiql_html()


def graphiql_response() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


class Assets(StaticFiles):
    """The vendored files; their names carry their versions, so browsers may keep them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def cached_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"cache-control", b"public, max-age=86400"))
            await send(message)

        await super().__call__(scope, receive, cached_send)


def graphiql_routes() -> list[Mount]:
    return [Mount(ASSETS_PATH, app=Assets(directory=ASSETS_DIR), name="graphiql-assets")]
