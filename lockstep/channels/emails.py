"""The mail a public list sends: each published post, relayed in clear text and signed by
the list key to the list's outside addresses (say, the real oss-security list)."""

from __future__ import annotations

from django.conf import settings

from lockstep.channels.models import Channel, PublicPost
from lockstep.core.links import list_archive_url, public_post_url
from lockstep.mailgw.addresses import channel_address
from lockstep.mailgw.outbound.outbox import MailSpec
from lockstep.mailgw.outbound.templates import render_mail


def relayed_post(channel: Channel, post: PublicPost, *, text: str) -> MailSpec:
    """`text` is the post as archived (with the unverified-sender note, if any)."""
    subject, body = render_mail(
        "list-relay",
        {
            "subject": post.subject,
            "text": text,
            "archive_url": public_post_url(channel.slug, post.pk),
        },
    )
    return MailSpec(
        subject=f"{channel.subject_tag} {subject}".strip() if channel.subject_tag else subject,
        body=body,
        headers={
            "List-Id": f"<{channel.slug}.{settings.LOCKSTEP_MAIL_DOMAIN}>",
            "List-Post": f"<mailto:{channel_address(channel.slug)}>",
            "List-Archive": f"<{list_archive_url(channel.slug)}>",
            "X-Loop": settings.LOCKSTEP_MAIL_FROM,
        },
        confidential=False,
        signed=True,
    )
