"""run.py: `serve` installs the runtime alone, `test` adds the development tools."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import tomllib
from pathlib import Path

import run

ROOT = Path(__file__).resolve().parents[2]


def test_serve_installs_lockstep_without_the_development_tools() -> None:
    argv = run.pip_install_argv(run.EXTRAS["serve"])
    assert argv[-2:] == ["-e", "."]
    assert ["-c", str(run.CONSTRAINTS)] == argv[-4:-2]
    assert not any("dev" in part for part in argv)


def test_test_and_install_add_the_development_tools() -> None:
    assert run.pip_install_argv(run.EXTRAS["test"])[-1] == ".[dev]"
    assert run.pip_install_argv(run.EXTRAS["install"])[-1] == ".[dev]"


def test_a_development_install_serves_but_a_runtime_install_does_not_test() -> None:
    runtime, dev = run._fingerprint(""), run._fingerprint("dev")
    assert run.satisfied_by(dev, run.EXTRAS["serve"])
    assert run.satisfied_by(runtime, run.EXTRAS["serve"])
    assert not run.satisfied_by(runtime, run.EXTRAS["test"])
    assert not run.satisfied_by("an older pyproject.toml", run.EXTRAS["serve"])


def test_the_development_tools_are_an_extra_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {spec.split("==")[0].split("[")[0].lower() for spec in project["dependencies"]}
    dev = {spec.split("==")[0].lower() for spec in project["optional-dependencies"]["dev"]}
    assert {"pytest", "mypy", "ruff", "playwright"} <= dev
    assert not runtime & dev


def test_supported_pythons_match_requires_python() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert run.SUPPORTED_PYTHONS == ((3, 11), (3, 12), (3, 13))
    classifiers = {c for c in project["classifiers"] if c.startswith("Programming Language")}
    assert classifiers >= {f"Programming Language :: Python :: 3.{minor}" for minor in (11, 12, 13)}


def _npm_tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_browser_tools_are_pinned_with_their_checksum_and_unpacked_alone(tmp_path: Path) -> None:
    lock = json.loads((run.BROWSER_TOOLS / "package-lock.json").read_text())
    axe = lock["packages"]["node_modules/axe-core"]
    assert axe["integrity"].startswith("sha512-")
    package = json.loads((run.BROWSER_TOOLS / "package.json").read_text())
    assert package["devDependencies"] == {"axe-core": axe["version"]}  # exact, no range
    assert run.npm_tarball_url("axe-core", "4.14.1") == (
        "https://registry.npmjs.org/axe-core/-/axe-core-4.14.1.tgz"
    )
    data = _npm_tarball(
        {"package/axe.min.js": b"axe", "package/../escape.js": b"no", "other/x.js": b"no"}
    )
    assert (
        run.integrity_of(data)
        == "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    )
    target = tmp_path / "node_modules" / "axe-core"
    run.unpack_npm_tarball(data, target)
    assert sorted(p.name for p in target.rglob("*")) == ["axe.min.js"]
    assert not (tmp_path / "node_modules" / "escape.js").exists()
