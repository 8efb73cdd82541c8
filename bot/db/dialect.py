"""The one place that tells SQLite and PostgreSQL apart.

Everything else in bot/ asks a question here ("does this backend lock rows?", "how is an
upsert written?") instead of comparing dialect names. Only SQLAlchemy's public API is
used: engine options, the documented `connect`, `begin` and `before_cursor_execute`
events, and the `AUTOCOMMIT` isolation level.

Transactions. A unit of work (`Database.unit`) is one transaction; on SQLite it takes
the write lock up front (BEGIN IMMEDIATE): a deferred transaction that reads and then
writes fails at once with SQLITE_BUSY when another writer got in between, and the busy
timeout cannot help it. This is SQLAlchemy's documented recipe for pysqlite/aiosqlite
("Serializable isolation / Savepoints / Transactional DDL"): the driver's own BEGIN is
turned off (the engine's isolation level is AUTOCOMMIT, which sets the driver's
`isolation_level = None`), and the engine's `begin` event emits the BEGIN; as
SQLAlchemy sends no ROLLBACK in autocommit (`skip_autocommit_rollback`, so ending a read
costs nothing), the `rollback` event ends what `begin` opened. Both go to the driver
through the public `AdaptedConnection.run_async`: one call on aiosqlite's thread each.

Reads (`Database.read`) run in AUTOCOMMIT on both backends: no transaction, each
statement on its own. On SQLite the engine is in AUTOCOMMIT already, so a read only
skips the BEGIN; on PostgreSQL the read's connection asks for AUTOCOMMIT (no BEGIN and
ROLLBACK round trips). A write inside a read is refused before it reaches the driver.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, ExecutionContext, make_url
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import AdaptedConnection, DBAPIConnection, DBAPICursor
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

SQLITE: Final = "sqlite"
POSTGRESQL: Final = "postgresql"

# How long a unit of work waits for another writer's lock before it gives up (and the
# member is told the board is busy): inside Discord's 3-second deadline for answering an
# interaction, with room for the answer itself.
SQLITE_BUSY_TIMEOUT_MS: Final = 2_000

# SQLite's `synchronous` in WAL mode (PEERBOARD_SQLITE_SYNCHRONOUS). FULL, the default,
# syncs the WAL at every commit: a commit the bot acknowledged survives a power loss or an
# OS crash. NORMAL syncs only at checkpoints: a little faster, safe against the bot's own
# crash, but a power loss can lose the last commits (claims, reviews) — and their
# notices — and members would have been told they happened.
SYNCHRONOUS: Final = ("full", "normal")
DEFAULT_SYNCHRONOUS: Final = "full"

# The execution option a read's connection carries (see Database.read).
READ_ONLY: Final = "peerboard_read_only"
# ...and a snapshot's, a read whose statements all see one moment (Database.snapshot).
SNAPSHOT: Final = "peerboard_snapshot"


class ForeignKeyViolation(sa.exc.IntegrityError):
    """Rows whose foreign key points at nothing, found before a migration commits."""


class WriteInRead(sa.exc.InvalidRequestError):
    """A statement that writes, sent inside Database.read() (which has no transaction: the
    write would commit at once). A bug in the caller, never a member's mistake."""


# -- engines ----------------------------------------------------------------------------------


def ensure_sqlite_folder(url: str | URL) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == SQLITE and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sqlite_file_problem(url: str | URL) -> str | None:
    """What makes an existing SQLite file unusable, for a person; None when it is fine, or
    not there yet (a new board), or for PostgreSQL.

    Refused: a folder, a 0-byte file (SQLite would take it for a new, empty database and
    write a schema into it: an emptied file is a lost board, not a new one), a file or
    folder this user cannot write (the bot writes on every command; `chattr +i` or a mode),
    and a file that `PRAGMA quick_check` finds damaged. Nothing is written: the write
    permission is asked of the operating system, not tried, and an unwritable file is
    never opened (SQLite would open it read-only and leave its -wal and -shm behind).

    Read with the standard library before any engine opens the file: opening a bad file
    through aiosqlite first would leave its worker thread racing the event loop's close
    with a traceback."""
    parsed = make_url(url)
    if parsed.get_backend_name() != SQLITE or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).expanduser()
    if not path.exists():
        return None
    if path.is_dir():
        return f"{path} is a folder, not a database file"
    if path.stat().st_size == 0:
        return (
            f"{path} is empty (0 bytes), not a Peerboard database; a new board is started "
            "only where there is no file"
        )
    for needed, mode, verb in (
        (path, os.R_OK, "read"),
        (path, os.W_OK, "write"),
        (path.parent, os.W_OK, "write in"),  # SQLite keeps its journal (-wal, -shm) there
        *((side, os.W_OK, "write") for side in _sqlite_side_files(path) if side.exists()),
    ):
        if not os.access(needed, mode):
            return f"this user cannot {verb} {needed}"
    return _sqlite_damage(path)


