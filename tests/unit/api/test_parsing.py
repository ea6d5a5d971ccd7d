"""Where a NUL character sits in parsed input (lockstep.api.parsing)."""

from __future__ import annotations

from typing import Any

import pytest

from lockstep.api.parsing import nul_paths


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ("plain", []),
        ("a\x00", [()]),
        ({"a": "x", "b": ["ok", "n\x00"]}, [("b", 1)]),
        ({"k\x00": "v"}, [("k\x00",)]),
        ({"n": 3, "t": True, "z": None, "f": 1.5}, []),
        ([{"deep": {"er": "\x00"}}], [(0, "deep", "er")]),
    ],
)
def test_every_nul_is_found_with_its_path(value: Any, paths: list[tuple[Any, ...]]) -> None:
    assert nul_paths(value) == paths
