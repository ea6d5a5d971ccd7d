"""deploy/systemd/: what each unit promises, and `systemd-analyze verify` where it exists."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockstep.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
VENV_LOCKSTEP = "/opt/lockstep/venv/bin/lockstep"
DATA_DIR = "/var/lib/lockstep"
COMMANDS = {
    "lockstep-web.service": ["web"],
    "lockstep-worker.service": ["worker"],
    "lockstep-smtpd.service": ["smtpd", "--lmtp"],
}
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ReadWritePaths": DATA_DIR,
    "UMask": "0077",
    "StateDirectory": "lockstep",
    "StateDirectoryMode": "0700",
    "CapabilityBoundingSet": "",
}


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections of key -> values (a key may repeat, as ExecStartPre may)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, value = line.split("=", 1)
        current.setdefault(key, []).append(value)
    return sections


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unit_runs_its_command_supervised_and_confined(name: str) -> None:
    unit = parse_unit(UNITS / name)
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"][0])
    assert argv[0] == VENV_LOCKSTEP
    assert argv[1:] == COMMANDS[name]
    build_parser().parse_args(argv[1:])  # flags the command really has
    assert service["Restart"] == ["always"]
    assert service["User"] == ["lockstep"]
    assert service["Group"] == ["lockstep"]
    assert service["EnvironmentFile"] == ["/etc/lockstep/lockstep.env"]
    for key, value in HARDENING.items():
        assert service[key] == [value], key
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_the_web_unit_migrates_before_the_others_start() -> None:
    web = parse_unit(UNITS / "lockstep-web.service")["Service"]
    assert web["ExecStartPre"] == [f"{VENV_LOCKSTEP} manage migrate --noinput"]
    for name in ("lockstep-worker.service", "lockstep-smtpd.service"):
        after = parse_unit(UNITS / name)["Unit"]["After"][0].split()
        assert "lockstep-web.service" in after, name


def test_the_environment_file_sets_the_data_folder_the_units_may_write() -> None:
    lines = (UNITS / "lockstep.env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert settings["LOCKSTEP_DATA_DIR"] == DATA_DIR
    assert settings["LOCKSTEP_HOST"] == "127.0.0.1"


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    lockstep = str(Path(sys.executable).with_name("lockstep"))
    # verify checks that ExecStart's program exists: point it at this checkout's lockstep.
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace(VENV_LOCKSTEP, lockstep)
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *sorted(str(path) for path in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lockstep-" not in result.stderr, result.stderr  # no warning about our units
