"""One thread hop per SQLite statement, instead of four.

aiosqlite runs every sqlite3 call on its own worker thread, and each call is a round trip
between the event loop and that thread (a queue put, a GIL hand-over, a wake-up of the
loop through its self-pipe): about 0.1–0.3 ms each on a quiet machine, much more on a
busy one. SQLAlchemy's adapter makes four such calls per statement (open a cursor,
execute, fetch all rows, close the cursor), so a read of four statements in a
transaction took about twenty hops, and the hops, not SQLite, were most of the time an
interaction spent in the database (docs/performance.md).

`OneHopCursor` does the same work — cursor, execute, fetch, close — in one function on
the worker thread, and keeps what SQLAlchemy reads afterwards (rows, description,
rowcount, lastrowid). Still aiosqlite and SQLAlchemy's aiosqlite dialect: only the
adapter's cursor class changes, for connections of our own engines (see
`bot.db.engine.create_engine`). It relies on aiosqlite's `Connection._execute(fn)` (the
call every aiosqlite method is built on) and on the adapter's `_execute_mutex`; both
are pinned by the versions in pyproject.toml and covered by tests/unit/test_sqlite_driver.py.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any, cast

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util.concurrency import await_


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor (that is a hop of its own): each execute opens and closes
        # a sqlite3 cursor on the worker thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    def _run(self, many: bool, operation: Any, parameters: Any) -> None:
        """On aiosqlite's thread: the whole statement, start to finish (after the
        transaction's BEGIN, when this is its first statement)."""
        conn: sqlite3.Connection = self._connection._conn
        owner = cast(OneHopConnection, self._adapt_connection)
        if owner.reading and not _is_read(operation):
            # A read runs outside any transaction: a write there would commit at once.
            raise sqlite3.ProgrammingError(f"a write in a read-only unit: {operation[:60]!r}")
        begin = owner.pending_begin
        if begin is not None:
            conn.execute(begin)
            owner.pending_begin = None
        cursor = conn.cursor()
        try:
            if many:
                cursor.executemany(operation, parameters)
            elif parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            self._description = cursor.description
            self._rows = collections.deque(cursor.fetchall() if cursor.description else ())
            self._rowcount = cursor.rowcount
            self._lastrowid = cursor.lastrowid
        finally:
            cursor.close()

    async def _hop(self, many: bool, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            await self._connection._execute(self._run, many, operation, parameters)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            await_(self._hop(False, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            await_(self._hop(True, operation, seq_of_parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _async_soft_close(self) -> None:
        return None  # the sqlite3 cursor is closed already; rows stay readable

    def close(self) -> None:
        self._rows.clear()


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """The adapter's connection, opening OneHopCursors (server-side cursors unchanged).

    Two more hops saved per transaction: `begin_with_next_statement` sends BEGIN with the
    transaction's first statement rather than alone, and a rollback with no transaction
    open (the pool's reset when a connection comes back, after the session already
    committed or rolled back) does not cross to the worker thread at all.
    """

    __slots__ = ()
    _cursor_cls = OneHopCursor

    # The BEGIN waiting for the transaction's first statement. Kept on aiosqlite's
    # connection object: the adapter's classes have __slots__ fixed by SQLAlchemy.
    @property
    def pending_begin(self) -> str | None:
        return getattr(self._connection, "_peerboard_pending_begin", None)

    @pending_begin.setter
    def pending_begin(self, statement: str | None) -> None:
        self._connection._peerboard_pending_begin = statement

    def begin_with_next_statement(self, statement: str) -> None:
        self.pending_begin = statement

    # Set while a read (bot.db.uow.Database.read) holds the connection: no transaction,
    # and only statements that read.
    @property
    def reading(self) -> bool:
        return bool(getattr(self._connection, "_peerboard_reading", False))

    @reading.setter
    def reading(self, value: bool) -> None:
        self._connection._peerboard_reading = value

    def _live(self) -> sqlite3.Connection | None:
        return self._connection._connection  # type: ignore[no-any-return]

    def rollback(self) -> None:
        self.reading = False
        if self.pending_begin is not None:
            self.pending_begin = None  # never begun: nothing to roll back
            return
        conn = self._live()
        # in_transaction reads SQLite's autocommit flag: no statement runs on this
        # connection now (the pool hands it to one user at a time), so it is safe here.
        if conn is not None and conn.in_transaction:
            super().rollback()

    def commit(self) -> None:
        self.reading = False
        if self.pending_begin is not None:
            self.pending_begin = None  # an empty transaction: nothing to commit
            return
        super().commit()

    def close(self) -> None:
        self.pending_begin = None
        self.reading = False
        super().close()


def use_one_hop_cursors(dbapi_connection: Any) -> None:
    """Called on each new connection of our SQLite engines."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection


def _is_read(operation: Any) -> bool:
    return str(operation).lstrip()[:4].upper() in ("SELE", "WITH")


def begin_read(dbapi_connection: Any) -> None:
    """A read starts: no BEGIN (each statement commits on its own), writes refused."""
    if isinstance(dbapi_connection, OneHopConnection):
        dbapi_connection.reading = True


def begin(dbapi_connection: Any, statement: str) -> None:
    """Start a transaction: with the next statement on a OneHopConnection, else now."""
    if isinstance(dbapi_connection, OneHopConnection):
        dbapi_connection.begin_with_next_statement(statement)
    else:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
