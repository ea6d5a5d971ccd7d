"""Reads of cases. Every read that can expose embargoed data goes through a gatekeeper here."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from lockstep.audit.models import AuditEvent
from lockstep.cases.models import (
    Attachment,
    Case,
    DateAgreement,
    EarlyRelease,
    EmbargoBreach,
    ExtensionRequest,
    Participant,
    ParticipantRole,
    Post,
    Reminder,
    Status,
    VendorStatus,
    Vulnerability,
)
from lockstep.cases.policy import can_allow_short_embargo, can_lead_case, can_view_case
from lockstep.core.actor import Actor
from lockstep.core.errors import NotFound
from lockstep.core.paging import ID_MAX
from lockstep.orgs.models import Organization
from lockstep.orgs.queries import org_ids_of

NOT_FOUND = "No such case."


@dataclass(frozen=True)
class CaseAccess:
    """A case as one actor may see it, with the actor's seats (participations) in it."""

    case: Case
    seats: tuple[Participant, ...]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(seat.role for seat in self.seats)

    @property
    def can_lead(self) -> bool:
        return can_lead_case(self.roles)

    @property
    def can_allow_short(self) -> bool:
        """May set a date inside the list's minimum notice (cases.policy)."""
        channel = self.case.channel
        operator = channel.operated_by_id if channel is not None else None
        operates = operator is not None and any(seat.org_id == operator for seat in self.seats)
        return can_allow_short_embargo(self.roles, operates_list=operates)


def _seats(actor: Actor, case_id: int) -> tuple[Participant, ...]:
    orgs = org_ids_of(actor)
    if not orgs:
        return ()
    return tuple(Participant.objects.filter(case_id=case_id, org_id__in=orgs).select_related("org"))


def access_case_by_id(actor: Actor, case_id: int) -> CaseAccess:
    """The case, for members of its participating organisations; NotFound for everyone else.

    Operators (staff) get no special view: embargoed details are need-to-know.
    """
    case = Case.objects.select_related("project", "channel").filter(pk=case_id).first()
    if case is None:
        raise NotFound(NOT_FOUND)
    seats = _seats(actor, case.pk)
    if not can_view_case([seat.role for seat in seats]):
        raise NotFound(NOT_FOUND)
    return CaseAccess(case=case, seats=seats)


def list_cases_for(actor: Actor) -> QuerySet[Case]:
    orgs = org_ids_of(actor)
    return (
        Case.objects.filter(participants__org_id__in=orgs)
        .select_related("project")
        .distinct()
        .order_by("-created_at")
    )


@dataclass
class StatusCell:
    status: str | None  # None: no response yet (distinct from "not affected")
    label: str
    statement: str = ""


@dataclass
class ParticipantRow:
    participant: Participant
    cells: list[StatusCell] = field(default_factory=list)

    @property
    def responded(self) -> bool:
        return all(cell.status is not None for cell in self.cells)


NO_RESPONSE = "No response yet"


def status_matrix(
    case: Case,
    vulnerabilities: list[Vulnerability],
    *,
    offset: int = 0,
    limit: int | None = None,
    waiting_only: bool = False,
) -> list[ParticipantRow]:
    """One row per participant (a page of them), one cell per vulnerability: two queries."""
    seats = (
        Participant.objects.filter(case=case).select_related("org").order_by("role", "org__name")
    )
    if waiting_only:
        seats = _waiting(seats, len(vulnerabilities))
    page = list(seats[offset : None if limit is None else offset + limit])
    known = {
        (s.participant_id, s.vulnerability_id): s
        for s in VendorStatus.objects.filter(participant__in=[p.pk for p in page]).only(
            "participant_id", "vulnerability_id", "status", "statement"
        )
    }
    labels = dict(Status.choices)
    rows = []
    for participant in page:
        row = ParticipantRow(participant)
        for vulnerability in vulnerabilities:
            found = known.get((participant.pk, vulnerability.pk))
            if found is None:
                row.cells.append(StatusCell(None, NO_RESPONSE))
            else:
                row.cells.append(StatusCell(found.status, labels[found.status], found.statement))
        rows.append(row)
    return rows


@dataclass(frozen=True)
class OwnStatus:
    """What one of the viewer's organisations said about one vulnerability ("" if nothing)."""

    seat: Participant
    vulnerability: Vulnerability
    status: str
    statement: str


