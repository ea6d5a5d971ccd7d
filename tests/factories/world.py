"""factory_boy factories. Rows are made through `do_*` actions so the audit chain stays whole."""

from __future__ import annotations

from itertools import count
from typing import Any

import factory

from lockstep.accounts.actions import do_create_user
from lockstep.accounts.models import User
from lockstep.channels.actions import do_create_channel
from lockstep.channels.models import Channel, ChannelKind
from lockstep.core.actor import Actor
from lockstep.embargo.policy import DISTROS
from lockstep.orgs.actions import do_create_organization
from lockstep.orgs.models import Organization, OrgKind
from lockstep.projects.actions import do_create_project
from lockstep.projects.models import Project

SYSTEM = Actor.system("factories")
PASSWORD = "correct horse battery staple"
_serial = count(1)


class UserFactory(factory.Factory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    display_name = factory.Sequence(lambda n: f"User {n}")
    is_staff = False

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return do_create_user(password=PASSWORD, actor=SYSTEM, **kwargs)


class OrganizationFactory(factory.Factory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    kind = OrgKind.VENDOR

    @classmethod
    def _create(cls, model_class: type[Organization], *args: Any, **kwargs: Any) -> Organization:
        return do_create_organization(actor=SYSTEM, **kwargs)


class ProjectFactory(factory.Factory[Project]):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project{n}")
    upstream = factory.SubFactory(OrganizationFactory, kind=OrgKind.UPSTREAM)

    @classmethod
    def _create(cls, model_class: type[Project], *args: Any, **kwargs: Any) -> Project:
        return do_create_project(actor=SYSTEM, **kwargs)


class ChannelFactory(factory.Factory[Channel]):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"list{n}")
    kind = ChannelKind.PRIVATE
    policy = DISTROS

    @classmethod
    def _create(cls, model_class: type[Channel], *args: Any, **kwargs: Any) -> Channel:
        if kwargs["kind"] == ChannelKind.PUBLIC:
            kwargs["policy"] = None
        return do_create_channel(actor=SYSTEM, **kwargs)
