"""Work after the commit: the one way a change starts something outside its transaction.

An action that must start a task once its writes are visible calls
`on_commit_enqueue("lockstep.<app>.tasks.<name>", *ids)`. The task is named by its dotted path
and looked up only when the transaction commits, so an action module never imports its app's
tasks module (which imports the actions): imports stay one-way, and the import graph has no
cycle (import-linter's `acyclic_siblings` contract in pyproject.toml). A transaction that
rolls back starts nothing. Arguments are ids: a task takes JSON, and loads its rows itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks.base import Task

TaskArgument = int | str


def after_commit(callback: Callable[..., object], *args: object) -> None:
    """Call `callback(*args)` once the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(partial(callback, *args))


def task_at(path: str) -> Task[Any, Any]:
    """The task defined at `path` ("lockstep.cve.tasks.publish_cve_records")."""
    found = import_string(path)
    if not isinstance(found, Task):
        msg = f"{path} is not a task"
        raise TypeError(msg)
    return found


def enqueue_now(path: str, *args: TaskArgument, run_after: datetime | None = None) -> None:
    chosen = task_at(path)
    if run_after is not None:
        chosen = chosen.using(run_after=run_after)
    chosen.enqueue(*args)


def on_commit_enqueue(path: str, *args: TaskArgument, run_after: datetime | None = None) -> None:
    """Queue the task at `path` with `args` once the surrounding transaction commits;
    `run_after` defers it to that moment."""
    transaction.on_commit(partial(enqueue_now, path, *args, run_after=run_after))
