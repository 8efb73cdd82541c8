"""`peerboard check`, `run` and `migrate` refuse a database they cannot trust, in one line.

Each damaged database is refused before anything opens it for writing: one line on
stderr, a non-zero exit, and the file (and its folder) exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.db.migrate import downgrade
from tests.cli.test_cli import GOOD_TOKEN, assert_no_traceback, free_port, peerboard


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board at the code's revision, with its WAL folded into the file."""
    folder = tmp_path_factory.mktemp("migrated")
    result = peerboard(folder, "migrate", PEERBOARD_DATABASE_URL=url_of(folder / "peerboard.db"))
    assert result.returncode == 0, result.stderr
    return folder / "peerboard.db"


def copy_of(migrated: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / "peerboard.db"
    target.parent.mkdir()
    shutil.copyfile(migrated, target)
    return target


def bit_flipped(migrated: Path, tmp_path: Path) -> Path:
    """Flip the header bytes of the tasks table's page: the file still opens and says its
    schema version, but its b-tree is broken (what a failing disk or a torn copy leaves)."""
    path = copy_of(migrated, tmp_path, "flipped")
    with sqlite3.connect(path) as conn:
        [(root,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'tasks'")
        [(page_size,)] = conn.execute("PRAGMA page_size")
    conn.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    for i in range(3, 8):  # cell count and start of the cell content area
        data[start + i] ^= 0xFF
    path.write_bytes(bytes(data))
    with sqlite3.connect(path) as probe:
        assert probe.execute("PRAGMA schema_version").fetchone()  # what passed before
    probe.close()
    return path


def newer(migrated: Path, tmp_path: Path) -> Path:
    path = copy_of(migrated, tmp_path, "newer")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffff9999'")
    conn.close()
    return path


def zero_bytes(_migrated: Path, tmp_path: Path) -> Path:
    path = tmp_path / "empty" / "peerboard.db"
    path.parent.mkdir()
    path.touch()
    return path


def not_a_database(_migrated: Path, tmp_path: Path) -> Path:
    path = tmp_path / "garbage" / "peerboard.db"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database " * 200)
    return path


def a_folder(_migrated: Path, tmp_path: Path) -> Path:
    path = tmp_path / "folder" / "peerboard.db"
    path.mkdir(parents=True)
    return path


@pytest.fixture(params=["file", "folder"])
def immutable(migrated: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A database nobody may write: the file, or the folder SQLite keeps its journal in. As
    root (which ignores file modes), `chattr +i`; as another user, a read-only mode."""
    path = copy_of(migrated, tmp_path, "immutable")
    target = path if request.param == "file" else path.parent
    mode = target.stat().st_mode
    chattr = shutil.which("chattr")
    locked = (
        chattr is not None
        and subprocess.run([chattr, "+i", str(target)], capture_output=True, check=False).returncode
        == 0
    )
    if not locked:
        target.chmod(0o555 if target.is_dir() else 0o444)
    try:
        if os.access(target, os.W_OK):
            pytest.skip("cannot make a file unwritable here (no chattr +i; root ignores modes)")
        yield path
    finally:
        if locked and chattr is not None:
            subprocess.run([chattr, "-i", str(target)], check=True)
        target.chmod(mode)


def state(path: Path) -> tuple[object, ...]:
    """The file's bytes and times, its WAL's bytes, and its folder's listing: all that a
    write would change. (Not the -shm: readers mark their place in it.)"""
    listing = sorted(p.name for p in path.parent.iterdir())
    if path.is_dir():
        return (listing, path.stat().st_mtime_ns)
    stat = path.stat()
    wal = path.with_name(path.name + "-wal")
    logged = wal.read_bytes() if wal.exists() else None
    return (listing, path.read_bytes(), stat.st_mtime_ns, stat.st_size, logged)


CRASH_AFTER_COMMIT = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute(sys.argv[2])
conn.commit()
os._exit(0)  # a bot killed after its commit: the commit lives only in the -wal
"""


def crashed_after(path: Path, statement: str) -> Path:
    """Commit `statement` in a process that dies before SQLite copies its WAL back."""
    subprocess.run([sys.executable, "-c", CRASH_AFTER_COMMIT, str(path), statement], check=True)
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    return path


def refusal(tmp_path: Path, command: str, path: Path) -> str:
    """Run `command` on `path`; assert it refused in one line and wrote nothing."""
    before = state(path)
    port = free_port()  # should `run` get past the database, Discord is not there
    result = peerboard(
        tmp_path,
        command,
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DATABASE_URL=url_of(path),
        PEERBOARD_DISCORD_API_BASE=f"http://127.0.0.1:{port}",
        PEERBOARD_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}",
        PEERBOARD_LOG_LEVEL="WARNING",
    )
    assert result.returncode != 0, (command, path, result.stdout, result.stderr)
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (command, result.stderr)
    assert result.stdout == "", (command, result.stdout)
    assert state(path) == before, (command, "the database or its folder changed")
    assert GOOD_TOKEN not in result.stderr
    return lines[0]


DAMAGED: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "bit-flipped": (bit_flipped, "damaged"),
    "zero bytes": (zero_bytes, "0 bytes"),
    "a folder": (a_folder, "a folder"),
    "not a database": (not_a_database, "not a SQLite database"),
}


@pytest.mark.parametrize("kind", DAMAGED)
@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_a_damaged_database_is_refused_in_one_line(
    migrated: Path, tmp_path: Path, kind: str, command: str
) -> None:
    make, words = DAMAGED[kind]
    path = make(migrated, tmp_path)
    line = refusal(tmp_path, command, path)
    assert line.startswith("PEERBOARD_DATABASE_URL: cannot open the database ("), line
    assert words in line, line
    assert str(path) in line, line


@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_an_unwritable_database_is_refused_in_one_line(
    immutable: Path, tmp_path: Path, command: str
) -> None:
    line = refusal(tmp_path, command, immutable)
    assert line.startswith("PEERBOARD_DATABASE_URL: cannot open the database ("), line
    assert "cannot write" in line, line


@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_a_database_from_a_newer_peerboard_is_refused(
    migrated: Path, tmp_path: Path, command: str
) -> None:
    line = refusal(tmp_path, command, newer(migrated, tmp_path))
    assert line == (
        "PEERBOARD_DATABASE_URL: this database was written by a newer Peerboard "
        "(revision ffffffff9999): upgrade Peerboard, or point PEERBOARD_DATABASE_URL "
        "at another database."
    ), line


def test_check_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data" / "peerboard.db"
    result = peerboard(
        tmp_path, "check", PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN, PEERBOARD_DATABASE_URL=url_of(path)
    )
    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stderr.strip().splitlines() == [
        f"PEERBOARD_DATABASE_URL: there is no database at {path} yet: run `peerboard migrate`."
    ]
    assert not (tmp_path / "data").exists()
    # `migrate` (and `run`, which migrates first) still start a new board there.
    assert peerboard(tmp_path, "migrate", PEERBOARD_DATABASE_URL=url_of(path)).returncode == 0
    assert path.is_file() and path.stat().st_size > 0


def test_check_says_an_older_database_needs_migrating_and_changes_nothing(
    migrated: Path, tmp_path: Path
) -> None:
    path = copy_of(migrated, tmp_path, "older")
    downgrade(url_of(path), "-1")
    line = refusal(tmp_path, "check", path)
    assert (
        line == "PEERBOARD_DATABASE_URL: the database is not up to date: run `peerboard migrate`."
    )


NEWER_IN_WAL = "UPDATE alembic_version SET version_num = 'ffffffff9999'"


@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_a_crashed_bots_wal_is_left_as_it_is_when_refused(
    migrated: Path, tmp_path: Path, command: str
) -> None:
    """A refusal does not copy a crashed bot's WAL into the file (closing SQLite's last
    read-write connection would): the newer revision, committed only in the WAL, is read
    and refused, and the file and the WAL stay byte for byte."""
    path = crashed_after(copy_of(migrated, tmp_path, "crashed"), NEWER_IN_WAL)
    line = refusal(tmp_path, command, path)
    assert "written by a newer Peerboard (revision ffffffff9999)" in line, line


@pytest.mark.parametrize("command", ["check", "run", "migrate"])
def test_a_damaged_file_with_a_crashed_bots_wal_is_refused_and_left_as_it_is(
    migrated: Path, tmp_path: Path, command: str
) -> None:
    path = bit_flipped(migrated, tmp_path)
    crashed_after(path, "CREATE TABLE probe (x INTEGER)")
    line = refusal(tmp_path, command, path)
    assert "damaged" in line, line


@pytest.mark.parametrize("command", ["check", "run"])
def test_sqlite_with_shards_for_another_process_is_refused(
    migrated: Path, tmp_path: Path, command: str
) -> None:
    """Shard 1 of 2 leaves shard 0 to a second process, which SQLite cannot share: one line
    that says to use PostgreSQL, and the database as it was."""
    path = copy_of(migrated, tmp_path, "sharded")
    before = state(path)
    port = free_port()
    result = peerboard(
        tmp_path,
        command,
        PEERBOARD_DISCORD_TOKEN=GOOD_TOKEN,
        PEERBOARD_DATABASE_URL=url_of(path),
        PEERBOARD_SHARD_COUNT="2",
        PEERBOARD_SHARD_IDS="1",
        PEERBOARD_DISCORD_API_BASE=f"http://127.0.0.1:{port}",
        PEERBOARD_DISCORD_GATEWAY=f"ws://127.0.0.1:{port}",
        PEERBOARD_LOG_LEVEL="WARNING",
    )
    assert result.returncode != 0, result.stderr
    assert_no_traceback(result)
    assert result.stderr.strip().splitlines() == [
        "PEERBOARD_SHARD_IDS: shards 1 of 2 leave the others to another process, and SQLite "
        "serves one process only: use PostgreSQL "
        "(PEERBOARD_DATABASE_URL=postgresql+asyncpg://…) to run several."
    ]
    assert state(path) == before


def test_sqlite_with_every_shard_in_one_process_is_fine(migrated: Path, tmp_path: Path) -> None:
    path = copy_of(migrated, tmp_path, "every")
    result = peerboard(
        tmp_path,
        "check",
        PEERBOARD_DATABASE_URL=url_of(path),
        PEERBOARD_SHARD_COUNT="2",
        PEERBOARD_SHARD_IDS="0,1",
    )
    assert "PEERBOARD_SHARD_IDS" not in result.stderr, result.stderr
    assert "SQLite" not in result.stderr, result.stderr
