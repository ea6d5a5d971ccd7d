"""`lockstep smtpd`: the SMTP (or LMTP) server that takes mail for Lockstep's addresses.

aiosmtpd runs the protocol on an event loop; every database step runs in a worker thread, so
one slow disk never stalls the other sessions. Recipients that name nothing here are refused
at RCPT time (550 5.1.1); a message is stored before anything reads it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from typing_extensions import override

from lockstep.mailin.receive import accepts_recipient, receive

log = logging.getLogger(__name__)
NO_SUCH_ADDRESS = "550 5.1.1 No such address here"
# aiosmtpd stops reading beyond this; the too-large rule refuses above the configured limit.
_HARD_LIMIT_FACTOR = 2


class Handler:
    """aiosmtpd hooks: check each recipient, take each message."""

    def __init__(self, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        if not await asyncio.to_thread(accepts_recipient, address):
            return NO_SUCH_ADDRESS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        peer = str(session.peer[0]) if session.peer else ""
        reply = await asyncio.to_thread(
            receive,
            raw,
            mail_from=str(envelope.mail_from or ""),
            rcpt_to=list(envelope.rcpt_tos),
            peer=peer,
        )
        if self.lmtp:  # LMTP answers DATA once per accepted recipient (RFC 2033 section 4.2)
            return "\r\n".join([reply] * len(envelope.rcpt_tos))
        return reply


class _LmtpController(Controller):
    @override
    def factory(self) -> SMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def make_controller(host: str, port: int, *, lmtp: bool = False) -> Controller:
    kind = _LmtpController if lmtp else Controller
    return kind(
        Handler(lmtp=lmtp),
        hostname=host,
        port=port,
        data_size_limit=settings.LOCKSTEP_MAIL_MAX_MESSAGE_BYTES * _HARD_LIMIT_FACTOR,
        enable_SMTPUTF8=True,
        ident="Lockstep",
    )


def serve_forever(host: str, port: int, *, lmtp: bool = False) -> None:
    """Run until SIGTERM or SIGINT; first, queue any stored message still waiting."""
    from lockstep.mailin.tasks import process_waiting  # noqa: PLC0415 - needs apps ready

    process_waiting.enqueue()
    controller = make_controller(host, port, lmtp=lmtp)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:  # noqa: ANN401 - signal's frame type
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    controller.start()
    log.info("lockstep smtpd listening on %s:%s (%s)", host, port, "LMTP" if lmtp else "SMTP")
    try:
        stop.wait()
    finally:
        controller.stop()