def own_statuses(access: CaseAccess, vulnerabilities: list[Vulnerability]) -> list[OwnStatus]:
    """The viewer's saved statuses, one per seat and vulnerability, for the status forms to
    show what is saved (not a default): one query."""
    saved = {
        (row.participant_id, row.vulnerability_id): row
        for row in VendorStatus.objects.filter(participant__in=[s.pk for s in access.seats])
    }
    rows = []
    for seat in access.seats:
        for vulnerability in vulnerabilities:
            found = saved.get((seat.pk, vulnerability.pk))
            status, statement = (found.status, found.statement) if found else ("", "")
            rows.append(OwnStatus(seat, vulnerability, status, statement))
    return rows


def _waiting(seats: QuerySet[Participant], vulnerability_count: int) -> QuerySet[Participant]:
    """Vendors without an answer for every vulnerability. Those who answered all are found
    from the statuses alone (one grouped scan, no join), then left out."""
    answered_all = (
        VendorStatus.objects.filter(participant__in=seats.values("pk"))
        .values("participant_id")
        .annotate(answers=Count("pk"))
        .filter(answers__gte=max(vulnerability_count, 1))
        .values("participant_id")
    )
    return seats.filter(role=ParticipantRole.VENDOR).exclude(pk__in=answered_all)


def not_responded(case: Case, vulnerability_count: int) -> QuerySet[Participant]:
    """Vendors that have not answered for every vulnerability (the coordinator's dashboard)."""
    seats = Participant.objects.filter(case=case).select_related("org").order_by("org__name")
    return _waiting(seats, vulnerability_count)


@dataclass(frozen=True)
class StatusSummary:
    vulnerability: Vulnerability
    counts: dict[str, int]  # status -> organisations; "none" -> no response yet


