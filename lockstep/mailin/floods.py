"""Limits on what mail from anyone can make Lockstep do: create reports, send acknowledgements.

Anyone may write to a project's security address, and anyone may put any address in `From`.
So reports by mail are counted per sender address, sender domain and client address, and on
the whole instance; and the acknowledgement each report sends (to the `From` address) is
counted per recipient address and recipient domain, so Lockstep cannot be used to flood a
mailbox or a domain with backscatter. Counts are per hour, in the shared rate-limit table.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from django.conf import settings

from lockstep.core.errors import RateLimited, ValidationError
from lockstep.ops.ratelimit import check_rate

HOUR = 3600


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()[:200] if "@" in address else ""


def _is_loopback(peer: str) -> bool:
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


def report_limits(sender: str, peer: str) -> list[tuple[str, int, str]]:
    """(bucket key, limit per hour, what a refusal says) for one report by mail."""
    limits = [
        (
            f"report-mail:{sender.lower()[:200] or '?'}",
            settings.LOCKSTEP_REPORT_RATE,
            f"from {sender or 'this sender'}",
        ),
        ("report-mail-all", settings.LOCKSTEP_MAIL_REPORTS_PER_HOUR, "on this instance"),
    ]
    if domain := _domain(sender):
        limits.append(
            (
                f"report-mail-domain:{domain}",
                settings.LOCKSTEP_MAIL_REPORTS_PER_DOMAIN,
                f"from the domain {domain}",
            )
        )
    if peer and not _is_loopback(peer):
        limits.append(
            (
                f"report-mail-client:{peer[:100]}",
                settings.LOCKSTEP_MAIL_REPORTS_PER_CLIENT,
                f"from the client {peer}",
            )
        )
    return limits


def check_report_mail(sender: str, peer: str, *, now: datetime) -> None:
    """Raise `ValidationError` (the message is held, with this reason) past any limit."""
    for key, limit, where in report_limits(sender, peer):
        try:
            check_rate(key, limit=limit, window_seconds=HOUR, now=now)
        except RateLimited:
            msg = f"More than {limit} reports by mail within an hour {where}; held."
            raise ValidationError(msg) from None


def may_acknowledge(address: str, *, now: datetime) -> bool:
    """Whether one more acknowledgement may go to `address` this hour."""
    buckets = [(f"ack-to:{address.lower()[:200]}", settings.LOCKSTEP_MAIL_ACKS_PER_ADDRESS)]
    if domain := _domain(address):
        buckets.append((f"ack-domain:{domain}", settings.LOCKSTEP_MAIL_ACKS_PER_DOMAIN))
    try:
        for key, limit in buckets:
            check_rate(key, limit=limit, window_seconds=HOUR, now=now)
    except RateLimited:
        return False
    return True
