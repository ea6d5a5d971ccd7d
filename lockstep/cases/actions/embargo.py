"""The embargo in a case: agreeing the date, extension requests, breach reports, early
releases and reminders. Each change is audited and announced to the participants."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from lockstep.audit.tags import CaseTag
from lockstep.cases.actions.common import record_case, require_lead
from lockstep.cases.actions.posts import announce
from lockstep.cases.emails import when_text
from lockstep.cases.models import (
    Case,
    DateAgreement,
    EarlyRelease,
    EmbargoBreach,
    ExtensionRequest,
    RequestState,
)
from lockstep.cases.queries import (
    CaseAccess,
    seat_of,
)
from lockstep.channels.queries import policy_of
from lockstep.core import clock, moments
from lockstep.core.actor import Actor
from lockstep.core.errors import Conflict, NotFound, ValidationError
from lockstep.embargo import early
from lockstep.embargo.policy import ExtensionOutcome, decide_extension

REASON_MAX = 5000


def _locked(access: CaseAccess) -> Case:
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("channel", "project")
        .get(pk=access.case.pk)
    )
    if case.published_at is not None:
        raise Conflict(
            f"This case is public since {when_text(case.published_at)}: the embargo is over."
        )
    return case


def date_changed(
    case: Case, *, before: datetime | None, why: str, actor: Actor, quiet: bool = False
) -> None:
    """Every move of the date: agreement starts over, participants are told, tasks re-planned."""
    case.disclosure_agreed_at = None
    case.save(update_fields=["disclosure_agreed_at"])
    if not quiet and case.disclosure_at is not None and case.disclosure_at != before:
        was = f" (was {when_text(before)})" if before else ""
        now_set = when_text(case.disclosure_at)
        text = f"The public disclosure date is now {now_set}{was}. {why}".rstrip()
        announce(case, text, actor=actor)
    moments.case_moments_changed(case.pk)


@transaction.atomic
def do_agree_date(
    access: CaseAccess, *, actor: Actor, org_slug: str | None = None
) -> DateAgreement:
    """One participating organisation agrees to the current date."""
    case = _locked(access)
    if case.disclosure_at is None:
        raise ValidationError("There is no disclosure date to agree to yet.", field="disclosure_at")
    seat = seat_of(access, org_slug)
    agreement, created = DateAgreement.objects.get_or_create(
        case=case,
        org=seat.org,
        disclosure_at=case.disclosure_at,
        defaults={"agreed_by_id": actor.user_id, "agreed_at": clock.now()},
    )
    if created:
        record_case(
            CaseTag.DATE_AGREED,
            case,
            actor=actor,
            data={"org": seat.org.slug, "disclosure_at": case.disclosure_at},
        )
    return agreement


@transaction.atomic
def do_confirm_date(access: CaseAccess, *, actor: Actor) -> Case:
    """The upstream or the coordinator declares the current date agreed."""
    require_lead(access)
    case = _locked(access)
    if case.disclosure_at is None:
        raise ValidationError("Set a disclosure date first.", field="disclosure_at")
    case.disclosure_agreed_at = clock.now()
    case.save(update_fields=["disclosure_agreed_at"])
    record_case(
        CaseTag.DATE_CONFIRMED, case, actor=actor, data={"disclosure_at": case.disclosure_at}
    )
    announce(
        case,
        f"The disclosure date {when_text(case.disclosure_at)} is agreed. Prepare fixed packages "
        "before it; publish on or after it, not before.",
        actor=actor,
    )
    return case


def _reason(text: str, field: str) -> str:
    reason = text.strip()
    if len(reason) > REASON_MAX:
        raise ValidationError(f"At most {REASON_MAX} characters.", field=field)
    return reason


@transaction.atomic
def do_request_extension(
    access: CaseAccess, *, requested: datetime, reason: str, actor: Actor
) -> ExtensionRequest:
    """Any participant asks for a later date; a reason is required (the policy says why)."""
    case = _locked(access)
    if case.disclosure_at is None:
        raise ValidationError("There is no disclosure date to extend.", field="requested")
    text = _reason(reason, "reason")
    if not text:
        raise ValidationError(
            "Say why more time is needed (for example: the fix is not ready).", field="reason"
        )
    requested = clock.require_aware(requested, name="requested")
    if requested <= case.disclosure_at:
        current = when_text(case.disclosure_at)
        msg = f"{when_text(requested)} is not later than the current date {current}."
        raise ValidationError(msg, field="requested")
    seat = seat_of(access)
    request = ExtensionRequest.objects.create(
        case=case,
        requested_by_id=actor.user_id,
        requested_by_org=seat.org,
        requested_at=clock.now(),
        current_date=case.disclosure_at,
        requested_date=requested,
        reason=text,
    )
    record_case(
        CaseTag.EXTENSION_REQUESTED,
        case,
        actor=actor,
        data={"request": request.pk, "requested": requested, "reason": text},
    )
    announce(
        case,
        f"{seat.org.name} asks to move the disclosure date from {when_text(case.disclosure_at)} "
        f"to {when_text(requested)}. Reason: {text}",
        actor=actor,
    )
    return request


def _pending_request(case: Case, request_id: int) -> ExtensionRequest:
    request = ExtensionRequest.objects.select_for_update().filter(case=case, pk=request_id).first()
    if request is None:
        raise NotFound("No such extension request.")
    if request.state != RequestState.PENDING:
        raise Conflict(f"This request was already decided ({request.get_state_display().lower()}).")
    return request


Outcome = tuple[ExtensionOutcome, datetime, tuple[str, ...]]


def _outcome(
    case: Case, request: ExtensionRequest, *, grant: bool, note: str, now: datetime
) -> Outcome:
    """Refused by the leads, or granted within the policy's maximum (the new date, and why)."""
    policy = policy_of(case.channel) if case.channel else None
    assert case.disclosure_at is not None  # noqa: S101 - _locked + a pending request imply a date
    if not grant:
        return (
            ExtensionOutcome.REFUSED,
            case.disclosure_at,
            (_reason(note, "note") or "Refused by the case's leads.",),
        )
    if policy is None or case.embargo_started_at is None:
        raise ValidationError("Only a case under an embargo policy can be extended.")
    decision = decide_extension(
        policy,
        clock_start=case.embargo_started_at,
        current=case.disclosure_at,
        requested=request.requested_date,
        reason=request.reason,
        now=now,
    )
    return decision.outcome, decision.new_date, decision.reasons


