"""Tasks at the embargo's moments: reminders before the date, publication at it, the
reporter's deadline after it. Each is idempotent: the actions check the rows before acting,
so a duplicate or late task does nothing, and a task for a date that has since moved too."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from lockstep.advisories.actions.publication import do_publish_due
from lockstep.advisories.actions.reporter_post import do_post_for_silent_reporter
from lockstep.advisories.models import Advisory
from lockstep.cases.actions.reminders import do_send_reminder
from lockstep.cases.models import Case, Reminder
from lockstep.core import clock
from lockstep.core.actor import Actor
from lockstep.cve.tasks import publish_cve_records
from lockstep.embargo import reminders
from lockstep.embargo.routing import Route
from lockstep.ops.queues import PUBLICATION_QUEUE

CLOCK = Actor.system("embargo-clock")


def plan_case(case_id: int) -> None:
    """Queue the case's future moments (the `moments` listener; runs after the commit)."""
    case = Case.objects.filter(pk=case_id).only("disclosure_at", "published_at", "route").first()
    if case is None or case.published_at is not None or case.disclosure_at is None:
        return
    if not case.is_embargoed:
        return
    now = clock.now()
    for due in reminders.schedule(case.disclosure_at)[:-1]:
        send_due_reminder.using(run_after=max(due.at, now)).enqueue(case_id)
    publish_at_date.using(run_after=case.disclosure_at).enqueue(case_id)


def _remind(case: Case) -> str | None:
    assert case.disclosure_at is not None  # noqa: S101 - callers filter
    sent = frozenset(
        Reminder.objects.filter(case=case, disclosure_at=case.disclosure_at).values_list(
            "kind", flat=True
        )
    )
    due = reminders.due_before_date(case.disclosure_at, now=clock.now(), sent=sent)
    if due is None:
        return None
    sent_now = do_send_reminder(case.pk, due.kind, actor=CLOCK)
    return due.kind.value if sent_now else None


@task()
def send_due_reminder(case_id: int) -> str | None:
    case = Case.objects.filter(pk=case_id, published_at__isnull=True).first()
    if case is None or case.disclosure_at is None:
        return None
    return _remind(case)


@task(queue_name=PUBLICATION_QUEUE)
def publish_at_date(case_id: int) -> str | None:
    advisory = do_publish_due(case_id, actor=CLOCK)
    return advisory.public_id if advisory else None


@task(queue_name=PUBLICATION_QUEUE)
def after_publication(advisory_id: int) -> None:
    """Work that follows a publication: CVE records go out; the reporter's deadline is set."""
    publish_cve_records.enqueue()
    advisory = Advisory.objects.filter(pk=advisory_id).first()
    if advisory is not None and advisory.reporter_post_due_at is not None:
        post_for_silent_reporter.using(run_after=advisory.reporter_post_due_at).enqueue(advisory_id)


@task(queue_name=PUBLICATION_QUEUE)
def post_for_silent_reporter(advisory_id: int) -> bool:
    return do_post_for_silent_reporter(advisory_id, actor=CLOCK) is not None


def _sweep_again(now: datetime) -> None:
    """Keep one sweep queued: a worker killed in the middle of a publication leaves its task
    claimed for ever (the queue never hands it out again), so the next sweep publishes."""
    waiting = DBTaskResult.objects.filter(
        task_path=catch_up.module_path, status=TaskResultStatus.READY
    )
    if not waiting.exists():
        every = timedelta(seconds=settings.LOCKSTEP_SWEEP_SECONDS)
        catch_up.using(run_after=now + every).enqueue()


@task(queue_name=PUBLICATION_QUEUE)
def catch_up() -> dict[str, int]:
    """At worker start, then every LOCKSTEP_SWEEP_SECONDS: whatever fell due and was not
    done (no worker ran, or one died mid-task) happens now."""
    now = clock.now()
    _sweep_again(now)
    open_cases = Case.objects.filter(
        route=Route.PRIVATE_COORDINATION, published_at__isnull=True, disclosure_at__isnull=False
    )
    published = sum(
        do_publish_due(pk, actor=CLOCK) is not None
        for pk in open_cases.filter(disclosure_at__lte=now).values_list("pk", flat=True)
    )
    reminded = sum(_remind(case) is not None for case in open_cases.filter(disclosure_at__gt=now))
    waiting = Advisory.objects.filter(
        reporter_post_due_at__lte=now, public_post__isnull=True, reporter_posted_url=""
    )
    posted = sum(
        do_post_for_silent_reporter(pk, actor=CLOCK) is not None
        for pk in waiting.values_list("pk", flat=True)
    )
    return {"published": published, "reminded": reminded, "posted": posted}
