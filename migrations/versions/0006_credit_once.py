"""credit once: one ledger row per (task, member, kind of credit)

A task reopened and approved again paid its claimants and reviewers a second time.
Credit is once per (task, member, kind): this keeps the first of each such set of rows,
removes the rest, brings member_scores (the ledger's sums kept per member) back in step
with what is left, and adds the unique index that holds the rule from now on. Kudos
carry no task, so they are untouched.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUPLICATES = """
    DELETE FROM ledger
    WHERE task_id IS NOT NULL
      AND id NOT IN (
        SELECT MIN(id) FROM ledger WHERE task_id IS NOT NULL
        GROUP BY task_id, member_id, kind
      )
"""

_OF_MEMBER = "FROM ledger l WHERE l.guild_id = member_scores.guild_id AND l.member_id = member_scores.member_id"

# As bot.db.queries.ledger's member totals: points of tasks and reviews, distinct tasks,
# reviews, kudos received.
_RESCORE = f"""
    UPDATE member_scores SET
      points = (SELECT COALESCE(SUM(CASE WHEN l.kind IN ('task', 'review') THEN l.points ELSE 0 END), 0) {_OF_MEMBER}),
      tasks = (SELECT COUNT(DISTINCT CASE WHEN l.kind = 'task' THEN l.task_id END) {_OF_MEMBER}),
      reviews = (SELECT COALESCE(SUM(CASE WHEN l.kind = 'review' THEN 1 ELSE 0 END), 0) {_OF_MEMBER}),
      kudos = (SELECT COALESCE(SUM(CASE WHEN l.kind = 'kudos' THEN 1 ELSE 0 END), 0) {_OF_MEMBER})
"""


def upgrade() -> None:
    removed = op.get_bind().execute(sa.text(_DUPLICATES)).rowcount
    if removed:
        op.execute(sa.text(_RESCORE))
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.create_index('uq_ledger_credit_once', ['task_id', 'member_id', 'kind'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_index('uq_ledger_credit_once')
