"""Releases: one version (pyproject.toml, read back from the package metadata), a changelog
that names it, and requirements.lock covering every dependency at the installed version."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mailguard.app.cli import main
from tests.docs_support import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]


def locked() -> dict[str, str]:
    """requirements.lock as {canonical name: version}."""
    pins: dict[str, str] = {}
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"requirements.lock: not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def declared() -> list[Requirement]:
    """The runtime and dev dependencies of pyproject.toml."""
    project = PYPROJECT["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def installed_closure() -> dict[str, str]:
    """Every distribution the declared dependencies pull in (markers and extras evaluated),
    with its installed version."""
    found: dict[str, str] = {}
    todo = declared()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found and not requirement.extras:
            continue
        dist = metadata.distribution(requirement.name)
        found[name] = dist.version
        extras = requirement.extras or {""}
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                todo.append(needed)
    return found


def test_the_version_is_pyproject_s_read_from_the_package_metadata(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert metadata.version("mailguard") == VERSION
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"mailguard {VERSION}"


def test_the_changelog_keeps_a_changelog_and_names_the_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "[Unreleased]"
    for heading in headings[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", heading), heading
    assert f"## [{VERSION}] - " in text, f"CHANGELOG.md has no section for {VERSION}"
    for section in re.findall(r"^### (.+)$", text, re.M):
        assert section in {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run scripts/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, pyproject.toml asks {requirement}"
        )


def test_what_is_installed_is_what_the_lock_says() -> None:
    pins = locked()
    wrong = {
        name: (version, pins.get(name))
        for name, version in installed_closure().items()
        if pins.get(name) != version
    }
    assert not wrong, f"installed vs requirements.lock (run scripts/bootstrap.sh): {wrong}"


def test_the_image_ci_and_development_install_from_the_lock() -> None:
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    assert '-c "$ROOT/requirements.lock"' in bootstrap
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml README.md LICENSE requirements.lock" in dockerfile
    assert re.search(r"pip install [^\n]*-c requirements\.lock", dockerfile)
