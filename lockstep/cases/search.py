"""Finding cases in the list of one's own: words (title, CVE ID, project) and filters (open or
published, under embargo, waiting for me). Scoped to the caller like `list_cases_for`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Exists, OuterRef, Q, QuerySet

from lockstep.cases.models import (
    Case,
    DateAgreement,
    EmbargoBreach,
    ExtensionRequest,
    Participant,
    ParticipantRole,
    RequestState,
    Vulnerability,
)
from lockstep.cases.policy import LEADING_ROLES
from lockstep.cases.queries import list_cases_for
from lockstep.core.actor import Actor
from lockstep.embargo.routing import Route
from lockstep.orgs.queries import org_ids_of

QUERY_MAX = 200


class CaseState(StrEnum):
    ANY = ""
    OPEN = "open"
    PUBLISHED = "published"


@dataclass(frozen=True)
class CaseFilters:
    text: str = ""
    state: CaseState = CaseState.ANY
    embargoed: bool = False  # under embargo now: private coordination, not yet public
    action_needed: bool = False  # something waits for one of my organisations

    @classmethod
    def parse(cls, params: dict[str, str]) -> CaseFilters:
        """From a query string: anything unknown is "no filter", as a person editing the
        address expects."""
        state = params.get("state", "")
        return cls(
            text=" ".join(params.get("q", "").split())[:QUERY_MAX],
            state=CaseState(state) if state in CaseState.__members__.values() else CaseState.ANY,
            embargoed=params.get("embargoed") == "1",
            action_needed=params.get("todo") == "1",
        )

    @property
    def active(self) -> bool:
        return bool(self.text or self.state or self.embargoed or self.action_needed)


def _words(text: str) -> Q:
    """Every word must match the title, a CVE ID of the case, or the project's name or slug.
    (`cve_ids` is the CVE app's reverse relation: a lookup, not an import of that layer.)"""
    match = Q()
    for word in text.split():
        match &= (
            Q(title__icontains=word)
            | Q(project__name__icontains=word)
            | Q(project__slug__icontains=word)
            | Q(cve_ids__cve_id__icontains=word)
        )
    return match


def _seat(orgs: list[int], roles: frozenset[str] | set[str]) -> Exists:
    return Exists(Participant.objects.filter(case=OuterRef("pk"), org_id__in=orgs, role__in=roles))


def _action_needed(orgs: list[int]) -> Q:
    """An open case where a vendor of mine has a vulnerability to answer for or a date to
    agree to, or where I lead and an extension request or a breach report waits."""
    unanswered = Exists(
        Vulnerability.objects.filter(case=OuterRef("pk")).exclude(
            statuses__participant__org_id__in=orgs
        )
    )
    agreed = Exists(
        DateAgreement.objects.filter(
            case=OuterRef("pk"), org_id__in=orgs, disclosure_at=OuterRef("disclosure_at")
        )
    )
    pending = Exists(
        ExtensionRequest.objects.filter(case=OuterRef("pk"), state=RequestState.PENDING)
    ) | Exists(EmbargoBreach.objects.filter(case=OuterRef("pk"), state=RequestState.PENDING))
    as_vendor = _seat(orgs, {ParticipantRole.VENDOR}) & (
        unanswered | (Q(disclosure_at__isnull=False) & ~agreed)
    )
    as_lead = _seat(orgs, set(LEADING_ROLES)) & pending
    return Q(published_at__isnull=True) & (as_vendor | as_lead)


def search_cases_for(actor: Actor, filters: CaseFilters) -> QuerySet[Case]:
    cases = list_cases_for(actor)
    if filters.text:
        found = Case.objects.filter(_words(filters.text)).values("pk")
        cases = cases.filter(pk__in=found)
    if filters.state == CaseState.OPEN:
        cases = cases.filter(published_at__isnull=True)
    elif filters.state == CaseState.PUBLISHED:
        cases = cases.filter(published_at__isnull=False)
    if filters.embargoed:
        embargoed = [route.value for route in Route if route.is_embargoed]
        cases = cases.filter(route__in=embargoed, published_at__isnull=True)
    if filters.action_needed:
        cases = cases.filter(_action_needed(org_ids_of(actor)))
    return cases
