"""Tables of the GitHub connection (issue 16): the repositories a guild connected, the
GitHub logins members gave, the links between tasks and issues or pull requests, and the
webhook deliveries received (each handled once, its outcome kept).

`models.py` imports these, so that `SQLModel.metadata` (Alembic's and the tests') holds
them with the others."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime

SOURCE_LINK = sa.text("origin = 'source'")
PENDING_DELIVERY = sa.text("status = 'pending'")


def _id(**kw: object) -> int:
    return Field(sa_type=sa.BigInteger, **kw)  # type: ignore[no-any-return, call-overload]


def _when(**kw: object) -> datetime:
    return Field(sa_type=UTCDateTime, **kw)  # type: ignore[no-any-return, call-overload]


class GitHubRepo(SQLModel, table=True):
    """A repository connected to a guild: one guild per repository. The webhook secret is
    the HMAC key GitHub signs each delivery with; it is never logged, shown in a repr or
    exported, and is shown to the maintainer once, when made."""

    __tablename__ = "github_repos"
    __table_args__ = (
        sa.UniqueConstraint("full_name", name="uq_github_repos_full_name"),
        sa.Index("ix_github_repos_guild", "guild_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id(foreign_key="guild_settings.guild_id", ondelete="CASCADE")
    full_name: str = Field(max_length=140)  # owner/name, lower case
    webhook_secret: str = Field(max_length=128, repr=False)
    label: str = Field(default="", max_length=50)  # "" : no automatic tasks
    connected_by: int = _id()
    created_at: datetime = _when()
    updated_at: datetime = _when()


class GitHubLogin(SQLModel, table=True):
    """A member's word for which GitHub account is theirs, in one guild."""

    __tablename__ = "github_logins"
    __table_args__ = (sa.UniqueConstraint("guild_id", "login", name="uq_github_logins_login"),)

    guild_id: int = Field(
        sa_type=sa.BigInteger,
        primary_key=True,
        sa_column_kwargs={"autoincrement": False},
        foreign_key="guild_settings.guild_id",
        ondelete="CASCADE",
    )
    member_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    login: str = Field(max_length=39)  # lower case
    set_by: int = _id()
    created_at: datetime = _when()


class TaskLink(SQLModel, table=True):
    """A task ↔ an issue or pull request. The issue a task was made from (origin
    'source') is unique in its guild: an issue becomes one task, however often GitHub
    says it was labeled."""

    __tablename__ = "task_links"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "url", name="uq_task_links_task_url"),
        sa.Index("ix_task_links_url", "guild_id", "url"),
        sa.Index(
            "uq_task_links_source",
            "guild_id",
            "url",
            unique=True,
            sqlite_where=SOURCE_LINK,
            postgresql_where=SOURCE_LINK,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    url: str = Field(max_length=300)
    kind: str = Field(max_length=8)  # issue | pull
    full_name: str = Field(max_length=140)  # owner/name, lower case
    number: int
    origin: str = Field(max_length=16)  # source | manual | submitted | mention
    state: str = Field(default="open", max_length=8)  # open | closed | merged
    author: str = Field(default="", max_length=39)  # a pull request's author's login
    created_by: int = _id()
    created_at: datetime = _when()


class GitHubDelivery(SQLModel, table=True):
    """A webhook delivery, recorded before it is answered and handled after: once per
    `X-GitHub-Delivery`. Its payload waits here until handled (then it is dropped); a
    failure stays visible as status 'failed' with what went wrong."""

    __tablename__ = "github_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("delivery", name="uq_github_deliveries_delivery"),
        sa.Index("ix_github_deliveries_guild", "guild_id", "status", "received_at"),
        sa.Index(
            "ix_github_deliveries_pending",
            "received_at",
            sqlite_where=PENDING_DELIVERY,
            postgresql_where=PENDING_DELIVERY,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id(foreign_key="guild_settings.guild_id", ondelete="CASCADE")
    delivery: str = Field(max_length=64)
    full_name: str = Field(max_length=140)  # owner/name, lower case
    event: str = Field(max_length=32)
    action: str = Field(default="", max_length=32)
    status: str = Field(default="pending", max_length=16)  # pending | done | ignored | failed
    outcome: str = Field(default="", max_length=500)
    payload: str | None = Field(default=None, sa_type=sa.Text, nullable=True, repr=False)
    received_at: datetime = _when()
    handled_at: datetime | None = _when(default=None, nullable=True)
