"""Pure hashing of audit rows: the same function writes and verifies the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64


@dataclass(frozen=True)
class EventFields:
    seq: int
    at: datetime
    actor_kind: str
    actor_label: str
    actor_user_id: int | None
    tag: str
    object_type: str
    object_id: str
    org_id: int | None
    data: dict[str, Any]


def normalise_data(data: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through JSON so that what is hashed equals what the database returns."""
    result: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return result


def compute_hash(fields: EventFields, prev_hash: str) -> str:
    body = {
        "seq": fields.seq,
        "at": fields.at.isoformat(timespec="microseconds"),
        "actor_kind": fields.actor_kind,
        "actor_label": fields.actor_label,
        "actor_user_id": fields.actor_user_id,
        "tag": fields.tag,
        "object_type": fields.object_type,
        "object_id": fields.object_id,
        "org_id": fields.org_id,
        "data": fields.data,
        "prev": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
