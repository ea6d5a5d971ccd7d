"""A project is an upstream's software; redistributors are the fact routing turns on."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from typing_extensions import override

from lockstep.orgs.models import Organization


class Project(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    homepage = models.URLField(blank=True)
    repository = models.URLField(blank=True)
    security_email = models.EmailField(blank=True)
    upstream = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="projects")
    # The maintainer confirmed that users take the code straight from upstream, unmodified.
    # Without it and without redistributors, "who redistributes?" is unknown, not "no one".
    users_take_upstream_directly = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)

    @override
    def __str__(self) -> str:
        return self.name


class Package(models.Model):
    """A package identifier of the project, a Package URL without a version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="packages")
    purl = models.CharField(max_length=512)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ("purl",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["project", "purl"], name="projects_package_unique"),
        ]

    @override
    def __str__(self) -> str:
        return self.purl


class Redistribution(models.Model):
    """An organisation known to ship the project to its own users."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="redistributions")
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="redistributions")
    # Where the organisation ships it, e.g. "pkg:deb/debian/openssl" (optional).
    downstream_purl = models.CharField(max_length=512, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ("project_id", "org__name")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["project", "org"], name="projects_redistribution_unique"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.org_id} ships {self.project_id}"
