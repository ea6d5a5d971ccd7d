"""The `lockstep` command: serve, web, worker, smtpd, createadmin, deactivate-user,
reactivate-user, invite, demo, audit verify, backup, restore, archive import-mbox, manage."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

DEFAULT_SETTINGS = "config.settings.prod"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    import django  # noqa: PLC0415 - settings must be chosen before Django loads

    django.setup()
    from lockstep.ops.startup import prepare_data_dir  # noqa: PLC0415 - needs the settings

    prepare_data_dir()  # a missing data folder is made (0700); secrets in it kept private


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """`host` as it is written in a URL: an IPv6 address in brackets."""
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def _settle_base_url(args: argparse.Namespace) -> None:
    """Make `LOCKSTEP_BASE_URL` (the address in every link Lockstep gives out) follow --host
    and --port unless it is set: http://127.0.0.1:8101 for `serve --port 8101`. The children
    `serve` starts (the worker writes the mail) inherit it. A bind that is not loopback is
    reached by another name, which only the operator knows: say so."""
    if os.environ.get("LOCKSTEP_BASE_URL"):
        return
    unspecified = args.host.strip("[]") in {"0.0.0.0", "::", ""}  # noqa: S104 - a comparison
    host = "127.0.0.1" if unspecified else _url_host(args.host)
    derived = f"http://{host}:{args.port}"
    os.environ["LOCKSTEP_BASE_URL"] = derived
    if not _is_loopback(args.host):
        sys.stderr.write(
            f"lockstep: LOCKSTEP_BASE_URL is not set: the links Lockstep gives out (the "
            f"reporter's tracking page, mail, advisories, feeds) will say {derived}/, which is "
            f"wrong if people reach {args.host}:{args.port} by another name or through a "
            f"proxy; set LOCKSTEP_BASE_URL to the address they use "
            f"(https://lockstep.example.org)\n"
        )
        sys.stderr.flush()


def _warn_without_base_url(component: str) -> None:
    """A worker or mail server started alone does not know where the web server listens."""
    if not os.environ.get("LOCKSTEP_BASE_URL"):
        sys.stderr.write(
            f"lockstep {component}: LOCKSTEP_BASE_URL is not set: links in mail will say "
            f"http://127.0.0.1:8000/; set it to the address people use (as for lockstep web)\n"
        )
        sys.stderr.flush()


def _manage(*argv: str) -> None:
    _setup_django()
    from django.core.management import call_command  # noqa: PLC0415

    call_command(*argv)


def _prepare(*, demo: bool, migrate: bool = True) -> None:
    """Migrate (unless told not to), collect static files and (if asked) fill the demo world."""
    if migrate:
        _manage("migrate", "--noinput", "--verbosity", "0")
    _setup_django()
    from lockstep.ops.datadir import warn_about_loose_modes  # noqa: PLC0415 - after setup
    from lockstep.ops.startup import collect_static  # noqa: PLC0415 - after setup

    collect_static()  # WhiteNoise serves by its manifest: every HTML page needs it
    warn_about_loose_modes()  # what another local user could read in the data folder
    if demo:
        _manage("lockstep_demo")


def _gunicorn_argv(args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        # No Server banner; tracking tokens redacted from the access log (config/gunicorn.py).
        "--config",
        "python:config.gunicorn",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        # gunicorn's control socket defaults to one path per user: two instances would clash.
        "--no-control-socket",
    ]


def _worker_argv() -> list[str]:
    return [sys.executable, "-m", "lockstep.cli", "worker"]


def _list_key_ready(args: argparse.Namespace) -> bool:
    """False (with the reason on stderr) if the list key is missing but was already used;
    a new instance gets its list key here (see lockstep.instance.listkey)."""
    _setup_django()
    from django.db import DatabaseError  # noqa: PLC0415 - after setup

    from lockstep.instance.listkey import check_list_key_at_start  # noqa: PLC0415
    from lockstep.mailgw.outbound.listkey import ListKeyMissing  # noqa: PLC0415

    try:
        note = check_list_key_at_start(new_list_key=getattr(args, "new_list_key", False))
    except ListKeyMissing as exc:
        sys.stderr.write(f"lockstep: {exc}\n")
        return False
    except DatabaseError as exc:  # not migrated yet: nothing can have used a key
        sys.stderr.write(f"lockstep: list key not checked at start ({exc})\n")
        return True
    if note:
        sys.stdout.write(f"lockstep: {note}\n")
        sys.stdout.flush()
    return True


def cmd_web(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    _settle_base_url(args)  # before Django reads its settings
    _prepare(demo=False, migrate=args.migrate)
    if _list_key_ready(args):
        os.execv(sys.executable, _gunicorn_argv(args))  # noqa: S606 - replaces this process
    return 1


def _resume_mail() -> None:
    """Queue delivery, inbound processing and the embargo catch-up at start (and after a
    database outage): a worker killed mid-batch left copies claimed and messages waiting, and
    a date may have passed while no worker ran; nothing else would come back for them."""
    from django.db import DatabaseError  # noqa: PLC0415 - after setup

    from lockstep.advisories.tasks import catch_up  # noqa: PLC0415
    from lockstep.mailgw.outbound.tasks import deliver_outbound  # noqa: PLC0415
    from lockstep.mailin.tasks import process_waiting  # noqa: PLC0415

    try:
        deliver_outbound.enqueue()
        process_waiting.enqueue()
        catch_up.enqueue()
    except DatabaseError as exc:  # not migrated yet: the first change will queue them
        sys.stderr.write(f"lockstep: mail tasks not queued at start ({exc})\n")


def cmd_worker(args: argparse.Namespace) -> int:
    _warn_without_base_url("worker")
    if not _list_key_ready(args):
        return 1
    _resume_mail()
    from django.conf import settings  # noqa: PLC0415 - after setup

    from lockstep.ops.outage import after_outage  # noqa: PLC0415 - after setup

    after_outage(_resume_mail)  # and again each time the database comes back

    interval = str(settings.LOCKSTEP_WORKER_INTERVAL)
    _manage("lockstep_worker", "--queue-name", "*", "--no-reload", "--interval", interval)
    return 0


def cmd_smtpd(args: argparse.Namespace) -> int:
    _warn_without_base_url("smtpd")
    if not _list_key_ready(args):
        return 1
    from django.conf import settings  # noqa: PLC0415 - after setup

    from lockstep.mailin.smtpd import serve_forever  # noqa: PLC0415 - needs Django set up

    host = args.host or settings.LOCKSTEP_SMTPD_HOST
    port = args.port or settings.LOCKSTEP_SMTPD_PORT
    serve_forever(host, port, lmtp=args.lmtp or settings.LOCKSTEP_SMTPD_LMTP)
    return 0


def _smtpd_argv() -> list[str]:
    return [sys.executable, "-m", "lockstep.cli", "smtpd"]


class _Supervisor:
    """Runs the web server, the worker and the mail server as children in this process group,
    and starts again any that stops on its own (after 1 s, doubling up to a minute while it
    keeps failing): embedded mode must not need a human to restart a component.

    Ctrl-C in a terminal sends SIGINT to the whole group, so the children already have
    it: the supervisor only waits, and nudges with SIGTERM a child that has not stopped
    after a grace period. A SIGTERM sent to the supervisor alone is passed on at once.
    """

    GRACE_SECONDS = 3.0
    KILL_AFTER_SECONDS = 20.0
    FIRST_BACKOFF, MAX_BACKOFF, HEALTHY_AFTER = 1.0, 60.0, 60.0

    def __init__(self, commands: Sequence[list[str]]) -> None:
        self.commands = commands
        self.children: list[subprocess.Popen[bytes]] = []
        self.stop_requested_at: float | None = None
        self.started_at: list[float] = []
        self.backoff: list[float] = []
        self.restart_at: list[float | None] = []

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        if signum == signal.SIGTERM:
            self._signal_children(signal.SIGTERM)

    def _signal_children(self, signum: int) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signum)

    def _start(self, index: int) -> subprocess.Popen[bytes]:
        self.started_at[index] = time.monotonic()
        return subprocess.Popen(self.commands[index])  # noqa: S603 - our own argv

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        count = len(self.commands)
        self.started_at, self.backoff = [0.0] * count, [self.FIRST_BACKOFF] * count
        self.restart_at = [None] * count
        self.children = [self._start(index) for index in range(count)]
        while self.stop_requested_at is None:
            for index in range(count):
                self._look_after(index)
            time.sleep(0.2)
        self._wait_for_children()
        return 0

    def _look_after(self, index: int) -> None:
        """Notice a child that stopped, and start it again when its backoff has passed."""
        now = time.monotonic()
        due = self.restart_at[index]
        if due is not None:
            if now >= due and self.stop_requested_at is None:
                self.restart_at[index] = None
                self.children[index] = self._start(index)
            return
        code = self.children[index].poll()
        if code is None:
            return
        if now - self.started_at[index] > self.HEALTHY_AFTER:
            self.backoff[index] = self.FIRST_BACKOFF  # it had been running well
        wait = self.backoff[index]
        self.backoff[index] = min(wait * 2, self.MAX_BACKOFF)
        self.restart_at[index] = now + wait
        name = " ".join(self.commands[index][2:4])
        sys.stderr.write(
            f"lockstep: a component stopped ({name}, exit {code}); starting it again in "
            f"{wait:g} s\n"
        )
        sys.stderr.flush()

    def _wait_for_children(self) -> None:
        assert self.stop_requested_at is not None  # noqa: S101 - set before we get here
        nudged = False
        while any(child.poll() is None for child in self.children):
            waited = time.monotonic() - self.stop_requested_at
            if waited > self.KILL_AFTER_SECONDS:
                self._signal_children(signal.SIGKILL)
            elif waited > self.GRACE_SECONDS and not nudged:
                self._signal_children(signal.SIGTERM)
                nudged = True
            time.sleep(0.1)


def cmd_serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    if _is_loopback(args.host):
        # A browser on this machine reaches 127.0.0.1 over plain HTTP (for WebAuthn too:
        # browsers count http://localhost as a secure origin).
        os.environ.setdefault("LOCKSTEP_HTTPS", "0")
        os.environ.setdefault("LOCKSTEP_WEBAUTHN_INSECURE_ORIGIN", "1")
    _settle_base_url(args)  # before Django reads its settings; the children inherit it
    if args.demo:
        # The demo's accounts are for trying Lockstep out: no second factor is required of
        # them (one can still be added). A real instance keeps production's requirement.
        os.environ.setdefault("LOCKSTEP_REQUIRE_SECOND_FACTOR", "0")
    _prepare(demo=False)
    if not _list_key_ready(args):  # before the demo's posts: a new instance gets its key first
        return 1
    if args.demo:
        _manage("lockstep_demo")
    commands = [_gunicorn_argv(args)]
    if not args.no_worker:
        commands.append(_worker_argv())
    if not args.no_smtpd:
        commands.append(_smtpd_argv())
    listening = f"http://{_url_host(args.host)}:{args.port}"
    sys.stdout.write(f"Lockstep is starting on {listening}/ (Ctrl-C stops it)\n")
    base = os.environ["LOCKSTEP_BASE_URL"].rstrip("/")
    if base != listening:
        sys.stdout.write(f"Links it gives out start with {base}/ (LOCKSTEP_BASE_URL)\n")
    sys.stdout.flush()
    return _Supervisor(commands).run()


def cmd_createadmin(args: argparse.Namespace) -> int:
    argv = ["lockstep_createadmin", "--email", args.email]
    if args.password_stdin:
        argv.append("--password-stdin")
    _manage(*argv)
    return 0


def _command(*argv: str) -> int:
    """Run a management command; a refusal (CommandError) is one line on stderr and exit 1."""
    _setup_django()
    from django.core.management import CommandError, call_command  # noqa: PLC0415

    try:
        call_command(*argv)
    except CommandError as exc:
        sys.stderr.write(f"lockstep: {exc}\n")
        return 1
    return 0


def cmd_deactivate_user(args: argparse.Namespace) -> int:
    return _command("lockstep_deactivate_user", args.email)


def cmd_reactivate_user(args: argparse.Namespace) -> int:
    return _command("lockstep_reactivate_user", args.email)


def cmd_invite(args: argparse.Namespace) -> int:
    return _command("lockstep_invite", args.email, "--org", args.org, "--role", args.role)


def cmd_demo(args: argparse.Namespace) -> int:
    if not _list_key_ready(args):
        return 1
    _manage("lockstep_demo")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    _setup_django()
    from lockstep.audit.record import verify  # noqa: PLC0415

    if args.audit_command != "verify":  # pragma: no cover - argparse restricts the choices
        return 2
    report = verify()
    if report.ok:
        sys.stdout.write(f"audit log OK: {report.checked} events, chain intact\n")
        return 0
    sys.stdout.write(f"audit log BROKEN after checking {report.checked} events:\n")
    for problem in report.problems:
        sys.stdout.write(f"  - {problem}\n")
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    _setup_django()
    from lockstep.core import clock  # noqa: PLC0415 - after setup
    from lockstep.instance.archive import BackupError  # noqa: PLC0415
    from lockstep.instance.backup import make_backup  # noqa: PLC0415

    try:
        summary = make_backup(Path(args.file).absolute(), now=clock.now())
    except BackupError as exc:
        sys.stderr.write(f"lockstep backup: {exc}\n")
        return 1
    sys.stdout.write(summary.text())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    _setup_django()
    from lockstep.instance.archive import BackupError  # noqa: PLC0415 - after setup
    from lockstep.instance.backup import restore_backup  # noqa: PLC0415

    try:
        summary = restore_backup(Path(args.file), force=args.force)
    except BackupError as exc:
        sys.stderr.write(f"lockstep restore: {exc}\n")
        return 1
    sys.stdout.write(summary.text())
    return 0 if summary.audit.ok else 1


def cmd_archive(args: argparse.Namespace) -> int:
    if args.archive_command != "import-mbox":  # pragma: no cover - argparse restricts it
        return 2
    return _command("lockstep_import_mbox", args.list, args.file)


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(["lockstep manage", *args.rest])
    return 0


def _add_web_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=os.environ.get("LOCKSTEP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCKSTEP_PORT", "8000")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("LOCKSTEP_WEB_PROCESSES", "2"))
    )
    parser.add_argument(
        "--threads", type=int, default=int(os.environ.get("LOCKSTEP_WEB_THREADS", "4"))
    )


def _add_list_key_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--new-list-key",
        action="store_true",
        help="if the list key file is missing on an instance that used one, make a new key "
        "(members see a new signer; mail encrypted to the old key cannot be read)",
    )


def _add_account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deactivate = sub.add_parser(
        "deactivate-user",
        help="close an account: logged out everywhere, tokens revoked, waiting mail cancelled",
    )
    deactivate.add_argument("email", metavar="EMAIL")
    deactivate.set_defaults(func=cmd_deactivate_user)
    reactivate = sub.add_parser("reactivate-user", help="open a deactivated account again")
    reactivate.add_argument("email", metavar="EMAIL")
    reactivate.set_defaults(func=cmd_reactivate_user)
    invite = sub.add_parser(
        "invite", help="invite EMAIL to an organisation (mails the link, and prints it)"
    )
    invite.add_argument("email", metavar="EMAIL")
    invite.add_argument("--org", required=True, metavar="SLUG", help="the organisation's slug")
    invite.add_argument("--role", choices=["admin", "member"], default="member")
    invite.set_defaults(func=cmd_invite)


def _add_archive_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    archive = sub.add_parser("archive", help="public list archives")
    commands = archive.add_subparsers(dest="archive_command", required=True)
    mbox = commands.add_parser(
        "import-mbox",
        help="import a list's earlier archive (mboxrd, or .gz) into a public list's archive; "
        "a second run imports only what is new",
    )
    mbox.add_argument("list", metavar="LIST", help="the public list's slug")
    mbox.add_argument("file", metavar="FILE", help="the mbox file")
    archive.set_defaults(func=cmd_archive)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lockstep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="embedded mode: migrate, web server and worker together")
    _add_web_flags(serve)
    serve.add_argument("--demo", action="store_true", help="fill an empty instance with a demo")
    serve.add_argument("--no-worker", action="store_true", help="do not start a task worker")
    serve.add_argument("--no-smtpd", action="store_true", help="do not start the mail server")
    _add_list_key_flag(serve)
    serve.set_defaults(func=cmd_serve)
    web = sub.add_parser("web", help="the web server alone (gunicorn)")
    _add_web_flags(web)
    web.add_argument("--migrate", action="store_true", help="apply migrations first")
    _add_list_key_flag(web)
    web.set_defaults(func=cmd_web)
    worker = sub.add_parser("worker", help="a background task worker alone")
    _add_list_key_flag(worker)
    worker.set_defaults(func=cmd_worker)
    smtpd = sub.add_parser("smtpd", help="the mail server alone (SMTP, or LMTP with --lmtp)")
    smtpd.add_argument("--host", default="", help="default: LOCKSTEP_SMTPD_HOST or 127.0.0.1")
    smtpd.add_argument("--port", type=int, default=0, help="default: LOCKSTEP_SMTPD_PORT or 2525")
    smtpd.add_argument("--lmtp", action="store_true", help="speak LMTP (behind Postfix)")
    _add_list_key_flag(smtpd)
    smtpd.set_defaults(func=cmd_smtpd)
    admin = sub.add_parser("createadmin", help="create an operator account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(func=cmd_createadmin)
    _add_account_commands(sub)
    sub.add_parser("demo", help="fill an empty instance with a demo world").set_defaults(
        func=cmd_demo
    )
    audit = sub.add_parser("audit", help="audit log tools")
    audit.add_argument("audit_command", choices=["verify"])
    audit.set_defaults(func=cmd_audit)
    backup = sub.add_parser("backup", help="copy the database and keys into FILE (mode 0600)")
    backup.add_argument("file", metavar="FILE", help="the archive to write (.tar, or .tar.gz)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore an instance from a backup archive")
    restore.add_argument("file", metavar="FILE", help="an archive made by lockstep backup")
    restore.add_argument(
        "--force", action="store_true", help="replace an instance that already holds data"
    )
    restore.set_defaults(func=cmd_restore)
    _add_archive_commands(sub)
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # What Lockstep creates (database, keys, backups, mail copies) is its user's alone; the
    # processes `serve` starts, and gunicorn's workers, inherit the umask.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C while starting up: stop quietly, as after it
        return 128 + signal.SIGINT
    return result


if __name__ == "__main__":
    sys.exit(main())