def _extend(
    case: Case, request: ExtensionRequest, *, reasons: tuple[str, ...], actor: Actor
) -> None:
    """A granted extension moves the date: audited, announced, and the tasks re-planned."""
    before, case.disclosure_at = case.disclosure_at, request.new_date
    case.save(update_fields=["disclosure_at"])
    record_case(
        CaseTag.DATE_SET,
        case,
        actor=actor,
        data={
            "from": before,
            "to": request.new_date,
            "extension": request.pk,
            "reasons": list(reasons),
        },
    )
    date_changed(case, before=before, why=" ".join(reasons), actor=actor)


@transaction.atomic
def do_decide_extension(
    access: CaseAccess, request_id: int, *, grant: bool, note: str = "", actor: Actor
) -> ExtensionRequest:
    """The upstream or the coordinator grants (within the policy's maximum) or refuses."""
    require_lead(access)
    case = _locked(access)
    request = _pending_request(case, request_id)
    now = clock.now()
    outcome, new_date, reasons = _outcome(case, request, grant=grant, note=note, now=now)
    request.state = RequestState(outcome.value)
    request.decided_by_id, request.decided_at = actor.user_id, now
    request.new_date = new_date if outcome != ExtensionOutcome.REFUSED else None
    request.decision_reasons = list(reasons)
    request.save(
        update_fields=["state", "decided_by", "decided_at", "new_date", "decision_reasons"]
    )
    record_case(
        CaseTag.EXTENSION_DECIDED,
        case,
        actor=actor,
        data={"request": request.pk, "outcome": outcome.value, "new_date": request.new_date},
    )
    if outcome == ExtensionOutcome.REFUSED:
        announce(case, "The extension request is refused. " + " ".join(reasons), actor=actor)
    else:
        _extend(case, request, reasons=reasons, actor=actor)
    return request


