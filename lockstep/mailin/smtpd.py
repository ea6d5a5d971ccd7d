"""`lockstep smtpd`: the SMTP (or LMTP) server that takes mail for Lockstep's addresses.

aiosmtpd runs the protocol on an event loop; every database step runs in a worker thread, so
one slow disk never stalls the other sessions. Recipients that name nothing here are refused
at RCPT time (550 5.1.1); a message is stored before anything reads it, and each recipient is
decided on its own: LMTP answers DATA once per recipient (RFC 2033 section 4.2), SMTP once
for all (taken if any recipient took it).

Limits: `MAX_RECIPIENTS` per message (452 4.5.3 beyond: the client sends the rest later, RFC
5321 section 4.5.3.1.8; Postfix's LMTP client sends 50 at most by default), and
`LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT` connections open at once from one client address
(421 4.7.0 instead of the greeting beyond, then the connection is closed).

The client address (kept with each message, and counted by the limits on reports by mail) is
the connection's, or, from a relay in `LOCKSTEP_SMTP_XFORWARD_HOSTS` (Postfix on this host,
`lmtp_send_xforward_command = yes`), the one that relay names with XFORWARD: behind Postfix
every connection comes from 127.0.0.1. When the database cannot be reached, RCPT and DATA
answer `451 4.3.0` (try again later), never a permanent refusal or the error's text.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections import Counter
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from typing_extensions import override

from lockstep.mailin.receive import accepts_recipient, receive, smtp_reply
from lockstep.mailin.tasks import process_waiting

log = logging.getLogger(__name__)
NO_SUCH_ADDRESS = "550 5.1.1 No such address here"
MAX_RECIPIENTS = 50
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections from your address"
TRY_RCPT_LATER = "451 4.3.0 Temporary failure, please try again later"
XFORWARD_OFFER = "250-XFORWARD NAME ADDR PROTO HELO"
_UNKNOWN = frozenset({"[UNAVAILABLE]", "[TEMPUNAVAIL]"})
# aiosmtpd stops reading beyond this; the too-large rule refuses above the configured limit.
_HARD_LIMIT_FACTOR = 2


class ClientLimit:
    """Connections open at once per client address (used on the event loop's thread only)."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.open: Counter[str] = Counter()

    def enter(self, client: str) -> bool:
        if self.open[client] >= self.per_client:
            return False
        self.open[client] += 1
        return True

    def leave(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]


class Handler:
    """aiosmtpd hooks: check each recipient, take each message."""

    def __init__(self, *, lmtp: bool = False, per_client: int = 10) -> None:
        self.lmtp = lmtp
        self.clients = ClientLimit(per_client)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return TOO_MANY_RECIPIENTS
        try:
            known = await asyncio.to_thread(accepts_recipient, address)
        except Exception:  # the database, most likely: the sender must try again, not give up
            log.exception("could not check the recipient %r", address[:100])
            return TRY_RCPT_LATER
        if not known:
            return NO_SUCH_ADDRESS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        _envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """EHLO (and LMTP's LHLO): offer XFORWARD to a trusted relay only."""
        session.host_name = hostname
        if isinstance(server, _Smtp) and server.trusts_xforward():
            responses.insert(len(responses) - 1, XFORWARD_OFFER)
        return responses

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # pragma: no cover - decode_data is off
            raw = raw.encode("utf-8", "surrogateescape")
        peer = str(session.peer[0]) if session.peer else ""
        if isinstance(server, _Smtp) and server.forwarded_for:
            peer, server.forwarded_for = server.forwarded_for, ""
        replies = await asyncio.to_thread(
            receive,
            raw,
            mail_from=str(envelope.mail_from or ""),
            rcpt_to=list(envelope.rcpt_tos),
            peer=peer,
        )
        if self.lmtp:  # one reply per accepted recipient, in RCPT order (RFC 2033 4.2)
            return "\r\n".join(replies)
        return smtp_reply(replies)


def _client(peer: object) -> str:
    """The client's address from asyncio's `peername` (a tuple for IP sockets)."""
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer or "")


class _Smtp(SMTP):
    """aiosmtpd's server, refusing a client's connection beyond its limit: 421 instead of the
    greeting, then closed."""

    _counted: str | None = None
    forwarded_for = ""  # the original client a trusted relay named (XFORWARD ADDR=)

    def trusts_xforward(self) -> bool:
        peer = self.session.peer if self.session is not None else None
        return _client(peer) in settings.LOCKSTEP_SMTP_XFORWARD_HOSTS

    async def smtp_XFORWARD(self, arg: str) -> None:  # noqa: N802 - aiosmtpd dispatches smtp_<VERB>
        """Postfix's XFORWARD (XFORWARD_README): the relay names the client it took the message
        from. Only a relay in LOCKSTEP_SMTP_XFORWARD_HOSTS may; ADDR is what we keep."""
        if not self.trusts_xforward():
            await self.push("550 5.7.0 XFORWARD is not allowed from your address")
            return
        for item in arg.split():
            name, _, value = item.partition("=")
            if name.upper() == "ADDR" and value and value not in _UNKNOWN:
                self.forwarded_for = value.removeprefix("IPV6:")[:100]
        await self.push("250 2.0.0 Ok")

    @override
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        again = self.transport is not None  # STARTTLS: the same connection, counted already
        super().connection_made(transport)
        if again:  # pragma: no cover - STARTTLS is not offered (no TLS context)
            return
        handler: Handler = self.event_handler
        client = _client(transport.get_extra_info("peername"))
        if handler.clients.enter(client):
            self._counted = client
        else:
            self._refuse(transport)

    def _refuse(self, transport: asyncio.BaseTransport) -> None:
        if self._handler_coroutine is not None:  # pragma: no branch - connection_made set it
            self._handler_coroutine.cancel()  # not started yet: no greeting is sent
        stream = cast("asyncio.WriteTransport", transport)  # a TCP connection
        stream.write(f"{TOO_MANY_CONNECTIONS}\r\n".encode())
        stream.close()

    @override
    def connection_lost(self, error: Exception | None) -> None:
        if self._counted is not None:
            handler: Handler = self.event_handler
            handler.clients.leave(self._counted)
            self._counted = None
        super().connection_lost(error)


class _Lmtp(_Smtp, LMTP):
    pass


class _Controller(Controller):
    @override
    def factory(self) -> SMTP:
        handler: Handler = self.handler
        kind = _Lmtp if handler.lmtp else _Smtp
        return kind(handler, **self.SMTP_kwargs)


def make_controller(host: str, port: int, *, lmtp: bool = False) -> Controller:
    per_client = settings.LOCKSTEP_SMTP_MAX_CONNECTIONS_PER_CLIENT
    return _Controller(
        Handler(lmtp=lmtp, per_client=per_client),
        hostname=host,
        port=port,
        data_size_limit=settings.LOCKSTEP_MAIL_MAX_MESSAGE_BYTES * _HARD_LIMIT_FACTOR,
        enable_SMTPUTF8=True,
        ident="Lockstep",
    )


def serve_forever(host: str, port: int, *, lmtp: bool = False) -> None:
    """Run until SIGTERM or SIGINT; first, queue any stored message still waiting."""
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
