"""The FAQ's routing decision: direct release, private coordination, or the public list at once."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockstep.embargo.routing import Route, RoutingDecision, RoutingFacts, decide_route

DISTROS_NAMES = ("Debian", "Fedora", "Gentoo", "SUSE", "Alpine")
COMMIT = "https://git.example/libquokka/commit/abc"
FIX_PUBLIC = (
    "A fix already sits in a public repository, which makes the issue public: anyone can read "
    "the change."
)
FIX_PUBLIC_AT_COMMIT = FIX_PUBLIC.replace("repository,", f"repository ({COMMIT}),")
KEEP_FIX_OUT = (
    "Keep the fix out of public repositories until that date: a public fix ends the embargo."
)
RELEASE_PROMPTLY = (
    "Publish a fixed stable release promptly, naming the CVE ID in the change log and the "
    "release announcement."
)
NOBODY = (
    "Nobody redistributes libquokka: users take it straight from upstream, unmodified. There is "
    "nobody to coordinate with, so no embargo is needed."
)


def facts(
    redistributors: tuple[str, ...] | None = ("Debian",),
    *,
    already_public: bool = False,
    fix_public: bool = False,
    public_where: str = "",
    project_name: str = "libquokka",
) -> RoutingFacts:
    return RoutingFacts(
        project_name=project_name,
        redistributors=redistributors,
        already_public=already_public,
        public_where=public_where,
        fix_public=fix_public,
    )


@pytest.mark.parametrize(
    ("redistributors", "already_public", "fix_public", "route"),
    [
        ((), False, False, Route.DIRECT_RELEASE),
        ((), True, False, Route.DIRECT_RELEASE),
        ((), False, True, Route.DIRECT_RELEASE),
        ((), True, True, Route.DIRECT_RELEASE),
        (("Debian",), False, False, Route.PRIVATE_COORDINATION),
        (("Debian",), True, False, Route.PUBLIC_LIST),
        (("Debian",), False, True, Route.PUBLIC_LIST),
        (("Debian",), True, True, Route.PUBLIC_LIST),
        (None, False, False, Route.PRIVATE_COORDINATION),
        (None, True, False, Route.PUBLIC_LIST),
        (None, False, True, Route.PUBLIC_LIST),
        (None, True, True, Route.PUBLIC_LIST),
    ],
)
def test_routing_table(
    redistributors: tuple[str, ...] | None,
    *,
    already_public: bool,
    fix_public: bool,
    route: Route,
) -> None:
    decision = decide_route(
        facts(redistributors, already_public=already_public, fix_public=fix_public)
    )
    assert decision.route is route
    assert decision.embargo is (route is Route.PRIVATE_COORDINATION)


def test_route_values_are_stable() -> None:
    assert [route.value for route in Route] == [
        "direct-release",
        "private-coordination",
        "public-list",
    ]


def test_private_coordination_in_full() -> None:
    decision = decide_route(facts(("Debian", "Fedora")))
    who = (
        "libquokka is redistributed by Debian and Fedora. A release without warning leaves them "
        "scrambling; coordinating lets every version be fixed at the same time."
    )
    private = (
        "The issue is not public yet, so it goes to the private list of those who ship it, under "
        "an embargo that ends on an agreed public disclosure date."
    )
    propose = (
        "Propose a public disclosure date and a time in UTC within the list's policy (distros: "
        "at most 14 days, 7 or fewer preferred)."
    )
    cve_release = (
        "On the date, publish a new stable release with the fix, naming the CVE ID in the change "
        "log and the release announcement."
    )
    post = (
        "On the date, post the full details to the public list, in the message itself, not only "
        "as a link."
    )
    early = (
        "If you must release before the date, leave the fix out: a fix tells attackers where to "
        "look, even without a description."
    )
    assert decision == RoutingDecision(
        route=Route.PRIVATE_COORDINATION,
        embargo=True,
        reasons=(who, private),
        next_steps=(
            propose,
            KEEP_FIX_OUT,
            (
                "Share the fix with those who ship it (Debian and Fedora) so they can prepare "
                "updates."
            ),
            "Request a CVE ID; the list members can help.",
            cve_release,
            post,
            early,
        ),
    )


def test_public_list_in_full() -> None:
    decision = decide_route(
        facts(("Debian",), already_public=True, public_where="https://bugs.example/42")
    )
    who = (
        "libquokka is redistributed by Debian. A release without warning leaves them "
        "scrambling; coordinating lets every version be fixed at the same time."
    )
    only_private = (
        "The private list is for non-public issues only: an embargo cannot hide a public issue, "
        "so it goes to the public list now, with no embargo."
    )
    post = (
        "Post the full details to the public list now, in the message itself, not only as a "
        "link: the list is archived publicly."
    )
    assert decision == RoutingDecision(
        route=Route.PUBLIC_LIST,
        embargo=False,
        reasons=(who, "The issue is already public (https://bugs.example/42).", only_private),
        next_steps=(
            post,
            "Request a CVE ID and add it to the thread on the public list.",
            RELEASE_PROMPTLY,
            "Send the fix to Debian: they will want to ship it at once.",
        ),
    )


@pytest.mark.parametrize(
    ("already_public", "fix_public", "public_where", "public_reasons"),
    [
        (True, False, "", ["The issue is already public."]),
        (True, False, "  oss-security  ", ["The issue is already public (oss-security)."]),
        (
            False,
            True,
            COMMIT,
            [FIX_PUBLIC_AT_COMMIT],
        ),
        (
            True,
            True,
            COMMIT,
            [f"The issue is already public ({COMMIT}).", FIX_PUBLIC],
        ),
    ],
)
def test_public_reasons_say_where_and_how(
    *, already_public: bool, fix_public: bool, public_where: str, public_reasons: list[str]
) -> None:
    decision = decide_route(
        facts(
            ("Debian",),
            already_public=already_public,
            fix_public=fix_public,
            public_where=public_where,
        )
    )
    assert list(decision.reasons[1:-1]) == public_reasons


def test_direct_release_when_not_public() -> None:
    decision = decide_route(facts(()))
    assert decision == RoutingDecision(
        route=Route.DIRECT_RELEASE,
        embargo=False,
        reasons=(
            NOBODY,
            "The issue is not public yet: keep the details private until the release.",
        ),
        next_steps=(
            (
                "Fix the issue privately; push the fix only with the release: a fix tells "
                "attackers where to look, even without a description."
            ),
            (
                "Say in the release notes that it fixes a security issue in libquokka; name the "
                "CVE ID if there is one."
            ),
            "Promptly tell your users that the release is out and that updating matters.",
        ),
    )


@pytest.mark.parametrize(
    ("already_public", "fix_public", "middle"),
    [
        (True, False, ["The issue is already public."]),
        (
            False,
            True,
            [FIX_PUBLIC],
        ),
    ],
)
def test_direct_release_when_public_says_release_promptly(
    *, already_public: bool, fix_public: bool, middle: list[str]
) -> None:
    decision = decide_route(facts((), already_public=already_public, fix_public=fix_public))
    assert decision.route is Route.DIRECT_RELEASE
    assert decision.embargo is False
    assert list(decision.reasons[1:-1]) == middle
    assert decision.reasons[-1] == (
        "Release promptly: attackers can read a public issue as well as users."
    )
    assert decision.next_steps[0] == "Fix the issue and publish a release promptly."


@pytest.mark.parametrize(
    ("already_public", "route"),
    [(False, Route.PRIVATE_COORDINATION), (True, Route.PUBLIC_LIST)],
)
def test_unknown_redistributors_are_treated_as_redistributed(
    *, already_public: bool, route: Route
) -> None:
    decision = decide_route(facts(None, already_public=already_public))
    assert decision.route is route
    assert decision.reasons[0] == (
        "Nobody has recorded whether anyone redistributes libquokka, so Lockstep assumes someone "
        "does. That is the safe choice: a release that surprises redistributors leaves their "
        "users exposed while they scramble."
    )
    assert decision.next_steps[-1] == (
        "Record who redistributes libquokka (or confirm that users take it straight from "
        "upstream), so the next report is routed without guessing."
    )


def test_unknown_redistributors_get_generic_names_in_steps() -> None:
    private = decide_route(facts(None))
    assert (
        "Share the fix with those who ship it (through the private list) so"
        in (private.next_steps[2])
    )
    public = decide_route(facts(None, fix_public=True))
    assert public.next_steps[3] == (
        "Send the fix to those who ship libquokka: they will want to ship it at once."
    )


@pytest.mark.parametrize(
    ("redistributors", "named"),
    [
        (("Debian",), "Debian"),
        (("Debian", "Fedora"), "Debian and Fedora"),
        (("Debian", "Fedora", "Gentoo"), "Debian, Fedora and Gentoo"),
        (DISTROS_NAMES[:4], "Debian, Fedora, Gentoo and 1 other"),
        (DISTROS_NAMES, "Debian, Fedora, Gentoo and 2 others"),
        ((" Debian ", "", "  ", "Fedora"), "Debian and Fedora"),
        (("", " "), "others"),
    ],
)
def test_redistributors_are_named_first_few_then_counted(
    redistributors: tuple[str, ...], named: str
) -> None:
    decision = decide_route(facts(redistributors))
    assert decision.reasons[0].startswith(f"libquokka is redistributed by {named}. ")


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_project_name_reads_as_this_project(name: str) -> None:
    decision = decide_route(facts((), project_name=name))
    assert decision.reasons[0].startswith("Nobody redistributes this project: ")


names = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
routing_facts = st.builds(
    RoutingFacts,
    project_name=names,
    redistributors=st.none() | st.lists(names, max_size=6).map(tuple),
    already_public=st.booleans(),
    public_where=names,
    fix_public=st.booleans(),
)


@given(routing_facts)
def test_decide_route_is_total_and_follows_the_table(routing: RoutingFacts) -> None:
    decision = decide_route(routing)
    public = routing.already_public or routing.fix_public
    if routing.redistributors == ():
        expected = Route.DIRECT_RELEASE
    elif public:
        expected = Route.PUBLIC_LIST
    else:
        expected = Route.PRIVATE_COORDINATION
    assert decision.route is expected
    assert decision.embargo is (decision.route is Route.PRIVATE_COORDINATION)
    assert decision.reasons
    assert decision.next_steps
    assert all(text.strip() for text in decision.reasons + decision.next_steps)
    project = routing.project_name.strip() or "this project"
    assert project in decision.reasons[0]
    records = [step for step in decision.next_steps if step.startswith("Record who")]
    assert len(records) == (1 if routing.redistributors is None else 0)
