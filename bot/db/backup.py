"""`peerboard backup` and `peerboard restore`: consistent copies of a live database.

SQLite. Copying the file (`cp`) while the bot writes loses committed rows: the newest
commits live in the `-wal` file until a checkpoint, and a copy taken mid-write can be
torn. The backup uses SQLite's online backup API (stdlib `sqlite3.Connection.backup`)
in one step, which reads one consistent snapshot under a read transaction: writers go
on committing (WAL), and every row committed before the backup began is in the copy.
The copy is written beside the target, checked with `PRAGMA integrity_check`, and only
then renamed onto the target, so a failed backup never leaves a half file under its name.

PostgreSQL. `pg_dump` (custom format, itself a consistent snapshot) when it is
installed, found in PATH or PostgreSQL's own folders; else one line naming it.

Restore (SQLite). Refused while a bot runs on the database: `peerboard run` holds an
exclusive lock on `<database>.lock` (see `RunLock`) for as long as it runs, and restore
takes the same lock. The file must pass `integrity_check` and carry an Alembic revision
this code knows; a revision newer than the code's is refused. The current database is
kept beside it (`….before-restore-<time>`), then the backup is written into it with the
backup API: one transaction, so readers see the old database or the new, never a mix,
and the WAL is handled by SQLite itself.

Blocking code (sqlite3, subprocess): call it outside an event loop, or in a thread.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from sqlalchemy.engine import make_url

from bot.db import dialect
from bot.db.dialect import POSTGRESQL, SQLITE

try:  # POSIX; on Windows the lock is not taken (a documented limit)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

BUSY_TIMEOUT_S: Final = 30.0
PG_DUMP: Final = "pg_dump"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    revision: str | None


@dataclass(frozen=True, slots=True)
class RestoreResult:
    revision: str | None
    saved_as: Path | None  # the database as it was before the restore


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL; None for another backend or an in-memory one."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != SQLITE or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _open(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
        )
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    """None when `PRAGMA integrity_check` says ok, else its first complaint."""
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except UnicodeDecodeError:  # SQLite's own error quoted the damaged bytes
        return "the file is damaged beyond what the check can describe"
    first = str(rows[0][0]) if rows else "no answer"
    return None if first == "ok" else first


def revision_of(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision a SQLite database is at (None when it has none)."""
    has = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


# -- backup -----------------------------------------------------------------------------


def backup(database_url: str, target: Path) -> BackupResult:
    target = target.expanduser()
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the backup file's path.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    backend = make_url(database_url).get_backend_name()
    if backend == POSTGRESQL:
        return _pg_dump(database_url, target)
    source = sqlite_path(database_url)
    if source is None:
        raise BackupError("Only a database in a file can be backed up.")
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"There is no database at {source} to back up.")
    if source.resolve() == target.resolve():
        raise BackupError("The backup must not overwrite the database itself.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(_open(source, read_only=True)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)  # pages=-1: the whole database in one step, one snapshot
            # One self-contained file (the copy took the source's WAL mode with page 1).
            dst.execute("PRAGMA journal_mode=DELETE")
            problem = integrity_problem(dst)
            revision = revision_of(dst)
        if problem is not None:
            raise BackupError(f"The copy failed its integrity check ({problem}); nothing was kept.")
        os.replace(partial, target)
    except sqlite3.Error as err:
        raise BackupError(f"SQLite could not back up {source}: {err}.") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, revision)


def find_pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _pg_dump(database_url: str, target: Path) -> BackupResult:
    tool = find_pg_tool(PG_DUMP)
    if tool is None:
        raise BackupError(
            "Backing up PostgreSQL needs pg_dump (PostgreSQL's client tools, "
            "e.g. apt install postgresql-client); it is not in PATH."
        )
    url, password = dialect.libpq_url(database_url)
    env = {"PGPASSWORD": password} if password else {}
    partial = target.with_name(f".{target.name}.partial")
    try:
        done = subprocess.run(  # noqa: S603 (our own tool path and the configured URL)
            [tool, "--format=custom", f"--file={partial}", f"--dbname={url}"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise BackupError(f"pg_dump failed: {reason}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, None)


# -- the running bot's lock ---------------------------------------------------------------


class RunLock:
    """An exclusive lock on `<database>.lock`, held by `peerboard run` while it runs and
    by `peerboard restore` while it restores. The operating system drops it when the
    process ends, however it ends, so a crashed bot never leaves a stale lock. Only for
    SQLite; PostgreSQL serves several processes (shards) at once."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another process holds it."""
        if fcntl is None:  # pragma: no cover
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        """Who holds the lock, as far as the file says (its process id)."""
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" (process {pid})" if pid.isdigit() else ""

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


# -- restore ------------------------------------------------------------------------------


def restore(database_url: str, source: Path, known_revisions: set[str]) -> RestoreResult:
    """Replace the database with the backup at `source` (SQLite). `known_revisions`: the
    Alembic revisions this code has scripts for."""
    source = source.expanduser()
    target = sqlite_path(database_url)
    if target is None:
        if make_url(database_url).get_backend_name() == POSTGRESQL:
            raise BackupError(
                "Restore a PostgreSQL backup with pg_restore --clean --dbname=… FILE "
                "while the bot is stopped."
            )
        raise BackupError("Only a database in a file can be restored.")
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    if source.stat().st_size == 0:
        raise BackupError(f"{source} is empty: it is not a backup.")
    revision = _check_backup(source, known_revisions)
    lock = RunLock(target)
    if not lock.acquire():
        raise BackupError(
            f"A bot is running on {target}{lock.holder()}: stop it first, then restore."
        )
    with lock:
        saved: Path | None = None
        if target.is_file() and target.stat().st_size > 0:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            saved = target.with_name(f"{target.name}.before-restore-{stamp}")
            backup(f"sqlite:///{target}", saved)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with (
                contextlib.closing(_open(source, read_only=True)) as src,
                contextlib.closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_S)) as dst,
            ):
                src.backup(dst)  # one transaction on the destination
                dst.execute("PRAGMA journal_mode=WAL")
                problem = integrity_problem(dst)
        except sqlite3.Error as err:
            raise BackupError(f"SQLite could not restore into {target}: {err}.") from None
        if problem is not None:  # pragma: no cover (the source passed the same check)
            raise BackupError(f"The restored database failed its integrity check ({problem}).")
    return RestoreResult(revision, saved)


def _check_backup(source: Path, known_revisions: set[str]) -> str:
    try:
        with contextlib.closing(_open(source, read_only=True)) as conn:
            problem = integrity_problem(conn)
            revision = revision_of(conn) if problem is None else None
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{source} is not a SQLite database ({err}).") from None
    if problem is not None:
        raise BackupError(f"{source} failed its integrity check ({problem}); nothing was changed.")
    if revision is None:
        raise BackupError(f"{source} is not a Peerboard database (no migration revision).")
    if revision not in known_revisions:
        raise BackupError(
            f"{source} was written by a newer Peerboard (revision {revision}): "
            "upgrade Peerboard before restoring it."
        )
    return revision
