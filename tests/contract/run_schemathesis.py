"""The API contract, tested by schemathesis against a real `lockstep serve --demo`.

    .venv/bin/python tests/contract/run_schemathesis.py [--seed N] [--max-examples N]
        [--database-url postgres://…/an_empty_database] [--keep DIR] [-- schemathesis args]

1. Starts `lockstep serve --demo` (the web server alone: no worker, no mail server) on a free
   port with a fresh data folder (SQLite, or the empty PostgreSQL database given).
2. Logs in as the demo's upstream maintainer and creates an API token through the API
   (session + CSRF header), then, with the token, makes what the demo lacks: an open,
   embargoed case with a vulnerability, a report waiting for triage, two tracking tokens.
3. Runs `schemathesis run` on /api/v1/openapi.json with the token and two checks:
   `not_a_server_error` (no operation answers 5xx, whatever it is sent) and
   `status_code_conformance` (every status it answers is in the document). Half the ids,
   tokens and slugs it sends are those of step 2 (schemathesis dictionaries), so requests
   reach the actions and not only the 404 of an unknown id. Examples per operation are
   bounded (25 by default), and the phases are those of single requests (examples, coverage,
   fuzzing): about a minute. Revoking a token runs last, alone, so the run keeps its token.
4. Fails too if the server logged a traceback.

Exit status 0 when all held. tests/contract/test_schemathesis.py runs this in the suite, with a
fixed seed, on the suite's database kind; `.ci/run` needs nothing more.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
MAINTAINER = "quinn@libquokka.example"  # the demo's upstream lead: cases, triage, tokens
PASSWORD = "quokka-demo-password"
CHECKS = "not_a_server_error,status_code_conformance"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_healthy(base: str, process: subprocess.Popen[bytes], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"lockstep serve exited with {process.returncode} before it answered"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.25)
    msg = f"lockstep serve did not answer /healthz within {seconds:.0f} s"
    raise RuntimeError(msg)


@contextmanager
def served(data_dir: Path, log: Path, *, database_url: str = "") -> Iterator[str]:
    """`lockstep serve --demo` (no worker, no mail server) on a free port; yields its URL.
    SQLite in `data_dir`, or the (empty) PostgreSQL database at `database_url`."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCKSTEP_", "DJANGO_SETTINGS_MODULE"))
    }
    env["LOCKSTEP_DATA_DIR"] = str(data_dir)
    if database_url:
        env["LOCKSTEP_DATABASE_URL"] = database_url
    # Let generated reports reach the real submission path; the limit's 429 is documented.
    env["LOCKSTEP_REPORT_RATE"] = "1000"
    argv = [str(BIN / "lockstep"), "serve", "--demo", "--no-worker", "--no-smtpd"]
    argv += ["--port", str(port), "--workers", "1", "--threads", "4"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, process, seconds=180)
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def api_token(base: str, *, email: str = MAINTAINER) -> str:
    """Log in through the login page, then create a token with the session (CSRF header)."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    browser.open(f"{base}/login/", timeout=10).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = {"login": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    login = urllib.request.Request(
        f"{base}/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Referer": f"{base}/login/"},
    )
    browser.open(login, timeout=10).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    create = urllib.request.Request(
        f"{base}/api/v1/tokens",
        # Every scope: the run calls the publishing operations too (a token gets read alone
        # unless it asks for more).
        data=json.dumps({"name": "schemathesis", "scopes": ["read", "write", "publish"]}).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
        method="POST",
    )
    with browser.open(create, timeout=10) as answer:
        token: str = json.load(answer)["token"]
    return token


def _call(base: str, token: str, method: str, path: str, body: object = None) -> Any:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        msg = f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}"
        raise RuntimeError(msg) from None


def seed_world(base: str, token: str) -> dict[str, list[int | str]]:
    """Beside the demo's public case: an open, embargoed case with a vulnerability, a report
    waiting for triage, and the reporters' tracking tokens. Generated requests name these
    (schemathesis dictionaries) as often as random ids, so they reach the actions."""
    report = {"project": "libquokka", "title": "Use after free in quokka_close()"}
    report["description"] = "Closing a stream twice frees the window twice."
    waiting = _call(base, token, "POST", "/reports", report)
    triaged = _call(base, token, "POST", "/reports", {**report, "title": "Overflow in inflate"})
    accept = {"channel": "distros"}
    case_id = _call(base, token, "POST", f"/reports/{triaged['id']}/accept", accept)["case_id"]
    vulnerability = {"title": "Overflow in inflate", "cvss3": ""}
    vuln = _call(base, token, "POST", f"/cases/{case_id}/vulnerabilities", vulnerability)
    advisories = _call(base, token, "GET", "/advisories")
    cases = [row["id"] for row in _call(base, token, "GET", "/cases")]
    return {
        "case_id": cases,
        "report_id": [waiting["id"], triaged["id"]],
        "vuln_id": [vuln["id"]],
        "token": [waiting["token"], triaged["token"]],
        "public_id": [row["id"] for row in advisories],
        "project": ["libquokka"],
    }


def config_file(folder: Path, known: dict[str, list[int | str]]) -> Path:
    """schemathesis.toml: each known value list as a dictionary, used for half the requests."""
    lines = []
    for name, values in known.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for name in known:
        where = "body" if name == "project" else "path"
        lines.append(f'"{where}.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# Revoking a token is the one operation that can take the run's own token away (its id is
# small, and so are generated ids): it runs last, alone, after everything else was tested.
REVOKE = "/api/v1/tokens/{token_id}"


def schemathesis_argv(
    base: str,
    token: str,
    *,
    config: Path,
    max_examples: int,
    seed: int | None,
    extra: Sequence[str],
) -> list[str]:
    argv = [str(BIN / "schemathesis"), "--config-file", str(config), "run"]
    argv += [f"{base}/api/v1/openapi.json", "--checks", CHECKS]
    argv += ["--header", f"Authorization: Bearer {token}"]
    # Stateful sequences would take many minutes; single requests cover every status.
    argv += ["--phases", "examples,coverage,fuzzing", "--max-examples", str(max_examples)]
    argv += ["--workers", "1", "--request-timeout", "30", "--no-shrink"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return [*argv, *extra]


def run(
    *,
    max_examples: int,
    seed: int | None,
    extra: Sequence[str] = (),
    keep: Path | None = None,
    database_url: str = "",
) -> int:
    with tempfile.TemporaryDirectory(prefix="lockstep-contract-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "serve.log"
        with served(folder / "data", log, database_url=database_url) as base:
            token = api_token(base)
            config = config_file(folder, seed_world(base, token))
            argv = schemathesis_argv(
                base, token, config=config, max_examples=max_examples, seed=seed, extra=extra
            )
            # Under the suite's coverage (subprocesses measured), the server is measured; the
            # client need not be, and runs twice as fast unmeasured.
            env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}
            codes = [
                # In the temporary folder: schemathesis keeps a cache of failures where it runs.
                subprocess.run([*argv, *selection], cwd=folder, env=env, check=False).returncode
                for selection in (["--exclude-path", REVOKE], ["--include-path", REVOKE])
            ]
        if "Traceback" in log.read_text(errors="replace"):
            sys.stderr.write(f"the server logged a traceback: see {log}\n")
            codes.append(1)
        return max(codes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the data folder and log")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    parser.add_argument("extra", nargs="*", help="more schemathesis arguments (after --)")
    args = parser.parse_args(argv)
    return run(
        max_examples=args.max_examples,
        seed=args.seed,
        extra=args.extra,
        keep=args.keep,
        database_url=args.database_url,
    )


if __name__ == "__main__":
    sys.exit(main())
