"""`lockstep archive import-mbox LIST FILE`: import a list's earlier archive (mboxrd, or
gzip-compressed mboxrd) into the public list LIST's archive (`channels.importing`).

Progress goes to stderr: on a terminal one line redrawn in place, otherwise (a log, a pipe)
a plain line every few seconds. The summary goes to stdout. Running it again imports only
what is new (nothing, for the same file)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from typing_extensions import override

from lockstep.channels.importing import do_import_mbox
from lockstep.channels.mbox import MboxError
from lockstep.channels.queries import access_channel_by_slug
from lockstep.core.actor import Actor
from lockstep.core.errors import LockstepError, NotFound

BAR_WIDTH = 30
PLAIN_EVERY_S = 5.0
REDRAW_EVERY_S = 0.1


class ProgressBar:
    """`(stage, done, total)` shown on `stream`: a bar with the rate and the time left."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.stage, self.started, self.shown = "", 0.0, 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.started, self.shown = stage, now, 0.0
        finished = done >= total
        wait = REDRAW_EVERY_S if self.tty else PLAIN_EVERY_S
        if not finished and now - self.shown < wait:
            return
        self.shown = now
        line = self.line(stage, done, total, now - self.started)
        if self.tty:
            self.stream.write(f"\r\x1b[K{line}" + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    @staticmethod
    def line(stage: str, done: int, total: int, elapsed: float) -> str:
        share = done / total if total else 1.0
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        unit = "MB" if stage == "reading" else "messages"
        scale = 1e6 if stage == "reading" else 1
        amount = f"{done / scale:,.1f}/{total / scale:,.1f}" if scale > 1 else f"{done:,}/{total:,}"
        line = f"{stage:<9} [{bar}] {amount} {unit} {share:4.0%}"
        if elapsed < 1 or not done:  # no rate to tell yet
            return line
        rate = done / elapsed
        shown = f"{rate / scale:,.1f}" if scale > 1 else f"{rate:,.0f}"
        return f"{line}  {shown} {unit}/s  {(total - done) / rate:,.0f} s left"


class Command(BaseCommand):
    help = "Import a list's earlier archive (an mbox) into a public list's archive."

    @override
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("list", help="the public list's slug")
        parser.add_argument("file", help="the mbox (mboxrd; .gz read as well)")

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("archive-import")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            channel = access_channel_by_slug(actor, options["list"])
        except NotFound:
            raise CommandError(f"there is no list {options['list']!r}") from None
        try:
            summary = do_import_mbox(channel, path, actor=actor, progress=ProgressBar(sys.stderr))
        except (LockstepError, MboxError) as exc:
            message = exc.message if isinstance(exc, LockstepError) else str(exc)
            raise CommandError(f"{options['list']}: {message}") from None
        self.stdout.write(summary.text(), ending="")
