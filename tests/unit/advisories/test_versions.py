"""Version matching for the OSV-style query API: parsing queries, package keys, affected ranges."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lockstep.advisories.versions import (
    ECOSYSTEMS,
    Ecosystem,
    PackageQuery,
    affects,
    ecosystem_for_purl,
    package_key,
    parse_query,
)
from lockstep.cases.affected import AffectedPackage, VersionRange, parse_affected, range_of
from lockstep.core.errors import ValidationError


def hit(purl: str, version: str, *ranges: VersionRange, versions: tuple[str, ...] = ()) -> bool:
    """Does an advisory on `purl` with these ranges and versions affect `version`?"""
    query = PackageQuery(purl=package_key(purl), version=version)
    spans = tuple(range_of(span) for span in ranges)
    return affects(query, [AffectedPackage(purl=purl, ranges=spans, versions=versions)])


# (purl, lower, higher, naive string comparison gets it wrong)
ORDERED = [
    ("pkg:pypi/jinja2", "1.9", "1.10", True),
    ("pkg:pypi/jinja2", "2.0.0rc1", "2.0.0", True),
    ("pkg:pypi/jinja2", "2.0.0b1", "2.0.0rc1", False),
    ("pkg:pypi/jinja2", "1.0.dev1", "1.0a1", False),
    ("pkg:pypi/jinja2", "1.0", "1.0.post1", False),
    ("pkg:pypi/jinja2", "1.0.post1", "1.0.1", True),
    ("pkg:npm/%40scope/name", "1.0.0-alpha", "1.0.0", True),
    ("pkg:npm/%40scope/name", "1.0.0-alpha.2", "1.0.0-alpha.10", True),
    ("pkg:npm/%40scope/name", "1.0.0-rc.1", "1.0.0", True),
    ("pkg:npm/left-pad", "1.9.0", "1.10.0", True),
    ("pkg:cargo/serde", "0.9.0", "0.10.0", True),
    ("pkg:maven/org.example/lib", "1.0-alpha", "1.0-SNAPSHOT", True),
    ("pkg:maven/org.example/lib", "1.0-SNAPSHOT", "1.0", True),
    ("pkg:maven/org.example/lib", "1.0", "1.0.1", False),
    ("pkg:maven/org.example/lib", "1.9", "1.10", True),
    ("pkg:deb/debian/openssl", "2.0-1", "1:1.0-1", True),
    ("pkg:deb/debian/openssl", "1.0~rc1", "1.0", True),
    ("pkg:deb/debian/openssl", "1.0-9", "1.0-10", True),
    ("pkg:golang/github.com/foo/bar", "v1.9.0", "v1.10.0", True),
    ("pkg:golang/github.com/foo/bar", "v1.2.3", "1.2.4", True),
    ("pkg:golang/github.com/foo/bar", "v0.0.0-20200101000000-abcdef123456", "v0.1.0", False),
    ("pkg:gem/rails", "1.0.a", "1.0", True),
    ("pkg:gem/rails", "1.0.0.1", "1.0.1", False),
    ("pkg:gem/rails", "1.9", "1.10", True),
    ("pkg:composer/laravel/framework", "1.0-beta", "1.0-RC1", True),
    ("pkg:composer/laravel/framework", "v1.9.0", "1.10.0", True),
    ("pkg:composer/laravel/framework", "1.0.0-beta2", "1.0.0-beta10", True),
    ("pkg:composer/laravel/framework", "2.0.0-RC1", "2.0.0", True),
    ("pkg:composer/laravel/framework", "1.0.0-dev", "1.0.0-alpha1", True),
    ("pkg:composer/laravel/framework", "1.0.0", "1.0.0-patch1", False),
    ("pkg:composer/laravel/framework", "1.0.0-patch1", "1.0.1", False),
    ("pkg:nuget/Newtonsoft.Json", "1.0.0-beta", "1.0.0", True),
    ("pkg:nuget/Newtonsoft.Json", "1.9", "1.10", True),
    ("pkg:apk/alpine/openssl", "1.2.3-r9", "1.2.3-r10", True),
    ("pkg:apk/alpine/openssl", "1.0_rc1", "1.0", True),
    ("pkg:rpm/redhat/openssl", "1.0-9.el9", "1.0-10.el9", True),
    ("pkg:cran/ggplot2", "1.2-9", "1.2-10", True),
    ("pkg:hackage/aeson", "1.9.0.1", "1.10", True),
    ("pkg:generic/thing", "1.9", "1.10", True),
    ("pkg:generic/thing", "1.0rc1", "1.0", True),
    ("pkg:generic/thing", "1.0", "1.0.post1", False),
]


@pytest.mark.parametrize(("purl", "low", "high", "naive_wrong"), ORDERED)
def test_versions_order_per_ecosystem(purl: str, low: str, high: str, naive_wrong: bool) -> None:
    assert (low >= high) is naive_wrong
    assert hit(purl, low, VersionRange("0", fixed=high))
    assert not hit(purl, high, VersionRange("0", fixed=high))
    assert not hit(purl, high, VersionRange("0", fixed=low))
    assert hit(purl, high, VersionRange(low))
    assert not hit(purl, low, VersionRange(high))
    assert hit(purl, high, VersionRange(low, last_affected=high))
    assert not hit(purl, high, VersionRange("0", last_affected=low))


@pytest.mark.parametrize(
    ("purl", "stored", "asked"),
    [
        ("pkg:golang/github.com/foo/bar", "v1.2.3", "1.2.3"),
        ("pkg:golang/github.com/foo/bar", "1.2.3", "v1.2.3"),
        ("pkg:golang/github.com/foo/bar", "v2.0.0+incompatible", "v2.0.0"),
        ("pkg:npm/left-pad", "1.0.0+build.7", "1.0.0"),
        ("pkg:pypi/jinja2", "1.0", "1.0.0"),
        ("pkg:deb/debian/openssl", "0:1.0-1", "1.0-1"),
        ("pkg:composer/laravel/framework", "1.0.0.0", "v1.0.0"),
        ("pkg:nuget/Newtonsoft.Json", "1.0.0-Beta", "1.0.0-beta"),
        ("pkg:generic/thing", "1.0", "1.0.0"),
    ],
)
def test_equal_spellings_match(purl: str, stored: str, asked: str) -> None:
    assert hit(purl, asked, versions=(stored,))
    assert hit(purl, asked, VersionRange(stored))
    assert hit(purl, asked, VersionRange("0", last_affected=stored))
    assert not hit(purl, asked, VersionRange("0", fixed=stored))


PYPI = "pkg:pypi/jinja2"


@pytest.mark.parametrize(
    ("version", "half_open", "closed"),
    [
        ("0.9", False, False),
        ("1.0", True, True),
        ("1.5", True, True),
        ("2.0rc1", True, True),
        ("2.0", False, True),
        ("2.0.post1", False, False),
        ("2.0.1", False, False),
    ],
)
def test_fixed_is_exclusive_and_last_affected_inclusive(
    version: str, half_open: bool, closed: bool
) -> None:
    assert hit(PYPI, version, VersionRange("1.0", fixed="2.0")) is half_open
    assert hit(PYPI, version, VersionRange("1.0", last_affected="2.0")) is closed


def test_open_ended_range_covers_every_later_version() -> None:
    assert hit(PYPI, "999.0", VersionRange("1.0"))
    assert hit(PYPI, "1.0", VersionRange("1.0"))
    assert not hit(PYPI, "0.9", VersionRange("1.0"))


@pytest.mark.parametrize(
    ("purl", "version"),
    [
        (PYPI, "0.0.1.dev0"),
        ("pkg:npm/left-pad", "0.0.0-alpha"),  # below "0" read as semver 0.0.0
        ("pkg:deb/debian/openssl", "0~beta1"),
        ("pkg:golang/github.com/foo/bar", "v0.0.0-20190101000000-abcdefabcdef"),
        ("pkg:generic/thing", "0rc1"),
    ],
)
def test_introduced_zero_means_from_the_beginning(purl: str, version: str) -> None:
    assert hit(purl, version, VersionRange("0"))
    assert hit(purl, version, VersionRange("0", fixed="99"))


def test_explicit_versions() -> None:
    assert hit(PYPI, "2.4.1", versions=("2.4.0", "2.4.1"))
    assert not hit(PYPI, "2.4.2", versions=("2.4.0", "2.4.1"))
    assert hit(PYPI, "2.4.2", VersionRange("3.0"), versions=("2.4.2",))


def test_any_of_several_ranges() -> None:
    ranges = (VersionRange("1.0", fixed="1.2"), VersionRange("2.0", fixed="2.3"))
    assert hit(PYPI, "2.1", *ranges)
    assert not hit(PYPI, "1.5", *ranges)


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.5", False), ("1.0", True), ("1.1", True), ("1.2", False), ("2.4", True), ("2.5", False)],
)
def test_osv_events_match_interval_by_interval(version: str, affected: bool) -> None:
    events = [{"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"limit": "2.5"}]
    packages = parse_affected(
        [
            {
                "purl": PYPI,
                "ranges": [
                    {"type": "ECOSYSTEM", "events": events},
                    # Commits: only the repository orders them; they match no version.
                    {
                        "type": "GIT",
                        "repo": "https://git.example/j",
                        "events": [{"introduced": "0"}],
                    },
                ],
            }
        ]
    )
    query = PackageQuery(purl=package_key(PYPI), version=version)
    assert affects(query, packages) is affected


def test_unknown_purl_type_matches_exact_versions_and_generic_order() -> None:
    purl = "pkg:unheard-of/thing"
    assert hit(purl, "build-7", versions=("build-7",))
    assert not hit(purl, "build-8", versions=("build-7",))
    assert hit(purl, "2.10", VersionRange("2.9", fixed="2.11"))


def test_only_the_queried_package_counts() -> None:
    query = PackageQuery(purl=package_key(PYPI), version="1.0")
    other = AffectedPackage(purl="pkg:pypi/flask", ranges=(range_of(VersionRange("0")),))
    assert not affects(query, [other])
    mine = AffectedPackage(purl=PYPI, ranges=(range_of(VersionRange("0")),))
    assert affects(query, [other, mine])
    assert not affects(query, [])


def test_stored_purls_match_by_pep_503_name() -> None:
    query = parse_query({"package": {"ecosystem": "PyPI", "name": "foo.bar"}, "version": "1.0"})
    stored = AffectedPackage(purl="pkg:pypi/Foo_Bar", ranges=(range_of(VersionRange("0")),))
    assert affects(query, [stored])


def test_unparsable_stored_versions_fail_only_their_own_range() -> None:
    good = VersionRange("1.0", fixed="2.0")
    for bad in (
        VersionRange("not-a-version", fixed="2.0"),
        VersionRange("1.0", fixed="not-a-version"),
        VersionRange("1.0", last_affected="not-a-version"),
    ):
        assert not hit(PYPI, "1.5", bad)
        assert hit(PYPI, "1.5", bad, good)
    assert hit(PYPI, "1.5", versions=("not-a-version", "1.5"))
    assert not hit(PYPI, "1.5", versions=("not-a-version",))


def test_broken_stored_purls_are_skipped() -> None:
    query = PackageQuery(purl=package_key(PYPI), version="1.0")
    broken = AffectedPackage(purl="not a purl", ranges=(range_of(VersionRange("0")),))
    assert not affects(query, [broken])
    mine = AffectedPackage(purl=PYPI, ranges=(range_of(VersionRange("0")),))
    assert affects(query, [broken, mine])


def test_an_unparsable_query_version_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not a valid PEP 440 version") as caught:
        affects(PackageQuery(purl=PYPI, version="banana"), [])
    assert caught.value.field == "version"


# --- parse_query ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "purl", "version"),
    [
        ({"package": {"ecosystem": "PyPI", "name": "jinja2"}, "version": "2.4.1"}, PYPI, "2.4.1"),
        ({"package": {"purl": "pkg:pypi/jinja2"}, "version": "2.4.1"}, PYPI, "2.4.1"),
        ({"package": {"purl": "pkg:pypi/jinja2@2.4.1"}}, PYPI, "2.4.1"),
        ({"package": {"purl": "pkg:pypi/jinja2@2.4.1"}, "version": None}, PYPI, "2.4.1"),
        ({"package": {"ecosystem": "PyPI", "name": "Jinja2"}, "version": "2.4.1"}, PYPI, "2.4.1"),
        ({"package": {"purl": "pkg:PyPI/Jinja2"}, "version": "2.4.1"}, PYPI, "2.4.1"),
        ({"package": {"ecosystem": "pypi", "name": "jinja2"}, "version": " 2.4.1 "}, PYPI, "2.4.1"),
        (
            {"package": {"ecosystem": "PyPI", "name": "Foo_Bar..Baz"}, "version": "1"},
            "pkg:pypi/foo-bar-baz",
            "1",
        ),
        (
            {"package": {"purl": "pkg:pypi/jinja2@2.4.1?extension=whl#src"}},
            PYPI,
            "2.4.1",
        ),
        (
            {"package": {"ecosystem": "npm", "name": "@babel/core"}, "version": "7.0.0"},
            "pkg:npm/%40babel/core",
            "7.0.0",
        ),
        (
            {"package": {"purl": "pkg:npm/%40babel/core@7.0.0-rc.1"}},
            "pkg:npm/%40babel/core",
            "7.0.0-rc.1",
        ),
        (
            {"package": {"ecosystem": "Maven", "name": "org.apache:commons"}, "version": "1.0"},
            "pkg:maven/org.apache/commons",
            "1.0",
        ),
        (
            {"package": {"ecosystem": "Go", "name": "github.com/foo/bar/v2"}, "version": "v2.0.1"},
            "pkg:golang/github.com/foo/bar/v2",
            "v2.0.1",
        ),
        (
            {"package": {"ecosystem": "Go", "name": "stdlib"}, "version": "1.21.0"},
            "pkg:golang/stdlib",
            "1.21.0",
        ),
        (
            {"package": {"ecosystem": "Packagist", "name": "Laravel/Framework"}, "version": "v5"},
            "pkg:composer/laravel/framework",
            "v5",
        ),
        (
            {"package": {"ecosystem": "Debian:12", "name": "openssl"}, "version": "1:3.0.11-1"},
            "pkg:deb/debian/openssl",
            "1:3.0.11-1",
        ),
        (
            {"package": {"purl": "pkg:deb/debian/openssl@1%3A3.0.11-1?arch=amd64"}},
            "pkg:deb/debian/openssl",
            "1:3.0.11-1",
        ),
        (
            {"package": {"ecosystem": "Alpine:v3.20", "name": "openssl"}, "version": "3.1.0-r1"},
            "pkg:apk/alpine/openssl",
            "3.1.0-r1",
        ),
        ({"package": {"purl": "pkg:unheard-of/thing@r7"}}, "pkg:unheard-of/thing", "r7"),
    ],
)
def test_parse_query_forms(data: object, purl: str, version: str) -> None:
    assert parse_query(data) == PackageQuery(purl=purl, version=version)


def _q(package: object, **rest: object) -> dict[str, object]:
    return {"package": package, **rest}


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (["pkg:pypi/jinja2"], None, "Send a JSON object"),
        ("pkg:pypi/jinja2@1.0", None, "Send a JSON object"),
        (None, None, "Send a JSON object"),
        ({"version": "1.0"}, "package", 'Give "package" as an object'),
        (_q("pkg:pypi/jinja2", version="1.0"), "package", 'Give "package" as an object'),
        (_q({}, version="1.0"), "package", 'give both "ecosystem" and "name"'),
        (_q({"ecosystem": "PyPI"}, version="1.0"), "package", 'give both "ecosystem" and "name"'),
        (_q({"name": "jinja2"}, version="1.0"), "package", 'give both "ecosystem" and "name"'),
        (
            _q({"purl": "pkg:pypi/jinja2", "ecosystem": "PyPI"}, version="1.0"),
            "package",
            "either purl, or ecosystem and name, not both",
        ),
        (
            _q({"purl": "pkg:pypi/jinja2", "name": "jinja2"}, version="1.0"),
            "package",
            "not both",
        ),
        (_q({"ecosystem": "PyPy", "name": "x"}, version="1.0"), "package.ecosystem", "PyPI, npm"),
        (_q({"ecosystem": "PyPI:3", "name": "x"}, version="1"), "package.ecosystem", "Unknown"),
        (_q({"ecosystem": "", "name": "x"}, version="1.0"), "package.ecosystem", "non-empty"),
        (_q({"ecosystem": 3, "name": "x"}, version="1.0"), "package.ecosystem", "non-empty"),
        (_q({"ecosystem": "PyPI", "name": " "}, version="1.0"), "package.name", "non-empty"),
        (_q({"ecosystem": "PyPI", "name": "a/b"}, version="1.0"), "package.name", "'jinja2'"),
        (_q({"ecosystem": "npm", "name": "a/b"}, version="1.0"), "package.name", "@scope/name"),
        (_q({"ecosystem": "npm", "name": "@/b"}, version="1.0"), "package.name", "@scope/name"),
        (_q({"ecosystem": "npm", "name": "@scope"}, version="1.0"), "package.name", "npm"),
        (_q({"ecosystem": "Maven", "name": "commons"}, version="1"), "package.name", "log4j"),
        (_q({"ecosystem": "Maven", "name": "a:b:c"}, version="1"), "package.name", "Maven"),
        (_q({"ecosystem": "Go", "name": "a//b"}, version="1.0.0"), "package.name", "Go"),
        (
            _q({"ecosystem": "Packagist", "name": "laravel"}, version="1"),
            "package.name",
            "laravel/framework",
        ),
        (_q({"ecosystem": "Debian", "name": "a/b"}, version="1.0"), "package.name", "Debian"),
        (_q({"purl": "jinja2"}, version="1.0"), "package.purl", "not a valid Package URL"),
        (_q({"purl": ""}, version="1.0"), "package.purl", "non-empty"),
        (_q({"purl": ["pkg:pypi/x"]}, version="1.0"), "package.purl", "non-empty"),
        (
            _q({"purl": "pkg:pypi/jinja2@2.4.1"}, version="2.4.1"),
            "version",
            'drop "version" or the @version',
        ),
        (_q({"purl": "pkg:pypi/jinja2@2.4.1"}, version=""), "version", "already names"),
        (_q({"purl": "pkg:pypi/jinja2"}), "version", "Give the version"),
        (_q({"purl": "pkg:pypi/jinja2"}, version=""), "version", "Give the version"),
        (_q({"purl": "pkg:pypi/jinja2"}, version="   "), "version", "non-empty"),
        (_q({"purl": "pkg:pypi/jinja2"}, version=2), "version", "non-empty string"),
        (_q({"purl": "pkg:pypi/jinja2"}, version="1 0"), "version", "no spaces"),
        (_q({"purl": "pkg:pypi/jinja2"}, version="banana"), "version", "PEP 440"),
        (_q({"purl": "pkg:npm/x"}, version="one"), "version", "SemVer"),
        (_q({"purl": "pkg:deb/debian/x"}, version="abc"), "version", "Debian"),
        (_q({"purl": "pkg:composer/a/b"}, version="dev-main"), "version", "Composer"),
        (_q({"purl": "pkg:maven/a/b"}, version="???"), "version", "Maven"),
        (_q({"purl": "pkg:unheard-of/x"}, version="---"), "version", "generic"),
        (_q({"purl": "pkg:pypi/jinja2"}, version="1" * 129), "version", "at most 128"),
        (
            _q({"ecosystem": "PyPI", "name": "x" * 257}, version="1.0"),
            "package.name",
            "at most 256",
        ),
        (_q({"purl": "pkg:pypi/" + "x" * 600}, version="1.0"), "package.purl", "at most 512"),
        (_q({"ecosystem": "P" * 65, "name": "x"}, version="1.0"), "package.ecosystem", "at most"),
        ({"commit": "abc123"}, "commit", "by commit are not supported"),
        (_q({"purl": "pkg:pypi/x"}, version="1", versoin="1"), "query", "versoin"),
        (_q({"purl": "pkg:pypi/x", "type": "lib"}, version="1"), "package", "type"),
    ],
)
def test_parse_query_rejects_malformed_input(
    data: object, field: str | None, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_query(data)
    assert caught.value.field == field
    assert fragment in caught.value.message


# --- package keys and the ecosystem table -----------------------------------------------------


@pytest.mark.parametrize(
    ("purl", "key"),
    [
        ("pkg:pypi/Jinja2", "pkg:pypi/jinja2"),
        ("pkg:pypi/Foo_Bar.baz--x", "pkg:pypi/foo-bar-baz-x"),
        ("pkg:pypi/jinja2@2.4.1?extension=whl#sub", "pkg:pypi/jinja2"),
        ("  pkg:npm/@babel/core  ", "pkg:npm/%40babel/core"),
        ("pkg:maven/org.apache/commons@1.0?type=jar", "pkg:maven/org.apache/commons"),
        ("pkg:deb/debian/openssl?distro=bookworm", "pkg:deb/debian/openssl"),
    ],
)
def test_package_key_is_canonical_and_versionless(purl: str, key: str) -> None:
    assert package_key(purl) == key
    assert package_key(key) == key


@pytest.mark.parametrize("purl", ["", "jinja2", "pkg:", "pkg:pypi/" + "x" * 600])
def test_package_key_rejects_invalid_purls(purl: str) -> None:
    with pytest.raises(ValidationError):
        package_key(purl)


@pytest.mark.parametrize("eco", ECOSYSTEMS, ids=lambda eco: eco.osv)
def test_ecosystems_map_to_purls_and_back(eco: Ecosystem) -> None:
    data = {"package": {"ecosystem": eco.osv, "name": eco.example}, "version": "1.2.3"}
    query = parse_query(data)
    assert ecosystem_for_purl(query.purl) == (eco.osv, eco.example)


def test_purls_without_an_osv_ecosystem() -> None:
    assert ecosystem_for_purl("pkg:deb/kali/openssl") is None
    assert ecosystem_for_purl("pkg:unheard-of/thing") is None
    assert ecosystem_for_purl("pkg:pypi/Foo_Bar") == ("PyPI", "foo-bar")


# --- property ----------------------------------------------------------------------------------

_triple = st.tuples(*[st.integers(min_value=0, max_value=10_000)] * 3)


@given(
    st.sampled_from(
        [
            "pkg:npm/left-pad",
            "pkg:cargo/serde",
            "pkg:pypi/jinja2",
            "pkg:golang/github.com/foo/bar",
            "pkg:maven/org.example/lib",
            "pkg:gem/rails",
            "pkg:nuget/Newtonsoft.Json",
            "pkg:composer/laravel/framework",
            "pkg:deb/debian/openssl",
            "pkg:generic/thing",
        ]
    ),
    st.lists(_triple, min_size=3, max_size=3),
)
def test_half_open_range_holds_its_inside_and_not_its_end(
    purl: str, triples: list[tuple[int, int, int]]
) -> None:
    a, b, c = sorted(triples)
    assume(b < c)
    prefix = "v" if purl.startswith("pkg:golang/") else ""
    low, mid, high = (prefix + ".".join(map(str, t)) for t in (a, b, c))
    span = VersionRange(introduced=low, fixed=high)
    assert hit(purl, mid, span)
    assert not hit(purl, high, span)
