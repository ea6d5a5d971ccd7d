"""The house rules a reviewer would otherwise have to remember, checked on the source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "lockstep"
ROUTE_VALUES = ("private-coordination", "direct-release", "public-list")
# Where the route's values are defined (the one enum) and where history keeps them.
ROUTE_HOMES = {ROOT / "embargo" / "routing.py"}


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*"))
        if path.suffix in {".py", ".html", ".txt"} and "migrations" not in path.parts
    ]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_or_template_tests_a_route_by_its_string(path: Path) -> None:
    """Whether a case is embargoed is `Case.is_embargoed` (or `Route.is_embargoed`), never
    a comparison with the route's spelling."""
    if path in ROUTE_HOMES:
        return
    text = path.read_text(encoding="utf-8")
    found = [value for value in ROUTE_VALUES if re.search(rf"[\"']{value}[\"']", text)]
    assert not found, f"{path.relative_to(ROOT)} spells a route: {found}"
