"""`lockstep archive import-mbox LIST FILE`: a list's earlier archive becomes public posts in
their threads, with their dates and senders, searchable; once (idempotent on Message-ID); one
audit event; never into a private list; a clear error for a file that is not an mbox."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from lockstep.audit.models import AuditEvent
from lockstep.channels import importing
from lockstep.channels.archive import search
from lockstep.channels.importing import do_import_mbox
from lockstep.channels.management.commands.lockstep_import_mbox import ProgressBar
from lockstep.channels.mbox import MboxError
from lockstep.channels.models import ArchiveEntry, Channel, ChannelKind, PublicPost
from lockstep.cli import build_parser, cmd_archive
from lockstep.core.actor import Actor
from lockstep.core.errors import PermissionDenied, ValidationError
from lockstep.embargo.policy import DISTROS
from lockstep.mailgw.models import OutboundMessage
from tests.conftest import actor_for
from tests.factories.world import ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _message(
    n: int,
    subject: str,
    body: str,
    *,
    sender: str = "Alice Smith <alice@distro.test>",
    parent: int | None = None,
    references: tuple[int, ...] = (),
) -> str:
    lines = [
        f"From alice@distro.test Mon Jan {n + 1:02d} 10:00:00 2024",
        f"From: {sender}",
        f"Subject: {subject}",
        f"Date: Mon, {n + 1:02d} Jan 2024 11:00:00 +0100",
        f"Message-ID: <m{n}@distro.test>",
    ]
    if parent is not None:
        lines.append(f"In-Reply-To: <m{parent}@distro.test>")
    if references:
        lines.append("References: " + "\n ".join(f"<m{r}@distro.test>" for r in references))
    return "\n".join([*lines, "", body, "", ""])


def _mbox(tmp_path: Path, *messages: str, name: str = "list.mbox") -> Path:
    path = tmp_path / name
    path.write_text("".join(messages), encoding="utf-8")
    return path


@pytest.fixture
def oss() -> Channel:
    return ChannelFactory(name="oss-security", slug="oss", kind=ChannelKind.PUBLIC)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return _mbox(
        tmp_path,
        _message(0, "[SECURITY] quokka: heap overflow (CVE-2024-1000)", "Details.\n>From here on"),
        _message(1, "Re: [SECURITY] quokka", "Thanks.", sender="bob@vendor.test", parent=0),
        _message(2, "unrelated question", "How do embargoes work?"),
        _message(3, "Re: Re: [SECURITY] quokka", "Fixed.", parent=1, references=(0, 1)),
        _message(4, "Re: orphan", "My parent never reached the list.", references=(99,)),
    )


def _run(*argv: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("lockstep_import_mbox", *argv, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_keeps_threads_dates_and_senders(oss: Channel, history: Path) -> None:
    out, _ = _run("oss", str(history))
    assert "5 messages in list.mbox: 5 imported, 0 already in the archive" in out
    posts = {p.message_id: p for p in PublicPost.objects.filter(channel=oss)}
    first, reply, other, deeper, orphan = (posts[f"<m{n}@distro.test>"] for n in range(5))
    assert first.created_at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)  # Date: +0100 in UTC
    assert (first.author_label, first.author_address) == ("Alice Smith", "alice@distro.test")
    assert (reply.author_label, reply.author_address) == ("bob", "bob@vendor.test")
    assert first.body == "Details.\nFrom here on"  # mboxrd quoting undone
    assert all(p.imported and not p.unverified_sender for p in posts.values())
    assert first.thread_key == reply.thread_key == deeper.thread_key == "<m0@distro.test>"
    assert (reply.in_reply_to, deeper.in_reply_to) == ("<m0@distro.test>", "<m1@distro.test>")
    assert other.thread_key == "<m2@distro.test>"
    assert orphan.thread_key == "<m99@distro.test>"
    assert OutboundMessage.objects.count() == 0  # history is not mailed to anyone
    hits = search("f:bob", now=NOW).entries
    assert [(e.title, e.url) for e in hits] == [
        ("Re: [SECURITY] quokka", f"/lists/oss/{reply.pk}/")
    ]
    assert [e.title for e in search("CVE-2024-1000", now=NOW).entries] == [first.subject]


def test_a_second_run_imports_nothing_and_records_one_event(oss: Channel, history: Path) -> None:
    _run("oss", str(history))
    out, _ = _run("oss", str(history))
    assert "5 messages in list.mbox: 0 imported, 5 already in the archive" in out
    assert PublicPost.objects.count() == ArchiveEntry.objects.count() == 5
    event = AuditEvent.objects.get(tag="channel:archive:imported")
    assert event.actor_label == "system:archive-import"
    assert event.object_id == str(oss.pk)
    assert event.data["importing"] == event.data["messages"] == 5
    assert event.data["file"] == "list.mbox"
    assert len(event.data["sha256"]) == 64


def test_new_mail_joins_the_threads_already_archived(
    oss: Channel, history: Path, tmp_path: Path, system: Actor
) -> None:
    _run("oss", str(history))
    later = _mbox(
        tmp_path,
        _message(0, "again", "A repeat of an archived message."),
        _message(5, "Re: Re: Re: [SECURITY] quokka", "Late.", parent=3),  # no References
        _message(5, "Re: Re: Re: [SECURITY] quokka", "The same again."),
        name="later.mbox",
    )
    out, _ = _run("oss", str(later))
    assert "3 messages in later.mbox: 1 imported, 1 already in the archive" in out
    assert "1 repeated in the file" in out
    assert PublicPost.objects.get(message_id="<m5@distro.test>").thread_key == "<m0@distro.test>"
    other = ChannelFactory(name="elsewhere", slug="elsewhere", kind=ChannelKind.PUBLIC)
    do_import_mbox(other, later, actor=system)
    assert PublicPost.objects.filter(channel=other).count() == 0  # Message-IDs are unique


def test_private_lists_operators_and_bad_files(oss: Channel, history: Path, tmp_path: Path) -> None:
    ChannelFactory(name="distros", slug="distros", kind=ChannelKind.PRIVATE, policy=DISTROS)
    with pytest.raises(CommandError, match="distros is a private list"):
        _run("distros", str(history))
    with pytest.raises(CommandError, match="there is no list 'nope'"):
        _run("nope", str(history))
    with pytest.raises(CommandError, match="no such file"):
        _run("oss", str(tmp_path / "missing.mbox"))
    with pytest.raises(CommandError, match="not an mbox"):
        _run("oss", str(_mbox(tmp_path, "Subject: hi\n\nnot an mbox\n", name="x.eml")))
    with pytest.raises(CommandError, match="holds no messages"):
        _run("oss", str(_mbox(tmp_path, "", name="empty.mbox")))
    assert PublicPost.objects.count() == 0
    assert not AuditEvent.objects.filter(tag="channel:archive:imported").exists()
    with pytest.raises(PermissionDenied):
        do_import_mbox(oss, history, actor=actor_for(UserFactory()))
    private = Channel.objects.get(slug="distros")
    with pytest.raises(ValidationError):
        do_import_mbox(private, history, actor=Actor.system("tests"))
    with pytest.raises(MboxError):
        do_import_mbox(oss, tmp_path / "x.eml", actor=Actor.system("tests"))


def test_the_archive_shows_imported_mail_in_thread_order(
    oss: Channel, history: Path, client: Client
) -> None:
    _run("oss", str(history))
    page = client.get("/lists/oss/").content.decode()
    order = [
        "Re: orphan",  # Jan 5
        "[SECURITY] quokka: heap overflow",  # its thread's last post: Jan 4
        "↳ <a",
        "Re: [SECURITY] quokka<",
        "Re: Re: [SECURITY] quokka<",
        "unrelated question",  # Jan 3
    ]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)  # the newest active thread first, replies under
    assert page.count(">imported</span>") == 5
    reply = PublicPost.objects.get(message_id="<m1@distro.test>")
    post_page = client.get(f"/lists/oss/{reply.pk}/").content.decode()
    assert "bob &lt;bob@vendor.test&gt;" in post_page
    assert "<h2>Thread</h2>" in post_page
    assert "<strong>Re: [SECURITY] quokka</strong>" in post_page


def test_progress_on_a_terminal_and_in_a_log() -> None:
    tty, log = StringIO(), StringIO()
    bar, plain = ProgressBar(tty, tty=True), ProgressBar(log, tty=False)
    for done in (0, 500, 1000):
        bar("importing", done, 1000)
        plain("importing", done, 1000)
    assert tty.getvalue().startswith("\r\x1b[K")
    assert tty.getvalue().endswith("1,000/1,000 messages 100%\n")
    assert log.getvalue().splitlines() == [
        "importing [..............................] 0/1,000 messages   0%",
        "importing [##############################] 1,000/1,000 messages 100%",
    ]
    line = ProgressBar.line("reading", 2_000_000, 4_000_000, 2.0)
    assert line.endswith("2.0/4.0 MB  50%  1.0 MB/s  2 s left")


def test_the_lockstep_command_knows_it() -> None:
    args = build_parser().parse_args(["archive", "import-mbox", "oss", "list.mbox"])
    assert (args.func, args.archive_command, args.list, args.file) == (
        cmd_archive,
        "import-mbox",
        "oss",
        "list.mbox",
    )


def test_batches_progress_and_odd_messages(
    oss: Channel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH", 2)
    monkeypatch.setattr(importing, "READ_PROGRESS_EVERY", 2)
    odd = [
        (
            "From nobody\nFrom: =?x-unknown?q?Zo=EB?= <z@x.test>\nSubject: no date\n"
            "Message-ID: <undated@x.test>\nContent-Type: text/plain; charset=x-unknown\n\n"
            "caf\xe9\n\n"
        ),
        _message(1, "from the future", "Later.").replace("2024", "2099"),
        _message(2, "long", "x" * 200_100),
    ]
    seen: list[tuple[str, int, int]] = []
    summary = do_import_mbox(
        oss,
        _mbox(tmp_path, *odd, _message(3, "plain", "ok")),
        actor=Actor.system("tests"),
        progress=lambda *report: seen.append(report),
    )
    assert summary.imported == 4
    assert summary.undated == 2
    assert [report for report in seen if report[0] == "importing"] == [
        ("importing", 2, 4),
        ("importing", 4, 4),
    ]
    assert len([report for report in seen if report[0] == "reading"]) == 3
    undated = PublicPost.objects.get(message_id="<undated@x.test>")
    assert undated.author_label == "=?x-unknown?q?Zo=EB?="  # left as it came
    assert undated.body == "café"
    assert undated.created_at == PublicPost.objects.get(subject="from the future").created_at
    cut = PublicPost.objects.get(subject="long").body
    assert cut.endswith("[… cut at 200,000 characters]")
    assert "undated (import time used)" in summary.text()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_merges_the_index(
    audit_head: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oss = ChannelFactory(name="oss-security", slug="oss", kind=ChannelKind.PUBLIC)
    monkeypatch.setattr(importing, "OPTIMIZE_FROM", 2)
    path = _mbox(tmp_path, _message(0, "first", "quokka"), _message(1, "second", "quokka"))
    assert do_import_mbox(oss, path, actor=Actor.system("tests")).imported == 2
    assert {e.title for e in search("quokka", now=NOW).entries} == {"first", "second"}


def test_an_unknown_or_private_list_has_no_public_archive(client: Client) -> None:
    ChannelFactory(name="distros", slug="distros", kind=ChannelKind.PRIVATE, policy=DISTROS)
    assert client.get("/lists/nope/").status_code == 404
    assert client.get("/lists/distros/").status_code == 404
