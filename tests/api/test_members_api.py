"""Members, invitations and accounts through the API: who may do what (every operation under
/orgs and /users is in the table), what each does, and how the OpenAPI document lists it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from lockstep.accounts.models import User
from lockstep.api.v1.api import api
from lockstep.audit.models import AuditEvent
from lockstep.core.actor import Actor
from lockstep.mailgw.models import OutboundMessage, OutboxStatus
from lockstep.orgs.actions import do_add_member
from lockstep.orgs.invitations import do_invite_member
from lockstep.orgs.models import Invitation, Membership, Organization, Role
from tests.factories.access import api_get, token_for
from tests.factories.cases import CaseWorld, build_case_world
from tests.factories.world import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
CALLERS = ("anonymous", "outsider", "member", "admin", "operator")


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # OpenAPI path under /api/v1
    expect: dict[str, int]


def _table(**overrides: int) -> dict[str, int]:
    base = {"anonymous": 401, "outsider": 404, "member": 403, "admin": 200, "operator": 200}
    return base | overrides


OPS = [
    Op("get", "/orgs/{slug}/members", _table(member=200)),
    Op("patch", "/orgs/{slug}/members/{user_id}", _table()),
    Op("delete", "/orgs/{slug}/members/{user_id}", _table(admin=204, operator=204)),
    Op("get", "/orgs/{slug}/invitations", _table()),
    Op("post", "/orgs/{slug}/invitations", _table(admin=201, operator=201)),
    Op("delete", "/orgs/{slug}/invitations/{invitation_id}", _table(admin=204, operator=204)),
    Op("post", "/users/{user_id}/deactivate", _table(member=404, admin=404)),
    Op("post", "/users/{user_id}/reactivate", _table(member=404, admin=404, operator=409)),
]


def test_every_member_and_account_operation_is_in_the_table() -> None:
    paths = api.get_openapi_schema()["paths"]
    found = {
        (method, path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        for method in operations
        if path.startswith(("/api/v1/orgs", "/api/v1/users"))
    }
    assert found == {(op.method, op.path) for op in OPS}


@dataclass
class Team:
    org: Organization
    admin: User
    member: User
    target: User  # the one changed or removed
    outsider: User
    operator: User


@pytest.fixture
def team() -> Team:
    org = OrganizationFactory(name="Northwind Linux", slug="northwind")
    people = [UserFactory() for _ in range(4)]
    admin, member, target, outsider = people
    do_add_member(org, admin, role=Role.ADMIN, actor=SYSTEM)
    do_add_member(org, member, actor=SYSTEM)
    do_add_member(org, target, actor=SYSTEM)
    return Team(org, admin, member, target, outsider, UserFactory(is_staff=True))


def _call(client: Client, op: Op, team: Team, headers: dict[str, str]) -> Any:
    invitation = do_invite_member(
        team.org, email="pending@example.org", role=Role.MEMBER, actor=SYSTEM
    )
    path = op.path.format(
        slug=team.org.slug, user_id=team.target.pk, invitation_id=invitation.invitation.pk
    )
    body = {"role": "admin"} if op.method == "patch" else {"email": "new@example.org"}
    send = getattr(client, op.method)
    if op.method in {"post", "patch"}:
        return send(f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers)
    return send(f"/api/v1{path}", **headers)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
def test_matrix(op: Op, caller: str, team: Team) -> None:
    users = {
        "outsider": team.outsider,
        "member": team.member,
        "admin": team.admin,
        "operator": team.operator,
    }
    headers = {}
    if caller in users:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(users[caller])}"}
    response = _call(Client(), op, team, headers)
    assert response.status_code == op.expect[caller], response.content[:300]


def _bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}


def test_the_members_list(team: Team) -> None:
    body = Client().get("/api/v1/orgs/northwind/members", **_bearer(team.member)).json()
    assert [m["email"] for m in body] == sorted(
        u.email for u in (team.admin, team.member, team.target)
    )
    admin_row = next(m for m in body if m["user_id"] == team.admin.pk)
    assert admin_row["role"] == "admin"
    assert admin_row["active"] is True
    assert set(admin_row) == {"user_id", "email", "display_name", "role", "active", "joined_at"}


def test_change_role_and_the_last_admin_rule(team: Team) -> None:
    client = Client()
    url = f"/api/v1/orgs/northwind/members/{team.target.pk}"
    changed = client.patch(
        url, json.dumps({"role": "admin"}), content_type="application/json", **_bearer(team.admin)
    )
    assert changed.status_code == 200
    assert changed.json()["role"] == "admin"
    bad = client.patch(
        url, json.dumps({"role": "owner"}), content_type="application/json", **_bearer(team.admin)
    )
    assert bad.status_code == 400
    assert client.delete(url, **_bearer(team.admin)).status_code == 204
    last = client.patch(
        f"/api/v1/orgs/northwind/members/{team.admin.pk}",
        json.dumps({"role": "member"}),
        content_type="application/json",
        **_bearer(team.operator),
    )
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "conflict"
    gone = f"/api/v1/orgs/northwind/members/{team.outsider.pk}"
    assert client.delete(gone, **_bearer(team.admin)).status_code == 404


def test_invite_returns_the_invitation_without_its_link(team: Team) -> None:
    client = Client()
    created = client.post(
        "/api/v1/orgs/northwind/invitations",
        json.dumps({"email": "Cy@Example.org", "role": "admin"}),
        content_type="application/json",
        **_bearer(team.admin),
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "email", "role", "created_at", "expires_at"}
    assert (body["email"], body["role"]) == ("cy@example.org", "admin")
    copy = OutboundMessage.objects.get(pk=Invitation.objects.get(pk=body["id"]).outbound_id)
    assert "/invitations/" in copy.body
    assert "/invitations/" not in created.content.decode()
    listed = client.get("/api/v1/orgs/northwind/invitations", **_bearer(team.admin)).json()
    assert [i["id"] for i in listed] == [body["id"]]
    again = client.post(
        "/api/v1/orgs/northwind/invitations",
        json.dumps({"email": "cy@example.org"}),
        content_type="application/json",
        **_bearer(team.admin),
    )
    assert again.status_code == 409
    bad = client.post(
        "/api/v1/orgs/northwind/invitations",
        json.dumps({"email": "not an address"}),
        content_type="application/json",
        **_bearer(team.admin),
    )
    assert (bad.status_code, bad.json()["error"]["field"]) == (400, "email")
    revoke = f"/api/v1/orgs/northwind/invitations/{body['id']}"
    assert client.delete(revoke, **_bearer(team.admin)).status_code == 204
    assert OutboundMessage.objects.get(pk=copy.pk).status == OutboxStatus.DROPPED
    assert client.delete(revoke, **_bearer(team.admin)).status_code == 404


def test_deactivate_and_reactivate(team: Team) -> None:
    client, operator = Client(), _bearer(team.operator)
    target_token = token_for(team.target)
    done = client.post(f"/api/v1/users/{team.target.pk}/deactivate", **operator)
    assert done.status_code == 200
    assert done.json() == {
        "id": team.target.pk,
        "email": team.target.email,
        "display_name": team.target.display_name,
        "is_staff": False,
        "active": False,
    }
    assert api_get("/me", target_token) == 401
    assert client.post(f"/api/v1/users/{team.target.pk}/deactivate", **operator).status_code == 409
    self_ = client.post(f"/api/v1/users/{team.operator.pk}/deactivate", **operator)
    assert (self_.status_code, self_.json()["error"]["code"]) == (403, "permission_denied")
    back = client.post(f"/api/v1/users/{team.target.pk}/reactivate", **operator)
    assert (back.status_code, back.json()["active"]) == (200, True)
    assert Membership.objects.filter(user=team.target).exists()
    assert client.post("/api/v1/users/999999/deactivate", **operator).status_code == 404
    tags = AuditEvent.objects.filter(tag__startswith="account:user:").values_list("tag", flat=True)
    assert list(tags.order_by("seq"))[-2:] == [
        "account:user:deactivated",
        "account:user:reactivated",
    ]


def test_removal_through_the_api_cuts_the_case_for_session_and_token() -> None:
    world: CaseWorld = build_case_world()
    member, case = world.vendor_user, world.case
    do_add_member(world.outsider, member, actor=SYSTEM)  # keeps a session and a token
    token = token_for(member)
    browser = Client()
    browser.force_login(member)
    assert browser.get(f"/api/v1/cases/{case.pk}").status_code == 200
    assert api_get(f"/cases/{case.pk}", token) == 200
    operator = _bearer(UserFactory(is_staff=True))
    removed = Client().delete(f"/api/v1/orgs/{world.vendor.slug}/members/{member.pk}", **operator)
    assert removed.status_code == 204
    assert browser.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert api_get(f"/cases/{case.pk}", token) == 404
    assert api_get("/me", token) == 200


def test_the_openapi_document_lists_each_operation_and_its_errors() -> None:
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    paths = schema["paths"]

    def statuses(path: str, method: str) -> set[str]:
        return set(paths[f"/api/v1{path}"][method]["responses"])

    assert statuses("/orgs/{slug}/members", "get") >= {"200", "400", "401", "404"}
    assert statuses("/orgs/{slug}/invitations", "get") >= {"200", "401", "403", "404"}
    assert statuses("/orgs/{slug}/invitations", "post") >= {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "429",
    }
    assert statuses("/orgs/{slug}/members/{user_id}", "patch") >= {"200", "403", "404", "409"}
    assert statuses("/orgs/{slug}/members/{user_id}", "delete") >= {"204", "403", "404", "409"}
    assert statuses("/users/{user_id}/deactivate", "post") >= {"200", "401", "403", "404", "409"}
    components = schema["components"]["schemas"]
    assert {"MemberOut", "RoleIn", "InvitationIn", "InvitationOut", "UserOut"} <= set(components)
