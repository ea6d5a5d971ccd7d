"""`lockstep invite`, `lockstep deactivate-user` and `lockstep reactivate-user` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.test_cli import _run

pytestmark = pytest.mark.slow


def test_invite_then_deactivate_and_reactivate(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(data, "manage", "migrate", "--noinput", "-v", "0").returncode == 0
    made = _run(
        data,
        "manage",
        "shell",
        "-c",
        "from lockstep.core.actor import Actor;"
        "from lockstep.orgs.actions import do_create_organization;"
        "from lockstep.orgs.models import OrgKind;"
        "do_create_organization(name='Northwind', slug='northwind', kind=OrgKind.VENDOR,"
        " actor=Actor.system('test'))",
    )
    assert made.returncode == 0, made.stderr

    invited = _run(data, "invite", "--org", "northwind", "--role", "admin", "cy@example.org")
    assert invited.returncode == 0, invited.stderr
    assert "/invitations/" in invited.stdout.splitlines()[-1]
    refused = _run(data, "invite", "--org", "nowhere", "cy@example.org")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "lockstep: No such organisation."

    admin = _run(
        data,
        "createadmin",
        "--email",
        "root@example.org",
        "--password-stdin",
        stdin="a long pass phrase\n",
    )
    assert admin.returncode == 0, admin.stderr
    off = _run(data, "deactivate-user", "root@example.org")
    assert off.returncode == 0, off.stderr
    assert "Deactivated root@example.org" in off.stdout
    twice = _run(data, "deactivate-user", "root@example.org")
    assert (twice.returncode, twice.stderr.strip()) == (
        1,
        "lockstep: root@example.org is already deactivated.",
    )
    on = _run(data, "reactivate-user", "root@example.org")
    assert on.returncode == 0, on.stderr
    assert "Reactivated root@example.org" in on.stdout
    assert _run(data, "audit", "verify").returncode == 0
