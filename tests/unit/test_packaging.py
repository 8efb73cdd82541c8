"""What the wheel ships, read from pyproject.toml: every package under bot/, and the
migrations inside it; and the Alembic config built in code agrees with `[tool.alembic]`,
which the `alembic` command in the repository reads."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory

from bot.db.migrate import alembic_config, script_location

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def test_every_package_under_bot_is_in_the_wheel() -> None:
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in [ROOT / "bot", *(ROOT / "bot").rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
    }
    missing = sorted(on_disk - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    gone = sorted(p for p in listed - on_disk if not p.startswith("bot._migrations"))
    assert not gone, f"no such package any more, remove from pyproject.toml: {gone}"


def test_the_migrations_folder_is_shipped_as_bot_migrations() -> None:
    setuptools = pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"]["bot._migrations"] == "migrations"
    assert {"bot._migrations", "bot._migrations.versions"} <= set(setuptools["packages"])
    assert setuptools["package-data"]["bot._migrations"] == ["script.py.mako"]
    shipped = {p.name for p in (ROOT / "migrations").iterdir() if p.is_file()}
    assert shipped == {"env.py", "script.py.mako"}, "a new file in migrations/: ship it too"


def test_the_config_in_code_agrees_with_the_alembic_command() -> None:
    cli = pyproject()["tool"]["alembic"]
    config = alembic_config("sqlite+aiosqlite:///unused.db")
    # In a checkout, the code reads the same folder the `alembic` command does.
    assert cli["script_location"] == "%(here)s/migrations"
    assert script_location() == ROOT / "migrations"
    assert config.get_main_option("script_location") == str(ROOT / "migrations")
    assert config.get_main_option("file_template") == cli["file_template"].replace("%%", "%")
    assert ScriptDirectory.from_config(config).file_template == "%(rev)s_%(slug)s"
