"""A task that keeps a worker's main loop busy, for the tests of the publication lane (the
worker processes import it through PYTHONPATH, like the test factories)."""

from __future__ import annotations

import time

from django_tasks import task


@task()
def hold(seconds: float) -> float:
    time.sleep(seconds)
    return seconds
