"""The only write path for projects, their packages and redistributors."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from lockstep.audit.record import record
from lockstep.audit.tags import ProjectTag
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, PermissionDenied, ValidationError
from lockstep.core.names import claim_slug
from lockstep.orgs.models import Organization, OrgKind
from lockstep.orgs.queries import is_org_admin
from lockstep.projects.models import Package, Project, Redistribution
from lockstep.projects.purls import normalise_package_purl


def _require_maintainer(actor: Actor, project: Project) -> None:
    if not is_org_admin(actor, project.upstream):
        msg = f"Only an administrator of {project.upstream.name} can change {project.name}."
        raise PermissionDenied(msg)


@transaction.atomic
def do_create_project(  # noqa: PLR0913 - a project's facts, each named
    *,
    upstream: Organization,
    name: str,
    slug: str = "",
    homepage: str = "",
    repository: str = "",
    security_email: str = "",
    description: str = "",
    purls: Iterable[str] = (),
    actor: Actor,
) -> Project:
    if upstream.kind != OrgKind.UPSTREAM:
        msg = f"{upstream.name} is not an upstream project team."
        raise ValidationError(msg, field="upstream")
    if not is_org_admin(actor, upstream):
        msg = f"Only an administrator of {upstream.name} can add its projects."
        raise PermissionDenied(msg)
    name = name.strip()
    if not name:
        raise ValidationError("A project needs a name.", field="name")
    slug = claim_slug(Project.objects.all(), name=name, slug=slug)
    normalised = sorted({normalise_package_purl(p, field="purls") for p in purls})
    project = Project.objects.create(
        slug=slug,
        name=name,
        upstream=upstream,
        homepage=homepage,
        repository=repository,
        security_email=security_email,
        description=description,
        created_at=clock.now(),
    )
    now = clock.now()
    Package.objects.bulk_create(Package(project=project, purl=p, added_at=now) for p in normalised)
    record(
        ProjectTag.CREATED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=upstream.pk,
        data={"slug": slug, "name": name, "purls": normalised},
    )
    return project


@transaction.atomic
def do_add_package(project: Project, *, purl: str, actor: Actor) -> Package:
    _require_maintainer(actor, project)
    canonical = normalise_package_purl(purl)
    if Package.objects.filter(project=project, purl=canonical).exists():
        msg = f"{canonical} is already a package of {project.name}."
        raise Conflict(msg, field="purl")
    package = Package.objects.create(project=project, purl=canonical, added_at=clock.now())
    record(
        ProjectTag.PACKAGE_ADDED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=project.upstream_id,
        data={"purl": canonical},
    )
    return package


@transaction.atomic
def do_remove_package(package: Package, *, actor: Actor) -> None:
    project = package.project
    _require_maintainer(actor, project)
    record(
        ProjectTag.PACKAGE_REMOVED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=project.upstream_id,
        data={"purl": package.purl},
    )
    package.delete()


@transaction.atomic
def do_add_redistributor(
    project: Project, org: Organization, *, downstream_purl: str = "", actor: Actor
) -> Redistribution:
    """Record that `org` ships `project`; the routing decision turns on this fact."""
    _require_maintainer(actor, project)
    if org.kind != OrgKind.VENDOR:
        msg = f"{org.name} is not a vendor or distribution."
        raise ValidationError(msg, field="org")
    if Redistribution.objects.filter(project=project, org=org).exists():
        msg = f"{org.name} is already recorded as shipping {project.name}."
        raise Conflict(msg)
    canonical = normalise_package_purl(downstream_purl) if downstream_purl else ""
    link = Redistribution.objects.create(
        project=project, org=org, downstream_purl=canonical, added_at=clock.now()
    )
    if project.users_take_upstream_directly:
        project.users_take_upstream_directly = False
        project.save(update_fields=["users_take_upstream_directly"])
    record(
        ProjectTag.REDISTRIBUTOR_ADDED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=project.upstream_id,
        data={"org_id": org.pk, "org": org.name, "downstream_purl": canonical},
    )
    return link


@transaction.atomic
def do_remove_redistributor(link: Redistribution, *, actor: Actor) -> None:
    project = link.project
    _require_maintainer(actor, project)
    record(
        ProjectTag.REDISTRIBUTOR_REMOVED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=project.upstream_id,
        data={"org_id": link.org_id},
    )
    link.delete()


@transaction.atomic
def do_confirm_direct_use(project: Project, *, actor: Actor) -> Project:
    """The maintainer states that users take the code from upstream and nobody redistributes."""
    _require_maintainer(actor, project)
    if project.redistributions.exists():
        msg = "Remove the recorded redistributors first: the two statements contradict."
        raise Conflict(msg)
    project.users_take_upstream_directly = True
    project.save(update_fields=["users_take_upstream_directly"])
    record(
        ProjectTag.DIRECT_USE_CONFIRMED,
        actor=actor,
        object_type="project",
        object_id=project.pk,
        org_id=project.upstream_id,
    )
    return project
