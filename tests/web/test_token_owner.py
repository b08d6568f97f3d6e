"""API tokens owned by a person: never more rights than the owner; disabled owner, no access."""

from __future__ import annotations

import pytest

from campaigns.people.roles import Role
from campaigns.people.services import add_person, disable_person
from publicist.core.errors import InvalidInput
from publicist.web.tokens import create_token
from tests.web.conftest import Api


def _person_and_token(api: Api, person_role: Role, token_role: Role) -> str:
    with api.sessions() as session, session.begin():
        person = add_person(
            session,
            name="Zhang Min",
            email="zhang@example.org",
            role=Role.ADMIN,
            password="correct horse battery",
            now=api.clock.now(),
        )
        secret = create_token(
            session, role=token_role, name="zhang's", now=api.clock.now(), owner=person
        ).secret
        person.role = person_role.value  # demoted after the token was made
        return secret


def test_a_token_is_capped_by_its_owners_current_role(api: Api) -> None:
    secret = _person_and_token(api, Role.VIEWER, Role.ADMIN)
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/reports/campaigns", headers=headers).status_code == 200
    refused = api.client.post("/api/campaigns", json={"name": "x"}, headers=headers)
    assert refused.status_code == 403
    assert "capped by its owner's role" in refused.json()["error"]["message"]


def test_a_disabled_persons_tokens_stop_working(api: Api) -> None:
    secret = _person_and_token(api, Role.ADMIN, Role.EDITOR)
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/reports/campaigns", headers=headers).status_code == 200
    with api.sessions() as session, session.begin():
        disable_person(session, email="zhang@example.org", now=api.clock.now())
    assert api.client.get("/api/reports/campaigns", headers=headers).status_code == 401


def test_a_token_above_its_owners_role_is_refused(api: Api) -> None:
    with api.sessions() as session, session.begin():
        person = add_person(
            session,
            name="Chen",
            email="chen@example.org",
            role=Role.EDITOR,
            password="correct horse battery",
            now=api.clock.now(),
        )
        with pytest.raises(InvalidInput, match="above its owner's role"):
            create_token(
                session, role=Role.ADMIN, name="too much", now=api.clock.now(), owner=person
            )


def test_an_approver_token_passes_editor_checks(api: Api) -> None:
    headers = api.auth(Role.APPROVER)
    assert api.client.post("/api/campaigns", json={"name": "A"}, headers=headers).status_code == 201
    assert api.client.get("/api/tokens", headers=headers).status_code == 403


def test_a_token_made_through_the_api_belongs_to_the_callers_owner(api: Api) -> None:
    secret = _person_and_token(api, Role.ADMIN, Role.ADMIN)
    made = api.client.post(
        "/api/tokens",
        json={"role": "viewer", "name": "made by zhang"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert made.status_code == 201
    child = {"Authorization": f"Bearer {made.json()['token']}"}
    assert api.client.get("/api/reports/campaigns", headers=child).status_code == 200
    with api.sessions() as session, session.begin():
        disable_person(session, email="zhang@example.org", now=api.clock.now())
    assert api.client.get("/api/reports/campaigns", headers=child).status_code == 401
