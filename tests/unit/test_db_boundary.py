"""What keeps the database behind its repositories: no service or job touches a session
(or anything SQLAlchemy but its exceptions), and only bot/db/dialect.py tells SQLite
and PostgreSQL apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
BACKENDS = {"sqlite", "postgresql", "postgres"}


def sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (BOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("services", "jobs"), ids=lambda p: p.name)
def test_services_and_jobs_never_touch_a_session(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    found = [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("session", "repo")
    ]
    found += [
        f"line {node.lineno}: import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if (getattr(node, "module", None) or alias.name).split(".")[0] == "sqlalchemy"
        and (getattr(node, "module", None) or alias.name) != "sqlalchemy.exc"
    ]
    assert not found, f"{path.relative_to(BOT.parent)} reaches past the repositories: {found}"


@pytest.mark.parametrize("path", sources("."), ids=lambda p: str(p.relative_to(BOT)))
def test_only_the_dialect_module_names_a_backend(path: Path) -> None:
    if path == BOT / "db" / "dialect.py":
        return
    tree = ast.parse(path.read_text(), str(path))
    found = [
        f"line {node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.lower() in BACKENDS
    ]
    assert not found, f"{path.relative_to(BOT.parent)} switches on the backend: {found}"