@transaction.atomic
def do_report_breach(
    access: CaseAccess, *, evidence_url: str, evidence_text: str, actor: Actor
) -> EmbargoBreach:
    """Any participant reports a leak or a public fix, with evidence; a lead confirms."""
    case = _locked(access)
    url = evidence_url.strip()
    text = _reason(evidence_text, "evidence_text")
    if not url and not text:
        raise ValidationError(
            "Give the evidence: a link to where it is public, or what you saw.",
            field="evidence_url",
        )
    if url and not url.startswith(("http://", "https://")):
        raise ValidationError("The evidence link must be an http(s) URL.", field="evidence_url")
    seat = seat_of(access)
    breach = EmbargoBreach.objects.create(
        case=case,
        reported_by_id=actor.user_id,
        reported_by_org=seat.org,
        reported_at=clock.now(),
        evidence_url=url[:2048],
        evidence_text=text,
    )
    record_case(CaseTag.BREACH_REPORTED, case, actor=actor, data={"breach": breach.pk, "url": url})
    evidence = url or text
    announce(
        case,
        f"{seat.org.name} reports that this issue may be public already: {evidence}\n\n"
        "The upstream or the coordinator must confirm; if confirmed, the embargo ends at once "
        "and the advisory is published.",
        actor=actor,
    )
    return breach


def lock_pending_breach(access: CaseAccess, breach_id: int) -> tuple[Case, EmbargoBreach]:
    """For the deciding actions (here and in advisories): the case and its pending report."""
    require_lead(access)
    case = _locked(access)
    breach = EmbargoBreach.objects.select_for_update().filter(case=case, pk=breach_id).first()
    if breach is None:
        raise NotFound("No such breach report.")
    if breach.state != RequestState.PENDING:
        raise Conflict(f"This report was already decided ({breach.get_state_display().lower()}).")
    return case, breach


@transaction.atomic
def do_dismiss_breach(
    access: CaseAccess, breach_id: int, *, note: str, actor: Actor
) -> EmbargoBreach:
    case, breach = lock_pending_breach(access, breach_id)
    text = _reason(note, "note")
    if not text:
        raise ValidationError(
            "Say why the issue is not public (participants will read it).", field="note"
        )
    breach.state = RequestState.DISMISSED
    breach.decided_by_id, breach.decided_at, breach.decision_note = actor.user_id, clock.now(), text
    breach.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    record_case(
        CaseTag.BREACH_DISMISSED, case, actor=actor, data={"breach": breach.pk, "note": text}
    )
    announce(case, f"The breach report is dismissed; the embargo stands. {text}", actor=actor)
    return breach


@transaction.atomic
def do_record_early_release(
    access: CaseAccess, *, option: str, version: str, actor: Actor
) -> EarlyRelease:
    """The upstream must ship before the date: record the option, give the neutral changelog,
    warn every participant."""
    require_lead(access)
    case = _locked(access)
    chosen = early.parse_option(option)
    checked = early.check_version(version)
    project = case.project.name
    release = EarlyRelease.objects.create(
        case=case,
        option=chosen.value,
        version=checked,
        changelog=early.neutral_changelog(chosen, project=project, version=checked),
        chosen_by_id=actor.user_id,
        chosen_at=clock.now(),
    )
    record_case(
        CaseTag.EARLY_RELEASE_RECORDED,
        case,
        actor=actor,
        data={"release": release.pk, "option": chosen.value, "version": checked},
    )
    announce(case, early.participant_warning(chosen, project=project, version=checked), actor=actor)
    return release


DRAFT_MAX = 100_000


@transaction.atomic
def do_edit_advisory_draft(  # noqa: PLR0913 - the draft's fields, each named
    access: CaseAccess,
    *,
    summary: str,
    details: str,
    release_version: str,
    reporter_posts: bool,
    actor: Actor,
) -> Case:
    """The advisory's words before the date, the fixing release, and who posts publicly."""
    require_lead(access)
    case = _locked(access)
    summary, details = summary.strip(), details.strip()
    if len(summary) > REASON_MAX or len(details) > DRAFT_MAX:
        raise ValidationError("The summary or the details are too long.", field="details")
    values: dict[str, str | bool] = {
        "advisory_summary": summary,
        "advisory_details": details,
        "release_version": early.check_version(release_version) if release_version.strip() else "",
        "reporter_posts": reporter_posts,
    }
    changed = sorted(name for name, value in values.items() if getattr(case, name) != value)
    for name, value in values.items():
        setattr(case, name, value)
    case.save(update_fields=list(values))
    record_case(CaseTag.ADVISORY_DRAFTED, case, actor=actor, data={"changed": changed})
    return case
