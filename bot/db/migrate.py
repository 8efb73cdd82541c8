"""Apply Alembic migrations from code (`peerboard migrate`, `peerboard run`, tests).

The migration scripts live in the repository's top-level `migrations/` folder. A wheel
ships that folder inside the package as `bot/_migrations` (see `[tool.setuptools]` in
pyproject.toml), so an installed Peerboard migrates from any working directory; in a
checkout (an editable install) the folder is read where it stands. The Alembic config is
built here, in code: nothing reads pyproject.toml at run time. pyproject's `[tool.alembic]`
serves the `alembic` command in the repository (`alembic check`, `alembic revision`), and a
test keeps the two in step. (`prepend_sys_path` is left out here: the package is installed,
so env.py imports bot without the working directory on sys.path.)
"""

from __future__ import annotations

import asyncio
import sqlite3
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.db.dialect import SQLITE, read_only_problem, sqlite_look
from bot.db.engine import create_engine, ensure_sqlite_folder

# How `alembic revision` names a new script (as in pyproject's [tool.alembic]).
FILE_TEMPLATE = "%(rev)s_%(slug)s"


def script_location() -> Path:
    """The folder with env.py and versions/: packaged in a wheel, the repository's in a checkout."""
    packaged = Path(str(resources.files("bot") / "_migrations"))
    if (packaged / "env.py").is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    # set_main_option interpolates %(...)s: double the signs to store the template as is.
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking; env.py runs its own event loop, so call it outside one (or in a thread)."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, database_url, revision)


def newer_message(revisions: set[str]) -> str:
    """For a database at revisions this code has no script for."""
    return (
        f"this database was written by a newer Peerboard (revision {', '.join(sorted(revisions))}): "
        "upgrade Peerboard, or point PEERBOARD_DATABASE_URL at another database."
    )


def schema_problem(connection: sa.Connection) -> str | None:
    """What is wrong with the database's schema version, for a person (None: current).
    Blocking: run it with `AsyncConnection.run_sync`."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    script = ScriptDirectory.from_config(alembic_config(""))
    if not current:
        return "the database is empty or not migrated: run `peerboard migrate`."
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return newer_message(current - known)
    if current != set(script.get_heads()):
        return "the database is not up to date: run `peerboard migrate`."
    return None


def newer_problem(database_url: str) -> str | None:
    """Why the database must not be migrated or served, before anything is written: it was
    migrated by a newer Peerboard (`newer_message`), or, on PostgreSQL, it only reads
    (`read_only_problem`). None otherwise, also when it cannot be reached: migrating says
    why. Run it before migrating, which would fail on an unknown revision with Alembic's
    traceback. Blocking, outside an event loop. SQLite is read with the standard library,
    after `sqlite_file_problem` found the file sound: an engine would set its pragmas
    (journal_mode=WAL) on a file it must not touch."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == SQLITE:
        current, read_only = _sqlite_revisions(parsed.database), None
    else:
        current, read_only = asyncio.run(_revisions(database_url))
    unknown = current - known_revisions()
    return newer_message(unknown) if unknown else read_only


def _sqlite_revisions(database: str | None) -> set[str]:
    if database in (None, "", ":memory:"):
        return set()
    path = Path(database).expanduser()
    if not path.is_file():
        return set()
    try:
        conn = sqlite_look(path)
        try:
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone():
                return set()
            return {str(row[0]) for row in conn.execute("SELECT version_num FROM alembic_version")}
        finally:
            conn.close()
    except sqlite3.Error:
        return set()


async def _revisions(database_url: str) -> tuple[set[str], str | None]:
    def read(conn: sa.Connection) -> tuple[set[str], str | None]:
        return set(MigrationContext.configure(conn).get_current_heads()), read_only_problem(conn)

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    except (sa.exc.SQLAlchemyError, OSError):
        return set(), None
    finally:
        await engine.dispose()


def known_revisions() -> set[str]:
    """Every Alembic revision this code has a script for."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(""))
    return {script.revision for script in scripts.walk_revisions()}


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("")).get_current_head()
