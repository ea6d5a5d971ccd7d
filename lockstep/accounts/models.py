"""The user model: an e-mail address is the login name."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from typing_extensions import override

from lockstep.accounts.scopes import Scope, parse_scopes, valid_scope_texts


class UserManager(BaseUserManager["User"]):
    """Only what Django's auth machinery needs; Lockstep creates users with `do_create_user`."""

    @override
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    @classmethod
    @override
    def normalize_email(cls, email: str | None) -> str:
        """The whole address in lower case: it is the login name, and django-allauth finds
        accounts by the lower-cased address (no mail system tells local parts by case)."""
        return super().normalize_email(email).lower()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(max_length=254, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # Without a usable key, embargoed mail is a content-free notice; with this on (and a
    # channel that allows it) it comes in clear text, marked [plain].
    plain_mail = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Instance operator: may see every organisation and channel."
    )
    date_joined = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    @override
    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def name(self) -> str:
        return self.display_name or self.email


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the plaintext is shown once.

    A token works until `expires_at` or until it is revoked, whichever comes first, and only
    for what its `scopes` cover (accounts/scopes.py).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell it.")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(
        max_length=32, help_text="What it may do, as canonical text: 'read', 'read write', …"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "revoked_at"], name="accounts_apitoken_user_active"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(scopes__in=valid_scope_texts()),
                name="accounts_apitoken_scopes_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="accounts_apitoken_expires_after_creation",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """Not revoked. Whether it has expired depends on the time: see `accounts.tokens`."""
        return self.revoked_at is None

    @property
    def scope_set(self) -> frozenset[Scope]:
        return parse_scopes(self.scopes)

    @property
    def scope_list(self) -> list[str]:
        """The scopes as the API and the pages show them: read, write, publish, in that order."""
        return [scope.value for scope in Scope if scope in self.scope_set]