def status_summary(case: Case, vulnerabilities: list[Vulnerability]) -> list[StatusSummary]:
    """Per vulnerability, how many organisations said what: two queries whatever the size."""
    total = Participant.objects.filter(case=case).count()
    counts: dict[int, dict[str, int]] = {v.pk: {} for v in vulnerabilities}
    rows = (
        VendorStatus.objects.filter(vulnerability__case=case)
        .values("vulnerability_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["vulnerability_id"]][row["status"]] = row["n"]
    result = []
    for vulnerability in vulnerabilities:
        per = {status: counts[vulnerability.pk].get(status, 0) for status in Status.values}
        per["none"] = total - sum(per.values())
        result.append(StatusSummary(vulnerability, per))
    return result


def participant_count(case: Case) -> int:
    return Participant.objects.filter(case=case).count()


def list_vulnerabilities(case: Case) -> list[Vulnerability]:
    return list(Vulnerability.objects.filter(case=case).order_by("id"))


def list_posts(case: Case) -> QuerySet[Post]:
    files = Attachment.objects.defer("content").order_by("id")
    return (
        Post.objects.filter(case=case)
        .prefetch_related(Prefetch("attachments", queryset=files))
        .order_by("created_at", "id")
    )


def list_reporter_posts(case: Case) -> QuerySet[Post]:
    """The posts the reporter reads on their tracking page: all but those marked
    participants only."""
    return list_posts(case).filter(participants_only=False)


def recent_posts(case: Case, *, page: int, per_page: int) -> dict[str, object]:
    """The newest posts first-page-first, shown oldest to newest within the page."""
    total = Post.objects.filter(case=case).count()
    start = max(total - page * per_page, 0)
    end = max(total - (page - 1) * per_page, 0)
    window = list(list_posts(case).select_related("author_org")[start:end])
    return {
        "posts": window,
        "post_total": total,
        "posts_page": page,
        "older_posts": start > 0,
    }


def timeline(case: Case, *, last: int = 100) -> list[AuditEvent]:
    """The case's newest audit events (oldest first), from the tamper-evident log."""
    newest = AuditEvent.objects.filter(object_type="case", object_id=str(case.pk)).order_by("-seq")
    return list(reversed(newest[:last]))


def access_attachment(access: CaseAccess, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(case=access.case, pk=attachment_id).first()
    if attachment is None:
        raise NotFound("No such attachment.")
    return attachment


def seat_of(access: CaseAccess, org_slug: str | None = None) -> Participant:
    """The actor's seat to act for (the named organisation, or their only one)."""
    seats = [s for s in access.seats if org_slug is None or s.org.slug == org_slug]
    if len(seats) != 1:
        raise NotFound("Choose which of your organisations you act for.")
    return seats[0]


def _as_id(raw: str | int) -> int:
    """An id from a form field; 0 (no row) for anything else, or past what a row can have."""
    text = str(raw)
    number = int(text) if text.isascii() and text.isdigit() else 0
    return number if number <= ID_MAX else 0


def access_vulnerability(access: CaseAccess, raw_id: str | int) -> Vulnerability:
    found = Vulnerability.objects.filter(case=access.case, pk=_as_id(raw_id)).first()
    if found is None:
        raise NotFound("No such vulnerability.")
    return found


def access_participant(access: CaseAccess, raw_id: str | int) -> Participant:
    found = (
        Participant.objects.filter(case=access.case, pk=_as_id(raw_id))
        .select_related("org")
        .first()
    )
    if found is None:
        raise NotFound("No such participant.")
    return found


def candidate_vendors(access: CaseAccess) -> QuerySet[Organization]:
    """Vendors a lead could add: the private list's members not yet in the case."""
    if access.case.channel_id is None:
        return Organization.objects.none()
    present = Participant.objects.filter(case=access.case).values("org_id")
    return (
        Organization.objects.filter(channel_seats__channel_id=access.case.channel_id)
        .exclude(pk__in=present)
        .order_by("name")
    )


def access_candidate_vendor(access: CaseAccess, slug: str) -> Organization:
    found = candidate_vendors(access).filter(slug=slug).first()
    if found is None:
        raise NotFound("No such organisation on this case's list.")
    return found


@dataclass
class WaitingCase:
    case: Case
    vulnerabilities: int
    waiting: list[Participant] = field(default_factory=list)


def waiting_dashboard_for(actor: Actor) -> list[WaitingCase]:
    """Open cases the actor leads, each with the vendors still to answer: three queries."""
    lead_roles = [ParticipantRole.UPSTREAM, ParticipantRole.COORDINATOR]
    cases = list(
        Case.objects.filter(
            participants__org_id__in=org_ids_of(actor),
            participants__role__in=lead_roles,
        )
        .select_related("project")
        .annotate(vuln_count=Count("vulnerabilities", distinct=True))
        .distinct()
        .order_by("disclosure_at", "-created_at")
    )
    by_case = {case.pk: WaitingCase(case, case.vuln_count) for case in cases}
    vendors = (
        Participant.objects.filter(case_id__in=by_case, role=ParticipantRole.VENDOR)
        .select_related("org")
        .annotate(answers=Count("statuses"))
        .order_by("org__name")
    )
    for seat in vendors:
        entry = by_case[seat.case_id]
        if seat.answers < max(entry.vulnerabilities, 1):
            entry.waiting.append(seat)
    return list(by_case.values())


def not_fix_ready_org_ids(case: Case) -> list[int]:
    """Participating organisations still to report "fix ready" (or "not affected", or
    "published") for some vulnerability of the case: the ones embargo reminders go to."""
    done = (Status.FIX_READY, Status.NOT_AFFECTED, Status.PUBLISHED)
    count = case.vulnerabilities.count()
    seats = (
        Participant.objects.filter(case=case)
        .annotate(done=Count("statuses", filter=Q(statuses__status__in=done)))
        .filter(done__lt=max(count, 1))
    )
    return sorted(seats.values_list("org_id", flat=True))


@dataclass(frozen=True)
class EmbargoView:
    agreements: list[DateAgreement]
    extension_requests: list[ExtensionRequest]
    breaches: list[EmbargoBreach]
    early_releases: list[EarlyRelease]
    reminders: list[Reminder]


def embargo_view(case: Case) -> EmbargoView:
    """What the case room's embargo section shows (the caller has access to the case)."""
    agreements = (
        DateAgreement.objects.filter(case=case, disclosure_at=case.disclosure_at).select_related(
            "org"
        )
        if case.disclosure_at
        else DateAgreement.objects.none()
    )
    return EmbargoView(
        agreements=list(agreements),
        extension_requests=list(
            ExtensionRequest.objects.filter(case=case).select_related("requested_by_org")[:20]
        ),
        breaches=list(
            EmbargoBreach.objects.filter(case=case).select_related("reported_by_org")[:20]
        ),
        early_releases=list(EarlyRelease.objects.filter(case=case)[:10]),
        reminders=list(Reminder.objects.filter(case=case)),
    )
