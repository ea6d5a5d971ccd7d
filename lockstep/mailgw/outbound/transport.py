"""Transports: how finished messages leave. A Protocol, SMTP, and a folder for the embedded mode."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlparse


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
    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]: ...


class FolderTransport:
    """Writes each message as an .eml file: the embedded mode's outbox, shown in the web UI."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        outcomes = []
        for envelope in envelopes:
            name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in envelope.key)
            target = self.folder / f"{name}.eml"
            partial = target.with_suffix(".part")
            partial.write_bytes(envelope.data)
            partial.replace(target)  # appears whole or not at all
            outcomes.append(Outcome(envelope.key))
        return outcomes


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """`smtp://user:pass@host:587?security=starttls` (or `smtps://host:465`)."""
        parts = urlparse(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            msg = "LOCKSTEP_SMTP_URL must look like smtp://user:pass@host:port?security=starttls"
            raise ValueError(msg)
        query = parse_qs(parts.query)
        security = "tls" if parts.scheme == "smtps" else query.get("security", ["none"])[0]
        if security not in {"none", "starttls", "tls"}:
            msg = "security= must be none, starttls or tls"
            raise ValueError(msg)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if security == "tls" else 25),
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class SmtpTransport:
    """One SMTP connection per batch; a refused recipient fails only its own copy."""

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

    def send_batch(self, envelopes: Sequence[Envelope]) -> list[Outcome]:
        client = self._connect()
        outcomes = []
        try:
            for envelope in envelopes:
                try:
                    client.sendmail(envelope.sender, [envelope.recipient], envelope.data)
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = exc.recipients[envelope.recipient]
                    outcomes.append(Outcome(envelope.key, f"{code} {_text(text)}"))
                except smtplib.SMTPResponseException as exc:
                    error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                    outcomes.append(Outcome(envelope.key, error))
                except (OSError, smtplib.SMTPException) as exc:
                    # The connection broke mid-batch: this and the rest were not sent.
                    done = {o.key for o in outcomes}
                    outcomes += [
                        Outcome(e.key, f"connection lost: {exc}")
                        for e in envelopes
                        if e.key not in done
                    ]
                    return outcomes
                else:
                    outcomes.append(Outcome(envelope.key))
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes
