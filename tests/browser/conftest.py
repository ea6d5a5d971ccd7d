"""The browser harness's fixtures (tests/browser/harness.py): `chromium`, `demo`, `pages`."""

from tests.browser.harness import chromium, demo, pages

__all__ = ["chromium", "demo", "pages"]
