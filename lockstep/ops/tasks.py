"""Operational tasks."""

from __future__ import annotations

from django_tasks import task


@task()
def ping(value: str) -> str:
    """Echo: lets an operator (and the tests) prove that a worker runs queued tasks."""
    return value
