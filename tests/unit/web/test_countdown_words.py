"""The live countdown in lockstep.js says the same words as `embargo.wording.relative` (the
mail and the pages must not disagree). Runs the script's functions under Node when present."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockstep.embargo.wording import relative

SCRIPT = Path(__file__).parents[3] / "lockstep" / "web" / "static" / "web" / "lockstep.js"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MINUTES = [0, 1, 25, 59, 60, 80, 179, 180, 239, 1439, 1440, 1740, 4319, 4320, 129600, -5, -120]


def test_the_countdown_speaks_like_the_server() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    source = SCRIPT.read_text(encoding="utf-8")
    functions = re.search(r"  function unit\(.*?(?=\n  function update)", source, re.DOTALL)
    assert functions is not None
    program = (
        functions.group(0)
        + f"\nconsole.log(JSON.stringify({json.dumps(MINUTES)}.map(m => span(m * 60000))));"
    )
    done = subprocess.run(
        [node, "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    expected = [relative(NOW + timedelta(minutes=m), now=NOW) for m in MINUTES]
    assert json.loads(done.stdout) == expected
