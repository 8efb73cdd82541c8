"""card repair: a task's card owed an update, and the board's card problem told once

Every change that alters a task's card marks the task (`card_dirty_since`) in the same
transaction; the interaction that made the change clears the mark once Discord took the
edit, and the reminder sweep repairs every card still marked, with a backoff
(`card_attempts`, `card_next_attempt_at`); a line for a task's thread that Discord
refused waits in `thread_lines` until it is posted. `guild_settings.cards_problem_at` records
that maintainers were told the cards cannot be updated (the tasks channel gone, a
permission missing), so they are told once. Existing rows start clean.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIRTY = sa.text('card_dirty_since IS NOT NULL')


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): a batch on SQLite rebuilds the table by dropping it.
    op.add_column('tasks', sa.Column('card_dirty_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'tasks',
        sa.Column('card_attempts', sa.Integer(), nullable=False, server_default=sa.text('0')),
    )
    op.add_column(
        'tasks', sa.Column('card_next_attempt_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        'ix_tasks_card_repair',
        'tasks',
        ['card_next_attempt_at'],
        unique=False,
        sqlite_where=_DIRTY,
        postgresql_where=_DIRTY,
    )
    op.add_column(
        'guild_settings', sa.Column('cards_problem_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        'thread_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guild_id', sa.BigInteger(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.BigInteger(), nullable=False),
        sa.Column('content', sa.String(length=2000), nullable=False),
        sa.Column('pings', sa.String(length=400), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['guild_id'], ['guild_settings.guild_id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_thread_lines_retry', 'thread_lines', ['next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_thread_lines_retry', table_name='thread_lines')
    op.drop_table('thread_lines')
    # ALTER TABLE DROP COLUMN (SQLite 3.35+, PostgreSQL), for the same reason.
    op.drop_column('guild_settings', 'cards_problem_at')
    op.drop_index('ix_tasks_card_repair', table_name='tasks')
    op.drop_column('tasks', 'card_next_attempt_at')
    op.drop_column('tasks', 'card_attempts')
    op.drop_column('tasks', 'card_dirty_since')
