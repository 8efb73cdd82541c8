"""digest indexes: the week's credit and done moves, first-timers and streaks, the board

The weekly digest counts and ranks a week in SQL. ix_ledger_kind_time and
ix_history_status_time read a week's credit of a kind and its moves to done from the
index alone; ix_ledger_member_time (replacing ix_ledger_member, its prefix) answers
"any credit of this kind before / within" with one probe per member; ix_tasks_created
walks the oldest claimable tasks in order (and counts them without reading rows), and
ix_tasks_status_since the review queue and the tasks nobody has claimed for a while;
ix_claims_guild_active and ix_claims_guild_time the tasks a guild's active and recent
claims hold, so those are counted without testing every open task.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_guild_active', ['guild_id', 'task_id'], unique=False, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('ix_claims_guild_time', ['guild_id', 'claimed_at', 'task_id'], unique=False)

    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_member_time', ['guild_id', 'member_id', 'kind', 'created_at'], unique=False)
        batch_op.drop_index('ix_ledger_member')
        batch_op.create_index('ix_ledger_kind_time', ['guild_id', 'kind', 'created_at', 'member_id', 'task_id', 'points'], unique=False)

    with op.batch_alter_table('task_history', schema=None) as batch_op:
        batch_op.create_index('ix_history_status_time', ['guild_id', 'to_status', 'created_at', 'task_id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_created', ['guild_id', 'status', 'created_at', 'number', 'blocked_by_id'], unique=False)
        batch_op.create_index('ix_tasks_status_since', ['guild_id', 'status', 'status_changed_at', 'number'], unique=False, postgresql_include=['id'])


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_since')
        batch_op.drop_index('ix_tasks_created')

    with op.batch_alter_table('task_history', schema=None) as batch_op:
        batch_op.drop_index('ix_history_status_time')

    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_kind_time')
        batch_op.create_index('ix_ledger_member', ['guild_id', 'member_id', 'kind'], unique=False)
        batch_op.drop_index('ix_ledger_member_time')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_guild_time')
        batch_op.drop_index('ix_claims_guild_active', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
