#!/usr/bin/env python3
"""Smoke run of a runtime-only install on other Pythons (3.12 and 3.13 unless told otherwise).

    python3 .ci/smoke.py              # 3.12 and 3.13
    python3 .ci/smoke.py 3.13         # one version

For each version, in a temporary folder outside the repository: a fresh virtual environment,
Lockstep installed as a package (not editable) with its runtime dependencies only, pinned by
requirements/constraints.txt; then `lockstep serve --demo` on a free port with a data folder
that does not exist yet, `/healthz` must answer 200, one report is submitted through
`POST /api/v1/reports` and read back through its tracking token, and Ctrl-C stops it all.

The interpreters come from pyenv (`$PYENV_ROOT/versions/<version>*`) or from `python<version>`
on PATH. A missing one is skipped with a message, and fails the run under CI=true.
Standard library only: it runs with whatever python3 the machine has.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
DEFAULT_VERSIONS = ("3.12", "3.13")
DEV_TOOLS = ("pytest", "mypy", "ruff", "playwright", "hypothesis", "django-stubs")
START_SECONDS = 180.0
DEMO_PROJECT = "libquokka"


class SmokeError(RuntimeError):
    """A step of the smoke run failed; the message says which."""


def say(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def find_python(version: str) -> Path | None:
    """pyenv's newest `<version>.*` interpreter, else `python<version>` on PATH."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(
        (pyenv_root / "versions").glob(f"{version}.*"),
        key=lambda path: [int(part) if part.isdigit() else -1 for part in path.name.split(".")],
    )
    for folder in reversed(candidates):
        python = folder / "bin" / f"python{version}"
        if python.exists():
            return python
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def folder_size(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file())


def source_copy(target: Path) -> Path:
    """The working tree without build leftovers: setuptools would reuse a stale build/ folder,
    and building in the repository would leave one behind."""
    leftovers = shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "var", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(ROOT, target, ignore=leftovers)
    return target


def install(python: Path, venv: Path, source: Path) -> None:
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    pip += ["--disable-pip-version-check", "-c", str(CONSTRAINTS), str(source)]
    installed = subprocess.run(pip, check=False, capture_output=True, text=True)
    if installed.returncode != 0:
        print(installed.stdout, installed.stderr, sep="\n")
        raise SmokeError(f"pip install failed ({installed.returncode})")
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    )
    names = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    unexpected = sorted(names.intersection(DEV_TOOLS))
    if unexpected:
        raise SmokeError(f"development tools in a runtime install: {', '.join(unexpected)}")


def request(url: str, body: dict[str, object] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    try:
        with urllib.request.urlopen(  # http://127.0.0.1 only
            urllib.request.Request(url, data=data, headers=headers), timeout=10
        ) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SmokeError(f"lockstep serve exited with {process.returncode} before answering")
        try:
            status, body = request(f"{base}/healthz")
        except OSError:
            status, body = 0, b""
        if status == 200 and json.loads(body)["worker"]["status"] == "ok":
            return  # the web server answers and the worker beats
        time.sleep(0.5)
    raise SmokeError(f"/healthz did not answer 200 with a live worker in {START_SECONDS:.0f}s")


def exercise(base: str) -> None:
    """The OpenAPI document names the route; a report goes in and is read back by its token."""
    status, body = request(f"{base}/api/v1/openapi.json")
    if status != 200 or "post" not in json.loads(body)["paths"].get("/api/v1/reports", {}):
        raise SmokeError(f"OpenAPI document: {status}, no POST /api/v1/reports")
    report: dict[str, object] = {
        "project": DEMO_PROJECT,
        "title": "Smoke: heap overflow in quokka_unpack()",
        "description": "A crafted archive overflows the output buffer.",
        "affected_versions": "< 2.4.1",
    }
    status, body = request(f"{base}/api/v1/reports", report)
    if status != 201:
        raise SmokeError(f"POST /api/v1/reports answered {status}: {body[:300]!r}")
    token = json.loads(body)["token"]
    status, body = request(f"{base}/api/v1/track/{token}")
    if status != 200 or json.loads(body)["title"] != report["title"]:
        raise SmokeError(f"GET /api/v1/track/<token> answered {status}: {body[:300]!r}")
    status, _body = request(f"{base}/report/")
    if status != 200:
        raise SmokeError(f"GET /report/ answered {status}")


def check_private(data: Path) -> None:
    """The data folder and the secrets in it are for the owner only."""
    for path in (data, data / "lockstep.sqlite3", data / "secret_key", data / "list-key.asc"):
        if path.name == "list-key.asc" and not path.exists():
            continue  # made on first use by older versions
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SmokeError(f"{path.name} has mode {mode:04o}: others can read it")


def serve(venv: Path, work: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = work / "data" / "lockstep"  # does not exist yet: serve creates it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKSTEP_", "DJANGO_"))}
    env.update(LOCKSTEP_DATA_DIR=str(data), LOCKSTEP_SMTPD_PORT=str(free_port()))
    log_path = work / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "lockstep"), "serve", "--demo", "--port", str(port)],
            cwd=work,  # not the repository: the installed package must be the one that runs
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a shell gives a job
        )
        try:
            started = time.monotonic()
            wait_healthy(base, process)
            say(f"  /healthz 200, worker alive, after {time.monotonic() - started:.1f}s")
            exercise(base)
            check_private(data)
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
            code = process.wait(timeout=60)
        except BaseException:
            say("  serve log (last lines):")
            print(*log_path.read_text(errors="replace").splitlines()[-40:], sep="\n")
            raise
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    output = log_path.read_text(errors="replace")
    if code != 0 or "Traceback" in output:
        print(output[-4000:])
        raise SmokeError(f"lockstep serve stopped with {code}" + " and a traceback" * (code == 0))


def smoke(version: str, python: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=f"lockstep-smoke-{version}-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        began = time.monotonic()
        install(python, venv, source_copy(work / "src"))
        size = folder_size(venv) / 1024 / 1024
        say(f"  installed in {time.monotonic() - began:.0f}s; runtime venv {size:.0f} MiB of files")
        served = time.monotonic()
        serve(venv, work)
        say(f"  served, reported and stopped in {time.monotonic() - served:.0f}s")


def main(argv: list[str]) -> int:
    versions = argv or list(DEFAULT_VERSIONS)
    required = os.environ.get("CI", "").lower() == "true"
    failed: list[str] = []
    skipped = 0
    for version in versions:
        python = find_python(version)
        if python is None:
            say(f"Python {version}: no interpreter (pyenv or python{version} on PATH)")
            if required:
                failed.append(f"{version} (missing; CI=true requires it)")
            else:
                skipped += 1
            continue
        began = time.monotonic()
        say(f"Python {version}: {python}")
        try:
            smoke(version, python)
        except (SmokeError, subprocess.SubprocessError, OSError, ValueError, KeyError) as exc:
            say(f"Python {version}: FAILED: {exc}")
            failed.append(version)
            continue
        say(f"Python {version}: ok in {time.monotonic() - began:.0f}s")
    passed = len(versions) - len(failed) - skipped
    print(f"smoke: {passed} passed, {len(failed)} failed, {skipped} skipped", flush=True)
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