def _sqlite_side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + tail) for tail in ("-wal", "-shm", "-journal")]


def sqlite_look(path: Path) -> sqlite3.Connection:
    """A connection to read an existing SQLite file without changing it or its folder.
    With a -wal and -shm beside it (a bot runs, or one crashed), read-only: they stay as
    they are (read-write, closing the last connection would copy the WAL into the file).
    Without them, read-write (`mode=rw` never creates the file), so that closing removes
    the -wal and -shm that reading a WAL database makes (read-only would leave them)."""
    wal, shm, _journal = _sqlite_side_files(path)
    mode = "ro" if wal.exists() and shm.exists() else "rw"
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=5)


def _sqlite_damage(path: Path) -> str | None:
    """`PRAGMA quick_check` (the b-trees, without matching indexes to rows): None when ok."""
    try:
        conn = sqlite_look(path)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as err:  # busy, or the operating system said no
        return f"{path} could not be read (OperationalError: {err})"
    except sqlite3.DatabaseError as err:  # not a database, or damaged beyond opening
        return f"{path} is damaged or not a SQLite database (DatabaseError: {err})"
    except UnicodeDecodeError:  # SQLite's own complaint quoted the damaged bytes
        return f"{path} is damaged"
    first = str(rows[0][0]) if rows else "no answer"
    if first != "ok":
        return f"{path} is damaged (quick_check: {first.splitlines()[0]})"
    return None


def read_only_problem(connection: Connection) -> str | None:
    """PostgreSQL: why this connection may only read (a standby server, or
    `default_transaction_read_only`), for a person; None when it may write, and on SQLite
    (`sqlite_file_problem` asks the operating system). Blocking: `run_sync`."""
    if connection.dialect.name != POSTGRESQL:
        return None
    if connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar():
        return (
            "the database server is a standby, which only reads: point "
            "PEERBOARD_DATABASE_URL at the primary."
        )
    if connection.execute(sa.text("SHOW transaction_read_only")).scalar() == "on":
        return (
            "the database only reads (default_transaction_read_only is on): turn it off "
            "for Peerboard's database or user."
        )
    return None


def is_busy(error: BaseException | None) -> bool:
    """Whether a driver error means another writer held the lock past the busy timeout."""
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith(
        ("database is locked", "database is busy")
    )


def libpq_url(url: str | URL) -> tuple[str, str | None]:
    """A PostgreSQL URL as libpq's tools read it (pg_dump: no driver in the scheme), without
    its password, and the password apart (for PGPASSWORD: argv is visible to every user)."""
    parsed = make_url(url)
    plain = parsed.set(drivername=POSTGRESQL, password=None)
    return plain.render_as_string(hide_password=False), parsed.password


def engine_options(url: str | URL, *, pool_size: int | None = None) -> dict[str, object]:
    """The backend's arguments to create_async_engine (besides the URL and echo)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == SQLITE:
        return {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # The driver never begins a transaction by itself: the `begin` event does.
            "isolation_level": "AUTOCOMMIT",
            # No ROLLBACK when a connection goes back to the pool: in autocommit, the
            # only transactions are SQLAlchemy's own, and it ends each of them (commit, or
            # rollback on close) before the pool takes the connection back. One call on
            # the driver's thread fewer per unit of work and per read.
            "pool_reset_on_return": None,
            # Nor a ROLLBACK of its own when SQLAlchemy ends a read (nothing to end): the
            # `rollback` event ends the transactions that the `begin` event opened.
            "skip_autocommit_rollback": True,
        }
    options: dict[str, object] = {"pool_pre_ping": True}
    if pool_size is not None:
        options["pool_size"] = pool_size
    if parsed.get_backend_name() == POSTGRESQL and parsed.get_driver_name() == "asyncpg":
        # No JIT compilation: the bot's statements are short, and a planner estimate far
        # above a query's real cost (the digest's recursive streak query) made PostgreSQL
        # spend ~35 ms compiling a ~10 ms query.
        options["connect_args"] = {"server_settings": {"jit": "off"}}
    return options


def configure(
    engine: AsyncEngine, *, foreign_keys: bool = True, synchronous: str = DEFAULT_SYNCHRONOUS
) -> None:
    """The engine's event hooks: SQLite's pragmas and BEGIN IMMEDIATE; on every backend,
    the refusal of writes inside a read.

    `foreign_keys=False` is for migrations only (see `foreign_key_violations`): SQLite
    turns the pragma on or off only outside a transaction, so it is set as each
    connection opens."""
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", _refuse_writes_in_reads)
    if sync_engine.dialect.name != SQLITE:
        return
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
    event.listen(
        sync_engine, "connect", functools.partial(_sqlite_connect, foreign_keys, synchronous)
    )
    event.listen(sync_engine, "begin", _sqlite_begin)
    event.listen(sync_engine, "rollback", _sqlite_rollback)


def _sqlite_connect(
    foreign_keys: bool,
    synchronous: str,
    dbapi_conn: DBAPIConnection,
    _record: ConnectionPoolEntry,
) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    cursor.close()


def _only_reads(conn: Connection) -> bool:
    """A read without a transaction (a snapshot has one: a deferred BEGIN, which in WAL
    mode reads one moment and takes no write lock)."""
    options = conn.get_execution_options()
    return bool(options.get(READ_ONLY)) and not options.get(SNAPSHOT)


def _sqlite_begin(conn: Connection) -> None:
    if _only_reads(conn):
        return  # a read: each statement on its own (autocommit), no lock, nothing to end
    begin = _BEGIN_SNAPSHOT if conn.get_execution_options().get(SNAPSHOT) else _BEGIN
    dbapi_conn = conn.connection.dbapi_connection
    if not isinstance(dbapi_conn, AdaptedConnection):
        conn.exec_driver_sql(begin)
        return
    # Through the driver (aiosqlite) in one call on its thread; a statement through
    # SQLAlchemy's cursor makes three (open a cursor, execute, close it), each a round
    # trip between the event loop and that thread.
    try:
        dbapi_conn.run_async(lambda driver: driver.execute_fetchall(begin))
    except sqlite3.Error as error:  # as SQLAlchemy raises the driver's errors
        raise sa.exc.DBAPIError.instance(begin, None, error, sqlite3.Error) from error


def _sqlite_rollback(conn: Connection) -> None:
    if _only_reads(conn) or conn.invalidated or conn.closed:
        return  # a read began nothing; a connection gone has nothing to end
    dbapi_conn = conn.connection.dbapi_connection
    try:
        if isinstance(dbapi_conn, AdaptedConnection):
            dbapi_conn.run_async(lambda driver: driver.rollback())
        elif dbapi_conn is not None:
            dbapi_conn.rollback()
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance("ROLLBACK", None, error, sqlite3.Error) from error


_BEGIN: Final = "BEGIN IMMEDIATE"
_BEGIN_SNAPSHOT: Final = "BEGIN DEFERRED"


_READING_WORDS: Final = ("SELECT", "WITH")


def _refuse_writes_in_reads(
    conn: Connection,
    _cursor: DBAPICursor,
    statement: str,
    _parameters: object,
    context: ExecutionContext | None,
    _executemany: bool,
) -> None:
    if context is None or not context.execution_options.get(READ_ONLY):
        return
    # A compiled statement says what it is (an INSERT … RETURNING or a CTE that writes
    # included); textual SQL is judged by its first word.
    writes = context.isinsert or context.isupdate
    if isinstance(context, DefaultExecutionContext):
        writes = writes or context.isdelete or context.isddl
    words = statement.lstrip().split(None, 1)
    if writes or not words or words[0].upper() not in _READING_WORDS:
        raise WriteInRead(f"a write in a read-only unit: {statement[:60]!r}")


# -- migrations ---------------------------------------------------------------------------------


def foreign_key_violations(conn: Connection) -> list[str]:
    """Rows whose foreign key points at nothing, as "child.rowid -> parent" (SQLite).

    Migrations on SQLite run with foreign keys off: batch mode rebuilds a table by
    copying it, dropping the old one and renaming the copy, and with foreign keys on that
    DROP cascades (ON DELETE CASCADE / SET NULL) into every table pointing at it — a
    rebuild of `tasks` would delete every claim and history row. This is SQLite's own
    procedure for schema changes ("Making Other Kinds Of Table Schema Changes"): foreign
    keys off, change, then `PRAGMA foreign_key_check` before committing. PostgreSQL
    checks its constraints on every statement: nothing to find there.
    """
    if conn.dialect.name != SQLITE:
        return []
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    return [f"{table}.rowid={rowid} -> {parent}" for table, rowid, parent, _fk in rows]


# One key for "a migration is running" (any signed 64-bit number: "peerboar" in ASCII).
MIGRATION_LOCK_KEY: Final = 0x7065_6572_626F_6172


def lock_migrations(conn: Connection) -> None:
    """Let one migration run at a time: processes that start together on a fresh
    PostgreSQL database (several shards) each migrate first; the others wait here until the
    first commits, then find the schema at head. The lock ends with the transaction. On
    SQLite, BEGIN IMMEDIATE already serialises migrations (and one process serves it)."""
    if conn.dialect.name != POSTGRESQL:
        return
    key = {"key": MIGRATION_LOCK_KEY}
    if not conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar_one():
        log.warning("another Peerboard is migrating this database; waiting for it to finish")
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), key)


def check_foreign_keys(conn: Connection) -> None:
    """Raise ForeignKeyViolation (so the migration's transaction rolls back) if any row's
    foreign key points at nothing."""
    violations = foreign_key_violations(conn)
    if violations:
        shown = ", ".join(violations[:10]) + (" …" if len(violations) > 10 else "")
        raise ForeignKeyViolation(
            "PRAGMA foreign_key_check",
            None,
            Exception(f"{len(violations)} rows point at nothing: {shown}"),
        )


def read_options(dialect: str) -> dict[str, object]:
    """The execution options of a read's session (see the module's docstring)."""
    if dialect == SQLITE:
        return {READ_ONLY: True}  # the engine is in AUTOCOMMIT already
    return {READ_ONLY: True, "isolation_level": "AUTOCOMMIT"}


def snapshot_options(dialect: str) -> dict[str, object]:
    """The execution options of a snapshot's session: one read transaction that sees one
    moment and blocks no writer (SQLite: a deferred BEGIN in WAL mode; PostgreSQL:
    REPEATABLE READ, read only)."""
    if dialect == SQLITE:
        return {READ_ONLY: True, SNAPSHOT: True}
    return {
        READ_ONLY: True,
        SNAPSHOT: True,
        "isolation_level": "REPEATABLE READ",
        "postgresql_readonly": True,
    }


# -- statements ---------------------------------------------------------------------------------


def insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT (both backends write it the same way)."""
    return postgresql.insert(table) if dialect == POSTGRESQL else sqlite.insert(table)


