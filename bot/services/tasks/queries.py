"""The task service's reads: show, list, history, standing, autocomplete and the reviews
waiting for a member. Each is one read unit (no transaction, bot.db.uow)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.db.queries.common import MAX_NUMBER
from bot.db.queries.suggest import typed_number
from bot.db.uow import Database, UnitOfWork
from bot.domain import rules as r
from bot.domain.errors import InvalidInput
from bot.domain.model import Actor, Rules, Status
from bot.services.clock import Clock
from bot.services.config import ConfigService
from bot.services.tasks.common import (
    ACTIVE_STATUSES,
    FINISHED,
    HISTORY_LIMIT,
    LIST_STATUSES,
    PAGE_SIZE,
    no_such_task,
    task_or_404,
)
from bot.services.tasks.views import claim_views, history_views, task_views
from bot.services.views import HistoryView, MemberStanding, TaskChoice, TaskPage, TaskView


async def rules_of(uow: UnitOfWork, guild_id: int) -> Rules:
    """The guild's rules, or the defaults for a guild without a settings row."""
    settings = await uow.guilds.get_guild(guild_id)
    return settings.rules if settings is not None else Rules()


class TaskQueries:
    def __init__(self, db: Database, clock: Clock, config: ConfigService | None) -> None:
        self._db = db
        self._clock = clock
        # Reads (show, list, history) take the two settings a card shows from the config
        # cache rather than a query of their own; writes read the settings in their
        # transaction, as their rules depend on them.
        self._config = config

    async def _card_rules(self, guild_id: int) -> Rules | None:
        return (await self._config.get(guild_id)).rules if self._config is not None else None

    async def show_by_id(self, task_id: int) -> TaskView | None:
        async with self._db.read() as uow:
            task = await uow.tasks.task_by_id(task_id)
            if task is None:
                return None
            rules = await rules_of(uow, task.guild_id)
            return (await task_views(uow, [task], rules, detail=True))[0]

    async def show(self, guild_id: int, number: int) -> TaskView:
        rules = await self._card_rules(guild_id)
        async with self._db.read() as uow:
            if rules is None:
                rules = await rules_of(uow, guild_id)
            found = await uow.tasks.task_for_action(guild_id, number)
            if found is None:
                raise no_such_task(number)
            task, claims, note = found
            assert task.id is not None
            views = await task_views(
                uow,
                [task],
                rules,
                detail=True,
                claims={task.id: claim_views(claims)},
                handoffs={task.id: note},
            )
            return views[0]

    async def list_tasks(
        self,
        guild_id: int,
        *,
        status: str | None = None,
        tag: str | None = None,
        member_id: int | None = None,
        after: int = 0,
        limit: int = PAGE_SIZE,
    ) -> TaskPage:
        if status is not None and status not in LIST_STATUSES:
            raise InvalidInput("Unknown status “{status}”.", status=status)
        statuses: Sequence[str] | None
        if status == "all":
            statuses = None
        elif status is not None:
            statuses = (status,)
        else:
            # Someone's own list shows all their work in progress; the board shows what is open.
            statuses = ACTIVE_STATUSES if member_id is not None else (Status.OPEN.value,)
        clean_tag = r.parse_tags(tag)[0] if tag and r.parse_tags(tag) else None
        rules = await self._card_rules(guild_id)
        async with self._db.read() as uow:
            if rules is None:
                rules = await rules_of(uow, guild_id)
            rows, claims = await uow.tasks.list_tasks(
                guild_id, statuses, clean_tag, member_id, after, limit + 1
            )
            page = rows[:limit]
            known = {t.id: claim_views(claims[t.id]) for t in page if t.id is not None}
            views = await task_views(uow, page, rules, claims=known)
            next_after = page[-1].number if len(rows) > limit else None
        return TaskPage(tuple(views), next_after)

    async def history(self, guild_id: int, number: int) -> tuple[TaskView, tuple[HistoryView, ...]]:
        rules = await self._card_rules(guild_id)
        async with self._db.read() as uow:
            if rules is None:
                rules = await rules_of(uow, guild_id)
            task = await task_or_404(uow, guild_id, number)
            assert task.id is not None
            rows = await uow.history.history(task.id, HISTORY_LIMIT)
            view = (await task_views(uow, [task], rules))[0]
        return view, history_views(rows)

    async def standing(self, actor: Actor) -> MemberStanding:
        async with self._db.read() as uow:
            rules = await rules_of(uow, actor.guild_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            level = r.trust_level(done, rules)
            held = await uow.claims.count_held_claims(actor.guild_id, actor.member_id)
        limit = None if actor.is_maintainer else r.claim_limit(level, rules)
        return MemberStanding(actor.member_id, done, level, held, limit)

    async def suggest(
        self, guild_id: int, query: str, limit: int = 25, *, which: str = "unfinished"
    ) -> tuple[TaskChoice, ...]:
        """Autocomplete. `which`: "unfinished" (what members work on), "finished" (what a
        maintainer may reopen), or "any" (show, history). Only what a choice shows, no card
        data: one light statement for a title, two for a number."""
        statuses = {
            "unfinished": (*ACTIVE_STATUSES, Status.PROPOSED.value),
            "finished": FINISHED,
            "any": tuple(s.value for s in Status),
        }[which]
        async with self._db.read() as uow:
            # A number prefix is looked up as far as the guild's highest number (each range
            # of numbers is a part of the statement); a title needs no bound.
            top = MAX_NUMBER
            if typed_number(query):
                top = await uow.tasks.highest_task_number(guild_id)
            rows = await uow.tasks.suggest_tasks(guild_id, query, min(limit, 25), statuses, top)
        return tuple(TaskChoice(number, title, Status(status)) for number, title, status in rows)

    async def reviews_waiting(self, actor: Actor, limit: int = 10) -> tuple[TaskView, ...]:
        """In-review tasks this member may review now (none for members who can't review yet)."""
        async with self._db.read() as uow:
            rules = await rules_of(uow, actor.guild_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            if not r.can_review(actor, r.trust_level(done, rules)):
                return ()
            rows = await uow.tasks.tasks_in_review_for(actor.guild_id, actor.member_id, limit)
            return tuple(await task_views(uow, rows, rules))
