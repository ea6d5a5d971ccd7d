"""Numbers the API takes, bounded where they are declared (lockstep.core.paging says why):
ninja refuses a value outside with a 400 `invalid`, and the OpenAPI document shows the bounds.

    def case_detail(request, case_id: Id) -> …
    def posts(request, case_id: Id, offset: Offset = 0, limit: int = 100) -> …
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lockstep.core.paging import ID_MAX, OFFSET_MAX

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Offset = Annotated[int, Field(ge=0, le=OFFSET_MAX, description="How many to skip.")]
