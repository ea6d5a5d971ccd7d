"""Small pieces that the larger tests pass over: names, the actor, edge branches."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from lockstep.audit.models import AuditChainHead, AuditEvent
from lockstep.channels.models import ChannelKind
from lockstep.cli import _is_loopback, build_parser
from lockstep.core.actor import Actor, ActorKind, from_request
from lockstep.core.errors import PermissionDenied, ValidationError
from lockstep.ops.heartbeat import beat
from lockstep.ops.models import WorkerHeartbeat
from lockstep.ops.tasks import ping
from lockstep.orgs.actions import do_add_member, do_add_user_key
from lockstep.orgs.models import Membership, OrgKind
from lockstep.orgs.queries import list_keys_of_user, list_memberships_for, list_orgs_for, role_in
from lockstep.projects.actions import do_add_package, do_add_redistributor
from lockstep.web.errors import domain_errors
from tests.factories.keys import KeyPair
from tests.factories.world import ChannelFactory, OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_model_names_itself(system: Actor, alice_key: KeyPair) -> None:
    user = UserFactory(email="ana@example.org", display_name="")
    assert str(user) == "ana@example.org"
    assert user.name == "ana@example.org"
    org = OrganizationFactory(name="Northwind")
    assert str(org) == "Northwind"
    membership = do_add_member(org, user, actor=system)
    assert str(membership) == f"{user.pk} in {org.pk} as member"
    key = do_add_user_key(user, armored=alice_key.public, actor=system)
    assert str(key) == key.fingerprint
    project = ProjectFactory(name="libq")
    assert str(project) == "libq"
    assert str(do_add_package(project, purl="pkg:pypi/libq", actor=system)) == "pkg:pypi/libq"
    link = do_add_redistributor(project, org, actor=system)
    assert str(link) == f"{org.pk} ships {project.pk}"
    channel = ChannelFactory(name="distros", kind=ChannelKind.PRIVATE)
    assert str(channel) == "distros"
    assert str(channel.members.model(channel=channel, org=org)) == f"{org.pk} on {channel.pk}"
    event = AuditEvent.objects.order_by("seq").first()
    assert event is not None
    assert str(event).startswith("#1 account:user:created user:")
    assert str(AuditChainHead.objects.get(pk=1)).startswith("audit head at #")
    beat("w9")
    assert str(WorkerHeartbeat.objects.get()).startswith("worker w9 on ")


def test_actor_from_request() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    anonymous = from_request(request)
    assert anonymous == Actor.anonymous()
    assert not anonymous.is_authenticated
    assert not anonymous.is_privileged
    user = UserFactory(is_staff=True)
    request.user = user
    actor = from_request(request)
    assert actor == Actor(kind=ActorKind.USER, label=user.email, user_id=user.pk, is_staff=True)
    assert Actor.for_user(user) == actor  # the one way, also for mail and the API
    assert actor.is_authenticated
    assert actor.is_privileged


def test_anonymous_reads_are_empty() -> None:
    org = OrganizationFactory(kind=OrgKind.VENDOR)
    nobody = Actor.anonymous()
    assert role_in(nobody, org) is None
    assert list(list_orgs_for(nobody)) == []
    assert list(list_keys_of_user(None)) == []
    assert list(list_memberships_for(nobody)) == []
    assert Membership.objects.count() == 0


def test_permission_denied_becomes_a_403_page() -> None:
    @domain_errors
    def view(_request: HttpRequest) -> HttpResponse:
        raise PermissionDenied("Only an administrator of Northwind can do this.")

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    response = view(request)
    assert response.status_code == 403
    assert b"Only an administrator of Northwind can do this." in response.content


def test_ping_task_echoes() -> None:
    assert ping.call("hello") == "hello"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("lockstep.example.org", False),
    ],
)
def test_serve_knows_loopback_addresses(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback


def test_cli_flags() -> None:
    args = build_parser().parse_args(["serve", "--port", "9000", "--demo"])
    assert (args.host, args.port, args.demo, args.no_worker) == ("127.0.0.1", 9000, True, False)
    web = build_parser().parse_args(["web", "--workers", "3", "--migrate"])
    assert (web.workers, web.migrate) == (3, True)


def test_a_name_with_no_usable_characters_needs_an_explicit_short_name(system: Actor) -> None:
    with pytest.raises(ValidationError, match="Give a short name"):
        OrganizationFactory(name="!!!")
    assert OrganizationFactory(name="!!!", slug="bangs").slug == "bangs"