def locks_rows(dialect: str) -> bool:
    """Whether a write transaction locks only the rows it writes (PostgreSQL), so two
    transactions that must not interleave have to write one row first; SQLite's write
    transaction (BEGIN IMMEDIATE) holds the whole database from its start."""
    return dialect == POSTGRESQL


def like_ignores_case(dialect: str) -> bool:
    """SQLite's LIKE ignores case (ASCII letters, as its lower() does); PostgreSQL needs
    ILIKE."""
    return dialect == SQLITE


def probes_claims_per_task(dialect: str) -> bool:
    """How the digest counts forgotten tasks: SQLite probes each task's claims (an index
    seek each, cheapest there); PostgreSQL would hash every claim ever made for that, so
    there the count reads the guild's active and recent claims once (see
    queries/digest_board.unclaimed_since_query)."""
    return dialect == SQLITE


def generic_plan_statement(dialect: str) -> str | None:
    """A statement making the transaction's prepared statements keep one plan for any
    values (PostgreSQL), or None where plans are not kept (SQLite)."""
    return "SET LOCAL plan_cache_mode = force_generic_plan" if dialect == POSTGRESQL else None


def keeps_time_zones(dialect: str) -> bool:
    """Whether the backend stores a datetime's zone (PostgreSQL's timestamptz); SQLite
    stores the UTC wall time, and bot.db.types puts the zone back."""
    return dialect != SQLITE
