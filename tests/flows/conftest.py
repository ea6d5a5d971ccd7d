"""Fixtures shared by the mail flow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lockstep.mailin.smtpd import make_controller
from tests.flows.private_postgres import PrivateCluster
from tests.flows.test_serve import free_port


@pytest.fixture
def smtpd_port() -> Iterator[int]:
    """`lockstep smtpd`'s server in this process, on a free loopback port."""
    port = free_port()
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster of the test's own, to stop and start under running
    processes (`private_postgres.skip_reason()` says when a machine cannot)."""
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
