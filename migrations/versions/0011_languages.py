"""languages: a guild's language and each member's last seen Discord locale

Issue 17. `guild_settings.language`: the catalog code `/config language` set (`es`,
`de`, …), NULL when the guild follows its Discord "preferred locale" (the default).
`guild_members.locale`: the Discord locale a member last interacted with (`es-ES`), for
the direct messages they get between interactions; NULL until they interact. Plain
nullable ADD COLUMNs: no existing row is rewritten.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): a batch on SQLite rebuilds the table by dropping it.
    op.add_column('guild_settings', sa.Column('language', sa.String(length=16), nullable=True))
    op.add_column('guild_members', sa.Column('locale', sa.String(length=16), nullable=True))


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+) keeps every row of both tables.
    op.drop_column('guild_members', 'locale')
    op.drop_column('guild_settings', 'language')
