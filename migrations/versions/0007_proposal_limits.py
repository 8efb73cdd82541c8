"""proposal limits: open proposals per member, by trust level

A member may have only so many proposals waiting to open at a time (each is a card, a
thread, and opens by lazy consensus): 2 for a newcomer, 5 for a contributor, 10 for a
regular, by default; maintainers have no limit. Existing guilds get the defaults.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIMITS = (
    ('proposal_limit_newcomer', 2),
    ('proposal_limit_contributor', 5),
    ('proposal_limit_regular', 10),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): on SQLite a batch would copy guild_settings into a new
    # table, and dropping the old one cascades to every guild's tasks. The server default
    # fills existing rows; the model sets the value on new ones.
    for name, default in _LIMITS:
        op.add_column(
            'guild_settings',
            sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text(str(default))),
        )


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite 3.35+, PostgreSQL), for the same reason.
    for name, _default in reversed(_LIMITS):
        op.drop_column('guild_settings', name)
