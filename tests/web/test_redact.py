"""The access log never shows a dashboard token, however the query spells ``token``."""

from __future__ import annotations

import logging

import pytest

from publicist.web.redact import RedactTokens, redact
from publicist.web.tokens import Role
from tests.web.conftest import Api

SECRET = "pub_s3cret"
SPELLINGS = [
    "token",
    "%74oken",
    "tok%65n",
    "%74%6F%6B%65%6E",
    "%74%6f%6b%65%6e",
    "TOKEN",
    "%2574oken",  # encoded twice
    "token%20",
    "+token",
]


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize("separator", ["?", "?campaign=2&", "?campaign=2;", "%3F", "?a=1%26"])
def test_every_spelling_of_token_is_redacted(name: str, separator: str) -> None:
    line = f'"GET /dashboard{separator}{name}={SECRET}&campaign=2 HTTP/1.1"'
    redacted = redact(line)
    assert SECRET not in redacted
    assert f"{name}=[redacted]&campaign=2 HTTP/1.1" in redacted


@pytest.mark.parametrize(
    "line",
    [
        "/api/reports/campaigns?top=5&limit=10",
        "/dashboard?campaign=2&tokens=1&my_token=2&atoken=3",
        "/dashboard?tok%65=4",
    ],
)
def test_other_parameters_are_left_alone(line: str) -> None:
    assert redact(line) == line


def test_the_filter_redacts_an_encoded_token_in_uvicorn_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/dashboard?%74oken={SECRET}", "1.1", 303),
        None,
    )
    assert RedactTokens().filter(record)
    assert SECRET not in record.getMessage()


def test_the_server_reads_an_encoded_name_as_token(api: Api) -> None:
    """Why the spellings matter: the page accepts ``%74oken=`` as ``token=``."""
    secret = api.tokens[Role.VIEWER]
    response = api.client.get(f"/dashboard?%74oken={secret}", follow_redirects=False)
    assert response.status_code == 303
    assert redact(f"/dashboard?%74oken={secret}") == "/dashboard?%74oken=[redacted]"
