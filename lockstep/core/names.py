"""Short names (slugs) shared by organisations, projects and channels."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.utils.text import slugify

from lockstep.core.errors import Conflict, ValidationError


def claim_slug(existing: QuerySet[Model], *, name: str, slug: str = "") -> str:
    """The requested slug (or one made from `name`), refused if empty or already in use."""
    chosen = slug or slugify(name)
    if not chosen:
        msg = f"Give a short name: none can be made from {name!r}."
        raise ValidationError(msg, field="slug")
    if existing.filter(slug=chosen).exists():
        msg = f"The short name {chosen!r} is taken."
        raise Conflict(msg, field="slug")
    return chosen
