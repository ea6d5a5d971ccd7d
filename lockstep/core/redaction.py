"""Secrets that travel in URLs, kept out of logs.

A reporter's tracking token is the path of their page (`/track/<token>/`, and the API's
`/api/v1/track/<token>`): whoever reads it can read the report and its case. Every log line
that may hold a URL (gunicorn's access log, Django's request log) goes through
`redact_tracking_tokens` first (config/gunicorn.py, and the `RedactTrackingTokens` filter
on the console handler in config/settings/base.py).
"""

from __future__ import annotations

import logging
import re

from typing_extensions import override

# `/track/` then the token: everything up to the next path, query or fragment separator, or
# the end of the URL in a log line (a space or a quote).
TRACKING_PATH = re.compile(r"(/track/)[^/?#\s\"']+")
REDACTED = "[redacted]"


def redact_tracking_tokens(text: str) -> str:
    return TRACKING_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactTrackingTokens(logging.Filter):
    """A logging filter: the record's message, formatted, with every tracking token redacted."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tracking_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
