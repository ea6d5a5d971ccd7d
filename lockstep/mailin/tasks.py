"""The inbound task: run the pipeline on a stored message (or on every one still waiting)."""

from __future__ import annotations

from django_tasks import task

from lockstep.mailgw.models import InboundMessage, InboundStatus
from lockstep.mailin.pipeline import process


@task()
def process_inbound(message_id: int) -> str:
    message = InboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "gone"
    return str(process(message))


@task()
def process_waiting() -> int:
    """Every message still "received" (say, the server stopped before its task ran)."""
    count = 0
    for message in InboundMessage.objects.filter(status=InboundStatus.RECEIVED).order_by("id"):
        process(message)
        count += 1
    return count
