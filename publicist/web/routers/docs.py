"""``/docs``: the try-it page, served with Swagger UI from Publicist itself (no CDN).

The vendored files are upstream's, unmodified, under ``static/vendor/`` with their licence and
checksums; the page loads nothing from another origin and runs no inline script.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

SWAGGER_UI = "vendor/swagger-ui-dist-5.35.0"

SECURITY_HEADERS = {
    # Swagger UI sets inline style attributes; scripts, styles and fetches are same-origin.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    def static(path: str) -> str:
        return escape(str(request.url_for("static", path=path).path))

    openapi = escape(request.app.openapi_url or "/openapi.json")
    title = escape(f"{request.app.title} API")
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{static(f"{SWAGGER_UI}/swagger-ui.css")}">
</head>
<body data-openapi="{openapi}">
<div id="swagger-ui"></div>
<script src="{static(f"{SWAGGER_UI}/swagger-ui-bundle.js")}"></script>
<script src="{static("docs.js")}"></script>
</body>
</html>
"""
    return HTMLResponse(page, headers=SECURITY_HEADERS)
