"""From a stored message to its place: open it, apply the content rules, route it.

    stored raw (smtpd) -> parse -> destination -> decrypt + verify -> content rules -> route

Routes: a project's security address makes a report; a case address, written by a member
of a participating organisation, makes a post (which is then mailed to the others); a bounce
marks the outbox copy it belongs to; everything else is held for a coordinator with the
reason. Each message is settled exactly once; a crash before that leaves it "received",
and the task runs it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NoReturn

from django.conf import settings
from django.db import DatabaseError, transaction

from lockstep.accounts.models import User
from lockstep.cases.actions.posts import add_post
from lockstep.cases.models import Case, Post
from lockstep.channels.models import Channel, PublicPost
from lockstep.channels.public import do_post_public
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.core.errors import ValidationError
from lockstep.core.uploads import UploadedFile
from lockstep.intake.actions import ReportInput, Submitted, do_submit_report
from lockstep.intake.emails import report_received
from lockstep.intake.news import reporter_key_of
from lockstep.mailgw.addresses import AddressKind
from lockstep.mailgw.crypto.reading import SignatureState
from lockstep.mailgw.inbound.letter import Headers, Unreadable, parse, read_headers
from lockstep.mailgw.inbound.opening import Content, Undecryptable, open_mail
from lockstep.mailgw.inbound.rules import CONTENT_RULES, Action, Facts, decide
from lockstep.mailgw.inbound.store import settle
from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailgw.outbound.outbox import Recipient, fan_out
from lockstep.mailgw.outbound.protect import list_secret_key
from lockstep.mailin.bounces import settle_bounce
from lockstep.mailin.destinations import Destination, first_destination, member_seats, sender_keys
from lockstep.mailin.floods import check_report_mail, may_acknowledge

log = logging.getLogger(__name__)
HOUR = 3600
UNENCRYPTED_NOTE = (
    "[This message reached Lockstep unencrypted: its content crossed the network in clear.]"
)
_STATUS = {
    Action.ACCEPT: InboundStatus.ACCEPTED,
    Action.HOLD: InboundStatus.HELD,
    Action.REJECT: InboundStatus.REJECTED,
    Action.DISCARD: InboundStatus.DISCARDED,
}


@dataclass(frozen=True)
class Writer:
    user: User | None  # a member of the destination, writing as themselves
    released_by: Actor | None = None  # the coordinator who let held mail through
    verified: bool = False  # a signature by a key on file for the sender proves it


@dataclass(frozen=True)
class Reading:
    headers: Headers
    content: Content | None
    undecryptable: str = ""


def _read(message: InboundMessage, keys: list[str]) -> Reading:
    raw = message.raw_bytes()
    parsed = parse(raw)
    headers = read_headers(parsed)
    try:
        content = open_mail(raw, parsed, secret_key=list_secret_key(), sender_keys=keys)
    except Undecryptable as exc:
        return Reading(headers, None, undecryptable=exc.message)
    return Reading(headers, content)


class _Settled(Exception):
    def __init__(self, status: InboundStatus) -> None:
        self.status = status


def _stop(message: InboundMessage, status: InboundStatus, rule: str, reason: str) -> NoReturn:
    settle(message, status=status, rule=rule, reason=reason)
    raise _Settled(status)


def process(message: InboundMessage, *, released_by: Actor | None = None) -> InboundStatus:
    """Run the pipeline on one stored message and settle it; returns where it ended.

    `released_by`: a coordinator let a held message through, so the content rules that hold
    (unknown sender, bad signature) are waived; mail that cannot be read stays held.
    """
    expected = InboundStatus.HELD if released_by else InboundStatus.RECEIVED
    if message.status != expected:
        return InboundStatus(message.status)
    try:
        return _process(message, released_by=released_by)
    except _Settled as settled:
        return settled.status
    except DatabaseError:
        raise  # the database, not the message: the task fails and the message waits
    except Exception as exc:  # a message that trips the code must not block the queue
        log.exception("inbound message %s could not be processed", message.pk)
        reason = f"Lockstep failed to process this message ({type(exc).__name__}); see the log."
        settle(message, status=InboundStatus.HELD, rule="error", reason=reason)
        return InboundStatus.HELD


def _destination(message: InboundMessage) -> Destination:
    """Where the message is going; remembered on the row so the right people see it held."""
    destination = first_destination(list(message.rcpt_to))
    if destination is None:
        reason = "No recipient names a project, case or channel here."
        _stop(message, InboundStatus.REJECTED, "no-destination", reason)
    case_id = destination.case.pk if destination.case is not None else message.case_id
    project_id = destination.project.pk if destination.project is not None else message.project_id
    if (case_id, project_id) != (message.case_id, message.project_id):
        message.case_id, message.project_id = case_id, project_id
        message.save(update_fields=["case_id", "project_id"])
    return destination


def _reply_address(destination: Destination, sender: User | None) -> str:
    if destination.kind != AddressKind.CASE:
        return ""
    if destination.member_id is None:
        return "shared"
    return "own" if sender is not None and sender.pk == destination.member_id else "other"


def _unsigned_allowed(destination: Destination) -> bool:
    channel = destination.case.channel if destination.case is not None else destination.channel
    return bool(channel is not None and channel.accepts_unsigned_mail)


def _facts(
    destination: Destination, reading: Reading, sender: User | None, *, member: bool
) -> Facts:
    content = reading.content
    return Facts(
        destination=str(destination.kind),
        from_address=reading.headers.from_address,
        sender_is_member=member,
        undecryptable=reading.undecryptable,
        signature=str(content.signature) if content else "none",
        signer=content.signer if content else "",
        reply_address=_reply_address(destination, sender),
        unsigned_allowed=_unsigned_allowed(destination),
    )


def _process(message: InboundMessage, *, released_by: Actor | None) -> InboundStatus:
    destination = _destination(message)
    if destination.kind == AddressKind.POSTMASTER:
        reason = "Mail to postmaster/abuse: held for the operators."
        _stop(message, InboundStatus.HELD, "postmaster", reason)
    try:
        reading = _read(message, sender_keys(message.from_header))
    except Unreadable as exc:
        _stop(message, InboundStatus.HELD, "unreadable", exc.message)
    if destination.kind == AddressKind.BOUNCE:
        return _bounce(message, destination, reading)
    sender = User.objects.filter(email__iexact=reading.headers.from_address).first()
    seats = member_seats(destination, sender.pk) if sender else []
    content = reading.content
    verdict = decide(CONTENT_RULES, _facts(destination, reading, sender, member=bool(seats)))
    _note_crypto(message, content)
    if content is None or (verdict.action != Action.ACCEPT and released_by is None):
        _stop(message, _STATUS[verdict.action], verdict.rule, verdict.reason)
    verified = content.signature == SignatureState.VALID
    # A report is linked to an account only when that account's key signed it.
    author = sender if seats or (_is_report(destination) and verified) else None
    try:
        with transaction.atomic():
            _route(
                message,
                destination,
                headers=reading.headers,
                content=content,
                writer=Writer(author, released_by, verified=verified),
            )
            settle(message, status=InboundStatus.ACCEPTED)
    except ValidationError as exc:
        _stop(message, InboundStatus.HELD, "refused", exc.message)
    return InboundStatus.ACCEPTED


def _acknowledge(submitted: Submitted, headers: Headers, *, encrypted: bool) -> None:
    """Tell a reporter by mail that the report arrived. The tracking link opens the report, so
    it goes out in clear text only to a reporter who wrote in clear text themselves; a reporter
    whose key is on file (their account's key signed the report) gets it encrypted."""
    if not headers.from_address or not may_acknowledge(headers.from_address, now=clock.now()):
        return
    key = reporter_key_of(submitted.report)
    spec = report_received(
        submitted.report,
        token=submitted.token,
        link=bool(key) or not encrypted,
        encrypted=bool(key),
        in_reply_to=headers.message_id,
        tells_news=bool(key) or not encrypted,
    )
    fan_out(spec, [Recipient(headers.from_address, key=key)])


def _is_report(destination: Destination) -> bool:
    return destination.kind == AddressKind.REPORT


def _note_crypto(message: InboundMessage, content: Content | None) -> None:
    if content is None:
        message.encrypted = True
        message.save(update_fields=["encrypted"])
        return
    message.encrypted = content.encrypted
    message.signature = str(content.signature)
    message.signer = content.signer
    message.save(update_fields=["encrypted", "signature", "signer"])


def _files(content: Content) -> list[UploadedFile]:
    return [UploadedFile(a.filename, a.content_type, a.content) for a in content.attachments]


def _route(
    message: InboundMessage,
    destination: Destination,
    *,
    headers: Headers,
    content: Content,
    writer: Writer,
) -> None:
    subject = content.subject or headers.subject or "(no subject)"
    if destination.kind == AddressKind.REPORT and destination.project is not None:
        if writer.released_by is None:
            sender = headers.from_address or message.mail_from
            check_report_mail(sender, message.peer, now=clock.now())
        submitted = do_submit_report(
            destination.project,
            ReportInput(
                title=subject,
                description=content.text.strip() or "(The message had no text.)",
                reporter_name=headers.from_name,
                reporter_email=headers.from_address,
            ),
            files=_files(content)[: settings.LOCKSTEP_MAX_ATTACHMENTS],
            submitted_by=writer.user.pk if writer.user else None,
            actor=Actor.system("mail"),
        )
        message.route, message.report_id = "report", submitted.report.pk
        _acknowledge(submitted, headers, encrypted=content.encrypted)
    elif destination.kind == AddressKind.CASE and destination.case is not None:
        body = content.text.strip() or "(The message had no text.)"
        if destination.confidential and not content.encrypted:
            body = f"{UNENCRYPTED_NOTE}\n\n{body}"
        post = _post(
            destination.case,
            body,
            content,
            writer,
            sender_address=headers.from_address,
        )
        message.route, message.case_id, message.post_id = "post", destination.case.pk, post.pk
    elif destination.channel is not None and not destination.confidential and writer.user:
        published = _publish(destination.channel, subject, content, writer)
        message.route, message.post_id = "public", published.pk
    else:
        msg = "Mail to a private list's address starts nothing by itself; held for the coordinator."
        raise ValidationError(msg)
    message.save(update_fields=["route", "case_id", "report_id", "post_id"])


def _publish(channel: Channel, subject: str, content: Content, writer: Writer) -> PublicPost:
    """A member's mail to a public list is published; encrypted mail never is by mail alone:
    the sender treated it as confidential."""
    user = writer.user
    if user is None:  # pragma: no cover - _route publishes only a member's mail
        raise ValidationError("Only a member's mail is published.")
    if content.encrypted:
        msg = "Encrypted mail to a public list is held: publishing it would disclose it."
        raise ValidationError(msg)
    seats = member_seats(Destination(AddressKind.CHANNEL, channel=channel), user.pk)
    return do_post_public(
        channel,
        subject=subject,
        body=content.text,
        actor=Actor.for_user(user),
        author_org=seats[0].org if len(seats) == 1 else None,
        unverified_sender=not writer.verified,
    )


def _post(case: Case, body: str, content: Content, writer: Writer, *, sender_address: str) -> Post:
    """A member writes as themselves; released mail from anyone else is labelled as such."""
    sender, released_by = writer.user, writer.released_by
    if sender is not None:
        seats = member_seats(Destination(AddressKind.CASE, case=case), sender.pk)
        return add_post(
            case,
            body=body,
            files=_files(content),
            author_id=sender.pk,
            author_org=seats[0].org if len(seats) == 1 else None,
            actor=Actor.for_user(sender),
            unverified_sender=not writer.verified,
        )
    if released_by is None:  # pragma: no cover - the unknown-sender rule holds these
        raise ValidationError("Only a participant's mail becomes a post.")
    label = f"{sender_address or 'unknown sender'} (by mail, let through by {released_by.label})"
    return add_post(
        case,
        body=body,
        files=_files(content),
        author_id=None,
        author_org=None,
        actor=released_by,
        author_label=label[:200],
        unverified_sender=not writer.verified,
    )


def _bounce(message: InboundMessage, destination: Destination, reading: Reading) -> InboundStatus:
    """Mail to one copy's bounce address (VERP): only a failure holds that copy (see
    `bounces`); delays and other reports are recorded on the bounce alone."""
    return settle_bounce(message, destination.outbox_id, subject=reading.headers.subject)
