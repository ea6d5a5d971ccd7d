"""Where a security report goes: the oss-security FAQ for upstream maintainers, as a rule.

PROCESS.md section 1. Two facts decide: does anyone redistribute the software, and is the issue
already public (a fix sitting in a public repository counts as public)?

| redistributors | already public | route                | embargo |
|----------------|----------------|----------------------|---------|
| none           | either         | direct release       | no      |
| some, unknown  | no             | private coordination | yes     |
| some, unknown  | yes            | public list at once  | no      |

When nobody has recorded whether the software is redistributed, the rule assumes it is: a
needless embargo costs a few days, a surprise release leaves every redistributor scrambling.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lockstep.embargo.policy import DISTROS

# How many redistributors a sentence names before it says "and N others".
NAMES_SHOWN = 3


class Route(StrEnum):
    """How a case is handled: the one enum for the routing decision and the stored case."""

    DIRECT_RELEASE = "direct-release"
    PRIVATE_COORDINATION = "private-coordination"
    PUBLIC_LIST = "public-list"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_embargoed(self) -> bool:
        """The one test of confidentiality: only private coordination keeps an embargo."""
        return self is Route.PRIVATE_COORDINATION


_LABELS = {
    Route.DIRECT_RELEASE: "Direct release (no embargo)",
    Route.PRIVATE_COORDINATION: "Private coordination under embargo",
    Route.PUBLIC_LIST: "Public list now (no embargo)",
}
ROUTE_CHOICES = tuple((route.value, route.label) for route in Route)


@dataclass(frozen=True)
class RoutingFacts:
    project_name: str
    redistributors: tuple[str, ...] | None  # None: nobody recorded whether anyone redistributes
    already_public: bool
    public_where: str = ""  # a URL or a place: a public tracker, a mailing list
    fix_public: bool = False  # a fix sitting in a public repository makes the issue public


@dataclass(frozen=True)
class RoutingDecision:
    route: Route
    embargo: bool
    reasons: tuple[str, ...]
    next_steps: tuple[str, ...]


def decide_route(facts: RoutingFacts) -> RoutingDecision:
    """The route for a report, with reasons and next steps for a maintainer new to security."""
    project = facts.project_name.strip() or "this project"
    if facts.redistributors is not None and not facts.redistributors:
        return _direct_release(facts, project)
    if facts.already_public or facts.fix_public:
        return _public_list(facts, project)
    return _private_coordination(facts, project)


_FIX_TELLS = "a fix tells attackers where to look, even without a description"
_DETAILS_INLINE = "in the message itself, not only as a link"
_CVE_IN_RELEASE = "naming the CVE ID in the change log and the release announcement"


def _direct_release(facts: RoutingFacts, project: str) -> RoutingDecision:
    reasons = [
        (
            f"Nobody redistributes {project}: users take it straight from upstream, unmodified. "
            "There is nobody to coordinate with, so no embargo is needed."
        )
    ]
    if facts.already_public or facts.fix_public:
        reasons.extend(_public_reasons(facts))
        reasons.append("Release promptly: attackers can read a public issue as well as users.")
        first_step = "Fix the issue and publish a release promptly."
    else:
        reasons.append("The issue is not public yet: keep the details private until the release.")
        first_step = f"Fix the issue privately; push the fix only with the release: {_FIX_TELLS}."
    steps = (
        first_step,
        (
            f"Say in the release notes that it fixes a security issue in {project}; name the "
            "CVE ID if there is one."
        ),
        "Promptly tell your users that the release is out and that updating matters.",
    )
    return RoutingDecision(
        route=Route.DIRECT_RELEASE, embargo=False, reasons=tuple(reasons), next_steps=steps
    )


def _public_list(facts: RoutingFacts, project: str) -> RoutingDecision:
    reasons = (
        _who_ships(facts, project),
        *_public_reasons(facts),
        (
            "The private list is for non-public issues only: an embargo cannot hide a public "
            "issue, so it goes to the public list now, with no embargo."
        ),
    )
    shippers = _names_or(facts, f"those who ship {project}")
    steps = (
        (
            f"Post the full details to the public list now, {_DETAILS_INLINE}: the list is "
            "archived publicly."
        ),
        "Request a CVE ID and add it to the thread on the public list.",
        f"Publish a fixed stable release promptly, {_CVE_IN_RELEASE}.",
        f"Send the fix to {shippers}: they will want to ship it at once.",
        *_record_step(facts, project),
    )
    return RoutingDecision(
        route=Route.PUBLIC_LIST, embargo=False, reasons=reasons, next_steps=steps
    )


def _private_coordination(facts: RoutingFacts, project: str) -> RoutingDecision:
    reasons = (
        _who_ships(facts, project),
        (
            "The issue is not public yet, so it goes to the private list of those who ship it, "
            "under an embargo that ends on an agreed public disclosure date."
        ),
    )
    limits = f"at most {DISTROS.max_days} days, {DISTROS.preferred_days} or fewer preferred"
    shippers = _names_or(facts, "through the private list")
    steps = (
        (
            "Propose a public disclosure date and a time in UTC within the list's policy (distros: "
            f"{limits})."
        ),
        "Keep the fix out of public repositories until that date: a public fix ends the embargo.",
        f"Share the fix with those who ship it ({shippers}) so they can prepare updates.",
        "Request a CVE ID; the list members can help.",
        f"On the date, publish a new stable release with the fix, {_CVE_IN_RELEASE}.",
        f"On the date, post the full details to the public list, {_DETAILS_INLINE}.",
        f"If you must release before the date, leave the fix out: {_FIX_TELLS}.",
        *_record_step(facts, project),
    )
    return RoutingDecision(
        route=Route.PRIVATE_COORDINATION, embargo=True, reasons=reasons, next_steps=steps
    )


def _who_ships(facts: RoutingFacts, project: str) -> str:
    if facts.redistributors is None:
        return (
            f"Nobody has recorded whether anyone redistributes {project}, so Lockstep assumes "
            "someone does. That is the safe choice: a release that surprises redistributors "
            "leaves their users exposed while they scramble."
        )
    return (
        f"{project} is redistributed by {_names_or(facts, 'others')}. A release without warning "
        "leaves them scrambling; coordinating lets every version be fixed at the same time."
    )


def _public_reasons(facts: RoutingFacts) -> list[str]:
    where = facts.public_where.strip()
    place = f" ({where})" if where else ""
    reasons: list[str] = []
    if facts.already_public:
        reasons.append(f"The issue is already public{place}.")
        place = ""
    if facts.fix_public:
        reasons.append(
            f"A fix already sits in a public repository{place}, which makes the issue public: "
            "anyone can read the change."
        )
    return reasons


def _record_step(facts: RoutingFacts, project: str) -> tuple[str, ...]:
    if facts.redistributors is not None:
        return ()
    step = (
        f"Record who redistributes {project} (or confirm that users take it straight from "
        "upstream), so the next report is routed without guessing."
    )
    return (step,)


def _names_or(facts: RoutingFacts, fallback: str) -> str:
    """The redistributors' names, the first few then "and N others"; `fallback` if none known."""
    names = [name.strip() for name in facts.redistributors or () if name.strip()]
    if not names:
        return fallback
    shown, hidden = names[:NAMES_SHOWN], len(names) - NAMES_SHOWN
    if hidden > 0:
        others = "1 other" if hidden == 1 else f"{hidden} others"
        return f"{', '.join(shown)} and {others}"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"
