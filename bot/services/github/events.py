"""What each GitHub event does to the board (one delivery, already checked and recorded).

- `ping`: nothing on the board; the maintainers are told the hook works.
- `issues` `opened` with the repository's label, or `labeled` with it: a task, once
  (the issue's link is unique in the guild); `closed`, `reopened`: the card says so (a
  closed issue alone does not make a task done); `edited`: a task made from the issue
  takes its new title and description.
- `pull_request` `opened` / `reopened` / `ready_for_review`, not a draft: each task the
  pull request refers to (linked to it, an issue it closes linked to the task, or
  "Peerboard #12" in its title or body) is submitted with its URL when its author's
  login belongs to a claimant — through `TaskService.submit`, as /task submit; otherwise
  the card notes the pull request for maintainers.
- `pull_request` `closed`: merged, one approval by the merger (the member linked to the
  merger's login; nobody linked: GitHub's merge, no reviewer credit) of each task it
  submitted that is still in review; not merged, those tasks go back to their claimants.

Every effect writes the task's history with the GitHub URL (TaskService's write path)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.db.github_models import GitHubDelivery
from bot.db.uow import Database
from bot.domain import forge
from bot.domain import rules as r
from bot.domain.change import TaskChange
from bot.domain.errors import DomainError
from bot.domain.forge import LinkKind, LinkOrigin, LinkState, Target
from bot.domain.lifecycle import Outcome
from bot.domain.model import Actor, Status, Verdict
from bot.github.issues import GitHubIssue, task_draft
from bot.github.pulls import GitHubPull
from bot.services.clock import Clock
from bot.services.github.setup import GitHubService, link_row
from bot.services.tasks import TaskService
from bot.services.tasks.writer import Ctx
from bot.services.views import ActionResult, TaskView

SUBMITS = frozenset({"opened", "reopened", "ready_for_review"})


@dataclass(frozen=True, slots=True)
class Effect:
    """What Discord should show of a handled delivery: a new task's card (`created`), a
    change (`result`, published as a member's action is), or the ping's notice."""

    guild_id: int
    created: TaskView | None = None
    result: ActionResult | None = None
    ping: str | None = None  # the repository whose hook works


@dataclass
class _Done:
    effects: list[Effect] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def outcome(self) -> str:
        return "; ".join(self.said)[:500] or "nothing to do"


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


class Events:
    def __init__(self, db: Database, clock: Clock, tasks: TaskService) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks
        self._setup = GitHubService(db, clock, tasks)

    async def handle(
        self, row: GitHubDelivery, payload: Mapping[str, Any], bot_id: int
    ) -> tuple[list[Effect], str]:
        done = _Done()
        action = str(payload.get("action") or "")
        if row.event == "ping":
            done.effects.append(Effect(row.guild_id, ping=row.full_name))
            done.said.append("the hook works")
        elif row.event == "issues":
            await self._issue(row, action, payload, bot_id, done)
        elif row.event == "pull_request":
            await self._pull(row, action, payload, bot_id, done)
        else:
            done.said.append(f"{row.event} events are not used")
        return done.effects, done.outcome()

    # -- issues --------------------------------------------------------------------------

    async def _issue(
        self, row: GitHubDelivery, action: str, payload: Mapping[str, Any], bot_id: int, done: _Done
    ) -> None:
        issue = GitHubIssue.from_api(_dict(payload.get("issue")))
        target = Target(row.full_name, LinkKind.ISSUE, issue.number)
        async with self._db.read() as uow:
            repo = await uow.github.repository(row.full_name)
            linked = await uow.github.links_to(row.guild_id, [target.url])
        if repo is None:
            done.said.append("the repository was disconnected")
            return
        if action in ("opened", "labeled"):
            wanted = repo.label.lower()
            if action == "labeled":
                given = _dict(payload.get("label")).get("name")
                has = isinstance(given, str) and given.lower() == wanted
            else:
                has = wanted in {label.lower() for label in issue.labels}
            if not wanted or not has:
                done.said.append("not labeled for the board")
                return
            if linked:
                done.said.append(f"already on the board as #{linked[0][1].number}")
                return
            creator = Actor(row.guild_id, repo.connected_by, is_maintainer=True)
            views = await self._setup.create_from_issues(creator, [(issue, target)])
            for view in views:
                done.effects.append(Effect(row.guild_id, created=view))
                done.said.append(f"made task #{view.number}")
            return
        if action in ("closed", "reopened", "edited"):
            state = LinkState.CLOSED if action == "closed" else LinkState.OPEN
            draft = task_draft(issue)
            for link, task in linked:
                fields: dict[str, object] = {}
                if action == "edited" and link.origin == LinkOrigin.SOURCE:
                    fields = {
                        "title": r.clean_title(draft.title),
                        "description": r.clean_description(draft.description),
                    }
                elif action == "edited":
                    continue  # only a task made from the issue follows its text
                note = f"issue {action} on GitHub: {target.url}"
                result = await self._note(
                    Actor(row.guild_id, bot_id, is_bot=True),
                    task.number,
                    note,
                    url=target.url,
                    state=state,
                    fields=fields,
                )
                done.effects.append(Effect(row.guild_id, result=result))
                done.said.append(f"#{task.number}: {note}")
            if not done.effects:
                done.said.append("no task is linked to the issue")
            return
        done.said.append(f"issues {action} is not used")

    # -- pull requests -------------------------------------------------------------------

    async def _pull(
        self, row: GitHubDelivery, action: str, payload: Mapping[str, Any], bot_id: int, done: _Done
    ) -> None:
        pr = GitHubPull.from_api(_dict(payload.get("pull_request")))
        target = Target(row.full_name, LinkKind.PULL, pr.number)
        author = pr.author.lower()
        tasks = await self._referred(row.guild_id, target, pr.closes(row.full_name), pr.tasks())
        if not tasks:
            done.said.append("the pull request refers to no task")
            return
        if action in SUBMITS:
            if pr.draft:
                done.said.append("a draft: nothing until it is ready for review")
                return
            await self._submitted(row.guild_id, target, author, tasks, bot_id, done)
        elif action == "closed":
            if pr.merged:
                merger = (pr.merged_by or "").lower()
                await self._merged(row.guild_id, target, merger, tasks, bot_id, done)
            else:
                await self._closed(row.guild_id, target, tasks, bot_id, done)
        else:
            done.said.append(f"pull_request {action} is not used")

    async def _referred(
        self, guild_id: int, target: Target, closes: set[int], named: set[int]
    ) -> dict[int, set[str]]:
        """The tasks (by number) a pull request refers to — linked to it, linked to an
        issue it closes, or named "Peerboard #12" — each with how (a link's origin)."""
        urls = [Target(target.full_name, LinkKind.ISSUE, n).url for n in sorted(closes)]
        found: dict[int, set[str]] = {}
        async with self._db.read() as uow:
            for link, task in await uow.github.links_to(guild_id, [target.url, *urls]):
                found.setdefault(task.number, set()).add(
                    link.origin if link.url == target.url else "closes"
                )
            for number in sorted(named):
                if await uow.tasks.task_by_number(guild_id, number) is not None:
                    found.setdefault(number, set()).add("named")
        return found

    async def _submitted(
        self,
        guild_id: int,
        target: Target,
        author: str,
        tasks: dict[int, set[str]],
        bot_id: int,
        done: _Done,
    ) -> None:
        async with self._db.read() as uow:
            member = await uow.github.member_of(guild_id, author) if author else None
        for number in sorted(tasks):
            view = await self._tasks.show(guild_id, number)
            if member is not None and member in view.claimant_ids:
                if view.status not in (Status.OPEN, Status.CLAIMED):
                    done.said.append(f"#{number} is {view.status.value}: not submitted again")
                    continue
                result = await self._tasks.submit(
                    Actor(guild_id, member),
                    number,
                    link=target.url,
                    note=f"pull request on GitHub: {target.url}",
                )
                await self._keep_link(
                    guild_id, number, target, LinkOrigin.SUBMITTED, member, author
                )
                done.effects.append(Effect(guild_id, result=result))
                done.said.append(f"#{number} submitted")
                continue
            if any(link.url == target.url for link in view.links):
                done.said.append(f"#{number} already notes the pull request")
                continue
            note = f"a pull request by @{author or 'someone'} refers to this task: {target.url}"
            result = await self._note(
                Actor(guild_id, bot_id, is_bot=True),
                number,
                note,
                add=(target, LinkOrigin.MENTION, author),
            )
            done.effects.append(Effect(guild_id, result=result))
            done.said.append(f"#{number}: noted a pull request by a non-claimant")

    async def _merged(
        self,
        guild_id: int,
        target: Target,
        merger: str,
        tasks: dict[int, set[str]],
        bot_id: int,
        done: _Done,
    ) -> None:
        async with self._db.read() as uow:
            member = await uow.github.member_of(guild_id, merger) if merger else None
        for number in sorted(tasks):
            view = await self._tasks.show(guild_id, number)
            if not _submitted_by(view, target, tasks[number]):
                continue
            try:
                result = await self._approve(guild_id, number, target.url, member, bot_id)
            except DomainError as err:
                done.said.append(f"#{number}: {err.message}")
                continue
            done.effects.append(Effect(guild_id, result=result))
            who = f"@{merger}" if member is not None else f"@{merger or 'GitHub'} (not linked)"
            done.said.append(f"#{number} approved by the merge of {who}")

    async def _approve(
        self, guild_id: int, number: int, url: str, member: int | None, bot_id: int
    ) -> ActionResult:
        """One approval by the merge: by `member` (linked to the merger's login), or by
        GitHub's merge (recorded as the bot's, crediting nobody)."""
        reviewer_id = member if member is not None else bot_id

        async def decide(c: Ctx) -> Outcome:
            return forge.merged(c.state, member, bot_id, c.rules, url)

        async def after(c: Ctx, change: TaskChange) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_review(
                task_id=c.task.id,
                guild_id=guild_id,
                reviewer_id=reviewer_id,
                round_=c.task.review_round,
                verdict=Verdict.APPROVE.value,
                comment=change.outcome.note,
                created_at=c.now,
                credited=member is None,  # GitHub's merge: nobody to credit
            )
            await c.uow.github.set_link_state(guild_id, url, LinkState.MERGED.value)

        return await self._tasks.outside(Actor(guild_id, reviewer_id), number, decide, after)

    async def _closed(
        self, guild_id: int, target: Target, tasks: dict[int, set[str]], bot_id: int, done: _Done
    ) -> None:
        for number in sorted(tasks):
            view = await self._tasks.show(guild_id, number)
            if not _submitted_by(view, target, tasks[number]):
                continue
            result = await self._send_back(guild_id, number, target.url, bot_id)
            done.effects.append(Effect(guild_id, result=result))
            done.said.append(f"#{number} back to its claimants")

    async def _send_back(self, guild_id: int, number: int, url: str, bot_id: int) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return forge.closed_unmerged(c.state, c.rules, c.now, url)

        async def after(c: Ctx, _change: TaskChange) -> None:
            await c.uow.github.set_link_state(guild_id, url, LinkState.CLOSED.value)

        actor = Actor(guild_id, bot_id, is_bot=True)
        return await self._tasks.outside(actor, number, decide, after)

    # -- notes ---------------------------------------------------------------------------

    async def _note(
        self,
        actor: Actor,
        number: int,
        note: str,
        *,
        url: str | None = None,
        state: LinkState | None = None,
        fields: Mapping[str, object] | None = None,
        add: tuple[Target, LinkOrigin, str] | None = None,
    ) -> ActionResult:
        """A note from GitHub on a task: its history and its card, status unchanged."""

        async def decide(c: Ctx) -> Outcome:
            return forge.noted(c.state, note)

        async def after(c: Ctx, _change: TaskChange) -> None:
            if url is not None and state is not None:
                await c.uow.github.set_link_state(actor.guild_id, url, state.value)
            if add is not None:
                target, origin, author = add
                c.uow.github.add_link(
                    link_row(c.task, target, origin, actor.member_id, c.now, author=author)
                )

        return await self._tasks.outside(actor, number, decide, after, fields=fields)

    async def _keep_link(
        self, guild_id: int, number: int, target: Target, origin: LinkOrigin, by: int, author: str
    ) -> None:
        async with self._db.unit() as uow:
            task = await uow.tasks.task_by_number(guild_id, number)
            if task is None or task.id is None:
                return
            existing = [
                link for link in await uow.github.links([task.id]) if link.url == target.url
            ]
            if existing:
                return
            uow.github.add_link(
                link_row(task, target, origin, by, self._clock.now(), author=author)
            )
            await uow.commit()


def _submitted_by(view: TaskView, target: Target, origins: set[str]) -> bool:
    """The task waits for review of this pull request: its latest submission's link, or
    the pull request linked to it by /task link or by the submission it made."""
    if view.status is not Status.IN_REVIEW:
        return False
    if view.submission is not None and view.submission.link == target.url:
        return True
    return bool(origins & {LinkOrigin.MANUAL.value, LinkOrigin.SUBMITTED.value})
