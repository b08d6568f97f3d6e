"""Driving the simulators' consent pages over HTTP, as a browser would: read the form, press
Allow or Deny, follow the redirect back to the callback address."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from campaigns.connections.flows import OAuthApp
from simulators.control import SimulatorControl

CALLBACK = "http://127.0.0.1:9/callback"
"""Where the platform sends the person back; never requested (the test reads the redirect)."""

HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
ACTION = re.compile(r'<form method="post" action="([^"]*)">')

OAUTH_PLATFORMS = ("twitter", "tiktok", "weibo", "douyin")


def press(authorize_url: str, decision: str) -> dict[str, str]:
    """Open the consent page, press ``decision`` (allow/deny); the callback's parameters."""
    query = parse_qs(urlsplit(press_for_location(authorize_url, decision)).query)
    return {k: v[0] for k, v in query.items()}


def press_for_location(authorize_url: str, decision: str) -> str:
    """Open the consent page, press ``decision``; the address the platform sends back to."""
    with httpx.Client() as browser:
        page = browser.get(authorize_url)
        if page.status_code != 200:
            raise AssertionError(f"consent page answered {page.status_code}: {page.text[:200]}")
        fields = {unescape(k): unescape(v) for k, v in HIDDEN.findall(page.text)}
        action = ACTION.search(page.text)
        if action is None:
            raise AssertionError("the consent page has no form")
        target = urljoin(authorize_url, unescape(action.group(1)))
        answer = browser.post(target, data={**fields, "decision": decision})
    if answer.status_code != 302:
        raise AssertionError(f"the decision answered {answer.status_code}: {answer.text[:200]}")
    return str(answer.headers["location"])


def app_for(platform: str, control: SimulatorControl, base: str, **settings: Any) -> OAuthApp:
    """A fresh simulated platform with one account, and Publicist's app registered there."""
    control.reset()
    provisioned = control.add_account("@IPRinCN", **settings)
    return OAuthApp(
        platform=platform,
        client_id=str(provisioned["client_id"]),
        client_secret=provisioned.get("client_secret"),
        api_base=base,
        auth_base=base,
    )
