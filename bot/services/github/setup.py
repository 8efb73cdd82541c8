"""What maintainers and members set up for GitHub: connected repositories (one guild per
repository; a webhook secret made for each, shown once), members' logins, links between
tasks and issues or pull requests, and `/task import-github`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from bot.db.errors import Duplicate
from bot.db.github_models import GitHubRepo, TaskLink
from bot.db.models import Task
from bot.db.uow import Database, UnitOfWork
from bot.domain import forge
from bot.domain.change import TaskChange
from bot.domain.errors import AlreadyDone, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.domain.forge import LinkKind, LinkOrigin, Target
from bot.domain.lifecycle import Outcome
from bot.domain.model import Actor
from bot.domain.rules import check_maintainer
from bot.github.issues import GitHubIssue, task_draft
from bot.github.repos import parse_label, parse_link, parse_login, parse_repo
from bot.services.clock import Clock
from bot.services.tasks import TaskService
from bot.services.tasks.importing import NOTE
from bot.services.tasks.writer import Ctx
from bot.services.views import ActionResult, TaskView

WEBHOOK_PATH: Final = "/webhooks/github/{guild_id}"
EVENTS: Final = ("Issues", "Pull requests", "Ping")
SECRET_BYTES: Final = 32


class IssueSource(Protocol):
    """GitHub's REST API as the import needs it (bot/github/rest.py's GitHubClient)."""

    async def open_issues(self, repo: str, label: str) -> Sequence[GitHubIssue]: ...


@dataclass(frozen=True, slots=True)
class RepoSetup:
    """What /config github tells the maintainer. `secret` only when one was made now."""

    full_name: str
    webhook_url: str
    label: str
    secret: str | None = None
    removed: bool = False
    created: bool = False


@dataclass(frozen=True, slots=True)
class ImportResult:
    tasks: tuple[TaskView, ...]
    skipped: int  # open issues with the label already on the board


def new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


class GitHubService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tasks: TaskService,
        *,
        public_url: str | None = None,
        source: IssueSource | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks
        self._public_url = (public_url or "").rstrip("/")
        self.source = source

    @property
    def public_url_set(self) -> bool:
        return bool(self._public_url)

    def webhook_url(self, guild_id: int) -> str:
        """Where GitHub posts this guild's deliveries (PEERBOARD_PUBLIC_URL + the path)."""
        return self._public_url + WEBHOOK_PATH.format(guild_id=guild_id)

    # -- repositories ------------------------------------------------------------------

    async def connect(
        self,
        actor: Actor,
        repo_text: str,
        *,
        label: str | None = None,
        rotate: bool = False,
        remove: bool = False,
    ) -> RepoSetup:
        check_maintainer(actor, "connect GitHub repositories")
        repo = parse_repo(repo_text).key
        chosen_label = parse_label(label) if label is not None and label.strip() else None
        if remove and (rotate or chosen_label is not None):
            raise InvalidInput("Pick one: remove the repository, or change its label or secret.")
        url = self.webhook_url(actor.guild_id)
        async with self._db.unit() as uow:
            now = self._clock.now()
            await uow.guilds.ensure_guild(actor.guild_id, now)
            row = await uow.github.repository(repo)
            if row is not None and row.guild_id != actor.guild_id:
                raise PermissionDenied(
                    "{repo} is connected to another server. A repository can drive one board only: disconnect it there first.",
                    repo=repo,
                )
            if remove:
                if row is None:
                    raise NotFound("{repo} isn't connected to this server.", repo=repo)
                await uow.github.remove_repo(actor.guild_id, repo)
                await uow.commit()
                return RepoSetup(repo, url, row.label, removed=True)
            secret = None
            created = row is None
            if row is None:
                secret = new_secret()
                row = GitHubRepo(
                    guild_id=actor.guild_id,
                    full_name=repo,
                    webhook_secret=secret,
                    label=chosen_label or "",
                    connected_by=actor.member_id,
                    created_at=now,
                    updated_at=now,
                )
                uow.github.add_repo(row)
            else:
                if rotate:
                    secret = new_secret()
                    row.webhook_secret = secret
                if chosen_label is not None:
                    row.label = chosen_label
                row.updated_at = now
            label_now = row.label
            try:
                await uow.commit()
            except Duplicate:
                raise Conflict("{repo} was connected just now; look again.", repo=repo) from None
        return RepoSetup(repo, url, label_now, secret=secret, created=created)

    async def repos(self, guild_id: int) -> list[tuple[str, str]]:
        """The guild's connected repositories, with their labels."""
        async with self._db.read() as uow:
            return [(r.full_name, r.label) for r in await uow.github.repos(guild_id)]

    async def failed_deliveries(self, guild_id: int) -> list[tuple[str, str, str]]:
        """/config show: the latest deliveries that failed (id, event, what went wrong)."""
        async with self._db.read() as uow:
            rows = await uow.github.failed_deliveries(guild_id)
            return [(d.delivery, d.event, d.outcome) for d in rows]

    # -- logins ------------------------------------------------------------------------

    async def set_login(self, actor: Actor, login_text: str) -> str:
        login = parse_login(login_text).lower()
        async with self._db.unit() as uow:
            now = self._clock.now()
            await uow.guilds.ensure_guild(actor.guild_id, now)
            holder = await uow.github.member_of(actor.guild_id, login)
            if holder is not None and holder != actor.member_id:
                raise PermissionDenied(
                    "Another member here already said @{login} is theirs. If that's wrong, a maintainer can clear it with `/config github-login`.",
                    login=login,
                )
            if holder == actor.member_id:
                raise AlreadyDone("@{login} is already linked to you.", login=login)
            await uow.github.set_login(actor.guild_id, actor.member_id, login, actor.member_id, now)
            try:
                await uow.commit()
            except Duplicate:
                raise Conflict("@{login} was linked just now; look again.", login=login) from None
        return login

    async def clear_login(self, actor: Actor, member_id: int) -> str:
        """Clear a member's login: their own, or anyone's for a maintainer. The login."""
        if member_id != actor.member_id:
            check_maintainer(actor, "clear another member's GitHub login")
        async with self._db.unit() as uow:
            login = await uow.github.login_of(actor.guild_id, member_id)
            if login is None:
                if member_id == actor.member_id:
                    raise NotFound("You have no GitHub login linked here.")
                raise NotFound("That member has no GitHub login linked here.")
            await uow.github.clear_login(actor.guild_id, member_id)
            await uow.commit()
        return login

    async def login_of(self, guild_id: int, member_id: int) -> str | None:
        async with self._db.read() as uow:
            return await uow.github.login_of(guild_id, member_id)

    # -- links -------------------------------------------------------------------------

    async def link(self, actor: Actor, number: int, url: str) -> ActionResult:
        target = _target(url)

        async def decide(c: Ctx) -> Outcome:
            _may_link(c, actor)
            assert c.task.id is not None
            if target.url in await c.uow.github.linked_urls(actor.guild_id, [target.url]):
                for _link, task in await c.uow.github.links_to(actor.guild_id, [target.url]):
                    if task.id == c.task.id:
                        raise AlreadyDone(
                            "#{number} is already linked to {url}.", number=number, url=target.url
                        )
            return forge.noted(c.state, f"linked {target.url}")

        async def after(c: Ctx, _change: TaskChange) -> None:
            assert c.task.id is not None
            c.uow.github.add_link(
                link_row(c.task, target, LinkOrigin.MANUAL, actor.member_id, c.now)
            )

        return await self._tasks.outside(actor, number, decide, after)

    async def unlink(self, actor: Actor, number: int, url: str | None) -> ActionResult:
        target = _target(url) if url else None
        note = f"unlinked {target.url}" if target else "unlinked its GitHub links"

        async def decide(c: Ctx) -> Outcome:
            _may_link(c, actor)
            assert c.task.id is not None
            links = await c.uow.github.links([c.task.id])
            if not links:
                raise NotFound("#{number} has no GitHub links.", number=number)
            if target is not None and all(link.url != target.url for link in links):
                raise NotFound("#{number} isn't linked to {url}.", number=number, url=target.url)
            return forge.noted(c.state, note)

        async def after(c: Ctx, _change: TaskChange) -> None:
            assert c.task.id is not None
            await c.uow.github.remove_links(c.task.id, target.url if target else None)

        return await self._tasks.outside(actor, number, decide, after)

    # -- import ------------------------------------------------------------------------

    async def import_issues(self, actor: Actor, repo_text: str, label_text: str) -> ImportResult:
        """The repository's open issues with the label, as tasks: all or none, those
        already on the board left out. Refusals before GitHub is asked: a member who
        may not create tasks, a repository or label that can't be."""
        check_maintainer(actor, "import issues from GitHub")
        repo = parse_repo(repo_text)
        label = parse_label(label_text)
        if self.source is None:
            raise InvalidInput("This Peerboard can't reach GitHub's API (not configured).")
        issues = list(await self.source.open_issues(repo.key, label))
        targets = [Target(repo.key, LinkKind.ISSUE, i.number) for i in issues]
        async with self._db.read() as uow:
            known = await uow.github.linked_urls(actor.guild_id, [t.url for t in targets])
        fresh = [(i, t) for i, t in zip(issues, targets, strict=True) if t.url not in known]
        if not fresh:
            return ImportResult((), len(issues))
        views = await self.create_from_issues(actor, fresh)
        return ImportResult(views, len(issues) - len(fresh))

    async def create_from_issues(
        self, actor: Actor, issues: Sequence[tuple[GitHubIssue, Target]]
    ) -> tuple[TaskView, ...]:
        """Tasks from issues through the CSV import's path (all or none), each linked to
        its issue (unique in the guild: an issue that became a task meanwhile refuses the
        lot, and changes nothing)."""
        rows = []
        for issue, target in issues:
            row = task_draft(issue).row()
            row[NOTE] = f"from GitHub: {target.url}"
            rows.append(row)

        async def linked(uow: UnitOfWork, tasks: Sequence[Task], now: datetime) -> None:
            for task, (_issue, target) in zip(tasks, issues, strict=True):
                uow.github.add_link(link_row(task, target, LinkOrigin.SOURCE, actor.member_id, now))

        try:
            return await self._tasks.import_tasks(actor, rows, linked=linked)
        except Duplicate:
            raise Conflict(
                "Some of these issues became tasks just now; nothing was imported. Try again."
            ) from None


def _target(url: str) -> Target:
    return Target.from_url(parse_link(url).html_url)


def _may_link(c: Ctx, actor: Actor) -> None:
    if not (actor.is_maintainer or actor.member_id in c.state.claimant_ids):
        raise PermissionDenied(
            "Only maintainers and those who claimed #{number} can change its links.",
            number=c.state.number,
        )


def link_row(
    task: Task,
    target: Target,
    origin: LinkOrigin,
    by: int,
    now: datetime,
    *,
    author: str = "",
    state: str = "open",
) -> TaskLink:
    assert task.id is not None
    return TaskLink(
        guild_id=task.guild_id,
        task_id=task.id,
        url=target.url,
        kind=target.kind.value,
        full_name=target.full_name,
        number=target.number,
        origin=origin.value,
        state=state,
        author=author,
        created_by=by,
        created_at=now,
    )
