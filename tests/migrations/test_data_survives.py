"""Migrations never destroy a community's work, on SQLite and PostgreSQL.

A board seeded at each earlier revision (rows in every table, see board.py) keeps every
row through the upgrade to head; each downgrade step and the upgrade back keep every row
of the tables and columns both revisions have. Planted revisions (written into a copy of
the migrations folder) show the guards work: one that rebuilds `tasks` and
`guild_settings` the way batch mode does keeps every row, and one that cascades a delete
is caught, by SQLite's foreign key check or by the row count.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from bot.db.dialect import ForeignKeyViolation
from bot.db.migrate import alembic_config, downgrade, script_location, upgrade
from tests.migrations.board import lost_rows, seed, snapshot

REVISIONS = [
    rev.revision
    for rev in reversed(
        list(ScriptDirectory.from_config(alembic_config("sqlite:///unused")).walk_revisions())
    )
]
HEAD = REVISIONS[-1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/board.db"
    return str(request.getfixturevalue("pg_empty_url"))


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_to_head_keeps_every_row(empty_url: str, revision: str) -> None:
    upgrade(empty_url, revision)
    written = seed(empty_url)
    before = snapshot(empty_url)
    assert {name: len(table.rows) for name, table in before.items()} == written

    upgrade(empty_url, "head")

    assert lost_rows(before, snapshot(empty_url)) == {}


@pytest.mark.parametrize("revision", REVISIONS[1:])
def test_downgrade_one_step_and_back_keeps_every_row(empty_url: str, revision: str) -> None:
    upgrade(empty_url, revision)
    seed(empty_url)
    before = snapshot(empty_url)
    previous = REVISIONS[REVISIONS.index(revision) - 1]

    downgrade(empty_url, previous)
    down = snapshot(empty_url)
    # The step's own tables go with it; every row of the others stays.
    assert lost_rows(before, down, dropped=frozenset(before) - frozenset(down)) == {}

    upgrade(empty_url, revision)
    assert lost_rows(down, snapshot(empty_url)) == {}


# -- planted revisions -----------------------------------------------------------------------

REBUILD = """
    # What a migration changing a column of these tables does on SQLite: batch mode
    # copies the table, drops the old one and renames the copy.
    with op.batch_alter_table("guild_settings", recreate="always"):
        pass
    with op.batch_alter_table("tasks", recreate="always"):
        pass
"""

# Deletes a task that has claims, submissions, reviews, history and credits: PostgreSQL
# cascades the delete to all of them; SQLite (foreign keys off) leaves them orphaned.
CASCADE = """
    op.execute("DELETE FROM tasks WHERE number = 1")
"""


def planted(tmp_path: Path, url: str, body: str) -> Config:
    """The real migrations plus one more revision after head, running `body`."""
    folder = tmp_path / "migrations"
    shutil.copytree(script_location(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "from alembic import op\n\n"
        f'revision = "9999"\ndown_revision = "{HEAD}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade() -> None:\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    (folder / "versions" / "9999_planted.py").write_text(script)
    config = alembic_config(url)
    config.set_main_option("script_location", str(folder))
    return config


def test_a_rebuild_of_tasks_and_guild_settings_keeps_every_row(
    tmp_path: Path, sqlite_url: str
) -> None:
    seed(sqlite_url)
    before = snapshot(sqlite_url)

    command.upgrade(planted(tmp_path, sqlite_url, REBUILD), "head")

    assert lost_rows(before, snapshot(sqlite_url)) == {}


def test_a_cascading_migration_is_caught(tmp_path: Path, db_url: str) -> None:
    seed(db_url)
    before = snapshot(db_url)
    config = planted(tmp_path, db_url, CASCADE)

    if db_url.startswith("sqlite"):
        # Foreign keys are off while migrating; the check before COMMIT finds the orphans,
        # and the migration is rolled back: nothing changed, the revision stays.
        with pytest.raises(ForeignKeyViolation, match="claims"):
            command.upgrade(config, "head")
        assert lost_rows(before, snapshot(db_url)) == {}
        assert _revision(db_url) == HEAD
    else:
        command.upgrade(config, "head")
        lost = lost_rows(before, snapshot(db_url))
        # The delete cascaded: the row check, which every test above asserts empty, sees it.
        assert {"tasks", "claims", "task_history", "reviews", "submissions"} <= set(lost)
        assert lost["tasks"] == 1


def _revision(url: str) -> str | None:
    import asyncio

    from alembic.runtime.migration import MigrationContext

    from bot.db.engine import create_engine

    async def read() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: MigrationContext.configure(c).get_current_revision()
                )
        finally:
            await engine.dispose()

    try:
        return asyncio.run(read())
    except SQLAlchemyError:
        return None


def test_the_seed_fills_every_table_of_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/head.db"
    upgrade(url)
    written = seed(url)
    assert all(written.values()) and len(written) >= 14
