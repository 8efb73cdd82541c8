"""github: connected repositories, members' logins, task links, webhook deliveries

Issue 16. `github_repos`: a guild's connected repositories (one guild per repository),
each with its webhook secret and the label that makes issues tasks. `github_logins`: the
GitHub account a member says is theirs, per guild. `task_links`: tasks ↔ issues and pull
requests (the issue a task was made from is unique in its guild). `github_deliveries`:
each webhook delivery once, by `X-GitHub-Delivery`, with its outcome. New tables only:
no existing row is touched.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SOURCE = sa.text("origin = 'source'")
_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        'github_repos',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guild_id', sa.BigInteger(), nullable=False),
        sa.Column('full_name', sa.String(length=140), nullable=False),
        sa.Column('webhook_secret', sa.String(length=128), nullable=False),
        sa.Column('label', sa.String(length=50), nullable=False),
        sa.Column('connected_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['guild_id'], ['guild_settings.guild_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('full_name', name='uq_github_repos_full_name'),
    )
    op.create_index('ix_github_repos_guild', 'github_repos', ['guild_id'], unique=False)
    op.create_table(
        'github_logins',
        sa.Column('guild_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('member_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('login', sa.String(length=39), nullable=False),
        sa.Column('set_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['guild_id'], ['guild_settings.guild_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('guild_id', 'member_id'),
        sa.UniqueConstraint('guild_id', 'login', name='uq_github_logins_login'),
    )
    op.create_table(
        'task_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guild_id', sa.BigInteger(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('full_name', sa.String(length=140), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('author', sa.String(length=39), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id', 'url', name='uq_task_links_task_url'),
    )
    op.create_index('ix_task_links_url', 'task_links', ['guild_id', 'url'], unique=False)
    op.create_index(
        'uq_task_links_source',
        'task_links',
        ['guild_id', 'url'],
        unique=True,
        sqlite_where=_SOURCE,
        postgresql_where=_SOURCE,
    )
    op.create_table(
        'github_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('guild_id', sa.BigInteger(), nullable=False),
        sa.Column('delivery', sa.String(length=64), nullable=False),
        sa.Column('full_name', sa.String(length=140), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=500), nullable=False),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['guild_id'], ['guild_settings.guild_id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('delivery', name='uq_github_deliveries_delivery'),
    )
    op.create_index(
        'ix_github_deliveries_guild',
        'github_deliveries',
        ['guild_id', 'status', 'received_at'],
        unique=False,
    )
    op.create_index(
        'ix_github_deliveries_pending',
        'github_deliveries',
        ['received_at'],
        unique=False,
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index('ix_github_deliveries_pending', table_name='github_deliveries')
    op.drop_index('ix_github_deliveries_guild', table_name='github_deliveries')
    op.drop_table('github_deliveries')
    op.drop_index('uq_task_links_source', table_name='task_links')
    op.drop_index('ix_task_links_url', table_name='task_links')
    op.drop_table('task_links')
    op.drop_table('github_logins')
    op.drop_index('ix_github_repos_guild', table_name='github_repos')
    op.drop_table('github_repos')
