"""Organisations (upstream teams, vendors, coordinators, researchers), members and keys."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override


class OrgKind(models.TextChoices):
    UPSTREAM = "upstream", "Upstream project team"
    VENDOR = "vendor", "Vendor / distribution"
    COORDINATOR = "coordinator", "Coordinator"
    RESEARCHER = "researcher", "Researcher / finder"


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member", "Member"


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=OrgKind.choices)
    website = models.URLField(blank=True)
    security_email = models.EmailField(blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("name",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in OrgKind]), name="orgs_org_kind_valid"
            ),
        ]

    @override
    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("org_id", "user_id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["org", "user"], name="orgs_membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="orgs_membership_role_valid"
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user_id} in {self.org_id} as {self.role}"


class Invitation(models.Model):
    """An e-mailed offer to join an organisation. Only the SHA-256 of its link's token is kept;
    it can be accepted once, until it expires or an administrator revokes it."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The outbox copy that carries the link, cancelled with the invitation if still waiting.
    outbound_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="orgs_invitation_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="orgs_invitation_accepted_or_revoked",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["org", "email"], name="orgs_invitation_org_email"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.email} to {self.org_id} as {self.role}"


class OpenPGPKey(models.Model):
    """A public OpenPGP certificate belonging to exactly one user or one organisation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="openpgp_keys",
        null=True,
        blank=True,
    )
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="openpgp_keys", null=True, blank=True
    )
    fingerprint = models.CharField(max_length=64)
    user_ids = models.JSONField(default=list)
    algorithm = models.CharField(max_length=64, blank=True)
    key_created_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    can_encrypt = models.BooleanField()
    armored = models.TextField()
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ("-added_at",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(org__isnull=True))
                | (Q(user__isnull=True) & Q(org__isnull=False)),
                name="orgs_key_one_owner",
            ),
            models.UniqueConstraint(
                fields=["user", "fingerprint"],
                condition=Q(removed_at__isnull=True, user__isnull=False),
                name="orgs_key_user_fpr_unique",
            ),
            models.UniqueConstraint(
                fields=["org", "fingerprint"],
                condition=Q(removed_at__isnull=True, org__isnull=False),
                name="orgs_key_org_fpr_unique",
            ),
        ]

    @override
    def __str__(self) -> str:
        return self.fingerprint

    @property
    def spaced_fingerprint(self) -> str:
        fpr = self.fingerprint
        return " ".join(fpr[i : i + 4] for i in range(0, len(fpr), 4))
