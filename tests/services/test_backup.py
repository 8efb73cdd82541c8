"""`peerboard backup` / `restore` on a real SQLite file: a copy taken while writers commit
keeps every row committed before it began; a restore drill gives back the backup's state;
restore refuses a running bot, a damaged file and a newer Peerboard's database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.backup import BackupError, RunLock, backup, restore, sqlite_path
from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import head_revision, known_revisions
from bot.db.uow import Database
from bot.domain.errors import Busy
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.services.helpers import maint, member

WRITERS = 4


@pytest.fixture
async def tasks(sqlite_url: str, clock: ManualClock) -> AsyncIterator[TaskService]:
    engine = create_engine(sqlite_url)
    try:
        yield TaskService(Database(create_session_factory(engine)), clock)
    finally:
        await engine.dispose()


def db_file(url: str) -> Path:
    path = sqlite_path(url)
    assert path is not None
    return path


def numbers_in(path: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {n for (n,) in conn.execute("SELECT number FROM tasks")}


def state_of(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in rowid order (alembic_version included)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}


def journal_mode(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def test_a_backup_while_writers_commit_keeps_every_committed_row(
    tasks: TaskService, sqlite_url: str, tmp_path: Path
) -> None:
    committed: list[int] = []
    stop = asyncio.Event()
    warmed = asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            try:
                result = await tasks.create(maint(), f"Writer {n} task {i}", description="x" * 1500)
            except Busy:  # four writers on a loaded machine: nothing committed, go again
                continue
            committed.append(result.task.number)
            i += 1
            if len(committed) >= 200:
                warmed.set()

    writers = [asyncio.create_task(writer(n)) for n in range(WRITERS)]
    await warmed.wait()
    copies: list[tuple[set[int], Path, int]] = []
    # Back up again and again (a bounded number of times) until several copies were taken
    # while commits landed: how many land during one copy is up to the scheduler.
    for attempt in range(60):
        if sum(1 for _b, _t, during in copies if during) >= 3:
            break
        before = set(committed)  # committed before this backup began
        target = tmp_path / f"backup-{attempt}.db"
        result = await asyncio.to_thread(backup, sqlite_url, target)
        during = len(committed) - len(before)
        copies.append((before, target, during))
        assert result.revision == head_revision()
    stop.set()
    await asyncio.gather(*writers)

    lost = [len(before - numbers_in(target)) for before, target, _during in copies]
    assert lost == [0] * len(copies), f"rows lost per backup: {lost}"
    assert all(integrity(target) == "ok" for _b, target, _d in copies)
    # Each backup is one file: no -wal beside it holding part of the data.
    assert all(journal_mode(target) == "delete" for _b, target, _d in copies)
    # The writers really committed while copies were taken.
    assert sum(1 for _b, _t, during in copies if during) >= 3
    assert len(numbers_in(db_file(sqlite_url))) == len(committed)


async def test_restore_drill_gives_back_the_backup_and_keeps_what_was_there(
    tasks: TaskService, sqlite_url: str, tmp_path: Path
) -> None:
    for title in ("Fix the footer", "Write the FAQ", "Translate the guide"):
        await tasks.create(maint(), title)
    await tasks.claim(member(7), 1)
    saved = tmp_path / "saved.db"
    backup(sqlite_url, saved)
    expected = state_of(saved)

    await tasks.create(maint(), "Written after the backup")
    await tasks.cancel(maint(), 2, "Not needed")
    live = db_file(sqlite_url)
    assert state_of(live) != expected

    result = restore(sqlite_url, saved, known_revisions())
    assert result.revision == head_revision()
    assert state_of(live) == expected
    assert integrity(live) == "ok"
    # The database as it was before the restore is kept, whole.
    assert result.saved_as is not None and numbers_in(result.saved_as) == {1, 2, 3, 4}
    # The bot carries on from the restored state.
    after = await tasks.create(maint(), "After the restore")
    assert after.task.number == 4


async def test_restore_refuses_while_a_bot_runs_on_the_database(
    tasks: TaskService, sqlite_url: str, tmp_path: Path
) -> None:
    await tasks.create(maint(), "Fix the footer")
    saved = tmp_path / "saved.db"
    backup(sqlite_url, saved)
    await tasks.create(maint(), "Write the FAQ")
    live = db_file(sqlite_url)
    with RunLock(live) as running:
        assert running.acquire()
        with pytest.raises(BackupError, match=r"A bot is running on .*stop it first"):
            restore(sqlite_url, saved, known_revisions())
    assert numbers_in(live) == {1, 2}
    # A second bot is refused too; once the first stops, the lock is free.
    with RunLock(live) as first:
        assert first.acquire()
        assert not RunLock(live).acquire()
    with RunLock(live) as later:
        assert later.acquire()


def kept_copies(folder: Path) -> list[Path]:
    return list(folder.rglob("*.before-restore-*"))


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, len(data), 4096):  # a stripe through every page but the first
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda p: p.write_bytes(b""), "is empty: it is not a backup"),
        (lambda p: p.write_bytes(b"hello, not a database" * 100), "is not a SQLite database"),
        (damage, "failed its integrity check|is not a SQLite database"),
    ],
    ids=["empty", "not-sqlite", "bit-flipped"],
)
async def test_restore_refuses_a_damaged_backup_and_changes_nothing(
    tasks: TaskService, sqlite_url: str, tmp_path: Path, spoil: object, message: str
) -> None:
    for i in range(30):
        await tasks.create(maint(), f"Task {i}", description="d" * 1000)
    saved = tmp_path / "saved.db"
    backup(sqlite_url, saved)
    assert callable(spoil)
    spoil(saved)
    live = db_file(sqlite_url)
    before = state_of(live)
    with pytest.raises(BackupError, match=message):
        restore(sqlite_url, saved, known_revisions())
    assert state_of(live) == before
    assert not kept_copies(tmp_path)


async def test_restore_refuses_a_newer_peerboards_database(
    tasks: TaskService, sqlite_url: str, tmp_path: Path
) -> None:
    await tasks.create(maint(), "Fix the footer")
    saved = tmp_path / "saved.db"
    backup(sqlite_url, saved)
    with contextlib.closing(sqlite3.connect(saved)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        conn.commit()
    live = db_file(sqlite_url)
    before = state_of(live)
    with pytest.raises(BackupError, match="written by a newer Peerboard"):
        restore(sqlite_url, saved, known_revisions())
    assert state_of(live) == before


async def test_backup_refuses_to_overwrite_the_database_or_write_nowhere(
    sqlite_url: str, tmp_path: Path
) -> None:
    live = db_file(sqlite_url)
    with pytest.raises(BackupError, match="must not overwrite the database"):
        backup(sqlite_url, live)
    with pytest.raises(BackupError, match="does not exist"):
        backup(sqlite_url, tmp_path / "no" / "such" / "folder.db")
    with pytest.raises(BackupError, match="no database at"):
        backup(f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}", tmp_path / "copy.db")
    assert integrity(live) == "ok"


def test_postgresql_restore_and_a_failing_pg_dump_are_one_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://peerboard:s3cret@127.0.0.1:1/peerboard"
    with pytest.raises(BackupError, match=r"^Restore a PostgreSQL backup with pg_restore"):
        restore(url, tmp_path / "board.dump", known_revisions())
    with pytest.raises(BackupError) as failed:
        backup(url, tmp_path / "board.dump")
    message = str(failed.value)
    assert message.startswith(("pg_dump failed:", "Backing up PostgreSQL needs pg_dump"))
    assert "\n" not in message and "s3cret" not in message
    assert not list(tmp_path.iterdir())  # no partial file left behind
