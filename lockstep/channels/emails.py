"""The mail a public list sends: each published post, relayed in clear text and signed by
the list key to the list's outside addresses (say, the real oss-security list)."""

from __future__ import annotations

from django.conf import settings

from lockstep.channels.models import Channel, PublicPost
from lockstep.core.links import list_archive_url, public_post_url
from lockstep.mailgw.addresses import channel_address
from lockstep.mailgw.outbound.outbox import MailSpec


def relayed_post(channel: Channel, post: PublicPost, *, text: str) -> MailSpec:
    """`text` is the post as archived (with the unverified-sender note, if any)."""
    subject = post.subject
    tagged = f"{channel.subject_tag} {subject}".strip() if channel.subject_tag else subject
    signature = f"\n\n-- \nArchived at {public_post_url(channel.slug, post.pk)}\n"
    return MailSpec(
        subject=tagged,
        body=f"{text}{signature}",
        headers={
            "List-Id": f"<{channel.slug}.{settings.LOCKSTEP_MAIL_DOMAIN}>",
            "List-Post": f"<mailto:{channel_address(channel.slug)}>",
            "List-Archive": f"<{list_archive_url(channel.slug)}>",
            "X-Loop": settings.LOCKSTEP_MAIL_FROM,
        },
        confidential=False,
        signed=True,
    )
