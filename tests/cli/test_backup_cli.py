"""`peerboard backup | restore | export` as an operator runs them: a real subprocess on a
real database file; every refusal is one line, exits non-zero and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import sqlite3
from pathlib import Path

from bot.bootstrap import build_services
from bot.db.backup import RunLock
from bot.domain.model import Actor
from tests.cli.test_cli import GOOD_TOKEN, assert_no_traceback, peerboard

GUILD = 4242


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def create_tasks(path: Path, *titles: str) -> None:
    async def go() -> None:
        runtime = build_services(url_of(path))
        try:
            for title in titles:
                await runtime.services.tasks.create(Actor(GUILD, 1, is_maintainer=True), title)
        finally:
            await runtime.close()

    asyncio.run(go())


def titles_in(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [t for (t,) in conn.execute("SELECT title FROM tasks ORDER BY number")]


def one_line(result: object) -> str:
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, result.stderr  # type: ignore[attr-defined]
    return lines[0]


def test_backup_export_and_restore_drill(tmp_path: Path) -> None:
    db = tmp_path / "data" / "peerboard.db"
    env = {"PEERBOARD_DATABASE_URL": url_of(db)}
    assert peerboard(tmp_path, "migrate", **env).returncode == 0
    create_tasks(db, "Fix the footer", "=cmd|' /C calc'!A0")

    result = peerboard(tmp_path, "backup", "board.db", **env)
    assert result.returncode == 0, result.stderr
    assert "Backed up the database to board.db" in result.stdout
    assert titles_in(tmp_path / "board.db") == ["Fix the footer", "=cmd|' /C calc'!A0"]

    result = peerboard(
        tmp_path, "export", "--guild", str(GUILD), "--format", "csv", "--output", "t.csv", **env
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert [r[0] for r in rows] == ["title", "Fix the footer", "'=cmd|' /C calc'!A0"]
    result = peerboard(tmp_path, "export", "--guild", str(GUILD), **env)
    assert result.returncode == 0, result.stderr
    board = json.loads(result.stdout)
    assert board["format_version"] == 1 and len(board["tasks"]) == 2

    create_tasks(db, "Written after the backup")
    result = peerboard(tmp_path, "restore", "board.db", **env)
    assert result.returncode == 0, result.stderr
    assert "Restored the database from board.db" in result.stdout
    assert titles_in(db) == ["Fix the footer", "=cmd|' /C calc'!A0"]
    [kept] = list((tmp_path / "data").glob("peerboard.db.before-restore-*"))
    assert titles_in(kept)[-1] == "Written after the backup"


def test_restore_and_a_second_run_are_refused_while_a_bot_runs(tmp_path: Path) -> None:
    db = tmp_path / "data" / "peerboard.db"
    env = {"PEERBOARD_DATABASE_URL": url_of(db)}
    assert peerboard(tmp_path, "migrate", **env).returncode == 0
    create_tasks(db, "Fix the footer")
    assert peerboard(tmp_path, "backup", "board.db", **env).returncode == 0
    create_tasks(db, "Write the FAQ")
    with RunLock(db) as running:
        assert running.acquire()  # as `peerboard run` holds it
        result = peerboard(tmp_path, "restore", "board.db", **env)
        assert result.returncode == 1
        assert_no_traceback(result)
        assert "A bot is running on" in one_line(result)
        result = peerboard(tmp_path, "run", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN, **env)
        assert result.returncode == 2
        assert_no_traceback(result)
        assert "Another Peerboard is already running on" in one_line(result)
    assert titles_in(db) == ["Fix the footer", "Write the FAQ"]


def test_refusals_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "peerboard.db"
    env = {"PEERBOARD_DATABASE_URL": url_of(db)}
    assert peerboard(tmp_path, "migrate", **env).returncode == 0
    create_tasks(db, "Fix the footer")
    assert peerboard(tmp_path, "backup", "board.db", **env).returncode == 0
    with contextlib.closing(sqlite3.connect(tmp_path / "board.db")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
        conn.commit()
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 50)
    (tmp_path / "empty.db").write_bytes(b"")
    create_tasks(db, "Write the FAQ")
    for args, needle in (
        (("restore", "board.db"), "written by a newer Peerboard"),
        (("restore", "junk.db"), "is not a SQLite database"),
        (("restore", "empty.db"), "is empty"),
        (("restore", "missing.db"), "There is no backup at"),
        (("backup", "no/such/folder/b.db"), "does not exist"),
        (("export", "--guild", "77", "--output", "x.json"), "holds nothing of guild 77"),
    ):
        result = peerboard(tmp_path, *args, **env)
        assert result.returncode == 1, (args, result.stdout)
        assert_no_traceback(result)
        assert needle in one_line(result), (args, result.stderr)
    assert titles_in(db) == ["Fix the footer", "Write the FAQ"]
    assert not list((tmp_path / "data").glob("*.before-restore-*"))
    assert not (tmp_path / "x.json").exists()
