"""security.txt (RFC 9116), rendered from plain values: pure, no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lockstep.core.errors import ValidationError

RECOMMENDED_LIFETIME = timedelta(days=180)  # RFC 9116 §2.5.5: less than a year


@dataclass(frozen=True)
class SecurityTxt:
    contacts: tuple[str, ...]
    expires: datetime
    encryption: tuple[str, ...] = ()
    acknowledgments: tuple[str, ...] = ()
    policy: tuple[str, ...] = ()
    preferred_languages: tuple[str, ...] = ()
    canonical: tuple[str, ...] = ()
    hiring: tuple[str, ...] = ()
    comment: str = ""
    notes: tuple[str, ...] = ()  # more comment lines, after the first


def recommended_expires(now: datetime) -> datetime:
    return (now + RECOMMENDED_LIFETIME).replace(microsecond=0)


def _clean(value: str, name: str) -> str:
    text = value.strip()
    if not text or "\r" in text or "\n" in text:
        msg = f"security.txt {name}: a value must be one non-empty line."
        raise ValidationError(msg, field=name)
    return text


def _contact(value: str) -> str:
    text = _clean(value, "Contact")
    if text.startswith(("mailto:", "https:", "tel:")):
        return text
    if "@" in text and ":" not in text:
        return f"mailto:{text}"
    msg = f"security.txt Contact must be a mailto:, https: or tel: URI (got {text!r})."
    raise ValidationError(msg, field="Contact")


def _uri(value: str, name: str, schemes: tuple[str, ...] = ("https:",)) -> str:
    text = _clean(value, name)
    if not text.startswith(schemes):
        msg = f"security.txt {name} must start with {' or '.join(schemes)} (got {text!r})."
        raise ValidationError(msg, field=name)
    return text


def render_security_txt(doc: SecurityTxt, *, now: datetime) -> str:
    if not doc.contacts:
        raise ValidationError("security.txt needs at least one Contact.", field="Contact")
    if doc.expires.tzinfo is None or doc.expires <= now:
        raise ValidationError("security.txt Expires must be in the future.", field="Expires")
    lines = [f"# {_clean(doc.comment, 'comment')}"] if doc.comment else []
    lines += [f"# {_clean(note, 'comment')}" for note in doc.notes]
    lines += [f"Contact: {_contact(c)}" for c in doc.contacts]
    expires = doc.expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines.append(f"Expires: {expires}")
    lines += [
        f"Encryption: {_uri(e, 'Encryption', ('https:', 'openpgp4fpr:', 'dns:'))}"
        for e in doc.encryption
    ]
    lines += [f"Acknowledgments: {_uri(a, 'Acknowledgments')}" for a in doc.acknowledgments]
    if doc.preferred_languages:
        tags = ", ".join(_clean(tag, "Preferred-Languages") for tag in doc.preferred_languages)
        lines.append(f"Preferred-Languages: {tags}")
    lines += [f"Canonical: {_uri(c, 'Canonical')}" for c in doc.canonical]
    lines += [f"Policy: {_uri(p, 'Policy')}" for p in doc.policy]
    lines += [f"Hiring: {_uri(h, 'Hiring')}" for h in doc.hiring]
    return "\n".join(lines) + "\n"
