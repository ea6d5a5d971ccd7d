"""A person leaves an organisation, and with it the organisation's cases.

Who sees a case is decided on every request from the memberships of the caller
(`cases.queries.access_case_by_id`), in the browser and through the API alike, so the
organisation's cases are gone from the person's next request on. What would still reach
them is mail: the copies of those cases still waiting for them (queued, or held) are
cancelled here, in the same transaction, and show on /outbox/ as cancelled. Cases they still
see through another of their organisations keep their mail.

The removal itself (the last-admin rule, and ending the sessions and tokens of someone who
has no organisation left) is `lockstep.orgs.actions.remove_member`, composed here: this
module sits above the organisations (it knows the cases), which cannot know it.
"""

from __future__ import annotations

from django.db import transaction

from lockstep.cases.mail_queries import cases_left_by
from lockstep.core.actor import Actor
from lockstep.mailgw.outbound.holds import cancel_copies_to
from lockstep.orgs.actions import Removal, remove_member
from lockstep.orgs.models import Membership


@transaction.atomic
def do_remove_member(membership: Membership, *, actor: Actor) -> Removal:
    """Remove a member (administrators and operators); see the module's docstring."""
    removal = remove_member(membership, actor=actor)
    left = cases_left_by(removal.user_id, removal.org_id)
    if left:
        cancel_copies_to(
            removal.email,
            case_ids=left,
            reason=f"{removal.email} was removed from {membership.org.name} by {actor.label}",
            actor=actor,
        )
    return removal
