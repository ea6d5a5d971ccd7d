"""Which advisories affect a package version: the pure half of an OSV-style `POST /api/v1/query`.

`parse_query` turns the request body into a `PackageQuery` (a canonical versionless purl and a
version) or raises ValidationError; `package_key` gives the canonical purl that advisories are
indexed by, so the edge can fetch candidates by exact key; `affects` then decides, per
ecosystem, whether the version falls in an advisory's affected ranges or explicit versions.

Modules: `packages` (the OSV ecosystem / purl table), `query` (parsing queries and matching
them). How each purl type orders its versions is `cases.schemes` (the vulnerability checks use
it too); package keys are `projects.purls.package_key`.

Bad data never crashes a query. A version stored in an advisory that its scheme cannot parse,
or that cannot be compared, makes that one range not match (and an explicit version then
matches only by exact string); the other ranges and packages are still checked. A version in
the query that cannot be parsed is the caller's fault: ValidationError.
"""

from lockstep.advisories.versions.packages import ECOSYSTEMS, Ecosystem, ecosystem_for_purl
from lockstep.advisories.versions.query import PackageQuery, affects, parse_query
from lockstep.projects.purls import package_key

__all__ = [
    "ECOSYSTEMS",
    "Ecosystem",
    "PackageQuery",
    "affects",
    "ecosystem_for_purl",
    "package_key",
    "parse_query",
]
