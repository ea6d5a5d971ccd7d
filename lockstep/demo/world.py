"""Builds the demo world through the same `do_*` actions as everything else.

One upstream project (libquokka, a compression library) with its team; three vendors that
ship it, each with two members holding real OpenPGP keys; a coordinator that runs a private
list (distros-like policy: 14 days max, 7 preferred, 24 hours min) and a public list; and one
older issue, public from the start, whose advisory is in the public archive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from lockstep.accounts.actions import do_create_user
from lockstep.accounts.models import User
from lockstep.advisories.actions.publication import do_publish_now
from lockstep.cases.actions.embargo import do_edit_advisory_draft
from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.actions import do_add_channel_member, do_create_channel
from lockstep.channels.models import ChannelKind
from lockstep.core.actor import Actor
from lockstep.embargo.policy import DISTROS
from lockstep.embargo.routing import Route
from lockstep.intake.actions import Acceptance, ReportInput, do_accept_report, do_submit_report
from lockstep.mailgw.crypto.base import get_openpgp
from lockstep.orgs.actions import do_add_member, do_add_org_key, do_add_user_key
from lockstep.orgs.actions import do_create_organization as create_org
from lockstep.orgs.models import Organization, OrgKind, Role
from lockstep.projects.actions import do_add_redistributor, do_create_project
from lockstep.projects.models import Project

DEMO_PASSWORD = "quokka-demo-password"  # noqa: S105 - printed on purpose: demo accounts only
DEMO_MARKER_SLUG = "libquokka-team"

VENDORS = (
    ("Northwind Linux", "northwind", ("Ana Souza", "Bjorn Lind"), "pkg:deb/northwind/libquokka"),
    ("Bluefin OS", "bluefin", ("Chen Wei", "Dana Idowu"), "pkg:rpm/bluefin/libquokka"),
    ("Kestrel BSD", "kestrel", ("Eli Novak", "Farah Haddad"), "pkg:generic/kestrel/libquokka"),
)
UPSTREAM = ("libquokka team", DEMO_MARKER_SLUG, OrgKind.UPSTREAM, ("Quinn Maintainer",))
UPSTREAM_DOMAIN = "libquokka.example"
COORDINATOR = ("Openlist coordinators", "openlist", OrgKind.COORDINATOR, ("Olga Coordinator",))
COORDINATOR_DOMAIN = "openlist.example"
RESEARCHER = ("Rita Researcher", "rita@research.example", "researcher")


def _email(person: str, domain: str) -> str:
    return f"{person.split(maxsplit=1)[0].lower()}@{domain}"


def _login_table() -> list[tuple[str, str]]:
    """Every demo account, in the order the world makes them: (email, what it is)."""
    orgs = [
        (*UPSTREAM, UPSTREAM_DOMAIN),
        (*COORDINATOR, COORDINATOR_DOMAIN),
        *(
            (name, slug, OrgKind.VENDOR, people, f"{slug}.example")
            for name, slug, people, _ in VENDORS
        ),
    ]
    table = [
        (_email(person, domain), f"{name} ({kind.label})")
        for name, _slug, kind, people, domain in orgs
        for person in people
    ]
    return [*table, (RESEARCHER[1], RESEARCHER[2])]


def demo_logins() -> list[tuple[str, str]]:
    """The demo accounts that still exist and may sign in, for `lockstep serve --demo` to
    print again on an instance that already has the demo world."""
    table = _login_table()
    active = set(
        User.objects.filter(email__in=[email for email, _ in table], is_active=True).values_list(
            "email", flat=True
        )
    )
    return [(email, role) for email, role in table if email in active]


@dataclass
class DemoWorld:
    logins: list[tuple[str, str]] = field(default_factory=list)
    created: bool = True


def already_there() -> bool:
    return Organization.objects.filter(slug=DEMO_MARKER_SLUG).exists()


def _person(name: str, email: str, role_label: str, world: DemoWorld, keys: Path | None) -> User:
    actor = Actor.system("demo")
    user = do_create_user(email=email, password=DEMO_PASSWORD, display_name=name, actor=actor)
    public, secret = get_openpgp().generate_key(f"{name} <{email}>")
    do_add_user_key(user, armored=public, actor=actor)
    if keys is not None:
        _write_secret(keys / f"{email}.asc", secret)
    world.logins.append((email, role_label))
    return user


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)


def _org_with_people(  # noqa: PLR0913, PLR0917 - the demo's facts, each named
    name: str,
    slug: str,
    kind: OrgKind,
    people: tuple[str, ...],
    domain: str,
    world: DemoWorld,
    keys: Path | None,
) -> Organization:
    actor = Actor.system("demo")
    org = create_org(
        name=name, slug=slug, kind=kind, security_email=f"security@{domain}", actor=actor
    )
    for index, person in enumerate(people):
        user = _person(person, _email(person, domain), f"{name} ({kind.label})", world, keys)
        do_add_member(org, user, role=Role.ADMIN if index == 0 else Role.MEMBER, actor=actor)
    public, _secret = get_openpgp().generate_key(f"{name} security team <security@{domain}>")
    do_add_org_key(org, armored=public, actor=actor)
    return org


@transaction.atomic
def build_demo_world(*, keys_dir: Path | None = None) -> DemoWorld:
    """Create the world once; a second call changes nothing and says so."""
    world = DemoWorld()
    if already_there():
        world.created = False
        return world
    actor = Actor.system("demo")
    upstream = _org_with_people(*UPSTREAM, UPSTREAM_DOMAIN, world, keys_dir)
    project = do_create_project(
        upstream=upstream,
        name="libquokka",
        homepage="https://libquokka.example/",
        repository="https://git.libquokka.example/libquokka.git",
        security_email="security@libquokka.example",
        description="A small, fast compression library used by package managers and backups.",
        purls=["pkg:github/libquokka/libquokka", "pkg:pypi/quokka-python"],
        actor=actor,
    )
    coordinator = _org_with_people(*COORDINATOR, COORDINATOR_DOMAIN, world, keys_dir)
    private = do_create_channel(
        name="distros (demo)",
        slug="distros",
        kind=ChannelKind.PRIVATE,
        policy=DISTROS,
        post_address="distros@lists.openlist.example",
        subject_tag="[vs]",
        description="Private list of distribution security teams. Embargoes up to 14 days.",
        operated_by=coordinator,
        actor=actor,
    )
    do_create_channel(
        name="oss-security (demo)",
        slug="oss-security",
        kind=ChannelKind.PUBLIC,
        post_address="oss-security@lists.openlist.example",
        description="Public list for issues that are already public.",
        operated_by=coordinator,
        actor=actor,
    )
    for name, slug, people, purl in VENDORS:
        vendor = _org_with_people(
            name, slug, OrgKind.VENDOR, people, f"{slug}.example", world, keys_dir
        )
        do_add_redistributor(project, vendor, downstream_purl=purl, actor=actor)
        do_add_channel_member(private, vendor, actor=actor)
    _person(*RESEARCHER, world, keys_dir)
    _public_advisory(project)
    return world


def _public_advisory(project: Project) -> None:
    """An older issue that was public from the start: its advisory fills the archive."""
    reported = do_submit_report(
        project,
        ReportInput(
            title="Infinite loop in quokka_scan() on a truncated header",
            description="A stream cut inside its header makes quokka_scan() spin for ever.",
            credit_as="Rita Researcher",
        ),
        actor=Actor.anonymous(),
    )
    case = do_accept_report(
        reported.report,
        Acceptance(
            route=Route.PUBLIC_LIST,
            override_reason="Reported on the public issue tracker: already public.",
        ),
        actor=Actor.system("demo"),
    )
    quinn = User.objects.get(email="quinn@libquokka.example")
    lead = Actor.for_user(quinn)
    access = access_case_by_id(lead, case.pk)
    do_add_vulnerability(
        access,
        VulnerabilityInput(
            title="Infinite loop in quokka_scan() on a truncated header",
            description="quokka_scan() retries a short read without limit.",
            cwe="CWE-835",
            cvss3="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
            affected=[
                {
                    "purl": "pkg:pypi/quokka-python",
                    "ranges": [{"introduced": "0", "fixed": "1.3.1"}],
                }
            ],
            references=[
                {"type": "FIX", "url": "https://git.libquokka.example/libquokka.git/commit/9c1d"}
            ],
            credits=[{"name": "Rita Researcher", "type": "FINDER"}],
        ),
        actor=lead,
    )
    do_edit_advisory_draft(
        access,
        summary="quokka-python before 1.3.1 loops for ever on a truncated stream header.",
        details=(
            "quokka_scan() reads the stream header in a loop and retries a short read without "
            "limit. A stream cut inside its header therefore never ends: a denial of service "
            "for any service that decompresses untrusted input. Version 1.3.1 gives up after "
            "the end of input and reports QUOKKA_ETRUNCATED."
        ),
        release_version="1.3.1",
        reporter_posts=False,
        actor=lead,
    )
    do_publish_now(access_case_by_id(lead, case.pk), actor=lead)
