"""Tracking tokens never reach a log line (lockstep.core.redaction)."""

from __future__ import annotations

import logging

import pytest

from lockstep.core.redaction import RedactTrackingTokens, redact_tracking_tokens


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ('"GET /track/Ab-c_9/ HTTP/1.1" 200', '"GET /track/[redacted]/ HTTP/1.1" 200'),
        ("/api/v1/track/Ab9/messages", "/api/v1/track/[redacted]/messages"),
        ("/api/v1/track/Ab9?x=1", "/api/v1/track/[redacted]?x=1"),
        ("https://l.example/track/Ab9#top", "https://l.example/track/[redacted]#top"),
        ("Not Found: /track/Ab9/", "Not Found: /track/[redacted]/"),
        ("/tracking/Ab9/ /cases/4/", "/tracking/Ab9/ /cases/4/"),
    ],
)
def test_the_token_after_track_is_redacted(line: str, redacted: str) -> None:
    assert redact_tracking_tokens(line) == redacted


def test_the_filter_rewrites_the_formatted_message_and_keeps_the_record() -> None:
    record = logging.LogRecord(
        "django.request", logging.WARNING, "", 0, "Not Found: %s", ("/track/Ab9/",), None
    )
    assert RedactTrackingTokens().filter(record)
    assert record.getMessage() == "Not Found: /track/[redacted]/"
    other = logging.LogRecord("x", logging.INFO, "", 0, "GET %s", ("/cases/1/",), None)
    assert RedactTrackingTokens().filter(other)
    assert (other.msg, other.args) == ("GET %s", ("/cases/1/",))
