"""The GitHub connection's rows: connected repositories, members' logins, task links and
webhook deliveries (`uow.github`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from bot.db.github_models import GitHubDelivery, GitHubLogin, GitHubRepo, TaskLink
from bot.db.models import Task
from bot.db.repos.base import Repo, rowcount


def _table(model: Any) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


REPOS: Final = _table(GitHubRepo)
LOGINS: Final = _table(GitHubLogin)
LINKS: Final = _table(TaskLink)
DELIVERIES: Final = _table(GitHubDelivery)
TASKS: Final = _table(Task)


class GitHubRepoRepo(Repo):
    __slots__ = ()

    # -- repositories --------------------------------------------------------------------

    async def repository(self, full_name: str) -> GitHubRepo | None:
        return (
            await self.session.scalars(sa.select(GitHubRepo).where(REPOS.c.full_name == full_name))
        ).first()

    async def repos(self, guild_id: int) -> Sequence[GitHubRepo]:
        stmt = sa.select(GitHubRepo).where(REPOS.c.guild_id == guild_id).order_by(REPOS.c.full_name)
        return (await self.session.scalars(stmt)).all()

    def add_repo(self, row: GitHubRepo) -> None:
        self.session.add(row)

    async def remove_repo(self, guild_id: int, repo: str) -> bool:
        result = await self.session.execute(
            sa.delete(GitHubRepo).where(REPOS.c.guild_id == guild_id, REPOS.c.full_name == repo)
        )
        return rowcount(result) > 0

    # -- logins --------------------------------------------------------------------------

    async def login_of(self, guild_id: int, member_id: int) -> str | None:
        stmt = sa.select(LOGINS.c.login).where(
            LOGINS.c.guild_id == guild_id, LOGINS.c.member_id == member_id
        )
        return (await self.session.scalars(stmt)).first()

    async def member_of(self, guild_id: int, login: str) -> int | None:
        stmt = sa.select(LOGINS.c.member_id).where(
            LOGINS.c.guild_id == guild_id, LOGINS.c.login == login
        )
        return (await self.session.scalars(stmt)).first()

    async def set_login(
        self, guild_id: int, member_id: int, login: str, by: int, now: datetime
    ) -> None:
        await self.clear_login(guild_id, member_id)
        self.session.add(
            GitHubLogin(
                guild_id=guild_id, member_id=member_id, login=login, set_by=by, created_at=now
            )
        )

    async def clear_login(self, guild_id: int, member_id: int) -> bool:
        result = await self.session.execute(
            sa.delete(GitHubLogin).where(
                LOGINS.c.guild_id == guild_id, LOGINS.c.member_id == member_id
            )
        )
        return rowcount(result) > 0

    # -- links ---------------------------------------------------------------------------

    def add_link(self, row: TaskLink) -> None:
        self.session.add(row)

    async def links(self, task_ids: Sequence[int]) -> Sequence[TaskLink]:
        if not task_ids:
            return ()
        stmt = sa.select(TaskLink).where(LINKS.c.task_id.in_(task_ids)).order_by(LINKS.c.id)
        return (await self.session.scalars(stmt)).all()

    async def links_to(self, guild_id: int, urls: Sequence[str]) -> Sequence[tuple[TaskLink, Task]]:
        """The links to these URLs in the guild, each with its task."""
        if not urls:
            return ()
        stmt = (
            sa.select(TaskLink, Task)
            .join(Task, TASKS.c.id == LINKS.c.task_id)
            .where(LINKS.c.guild_id == guild_id, LINKS.c.url.in_(urls))
            .order_by(LINKS.c.id)
        )
        return [(link, task) for link, task in (await self.session.execute(stmt)).all()]

    async def linked_urls(self, guild_id: int, urls: Sequence[str]) -> set[str]:
        if not urls:
            return set()
        stmt = sa.select(LINKS.c.url).where(
            LINKS.c.guild_id == guild_id,
            LINKS.c.url.in_(urls),
        )
        return set((await self.session.scalars(stmt)).all())

    async def remove_links(self, task_id: int, url: str | None) -> int:
        stmt = sa.delete(TaskLink).where(LINKS.c.task_id == task_id)
        if url is not None:
            stmt = stmt.where(LINKS.c.url == url)
        return rowcount(await self.session.execute(stmt))

    async def set_link_state(self, guild_id: int, url: str, state: str) -> None:
        await self.session.execute(
            sa.update(TaskLink)
            .where(LINKS.c.guild_id == guild_id, LINKS.c.url == url)
            .values(state=state)
        )

    # -- deliveries ----------------------------------------------------------------------

    def add_delivery(self, row: GitHubDelivery) -> None:
        self.session.add(row)

    async def delivery(self, delivery: str) -> GitHubDelivery | None:
        stmt = sa.select(GitHubDelivery).where(DELIVERIES.c.delivery == delivery)
        return (await self.session.scalars(stmt)).first()

    async def finish_delivery(
        self, delivery: str, status: str, outcome: str, now: datetime
    ) -> None:
        await self.session.execute(
            sa.update(GitHubDelivery)
            .where(DELIVERIES.c.delivery == delivery)
            .values(status=status, outcome=outcome[:500], handled_at=now, payload=None)
        )

    async def failed_deliveries(self, guild_id: int) -> Sequence[GitHubDelivery]:
        stmt = (
            sa.select(GitHubDelivery)
            .where(DELIVERIES.c.guild_id == guild_id, DELIVERIES.c.status == "failed")
            .order_by(DELIVERIES.c.received_at.desc())
            .limit(5)
        )
        return (await self.session.scalars(stmt)).all()

    async def pending_deliveries(self, before: datetime) -> Sequence[str]:
        stmt = (
            sa.select(DELIVERIES.c.delivery)
            .where(DELIVERIES.c.status == "pending", DELIVERIES.c.received_at < before)
            .order_by(DELIVERIES.c.received_at)
            .limit(50)
        )
        return (await self.session.scalars(stmt)).all()
