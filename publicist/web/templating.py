"""Jinja2 for the workspace pages: one environment per language, autoescaped, with gettext."""

from __future__ import annotations

from datetime import datetime
from functools import cache, partial
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, Template, select_autoescape

from publicist.web.i18n import HTML_LANG, NAMES, translations

HTMX_VERSION = "2.0.8"
HTMX_PATH = f"vendor/htmx.org-{HTMX_VERSION}/htmx.min.js"


def number(value: int | None, missing: str = "n/a") -> str:
    return missing if value is None else f"{value:,}"


def rate(value: float | None, missing: str = "n/a") -> str:
    return missing if value is None else f"{value:.2%}"


def local_time(moment: datetime | None, zone: str, never: str = "never") -> str:
    if moment is None:
        return never
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("publicist.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue = translations(language)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    # A counter a platform does not give is "not available", in the page's language.
    missing = catalogue.gettext("n/a")
    env.filters.update(
        number=partial(number, missing=missing),
        rate=partial(rate, missing=missing),
        local_time=local_time,
    )
    env.globals.update(
        language=language,
        html_lang=HTML_LANG[language],
        language_names=NAMES,
        htmx_path=HTMX_PATH,
    )
    return env


def policy(*, scripts: bool) -> str:
    """The Content-Security-Policy of a page: our own files only, script only where used."""
    script = " script-src 'self';" if scripts else ""
    return (
        "default-src 'none';"
        f"{script} style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
    )


def _render(template: Template, values: dict[str, Any]) -> str:
    """``template.render(values)``, leaving no reference cycle behind.

    A macro that translates text (the gettext functions are bound to the render context)
    and the context refer to each other, so a rendered page's context (and every row it
    shows) was freed only by the cyclic garbage collector, and a busy page's rows made its
    collections longer and more frequent. Emptying the context's variables after rendering
    breaks the cycle, and the page is freed as soon as it is sent.
    """
    context = template.new_context(values)
    try:
        return template.environment.concat(template.root_render_func(context))
    except Exception:
        template.environment.handle_exception()
    finally:
        context.vars.clear()


def render(
    language: str,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    scripts: bool = False,
) -> HTMLResponse:
    """A page with the workspace's safety headers; ``scripts`` allows our own (htmx)."""
    body = _render(environment(language).get_template(template), {**context, "scripts": scripts})
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "Content-Security-Policy": policy(scripts=scripts),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Language": HTML_LANG[language],
        },
    )
