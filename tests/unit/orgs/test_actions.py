"""Organisations, members and keys through their `do_*` actions."""

from __future__ import annotations

import pytest

from lockstep.audit.models import AuditEvent
from lockstep.cases.actions.members import do_remove_member
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from lockstep.orgs.actions import (
    do_add_member,
    do_add_org_key,
    do_add_user_key,
    do_change_member_role,
    do_create_organization,
    do_remove_key,
)
from lockstep.orgs.models import Membership, OpenPGPKey, OrgKind, Role
from lockstep.orgs.queries import access_org_by_slug, list_orgs_for
from tests.conftest import actor_for
from tests.factories.keys import KeyPair
from tests.factories.world import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _tags() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))


def test_create_organization_needs_an_operator() -> None:
    user = UserFactory()
    with pytest.raises(PermissionDenied):
        do_create_organization(name="X", kind=OrgKind.VENDOR, actor=actor_for(user))


def test_create_organization_slug_and_conflict(system: Actor) -> None:
    org = do_create_organization(name="Northwind Linux", kind=OrgKind.VENDOR, actor=system)
    assert org.slug == "northwind-linux"
    with pytest.raises(Conflict, match="taken"):
        do_create_organization(name="Northwind Linux", kind=OrgKind.VENDOR, actor=system)
    with pytest.raises(ValidationError, match="needs a name"):
        do_create_organization(name="  ", kind=OrgKind.VENDOR, actor=system)


def test_org_admin_manages_members_and_every_change_is_audited(system: Actor) -> None:
    org = OrganizationFactory()
    admin, member = UserFactory(), UserFactory()
    do_add_member(org, admin, role=Role.ADMIN, actor=system)
    membership = do_add_member(org, member, actor=actor_for(admin))
    do_change_member_role(membership, role=Role.ADMIN, actor=actor_for(admin))
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    do_remove_member(Membership.objects.get(pk=membership.pk), actor=actor_for(admin))
    assert not Membership.objects.filter(user=member).exists()
    assert _tags()[-4:] == [
        "org:member:added",
        "org:member:added",
        "org:member:role-changed",
        "org:member:removed",
    ]


def test_plain_member_cannot_add_members(system: Actor) -> None:
    org = OrganizationFactory()
    member, outsider = UserFactory(), UserFactory()
    do_add_member(org, member, actor=system)
    with pytest.raises(PermissionDenied, match="administrator"):
        do_add_member(org, outsider, actor=actor_for(member))
    with pytest.raises(Conflict, match="already a member"):
        do_add_member(org, member, actor=system)


def test_last_admin_cannot_leave_or_be_demoted(system: Actor) -> None:
    org = OrganizationFactory()
    admin = UserFactory()
    membership = do_add_member(org, admin, role=Role.ADMIN, actor=system)
    with pytest.raises(Conflict, match="at least one administrator"):
        do_change_member_role(membership, role=Role.MEMBER, actor=system)
    with pytest.raises(Conflict, match="at least one administrator"):
        do_remove_member(membership, actor=system)
    same = do_change_member_role(membership, role=Role.ADMIN, actor=system)
    assert same.role == Role.ADMIN


def test_user_key_is_parsed_checked_and_audited(alice_key: KeyPair) -> None:
    user = UserFactory()
    key = do_add_user_key(user, armored=alice_key.public, actor=actor_for(user))
    assert len(key.fingerprint) == 40
    assert key.user_ids == ["Alice Example <alice@example.org>"]
    assert key.can_encrypt is True
    assert "PRIVATE" not in key.armored
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.tag == "account:key:added"
    assert event.data["fingerprint"] == key.fingerprint
    with pytest.raises(Conflict, match="already on your account"):
        do_add_user_key(user, armored=alice_key.public, actor=actor_for(user))


def test_bad_key_gets_a_clear_error_and_nothing_is_stored() -> None:
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        do_add_user_key(user, armored="hello, I am not a key", actor=actor_for(user))
    assert caught.value.message
    assert not OpenPGPKey.objects.exists()


def test_secret_key_upload_is_refused(alice_key: KeyPair) -> None:
    user = UserFactory()
    with pytest.raises(ValidationError, match=r"(?i)private"):
        do_add_user_key(user, armored=alice_key.secret, actor=actor_for(user))
    assert not OpenPGPKey.objects.exists()


def test_nobody_adds_keys_to_someone_else(alice_key: KeyPair) -> None:
    owner, other = UserFactory(), UserFactory()
    with pytest.raises(PermissionDenied):
        do_add_user_key(owner, armored=alice_key.public, actor=actor_for(other))


def test_org_key_needs_org_admin_and_removal_retires_it(system: Actor, bob_key: KeyPair) -> None:
    org = OrganizationFactory()
    member = UserFactory()
    do_add_member(org, member, actor=system)
    with pytest.raises(PermissionDenied):
        do_add_org_key(org, armored=bob_key.public, actor=actor_for(member))
    key = do_add_org_key(org, armored=bob_key.public, actor=system)
    with pytest.raises(Conflict):
        do_add_org_key(org, armored=bob_key.public, actor=system)
    removed = do_remove_key(key, actor=system)
    assert removed.removed_at is not None
    with pytest.raises(NotFound):
        do_remove_key(key, actor=system)
    assert _tags()[-2:] == ["org:key:added", "org:key:removed"]


def test_user_key_removal_by_owner_only(alice_key: KeyPair) -> None:
    owner, other = UserFactory(), UserFactory()
    key = do_add_user_key(owner, armored=alice_key.public, actor=actor_for(owner))
    with pytest.raises(NotFound):
        do_remove_key(key, actor=actor_for(other))
    do_remove_key(key, actor=actor_for(owner))
    assert _tags()[-1] == "account:key:removed"


def test_org_visibility_missing_and_forbidden_look_the_same(system: Actor) -> None:
    org = OrganizationFactory(slug="northwind")
    member, outsider, operator = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    do_add_member(org, member, actor=system)
    assert access_org_by_slug(actor_for(member), "northwind") == org
    assert access_org_by_slug(actor_for(operator), "northwind") == org
    with pytest.raises(NotFound) as forbidden:
        access_org_by_slug(actor_for(outsider), "northwind")
    with pytest.raises(NotFound) as missing:
        access_org_by_slug(actor_for(outsider), "no-such-org")
    assert forbidden.value.message == missing.value.message
    assert list(list_orgs_for(actor_for(outsider))) == []
    assert list(list_orgs_for(actor_for(member))) == [org]
    assert list(list_orgs_for(actor_for(operator))) == [org]


def test_a_member_removed_meanwhile_is_not_found(system: Actor) -> None:
    org = OrganizationFactory()
    do_add_member(org, UserFactory(), role=Role.ADMIN, actor=system)
    membership = do_add_member(org, UserFactory(), actor=system)
    do_remove_member(membership, actor=system)
    with pytest.raises(NotFound, match="No such member"):
        do_change_member_role(membership, role=Role.ADMIN, actor=system)
    with pytest.raises(NotFound, match="No such member"):
        do_remove_member(membership, actor=system)
