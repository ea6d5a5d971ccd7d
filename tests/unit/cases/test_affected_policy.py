"""What a maintainer may say is affected (cases.affected_policy): per ecosystem, in order, and
one of the project's packages unless confirmed otherwise. Every error names its path."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.cases.affected import VersionRange
from lockstep.cases.affected_policy import check_affected
from lockstep.core.errors import ErrorList, InvalidFields

PROJECT = ("pkg:pypi/quokka", "pkg:npm/quokka", "pkg:deb/debian/quokka", "pkg:golang/q.dev/quokka")


def check(data: Any) -> Any:
    return check_affected(data, project_name="Quokka", project_purls=PROJECT)


def one(events: list[dict[str, str]], purl: str = "pkg:pypi/quokka", **more: Any) -> list[Any]:
    return [{"purl": purl, "ranges": [{"type": "ECOSYSTEM", "events": events, **more}]}]


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidFields) as caught:
        check(data)
    return dict(caught.value.errors)


ACCEPTED = [
    pytest.param(one([{"introduced": "0"}, {"fixed": "1.2.3"}]), id="from the start, fixed"),
    pytest.param(
        one(
            [
                {"introduced": "1.0"},
                {"fixed": "1.4.2"},
                {"introduced": "2.0"},
                {"fixed": "2.1.1"},
                {"introduced": "3.0"},
            ]
        ),
        id="several introduced/fixed pairs",
    ),
    pytest.param(one([{"introduced": "1.0"}, {"limit": "2.0"}]), id="limit"),
    pytest.param(one([{"introduced": "1.0"}, {"fixed": "1.5"}, {"limit": "*"}]), id="limit *"),
    pytest.param(one([{"introduced": "1.0"}, {"last_affected": "1.0"}]), id="one version"),
    pytest.param(one([{"introduced": "2.0rc1"}, {"fixed": "2.0"}]), id="PEP 440 pre-release"),
    pytest.param(
        one([{"introduced": "1:1.0-1"}, {"fixed": "1:1.0-2"}], purl="pkg:deb/debian/quokka"),
        id="Debian epochs",
    ),
    pytest.param(
        one([{"introduced": "0"}, {"fixed": "1.2.0-rc.1"}], purl="pkg:npm/quokka", type="SEMVER"),
        id="SEMVER",
    ),
    pytest.param(
        one([{"introduced": "v1.0.0"}, {"fixed": "v1.2.0"}], purl="pkg:golang/q.dev/quokka"),
        id="Go",
    ),
    pytest.param(
        one(
            [{"introduced": "b" * 40}, {"fixed": "a" * 40}, {"fixed": "c" * 40}],
            type="GIT",
            repo="https://git.example/q.git",
        ),
        id="GIT: commits are not ordered here",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/Quokka", "versions": ["1.0", "1.0.post1"]}], id="PEP 503 spelling"
    ),
    pytest.param(
        [{"purl": "pkg:pypi/elsewhere", "versions": ["1.0"], "outside_project": True}],
        id="another package, confirmed",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/quokka", "versions": ["1.0"], "outside_project": False}],
        id="the project's package, not confirmed otherwise",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "1.0", "fixed": "1.2"}]}],
        id="the older range shape",
    ),
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_accepted(data: list[Any]) -> None:
    packages = check(data)
    assert len(packages) == len(data)
    assert all(p.purl for p in packages)


E = "affected[0].ranges[0].events"
REFUSED = [
    pytest.param(
        one([{"introduced": "1.0"}, {"fixed": "1.0-foo"}]),
        f"{E}[1].fixed",
        "'1.0-foo' is not a valid PEP 440 version",
        id="unparsable PyPI version",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "1.0", "fixd": "2.0"}]}],
        "affected[0].ranges[0].fixd",
        "unknown field 'fixd'",
        id="misspelt key, older shape",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"fixd": "2.0"}]),
        f"{E}[1].fixd",
        "unknown event 'fixd'",
        id="misspelt event",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "1.0", "limit": "2.0"}]}],
        "affected[0].ranges[0].limit",
        "need events",
        id="limit in the older shape",
    ),
    pytest.param(
        one(
            [{"introduced": "0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"last_affected": "2.4"}]
        ),
        "affected[0].ranges[0]",
        "not both",
        id="fixed and last_affected in one range",
    ),
    pytest.param(
        one([{"introduced": "2.0"}, {"fixed": "1.0"}]),
        f"{E}[1].fixed",
        "not above 2.0",
        id="fixed below introduced",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"fixed": "1.0"}]),
        f"{E}[1].fixed",
        "not above",
        id="fixed equal to introduced",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "1.1"}]),
        f"{E}[2].introduced",
        "not above 1.2",
        id="pairs out of order",
    ),
    pytest.param(
        one([{"fixed": "1.2"}, {"introduced": "1.0"}]),
        f"{E}[0].fixed",
        "starts with an introduced",
        id="fixed first",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"introduced": "1.1"}, {"fixed": "2"}]),
        f"{E}[1].introduced",
        "twice in a row",
        id="introduced twice",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"fixed": "1.1"}, {"fixed": "1.2"}]),
        f"{E}[2].fixed",
        "put an introduced event between",
        id="fixed twice",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"limit": "2.0"}, {"fixed": "1.5"}]),
        f"{E}[1].limit",
        "comes last",
        id="limit not last",
    ),
    pytest.param(
        one([{"introduced": "1.0"}, {"fixed": "0"}]),
        f"{E}[1].fixed",
        '"0" is only',
        id="fixed 0",
    ),
    pytest.param(
        one([{"introduced": "*"}]),
        f"{E}[0].introduced",
        '"*" is only a limit',
        id="introduced *",
    ),
    pytest.param(
        one([{"introduced": "v1.0.0"}], purl="pkg:npm/quokka", type="SEMVER"),
        f"{E}[0].introduced",
        "SemVer 2.0",
        id="SEMVER with a v",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/quokka", "versions": ["1.0", "banana"]}],
        "affected[0].versions[1]",
        "PEP 440",
        id="unparsable listed version",
    ),
    pytest.param(
        [{"purl": "pkg:pypi/elsewhere", "versions": ["1.0"]}],
        "affected[0].purl",
        "not one of Quokka's packages",
        id="not the project's package",
    ),
    pytest.param("pkg:pypi/quokka", "affected", "expected a list", id="not a list"),
    pytest.param(
        [{"purl": "pkg:pypi/elsewhere", "versions": ["1.0"], "outside_project": "yes"}],
        "affected[0].outside_project",
        "true or false",
        id="confirmation not a boolean",
    ),
]


@pytest.mark.parametrize(("data", "field", "fragment"), REFUSED)
def test_refused_with_the_path(data: list[Any], field: str, fragment: str) -> None:
    found = problems(data)
    assert field in found, found
    assert fragment in found[field]


def test_every_package_is_checked_at_once() -> None:
    found = problems(
        [
            {"purl": "nope", "versions": ["1"]},
            {"purl": "pkg:npm/quokka", "versions": ["one"]},
            {"purl": "pkg:pypi/quokka", "ranges": [{"introduced": "2", "fixed": "1"}]},
        ]
    )
    assert list(found) == [
        "affected[0].purl",
        "affected[1].versions[0]",
        "affected[2].ranges[0].events[1].fixed",
    ]


def test_errors_go_to_a_given_list() -> None:
    errors = ErrorList()
    packages = check_affected(
        [{"purl": "pkg:pypi/quokka", "versions": ["banana"]}],
        project_name="Quokka",
        project_purls=PROJECT,
        errors=errors,
    )
    assert [field for field, _ in errors.errors] == ["affected[0].versions[0]"]
    assert packages[0].versions == ("banana",)


def test_a_checked_range_means_what_the_maintainer_typed() -> None:
    data = one(
        [
            {"introduced": "1.0"},
            {"fixed": "1.4.2"},
            {"introduced": "3.0"},
            {"limit": "3.5"},
        ]
    )
    data[0]["ranges"].append({"events": [{"introduced": "2.0"}, {"last_affected": "2.3"}]})
    (package,) = check(data)
    assert package.spans == (
        VersionRange("1.0", fixed="1.4.2"),
        VersionRange("3.0", limit="3.5"),
        VersionRange("2.0", last_affected="2.3"),
    )
