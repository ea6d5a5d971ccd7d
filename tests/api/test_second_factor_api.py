"""The API and second factors: a session proves one anew for the weightiest acts; a token of
an account that must have one and does not is refused."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from lockstep.accounts.tokens import do_create_api_token
from lockstep.core.actor import Actor
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.models import Role
from tests.factories.cases import build_case_world
from tests.factories.signin import sign_in
from tests.factories.world import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_publishing_by_a_session_needs_a_recent_second_factor() -> None:
    world = build_case_world()
    client = sign_in(Client(), world.maintainer, ago=3600)
    refused = client.post(f"/api/v1/cases/{world.case.pk}/publish")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"


@override_settings(LOCKSTEP_REQUIRE_SECOND_FACTOR=True)
def test_a_token_of_an_account_without_its_required_second_factor_is_refused() -> None:
    user = UserFactory()
    _token, plaintext = do_create_api_token(
        user, name="old", scopes=["read"], actor=Actor.for_user(user)
    )
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert Client().get("/api/v1/me", headers=headers).status_code == 200  # no org: not needed
    do_add_member(OrganizationFactory(), user, role=Role.MEMBER, actor=Actor.system())
    refused = Client().get("/api/v1/me", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "second_factor_required"
