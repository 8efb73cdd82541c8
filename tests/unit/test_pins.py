"""constraints.txt pins what Peerboard is tested with, and cannot rot silently: it pins every
distribution that pyproject's requirements (with the test and demo extras) pull in, each
within pyproject's range, nothing else, and this environment has exactly those versions."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REINSTALL = 'reinstall: .venv/bin/pip install -c constraints.txt -e ".[test]"'


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: not an exact pin: {line!r}"
            found[canonicalize_name(name)] = version.strip()
    return found


def requirements() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *extras["test"], *extras["demo"]]]


def wanted(requirement: Requirement, extras: Iterable[str]) -> bool:
    marker = requirement.marker
    return marker is None or any(marker.evaluate({"extra": e}) for e in ("", *extras))


def closure(roots: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull in here, with its installed version."""
    installed: dict[str, str] = {}
    todo: list[tuple[Requirement, tuple[str, ...]]] = [(r, ()) for r in roots]
    seen: set[tuple[str, str]] = set()
    while todo:
        requirement, parent_extras = todo.pop()
        if not wanted(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = tuple(sorted(requirement.extras))
        keys = {(name, e) for e in ("", *extras)}
        if keys <= seen:
            continue
        seen |= keys
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{requirement} is not installed; {REINSTALL}") from None
        installed[name] = dist.version
        todo += [(Requirement(r), extras) for r in dist.requires or ()]
    return installed


def test_the_pins_are_exact_where_pyproject_says_so() -> None:
    exact: dict[str, str] = {canonicalize_name(r.name): str(r.specifier) for r in requirements()}
    assert exact["discord-py"] == "==2.7.1"
    assert exact["simcord"] == "==3.2.1"


def test_every_requirement_is_pinned_within_its_range() -> None:
    pinned = pins()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside pyproject's {requirement}"
        )


def test_the_environment_is_the_pinned_one() -> None:
    pinned = pins()
    installed = closure(requirements())
    unpinned = sorted(set(installed) - set(pinned))
    assert not unpinned, f"pulled in but not pinned in constraints.txt: {unpinned}"
    left_over = sorted(set(pinned) - set(installed))
    assert not left_over, f"pinned but no longer required, remove: {left_over}"
    differ = {n: (v, pinned[n]) for n, v in installed.items() if v != pinned[n]}
    assert not differ, f"installed vs pinned: {differ}; {REINSTALL}"


def test_the_readme_installs_the_pinned_versions() -> None:
    readme = (ROOT / "README.md").read_text()
    installs = [line for line in readme.splitlines() if "/pip install" in line]
    assert len(installs) >= 3  # the demo, the tests (.ci/run runs it), running it for real
    for line in installs:
        assert "-c constraints.txt" in line, line
