"""A wheel, not the checkout: build it, install it into a fresh virtual environment, and run
`peerboard migrate` and `peerboard check` from an empty folder.

The fresh environment gets the wheel alone (`--no-deps`, no index); the dependencies come
from this test run's environment through a plain path line in a .pth file. Python adds such
a path to sys.path but runs no .pth file inside it, so the editable install of the checkout
(a finder that a .pth file there installs) stays out: `bot` is imported from the wheel,
which the test checks. Building the wheel needs setuptools in pip's isolated build
environment, as `pip install -e .` does.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import bot.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)

ROOT = Path(__file__).resolve().parents[2]
# The shape of a real bot token, made up (as in test_cli.py).
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def peerboard(self) -> Path:
        return self.venv / "bin" / "peerboard"


def run(
    args: list[str | Path], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("bot", "migrations"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "-q", "--no-deps", "-w", work / "dist", source], env=env)
    [wheel] = (work / "dist").glob("peerboard-*.whl")

    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env=env)
    target = venv / "bin" / "python"
    run([*pip, "--python", target, "install", "-q", "--no-deps", "--no-index", wheel], env=env)
    site = run(
        [target, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env=env
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (Path(site) / "peerboard_test_dependencies.pth").write_text("\n".join(ours) + "\n")
    return Installed(wheel, venv)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **extra}


def test_the_wheel_ships_every_module_and_the_migrations(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "bot").rglob("*.py")}
    assert not sorted(modules - names), "modules missing from the wheel"
    migrations = {
        "bot/_migrations/" + p.relative_to(ROOT / "migrations").as_posix()
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {"bot/_migrations/env.py", "bot/_migrations/script.py.mako"} <= migrations
    assert not sorted(migrations - names), "migrations missing from the wheel"


def test_an_installed_wheel_migrates_and_checks_from_an_empty_folder(
    installed: Installed, tmp_path: Path
) -> None:
    empty = tmp_path / "anywhere"
    empty.mkdir()
    db = tmp_path / "db" / "peerboard.db"
    env = clean_env(tmp_path, PEERBOARD_DATABASE_URL=f"sqlite+aiosqlite:///{db}")

    where = run(
        [installed.python, "-c", "import bot, alembic; print(bot.__file__)"], cwd=empty, env=env
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), "bot came from elsewhere"

    migrated = run([installed.peerboard, "migrate"], cwd=empty, env=env)
    assert migrated.stdout.strip() == "Database is up to date."
    checked = run(
        [installed.peerboard, "check"], cwd=empty, env={**env, "PEERBOARD_DISCORD_TOKEN": TOKEN}
    )
    assert checked.stdout.strip() == "Settings, database and token look fine."
    assert TOKEN not in checked.stdout + checked.stderr
    assert list(empty.iterdir()) == []  # nothing written to the working folder

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    with sqlite3.connect(db) as conn:
        [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == head
    assert set(SQLModel.metadata.tables) <= tables
