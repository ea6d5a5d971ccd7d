"""Transports: how finished messages leave. A Protocol, SMTP, and a folder for the embedded mode."""

from __future__ import annotations

import itertools
import os
import queue
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

from typing_extensions import override

_T = TypeVar("_T")


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes
    key: str  # the outbox row's Message-ID: names the copy in files and logs


@dataclass(frozen=True)
class Outcome:
    key: str
    error: str = ""  # empty: accepted by the next hop

    @property
    def ok(self) -> bool:
        return not self.error


class TransportDown(Exception):
    """The whole transport is unreachable: nothing in the batch was sent."""


class Transport(Protocol):
    def send_batch(self, envelopes: Iterable[Envelope]) -> Iterator[list[Outcome]]:
        """Send each envelope, yielding outcomes as soon as they are known (so the caller
        can record them before more go), grouped as they came back together: parallel
        sessions can finish several while the caller records the last group. Never holds
        back a known outcome to make a group. An envelope without an outcome was not sent.
        Raises `TransportDown` if nothing could be sent."""
        ...


COPY_MODE = 0o600  # a copy may be a notice in clear text: its owner's alone, whatever the umask


class FolderTransport:
    """Writes each message as an .eml file: the embedded mode's outbox, shown in the web UI."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_batch(self, envelopes: Iterable[Envelope]) -> Iterator[list[Outcome]]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for envelope in envelopes:
            name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in envelope.key)
            target = self.folder / f"{name}.eml"
            partial = target.with_suffix(".part")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, COPY_MODE)
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(fd, COPY_MODE)  # a .part left by a stopped worker keeps its old mode
                handle.write(envelope.data)
            partial.replace(target)  # appears whole or not at all
            yield [Outcome(envelope.key)]


_MAX_CONNECTIONS = 16
DEFAULT_CONNECTIONS = 4  # sessions side by side: a fan-out waits on round trips, not CPU


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    connections: int = DEFAULT_CONNECTIONS  # parallel SMTP sessions per batch

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """`smtp://user:pass@host:587?security=starttls&connections=2` (or `smtps://host:465`)."""
        parts = urlparse(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            msg = "LOCKSTEP_SMTP_URL must look like smtp://user:pass@host:port?security=starttls"
            raise ValueError(msg)
        query = parse_qs(parts.query)
        security = "tls" if parts.scheme == "smtps" else query.get("security", ["none"])[0]
        connections = query.get("connections", [str(DEFAULT_CONNECTIONS)])[0]
        if not connections.isdigit() or not 1 <= int(connections) <= _MAX_CONNECTIONS:
            msg = f"connections= must be a number from 1 to {_MAX_CONNECTIONS}"
            raise ValueError(msg)
        if security not in {"none", "starttls", "tls"}:
            msg = "security= must be none, starttls or tls"
            raise ValueError(msg)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if security == "tls" else 25),
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            connections=int(connections),
        )


def wire_format(data: bytes) -> bytes:
    """SMTP carries CRLF line endings only (RFC 5321 section 2.3.8); smtplib leaves bytes as
    they are, and a receiver reads a bare-LF message as one over-long line."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _report(
    session: Callable[[Iterator[Envelope]], Iterator[Outcome]],
    source: Iterator[Envelope],
    results: queue.Queue[Outcome | TransportDown | None],
) -> None:
    """Run one SMTP session over the shared source, putting each outcome on `results`, then
    the exception that ended it if any, then None."""
    try:
        for outcome in session(source):
            results.put(outcome)
    except TransportDown as exc:
        results.put(exc)
    finally:
        results.put(None)


def _waiting(results: queue.Queue[_T]) -> Iterator[_T]:
    """The next item (waiting for it), then every item already queued behind it."""
    yield results.get()
    while True:
        try:
            yield results.get_nowait()
        except queue.Empty:
            return


