"""The consent page every simulated platform shows: who is asking, for what, Allow or Deny.

A platform's authorise route checks the app and the redirect address, then shows this page;
the buttons post the same parameters back to the same path with ``decision=allow`` or
``deny``. On Allow the platform issues its one-use code; on Deny it sends the person back
with ``error=access_denied`` (RFC 6749 4.1.2.1). A bad app or redirect address is shown as
an error page and never redirected to (4.1.2.1: the address cannot be trusted).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

ALLOW = "allow"
DENY = "deny"


def usable_redirect(uri: str) -> bool:
    """An absolute http(s) address without a fragment, as the platforms demand."""
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


async def parameters(request: Request) -> tuple[dict[str, str], str | None]:
    """The authorise parameters (query on GET, form fields on POST) and the decision, if any."""
    if request.method == "POST":
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        decision = fields.pop("decision", None)
        return fields, decision if decision in (ALLOW, DENY) else None
    return dict(request.query_params), None


def page(
    *,
    platform: str,
    app: str,
    handle: str,
    scopes: str,
    params: Mapping[str, str],
    action: str,
) -> HTMLResponse:
    """The consent page: the account, the app, the scopes, and Allow / Deny."""
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if k != "decision"
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorise {escape(app)} - {escape(platform)} (simulator)</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem">
<h1>{escape(platform)}</h1>
<p>Signed in as <strong id="handle">{escape(handle)}</strong>.</p>
<p><strong>{escape(app)}</strong> asks to use your account: <code>{escape(scopes)}</code></p>
<form method="post" action="{escape(action)}">
{hidden}
<button type="submit" name="decision" value="{ALLOW}">Allow</button>
<button type="submit" name="decision" value="{DENY}">Deny</button>
</form>
</body></html>"""
    return HTMLResponse(body)


def refused(message: str) -> HTMLResponse:
    """A bad authorise request, shown to the person (never redirected anywhere)."""
    return HTMLResponse(
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Error</title>"
        f"<p id='error'>{escape(message)}</p></html>",
        status_code=400,
    )


def back(redirect_uri: str, values: Mapping[str, str]) -> RedirectResponse:
    """Send the person back to the app with ``values`` (code or error, and the state)."""
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(dict(values)), status_code=302)


def denied(redirect_uri: str, state: str | None) -> RedirectResponse:
    values = {"error": "access_denied", "error_description": "The user denied the request"}
    if state is not None:
        values["state"] = state
    return back(redirect_uri, values)
