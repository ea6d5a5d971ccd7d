"""The house rules a reviewer would otherwise have to remember, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django_tasks.base import Task

from lockstep.core.txn import task_at

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


def _modules() -> list[Path]:
    return [path for path in _sources() if path.suffix == ".py"]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


FUNCTION_MAX_LINES = 50
# The demo builds a whole world in a few long, flat scripts; migrations are generated.
LONG_FUNCTIONS_ALLOWED = (ROOT / "demo",)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_longer_than_fifty_lines(path: Path) -> None:
    """From `def` to its last line; a longer function is split where its steps are."""
    if path.is_relative_to(LONG_FUNCTIONS_ALLOWED[0]):
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} (line {node.lineno}): {lines} lines"
        for node in _functions(tree)
        if (lines := (node.end_lineno or node.lineno) - node.lineno + 1) > FUNCTION_MAX_LINES
    ]
    assert not long, f"{path.relative_to(ROOT)}: {long}"


# The command picks the settings before Django loads, so every project import in it waits
# for `_setup_django()`: the module as a whole is the reason.
LAZY_IMPORTS_ALLOWED = {ROOT / "cli.py"}
REASON = re.compile(r"#.*noqa: PLC0415 - \S")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_an_import_inside_a_function_says_why(path: Path) -> None:
    """Imports belong at the top of the module. One inside a function (say, in
    `AppConfig.ready`, before the models are loaded) carries its reason on its line, or follows
    one that does in the same function; an import cycle is never the reason (see the
    acyclic contract in pyproject.toml)."""
    if path in LAZY_IMPORTS_ALLOWED:
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    unexplained = []
    for function in _functions(ast.parse("\n".join(lines))):
        explained = False
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                explained = explained or bool(REASON.search(lines[node.lineno - 1]))
                if not explained:
                    unexplained.append(f"line {node.lineno}")
    assert not unexplained, f"{path.relative_to(ROOT)}: imports without a reason: {unexplained}"


LINKS = ROOT / "core" / "links.py"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_public_urls_are_built_by_the_link_builder(path: Path) -> None:
    """Every address handed out is built on LOCKSTEP_BASE_URL by `core.links`, so where the
    instance lives is decided in one place."""
    if path == LINKS:
        return
    text = path.read_text(encoding="utf-8")
    assert "settings.LOCKSTEP_BASE_URL" not in text, f"{path.relative_to(ROOT)}: use core.links"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_user_actors_are_made_by_actor_for_user(path: Path) -> None:
    """`Actor.for_user(user)` is the one way to act as an account (with its staff flag)."""
    if path == ROOT / "core" / "actor.py":
        return
    text = path.read_text(encoding="utf-8")
    assert "ActorKind.USER" not in text, f"{path.relative_to(ROOT)}: use Actor.for_user(user)"


ENQUEUED = re.compile(r"""on_commit_enqueue\(\s*["']([\w.]+)["']""")
TASK_PATHS = re.compile(r"""^[A-Z_]+ = ["'](lockstep\.[\w.]+\.tasks\.\w+)["']""", re.MULTILINE)


def _task_paths() -> list[tuple[Path, str]]:
    found = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        found += [(path, name) for name in ENQUEUED.findall(text) + TASK_PATHS.findall(text)]
    return found


def test_work_after_commit_names_tasks_of_its_own_app() -> None:
    """Each path given to `core.txn.on_commit_enqueue` names a task, in the app that queues it
    (an app never starts another app's work by name: that would hide a dependency)."""
    paths = _task_paths()
    assert paths, "no module queues work after commit any more: update this test"
    for path, name in paths:
        assert isinstance(task_at(name), Task), name
        app = path.relative_to(ROOT).parts[0]
        assert name.startswith(f"lockstep.{app}."), f"{path.relative_to(ROOT)} queues {name}"


MAIL_SPEC_HOME = ROOT / "mailgw" / "outbound" / "outbox.py"  # where MailSpec is defined


def _mail_specs(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "MailSpec"
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_mail_is_built_by_the_builders_in_emails_modules(path: Path) -> None:
    """Each message has one builder in its app's `emails.py`, which renders its words from
    `templates/email/<name>/` (`mailgw.outbound.templates.render_mail`): no `MailSpec`
    anywhere else, and none whose subject or body is spelled out in Python."""
    if path == MAIL_SPEC_HOME:
        return
    specs = _mail_specs(ast.parse(path.read_text(encoding="utf-8")))
    if path.name != "emails.py":
        assert not specs, f"{path.relative_to(ROOT)} builds mail outside an emails.py builder"
    spelled = [
        f"line {spec.lineno}: {keyword.arg}"
        for spec in specs
        for keyword in spec.keywords
        if keyword.arg in {"subject", "body"}
        and isinstance(keyword.value, ast.JoinedStr | ast.BinOp | ast.Constant)
    ]
    assert not spelled, f"{path.relative_to(ROOT)}: mail text belongs in templates: {spelled}"
