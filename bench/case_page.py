"""Case-page benchmark: 1,000 participant organisations, 2,000 posts, 20 vulnerabilities.

    .venv/bin/python bench/case_page.py [--requests 60] [--database-url postgres://...]

Builds the world in a fresh database (SQLite in a temporary folder unless a URL is given),
then times the case page (web) and the case API in-process with Django's test client, which
measures server time (no network). Prints a table of p50/p95 and the peer's figure, then the
goal (p95 under 150 ms on every endpoint) and "met" or "not met".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_SECONDS = 10.0  # a peer CVD platform: ~10 s per case page with 121 vendors (PROCESS.md §7)
GOAL_MS = 150.0


def _scratch_database(server_url: str) -> tuple[str, str]:
    """A new, empty database on the given PostgreSQL server: (its URL, its name)."""
    import secrets
    from urllib.parse import urlparse, urlunparse

    import psycopg

    name = f"lockstep_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}")), name


def _drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _setup(database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["LOCKSTEP_DATA_DIR"] = tempfile.mkdtemp(prefix="lockstep-bench-")
    if database_url:
        os.environ["LOCKSTEP_DATABASE_URL"] = database_url
    import django

    django.setup()


def _build(vendors: int, posts: int, vulns: int) -> tuple[int, object]:
    from lockstep.cases.actions.participants import do_set_status
    from lockstep.cases.actions.posts import add_post
    from lockstep.cases.actions.vulns import VulnerabilityInput, do_add_vulnerability
    from lockstep.cases.models import Participant, Status
    from lockstep.cases.queries import access_case_by_id
    from lockstep.channels.actions import do_add_channel_member
    from lockstep.orgs.actions import do_create_organization
    from lockstep.orgs.models import OrgKind
    from lockstep.projects.actions import do_add_redistributor
    from tests.conftest import actor_for
    from tests.factories.cases import SYSTEM, build_case_world

    world = build_case_world()
    for index in range(vendors - 1):
        org = do_create_organization(name=f"Vendor {index:04d}", kind=OrgKind.VENDOR, actor=SYSTEM)
        do_add_channel_member(world.channel, org, actor=SYSTEM)
        do_add_redistributor(world.project, org, actor=SYSTEM)
    lead_actor = actor_for(world.maintainer)
    lead = access_case_by_id(lead_actor, world.case.pk)
    from lockstep.cases.actions.participants import do_invite_channel

    do_invite_channel(lead, actor=lead_actor)
    created = [
        do_add_vulnerability(lead, VulnerabilityInput(title=f"Issue {n}"), actor=lead_actor)
        for n in range(vulns)
    ]
    for n in range(posts):
        add_post(
            world.case,
            body=f"Post {n}: *tested* the patch on `x86_64`.",
            author_id=None,
            author_org=None,
            actor=lead_actor,
        )
    vendor_actor = actor_for(world.vendor_user)
    vendor = access_case_by_id(vendor_actor, world.case.pk)
    for vuln in created:
        do_set_status(
            vendor,
            vendor.seats[0],
            vuln,
            status=Status.FIX_READY,
            actor=vendor_actor,
        )
    assert Participant.objects.filter(case=world.case).count() >= vendors
    return world.case.pk, world.vendor_user


def _time(client: object, url: str, requests: int) -> list[float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--vulns", type=int, default=20)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server; a scratch database is made"
    )
    args = parser.parse_args()
    scratch = _scratch_database(args.database_url) if args.database_url else None
    try:
        return _run(args, scratch[0] if scratch else None)
    finally:
        if scratch:
            from django.db import connections

            connections.close_all()
            _drop_database(args.database_url, scratch[1])


def _run(args: argparse.Namespace, database_url: str | None) -> int:
    _setup(database_url)
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    from django.db import transaction

    with transaction.atomic():
        case_id, user = _build(args.vendors, args.posts, args.vulns)
    built = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    rows = []
    for label, url in (
        ("case page (web)", f"/cases/{case_id}/"),
        ("case (API)", f"/api/v1/cases/{case_id}"),
        ("participants (API)", f"/api/v1/cases/{case_id}/participants?limit=100"),
        ("posts (API)", f"/api/v1/cases/{case_id}/posts?limit=100"),
    ):
        _time(client, url, 3)  # warm up
        samples = _time(client, url, args.requests)
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[18]
        rows.append((label, p50, p95))
    print(
        f"world: {args.vendors} organisations, {args.posts} posts, {args.vulns} vulnerabilities "
        f"(built in {built:.1f} s); {args.requests} requests each"
    )
    print(f"{'endpoint':<20} {'p50 ms':>8} {'p95 ms':>8} {'goal p95':>9} {'vs peer 10 s':>13}")
    for label, p50, p95 in rows:
        ratio = PEER_SECONDS * 1000 / p95
        print(f"{label:<20} {p50:>8.1f} {p95:>8.1f} {GOAL_MS:>9.0f} {ratio:>12.0f}x")
    met = all(p95 < GOAL_MS for _, _, p95 in rows)
    print(f"goal: p95 under {GOAL_MS:.0f} ms on every endpoint: {'met' if met else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
