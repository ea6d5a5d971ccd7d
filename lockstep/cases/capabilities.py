"""What a person can use, for the navigation: a link is shown only to whom it serves.

One query, run only when a page draws its navigation (web/context.py makes it lazy). This
decides what is *shown*; every page still checks access itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from lockstep.accounts.models import User
from lockstep.cases.models import Participant
from lockstep.cases.policy import LEADING_ROLES
from lockstep.core.actor import Actor
from lockstep.projects.models import Project


@dataclass(frozen=True)
class Capabilities:
    operator: bool = False  # staff: accounts, every outbox copy
    in_cases: bool = False  # takes part in a case: the case list and its mail
    leads_cases: bool = False  # upstream or coordinator in a case: the waiting dashboard
    maintains: bool = False  # on an upstream team with a project: the triage inbox

    @property
    def mail(self) -> bool:
        """The mail page: case mail, held mail to decide on, or the whole outbox."""
        return self.operator or self.in_cases or self.maintains


def capabilities_of(actor: Actor) -> Capabilities:
    if actor.user_id is None:
        return Capabilities()
    seats = Participant.objects.filter(org__memberships__user_id=OuterRef("pk"))
    found = (
        User.objects.filter(pk=actor.user_id)
        .annotate(
            in_cases=Exists(seats),
            leads=Exists(seats.filter(role__in=LEADING_ROLES)),
            maintains=Exists(Project.objects.filter(upstream__memberships__user_id=OuterRef("pk"))),
        )
        .values("in_cases", "leads", "maintains")
        .first()
    )
    if found is None:
        return Capabilities(operator=actor.is_privileged)
    return Capabilities(
        operator=actor.is_privileged,
        in_cases=found["in_cases"],
        leads_cases=found["leads"],
        maintains=found["maintains"],
    )
