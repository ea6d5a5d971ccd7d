"""Advisories: what publication produces (page, public post, exports) and the public archive."""
