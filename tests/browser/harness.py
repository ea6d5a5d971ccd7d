"""The browser harness: Debian's Chromium (headless, through Playwright) on a real
`lockstep serve --demo`, every page watched while a journey uses it.

A `Watched` page (one browser context at one viewport width) fails the test on

* a console error or an uncaught script error (a CSP violation is a console error),
* an answer of 400 or more to any request (a page, a form post, a script, a style, an image),
  except what the journey declares (`goto(..., status=404)`, `allow(404, "/cases/")`),
* a page wider than the viewport (`document.documentElement.scrollWidth > innerWidth`),
* an axe-core violation of impact "serious" or "critical" (axe-core is the npm package pinned
  in tests/browser/package-lock.json, which `python3 run.py test` installs; it is injected
  into the page through the DevTools protocol, so the page's CSP stays as it is),

and after every navigation and form submission it measures the width, runs axe and keeps a
screenshot: test-artifacts/browser/<journey>/<width>px/NN-<label>.png, with `widths.json`
(each page's scrollWidth) and `axe.json` (every violation, minor ones too) beside them.

A journey (the fixtures `demo` and `pages` come from tests/browser/conftest.py):

    pytestmark = BROWSER

    @pytest.mark.parametrize("width", WIDTHS)
    def test_vendor_sets_a_status(pages: Pages, width: int) -> None:
        vendor = pages.open("vendor", width=width, login="ana@northwind.example")
        vendor.goto("/cases/")
        vendor.follow("Infinite loop in quokka_scan()")
        vendor.submit("#status-form", {"status": "fix_ready", "statement": "Built."})
        expect(vendor.page.locator("#statuses")).to_contain_text("Fix ready")

`demo` is one `lockstep serve --demo` per test module (its journeys share the world).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    APIResponse,
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Response,
    sync_playwright,
)

from tests.flows.test_serve import serving, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "quokka-demo-password"  # lockstep.demo.world: demo accounts only

DESKTOP, PHONE = 1280, 390
WIDTHS = (DESKTOP, PHONE)
HEIGHTS = {DESKTOP: 800, PHONE: 844}
FAILING_IMPACTS = frozenset({"serious", "critical"})

BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install chromium); CI installs it",
    ),
]

FieldValue = str | bool | Path | list[Path]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "page"


@dataclass(frozen=True)
class Demo:
    """A running `lockstep serve --demo`: its address, data folder and log."""

    base: str
    data: Path
    log: Path


@dataclass
class Measure:
    label: str
    url: str
    scroll_width: int
    viewport: int


@dataclass
class Watched:
    """One page at one width, watched (see the module's docstring)."""

    page: Page
    base: str
    journey: str
    width: int
    problems: list[str] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    allowed: list[tuple[int, str]] = field(default_factory=list)
    step: int = 0

    def __post_init__(self) -> None:
        self.folder = ARTIFACTS / self.journey / f"{self.width}px"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.iterdir():
            old.unlink()
        self.axe_log: list[dict[str, object]] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("response", self._response)
        self.page.on("dialog", self._dialog)

    # What is watched.

    def _is_allowed(self, status: int, url: str) -> bool:
        return any(status == code and part in url for code, part in self.allowed)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        # Chromium repeats every failed load on the console; the answer itself is judged.
        if message.text.startswith("Failed to load resource: the server responded"):
            return
        self.problems.append(f"console error on {self.page.url} ({where}): {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_allowed(response.status, response.url):
            method = response.request.method
            self.problems.append(f"{response.status} for {method} {response.url}")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()  # a `data-confirm` form asks first: the journey means to go on

    def allow(self, status: int, url_part: str) -> None:
        """Answers `status` to URLs containing `url_part` are expected, not failures."""
        self.allowed.append((status, url_part))

    # Acting.

    def url_of(self, path: str) -> str:
        return path if "://" in path else f"{self.base}{path}"

    def goto(self, path: str, *, status: int = 200, label: str = "") -> Response:
        """Open `path` (or a full URL), expect `status`, then check the page."""
        url = self.url_of(path)
        if status >= 400:
            self.allow(status, url)
        response = self.page.goto(url)
        assert response is not None, url
        assert response.status == status, f"{url}: {response.status}, expected {status}"
        self.check(label or path)
        return response

    def follow(self, link: str | Locator, *, label: str = "") -> None:
        """Click a link (its accessible name, exact, or a locator) and check where it leads."""
        target = (
            self.page.get_by_role("link", name=link, exact=True).first
            if isinstance(link, str)
            else link
        )
        with self.page.expect_navigation() as navigation:
            target.click()
        response = navigation.value
        assert response is not None
        assert response.ok or self._is_allowed(response.status, response.url), (
            f"{response.url}: {response.status}"
        )
        self.check(label or (link if isinstance(link, str) else urlsplit(self.page.url).path))

    def submit(
        self,
        form: str,
        fields: Mapping[str, FieldValue] | None = None,
        *,
        button: str = "",
        status: int | None = None,
        label: str = "",
    ) -> Response:
        """Fill `fields` of the form that `form` selects (a key is a field's name, or a
        selector if it starts with # . or [), press its submit button (or `button`), and
        expect the answer (after redirects) to be below 400, or exactly `status`."""
        scope = self.page.locator(form).first
        for key, value in (fields or {}).items():
            selector = key if key[:1] in "#.[" else f"[name='{key}']"
            self._fill(scope.locator(selector).first, value)
        trigger = scope.locator(button or "[type=submit], button:not([type])").first
        if status is not None and status >= 400:
            self.allow(status, scope.evaluate("f => f.action"))
        with self.page.expect_navigation() as navigation:
            trigger.click()
        response = navigation.value
        assert response is not None, form
        if status is None:
            assert response.status < 400, f"{form} → {response.url}: {response.status}"
        else:
            assert response.status == status, f"{form} → {response.status}, expected {status}"
        self.check(label or f"{form} sent")
        return response

    @staticmethod
    def _fill(target: Locator, value: FieldValue) -> None:
        tag = target.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            target.select_option(str(value))
        elif isinstance(value, bool):
            target.set_checked(value)
        elif isinstance(value, Path | list):
            target.set_input_files(value)
        else:
            target.fill(value)

    def fetch(self, path: str, *, content_type: str = "") -> APIResponse:
        """GET a non-HTML resource (a feed, an export, a key) with this page's cookies."""
        url = self.url_of(path)
        answer = self.page.context.request.get(url)
        assert answer.status == 200, f"{url}: {answer.status}"
        assert content_type in answer.headers.get("content-type", ""), answer.headers
        return answer

    # Checking.

    def check(self, label: str) -> None:
        """Width, axe, screenshot; then fail with everything noticed since the last check."""
        self.page.wait_for_load_state("load")
        self.step += 1
        name = f"{self.step:02d}-{_slug(label)}"
        self._measure(label)
        self._axe(name)
        self.page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        self._write_logs()
        problems, self.problems = self.problems, []
        assert not problems, f"{self.journey} at {self.width}px, {label}:\n" + "\n".join(problems)

    def _measure(self, label: str) -> None:
        scroll, inner = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        self.measures.append(Measure(label, self.page.url, scroll, inner))
        if scroll > inner:
            wide = self.page.evaluate(WIDEST_ELEMENTS, inner)
            self.problems.append(
                f"{self.page.url} is {scroll}px wide in a {inner}px viewport; "
                f"too wide: {'; '.join(wide)}"
            )

    def _axe(self, name: str) -> None:
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: python3 run.py install (or npm ci in tests/browser)")
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(_axe_source())
        results = self.page.evaluate("async () => await axe.run(document)")
        for violation in results["violations"]:
            nodes = [", ".join(node["target"]) for node in violation["nodes"]]
            self.axe_log.append(
                {
                    "step": name,
                    "url": self.page.url,
                    "id": violation["id"],
                    "impact": violation["impact"],
                    "help": violation["help"],
                    "nodes": nodes,
                }
            )
            if violation["impact"] in FAILING_IMPACTS:
                self.problems.append(
                    f"axe {violation['impact']} {violation['id']} on {self.page.url}: "
                    f"{violation['help']} ({'; '.join(nodes[:5])})"
                )

    def _write_logs(self) -> None:
        widths = [m.__dict__ for m in self.measures]
        (self.folder / "widths.json").write_text(json.dumps(widths, indent=1))
        (self.folder / "axe.json").write_text(json.dumps(self.axe_log, indent=1))


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


# The elements that stick out of the viewport, deepest first: what to fix.
WIDEST_ELEMENTS = """(limit) => {
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    const out = (e) => e.getBoundingClientRect().right > limit + 1;
    if (out(el) && ![...el.children].some(out)) {
      const id = el.id ? '#' + el.id : '';
      const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
      found.push(el.tagName.toLowerCase() + id + cls + ' (' + Math.round(box.right) + 'px)');
    }
  }
  return found.slice(0, 8);
}"""


class Pages:
    """Opens watched pages on the demo; closes them (and reports what is left) at the end."""

    def __init__(self, browser: Browser, demo: Demo) -> None:
        self.browser = browser
        self.demo = demo
        self.opened: list[tuple[BrowserContext, Watched]] = []

    def open(self, journey: str, *, width: int, login: str = "") -> Watched:
        """A fresh browser context at `width`, signed in as the demo account `login` if given.
        `journey` names its screenshot folder: one journey name per test and width."""
        context = self.browser.new_context(
            viewport={"width": width, "height": HEIGHTS.get(width, 900)},
            timezone_id="Europe/Berlin",
        )
        watched = Watched(context.new_page(), self.demo.base, journey, width)
        self.opened.append((context, watched))
        if login:
            log_in(watched, login)
        return watched

    def close(self) -> None:
        left = [problem for _context, watched in self.opened for problem in watched.problems]
        for context, _watched in self.opened:
            context.close()
        assert not left, "noticed after the last check:\n" + "\n".join(left)


def log_in(watched: Watched, email: str, password: str = DEMO_PASSWORD) -> None:
    watched.goto("/login/", label="login")
    watched.submit(
        "form[action='/login/']",
        {"login": email, "password": password},
        label=f"signed in as {email}",
    )
    assert watched.page.url == f"{watched.base}/", watched.page.url


# Fixtures (tests/browser/conftest.py makes them available to every browser test).


@pytest.fixture(scope="module")  # not longer: one sync Playwright at a time per process
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One `lockstep serve --demo` for the journeys of a test module."""
    tmp = tmp_path_factory.mktemp("demo")
    with serving(tmp, ["--demo"]) as (_process, base, folder):
        wait_healthy(base)
        yield Demo(base=base, data=folder / "data", log=folder / "serve.log")


@pytest.fixture
def pages(chromium: Browser, demo: Demo) -> Iterator[Pages]:
    opened = Pages(chromium, demo)
    try:
        yield opened
    finally:
        opened.close()
