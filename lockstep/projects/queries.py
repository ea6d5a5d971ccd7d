"""Reads of projects. Project facts (name, homepage, packages) are public: reporters need them."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.embargo.routing import RoutingFacts
from lockstep.projects.models import Package, Project, Redistribution


def list_projects_for(actor: Actor) -> QuerySet[Project]:  # noqa: ARG001 - public facts
    return Project.objects.select_related("upstream").order_by("name")


def access_project_by_slug(actor: Actor, slug: str) -> Project:  # noqa: ARG001 - public facts
    project = (
        Project.objects.select_related("upstream")
        .prefetch_related(
            "packages",
            Prefetch(
                "redistributions",
                queryset=Redistribution.objects.select_related("org").order_by("org__name"),
            ),
        )
        .filter(slug=slug)
        .first()
    )
    if project is None:
        raise NotFound("No such project.")
    return project


def package_purls(project_id: int) -> list[str]:
    """The project's Package URLs (versionless, canonical), in order."""
    return list(
        Package.objects.filter(project_id=project_id)
        .order_by("purl")
        .values_list("purl", flat=True)
    )


def redistributor_names(project: Project) -> tuple[str, ...] | None:
    """Names of known redistributors; () if none by the maintainer's word; None if unknown."""
    names = tuple(r.org.name for r in project.redistributions.all())
    if names:
        return names
    if project.users_take_upstream_directly:
        return ()
    return None


def routing_facts_for(
    project: Project, *, already_public: bool, public_where: str = "", fix_public: bool = False
) -> RoutingFacts:
    return RoutingFacts(
        project_name=project.name,
        redistributors=redistributor_names(project),
        already_public=already_public,
        public_where=public_where,
        fix_public=fix_public,
    )