class _Shared(Iterator[Envelope]):
    """One envelope source for several sessions: each takes the next under a lock.

    At most `budget` envelopes are out at once between being taken and their outcome being
    recorded by the caller (`settle`): a worker killed at any moment has at most that many
    copies a relay may have accepted without the outbox knowing, so at most that many go
    twice. `close` lets every waiting session go (with nothing more to send)."""

    def __init__(self, envelopes: Iterator[Envelope], *, budget: int) -> None:
        self._envelopes = envelopes
        self._lock = threading.Lock()
        self._budget = budget
        self._slots = threading.Semaphore(budget)
        self._closed = False

    @override
    def __next__(self) -> Envelope:
        self._slots.acquire()
        with self._lock:
            if self._closed:
                self._slots.release()
                raise StopIteration
            try:
                return next(self._envelopes)
            except StopIteration:
                self._slots.release()
                raise

    def settle(self, count: int) -> None:
        """`count` outcomes were recorded: as many more envelopes may go."""
        self._slots.release(count)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._slots.release(self._budget)


class SmtpTransport:
    """One SMTP session per batch (or up to `connections` sessions side by side, each taking
    the next envelope when it is free); a refused recipient fails only its own copy. A session
    opens only for an envelope to send: a batch of one copy opens one session, and a batch of
    none opens none."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            msg = f"SMTP relay {s.host}:{s.port} unreachable: {exc}"
            raise TransportDown(msg) from exc
        return client

    def send_batch(self, envelopes: Iterable[Envelope]) -> Iterator[list[Outcome]]:
        if self.settings.connections == 1:
            return ([outcome] for outcome in self._session(iter(envelopes)))
        return self._parallel(iter(envelopes))

    def _parallel(self, envelopes: Iterator[Envelope]) -> Iterator[list[Outcome]]:
        """Sessions in threads share one envelope source; outcomes come back as they happen,
        each time with every other outcome already waiting. A session starts with an envelope
        of its own, so a batch of fewer copies than `connections` opens one per copy. A
        session sends its next copy only once the caller has recorded enough outcomes (it asks
        for the next group after recording the last): never more than `connections` copies
        are sent and not yet recorded."""
        results: queue.Queue[Outcome | TransportDown | None] = queue.Queue()
        source = _Shared(envelopes, budget=self.settings.connections)
        # Every session's first envelope is taken before any session runs, so the budget
        # (one slot per session) is never used up by a session that started earlier.
        firsts: list[Envelope] = []
        while len(firsts) < self.settings.connections and (first := next(source, None)) is not None:
            firsts.append(first)
        running = len(firsts)
        try:
            for first in firsts:
                threading.Thread(
                    target=_report,
                    args=(self._session, itertools.chain([first], source), results),
                    name="smtp-session",
                    daemon=True,
                ).start()
            down, delivered = None, 0
            while running:
                group: list[Outcome] = []
                for item in _waiting(results):
                    if item is None:
                        running -= 1
                    elif isinstance(item, TransportDown):
                        down = item
                    else:
                        group.append(item)
                if group:
                    delivered += len(group)
                    yield group
                    source.settle(len(group))
        finally:
            source.close()
        if down is not None and not delivered:
            raise down

    def _session(self, envelopes: Iterator[Envelope]) -> Iterator[Outcome]:
        first = next(envelopes, None)
        if first is None:
            return  # an empty batch: no connection for nothing
        client = self._connect()  # if this fails, `first` has no outcome: it was not sent
        try:
            for envelope in itertools.chain([first], envelopes):
                try:
                    client.sendmail(
                        envelope.sender, [envelope.recipient], wire_format(envelope.data)
                    )
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = exc.recipients[envelope.recipient]
                    yield Outcome(envelope.key, f"{code} {_text(text)}")
                except smtplib.SMTPResponseException as exc:
                    yield Outcome(envelope.key, f"{exc.smtp_code} {_text(exc.smtp_error)}")
                except (OSError, smtplib.SMTPException) as exc:
                    # The connection broke mid-batch: this one and the rest were not sent.
                    yield Outcome(envelope.key, f"connection lost: {exc}")
                    return
                else:
                    yield Outcome(envelope.key)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
