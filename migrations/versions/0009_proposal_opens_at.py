"""lazy consensus by time: when each proposal opens

`tasks.opens_at`: when a proposal nobody objected to opens — its guild's
`proposal_window_hours` after it was proposed — with a partial index on proposals only,
so the reminder sweep reads the proposals whose time has come and none of those still
inside their window (it read every proposal over an hour old, every minute: with many
guilds, hundreds of rows a sweep that nothing could open). Existing proposals get theirs
from their guild's window (72 hours, the default, where a guild has no settings row).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:20:00.000000
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROPOSED = sa.text("status = 'proposed'")
_DEFAULT_WINDOW_HOURS = 72

_tasks = sa.table(
    'tasks',
    sa.column('id', sa.Integer()),
    sa.column('guild_id', sa.BigInteger()),
    sa.column('status', sa.String()),
    sa.column('status_changed_at', sa.DateTime(timezone=True)),
    sa.column('opens_at', sa.DateTime(timezone=True)),
)
_settings = sa.table(
    'guild_settings',
    sa.column('guild_id', sa.BigInteger()),
    sa.column('proposal_window_hours', sa.Integer()),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): a batch on SQLite rebuilds the table by dropping it.
    op.add_column('tasks', sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    found = conn.execute(
        sa.select(_tasks.c.id, _tasks.c.status_changed_at, _settings.c.proposal_window_hours)
        .select_from(_tasks.outerjoin(_settings, _settings.c.guild_id == _tasks.c.guild_id))
        .where(_tasks.c.status == 'proposed')
    ).all()
    if found:
        conn.execute(
            sa.update(_tasks)
            .where(_tasks.c.id == sa.bindparam('task_id'))
            .values(opens_at=sa.bindparam('opens')),
            [
                {
                    'task_id': task_id,
                    'opens': proposed_at + timedelta(hours=hours or _DEFAULT_WINDOW_HOURS),
                }
                for task_id, proposed_at, hours in found
            ],
        )
    op.create_index(
        'ix_tasks_opens',
        'tasks',
        ['opens_at'],
        unique=False,
        sqlite_where=_PROPOSED,
        postgresql_where=_PROPOSED,
    )


def downgrade() -> None:
    op.drop_index('ix_tasks_opens', table_name='tasks')
    # ALTER TABLE DROP COLUMN (SQLite 3.35+, PostgreSQL), for the same reason.
    op.drop_column('tasks', 'opens_at')
