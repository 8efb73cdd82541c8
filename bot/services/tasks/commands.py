"""TaskService: one method per SPEC §2 action (the reads are `TaskQueries`').

Every mutating call is one transaction that compare-and-sets the task's version, writes
what the domain decided, and appends one history row (`writer`). A lost race retries
from a fresh read, so the loser sees the winner's state (and usually a clear refusal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo

from bot.db.models import ClaimRow, Task
from bot.db.queries.common import tags_to_column
from bot.db.repos.cards import card_mark
from bot.db.uow import Database, UnitOfWork
from bot.domain import lifecycle as lc
from bot.domain import rules as r
from bot.domain.change import TaskChange, apply
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.inputs import clean_link, clean_text
from bot.domain.lifecycle import Outcome
from bot.domain.model import Action, Actor, Rules
from bot.services.clock import Clock
from bot.services.config import ConfigService
from bot.services.tasks.common import (
    UNSET,
    _Unset,
    check_due,
    clean_fields,
    no_such_task,
    task_or_404,
)
from bot.services.tasks.importing import NOTE, clean_rows, parse_csv
from bot.services.tasks.queries import TaskQueries, rules_of
from bot.services.tasks.views import task_views
from bot.services.tasks.writer import (
    After,
    Ctx,
    Decide,
    Writer,
    load_state,
    new_task,
    persist_expiries,
)
from bot.services.views import ActionResult, TaskView

# An expiry's change does not depend on the guild's rules (it adds, renews, pays and
# nudges nothing), so the sweep's batch reads no settings for it.
_EXPIRY_RULES = Rules()

# What an import records beside its tasks (the issues they came from), in its transaction.
Linked = Callable[[UnitOfWork, Sequence[Task], datetime], Awaitable[None]]
Columns = Mapping[str, object]  # a task's own columns, by name (`object` is a method below)


class TaskService(TaskQueries):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        max_attempts: int = 8,
        config: ConfigService | None = None,
    ) -> None:
        super().__init__(db, clock, config)
        self._writer = Writer(db, clock, config, max_attempts)
        self._act = self._writer.act

    # -- creation --------------------------------------------------------------------------

    async def create(
        self,
        actor: Actor,
        title: str,
        description: str | None = None,
        points: int = 1,
        tags: str | None = None,
        due_at: datetime | None = None,
        capacity: int = 1,
        blocked_by: int | None = None,
        claim_days: int | None = None,
    ) -> ActionResult:
        clean = clean_fields(title, description, points, tags, capacity)
        r.check_claim_days(claim_days)

        async def decide(uow: UnitOfWork, rules: Rules, now: datetime) -> Outcome:
            check_due(due_at, now)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            return lc.create(actor, r.trust_level(done, rules), rules)

        return await self._writer.insert(
            actor, decide, clean, due_at=due_at, blocked_by=blocked_by, claim_days=claim_days
        )

    async def propose(
        self,
        actor: Actor,
        title: str,
        description: str | None = None,
        points: int = 1,
        tags: str | None = None,
    ) -> ActionResult:
        clean = clean_fields(title, description, points, tags, 1)

        async def decide(uow: UnitOfWork, rules: Rules, now: datetime) -> Outcome:
            # One member's proposals one at a time, so two at once cannot both pass the limit.
            await uow.guilds.lock_member(actor.guild_id, actor.member_id, now)
            waiting = await uow.tasks.open_proposal_count(actor.guild_id, actor.member_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            return lc.propose(actor, r.trust_level(done, rules), waiting, rules)

        return await self._writer.insert(actor, decide, clean)

    async def import_csv(self, actor: Actor, data: bytes, tz: tzinfo) -> tuple[TaskView, ...]:
        """Permission first, so a non-maintainer learns that before fixing their file."""
        async with self._db.unit() as uow:
            rules = await rules_of(uow, actor.guild_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            lc.create(actor, r.trust_level(done, rules), rules)
        return await self.import_tasks(actor, parse_csv(data, self._clock.now(), tz))

    async def import_tasks(
        self, actor: Actor, rows: Sequence[Mapping[str, object]], *, linked: Linked | None = None
    ) -> tuple[TaskView, ...]:
        """All rows or none (`importing.clean_rows`): checked first, then inserted in one
        transaction. A row's `importing.NOTE` is its history note (the issue it came
        from); `linked` writes what else the import records, in the same transaction."""
        now = self._clock.now()
        cleaned = clean_rows(rows, now)
        async with self._db.unit() as uow:
            rules = (await uow.guilds.ensure_guild(actor.guild_id, now)).rules
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            outcome = lc.create(actor, r.trust_level(done, rules), rules)
            tasks: list[Task] = []
            for row, (fields, due) in zip(rows, cleaned, strict=True):
                note = str(row.get(NOTE) or "") or None
                tasks.append(
                    await new_task(
                        uow, actor, outcome, fields, now, rules=rules, due_at=due, note=note
                    )
                )
            if linked is not None:
                await linked(uow, tasks, now)
                await uow.flush()
            views = await task_views(uow, tasks, rules)
            await uow.commit()
        return tuple(views)

    # -- proposals ------------------------------------------------------------------------

    async def endorse(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.endorse(c.state, actor, c.rules)

        async def after(c: Ctx, change: TaskChange) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_vote(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                kind="endorse",
                created_at=c.now,
            )

        return await self._act(actor, number, decide, after)

    async def object(self, actor: Actor, number: int, reason: str) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.object_(c.state, actor, reason)

        async def after(c: Ctx, change: TaskChange) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_vote(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                kind="object",
                reason=change.outcome.note,
                created_at=c.now,
            )

        return await self._act(actor, number, decide, after)

    async def open_by_consensus(self, guild_id: int, number: int, bot_id: int) -> ActionResult:
        actor = Actor(guild_id, bot_id, is_bot=True)

        async def decide(c: Ctx) -> Outcome:
            return lc.open_by_consensus(c.state, c.task.status_changed_at, c.now, c.rules)

        return await self._act(actor, number, decide)

    # -- claims ----------------------------------------------------------------------------

    async def claim(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            if actor.member_id not in c.state.claimant_ids:
                # One member's claims one at a time, so two at once cannot both pass the limit.
                await c.uow.guilds.lock_member(actor.guild_id, actor.member_id, c.now)
            held, done = await c.uow.claims.claim_standing(actor.guild_id, actor.member_id)
            level = r.trust_level(done, c.rules)
            return lc.claim(c.state, actor, level, held, c.rules, c.now)

        return await self._act(actor, number, decide)

    async def assign(
        self, actor: Actor, number: int, member_id: int, *, member_is_bot: bool = False
    ) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.assign(c.state, actor, member_id, member_is_bot, c.rules, c.now)

        return await self._act(actor, number, decide, member_id=member_id)

    async def release(self, actor: Actor, number: int, note: str | None = None) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.release(c.state, actor, note)

        return await self._act(actor, number, decide)

    async def extend(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.extend(c.state, actor, c.rules, c.now)

        return await self._act(actor, number, decide)

    async def expire(self, guild_id: int, number: int, member_id: int, bot_id: int) -> ActionResult:
        actor = Actor(guild_id, bot_id, is_bot=True)

        async def decide(c: Ctx) -> Outcome:
            return lc.expire(c.state, member_id, c.now)

        return await self._act(actor, number, decide, member_id=member_id)

    async def expire_many(self, claims: Sequence[tuple[int, int]], bot_id: int) -> int:
        """The sweep's expiries, (task id, member) each: how many were applied. Each writes
        what `expire` writes, from the same `TaskChange` (`writer.persist_expiries`), all
        in one transaction of a few statements instead of a transaction of ~10 per claim.
        A claim the rules refuse now (extended, released, submitted) is left alone; a task
        someone else changed since it was read here, and a second claim on one task, go
        through `expire` one at a time."""
        if not claims:
            return 0
        first: dict[int, int] = {}
        one_by_one: list[tuple[int, int]] = []
        for task_id, member_id in claims:
            if task_id in first:
                one_by_one.append((task_id, member_id))
            else:
                first[task_id] = member_id
        later: list[tuple[int, int, int]] = []  # (guild, number, member)
        async with self._db.unit() as uow:
            now = self._clock.now()
            tasks = {t.id: t for t in await uow.tasks.tasks_by_ids(list(first))}
            held: dict[int, list[ClaimRow]] = {}
            for claim in await uow.claims.active_claims_for_tasks(list(first)):
                held.setdefault(claim.task_id, []).append(claim)
            # Their blockers into the session, so load_state reads none of them again.
            await uow.tasks.tasks_by_ids(
                [t.blocked_by_id for t in tasks.values() if t.blocked_by_id is not None]
            )
            decided: dict[int, tuple[Task, TaskChange, int]] = {}
            for task_id, member_id in first.items():
                task = tasks.get(task_id)
                if task is None:
                    continue  # deleted
                mine = next((c for c in held.get(task_id, []) if c.member_id == member_id), None)
                state = await load_state(uow, task, held.get(task_id, []))
                try:
                    outcome = lc.expire(state, member_id, now)
                except DomainError:
                    continue  # extended, released or submitted in the meantime
                assert mine is not None and mine.id is not None
                change = apply(state, outcome, _EXPIRY_RULES, now, actor_id=bot_id)
                decided[task_id] = (task, change, mine.id)
            written = await persist_expiries(uow, decided, now)
            for task_id, (task, _change, _claim) in decided.items():
                if task_id not in written:  # someone else changed it: read it again
                    later.append((task.guild_id, task.number, first[task_id]))
            await uow.commit()
            applied = len(written)
        for task_id, member_id in one_by_one:
            found = tasks.get(task_id)
            if found is not None:
                later.append((found.guild_id, found.number, member_id))
        for guild_id, number, member_id in later:
            try:
                await self.expire(guild_id, number, member_id, bot_id)
                applied += 1
            except DomainError:
                continue  # extended, released or submitted in the meantime
        return applied

    async def may(self, actor: Actor, number: int, action: Action) -> None:
        """Raises the refusal `action` (one of `lifecycle.PRECHECKED`) would give `actor` on
        #number, before they type anything: the check a form makes before it opens. The
        action checks again when it runs: a pre-check is no proof of right."""
        rules = await self._card_rules(actor.guild_id)
        async with self._db.read() as uow:
            if rules is None:
                rules = await rules_of(uow, actor.guild_id)
            found = await uow.tasks.task_for_action(actor.guild_id, number)
            if found is None:
                raise no_such_task(number)
            task, claims, _note = found
            state = await load_state(uow, task, claims)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
        lc.may(action, state, actor, r.trust_level(done, rules))

    # -- review ----------------------------------------------------------------------------

    async def submit(
        self,
        actor: Actor,
        number: int,
        link: str | None = None,
        notes: str | None = None,
        *,
        note: str | None = None,
    ) -> ActionResult:
        """`note`: the history's note (a pull request on GitHub that submitted it)."""

        async def decide(c: Ctx) -> Outcome:
            return lc.submit(c.state, actor, link, notes)

        async def after(c: Ctx, change: TaskChange) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_submission(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                round_=change.state.review_round,
                link=clean_link(link),  # as lifecycle.submit checked them
                notes=clean_text(notes),
                created_at=c.now,
            )

        return await self._act(actor, number, decide, after, note=note)

    async def approve(self, actor: Actor, number: int, comment: str | None = None) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.approve(c.state, actor, await c.level(actor.member_id), c.rules, comment)

        return await self._act(actor, number, decide, self._review_writer(actor))

    async def request_changes(self, actor: Actor, number: int, reason: str) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.request_changes(
                c.state, actor, await c.level(actor.member_id), reason, c.rules, c.now
            )

        return await self._act(actor, number, decide, self._review_writer(actor))

    @staticmethod
    def _review_writer(actor: Actor) -> After:
        async def after(c: Ctx, change: TaskChange) -> None:
            o = change.outcome
            assert c.task.id is not None and o.review is not None
            c.uow.reviews.add_review(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                reviewer_id=actor.member_id,
                round_=c.task.review_round,
                verdict=o.review.value,
                comment=o.note,
                created_at=c.now,
            )

        return after

    # -- maintenance -----------------------------------------------------------------------

    async def edit(
        self,
        actor: Actor,
        number: int,
        *,
        title: str | _Unset = UNSET,
        description: str | _Unset = UNSET,
        points: int | _Unset = UNSET,
        tags: str | _Unset = UNSET,
        due_at: datetime | _Unset | None = UNSET,
        capacity: int | _Unset = UNSET,
        blocked_by: int | _Unset | None = UNSET,
        claim_days: int | _Unset | None = UNSET,
    ) -> ActionResult:
        """`claim_days` None: the task takes the guild's window again (from its next claim)."""
        values: dict[str, object] = {}
        if not isinstance(title, _Unset):
            values["title"] = r.clean_title(title)
        if not isinstance(description, _Unset):
            values["description"] = r.clean_description(description)
        if not isinstance(points, _Unset):
            values["points"] = r.check_points(points)
        if not isinstance(tags, _Unset):
            values["tags"] = tags_to_column(r.parse_tags(tags))
        new_capacity = r.check_capacity(capacity) if not isinstance(capacity, _Unset) else None
        if new_capacity is not None:
            values["capacity"] = new_capacity
        if not isinstance(claim_days, _Unset):
            values["claim_days"] = r.check_claim_days(claim_days)
        if not values and isinstance(due_at, _Unset) and isinstance(blocked_by, _Unset):
            raise InvalidInput("Nothing to change: give at least one field to edit.")

        async def decide(c: Ctx) -> Outcome:
            if not isinstance(due_at, _Unset):
                check_due(due_at, c.now)
                values["due_at"] = due_at
            if not isinstance(blocked_by, _Unset):
                values["blocked_by_id"] = await self._blocker_id(c.uow, c.task, blocked_by)
            return lc.edit(c.state, actor, new_capacity)

        changed = ", ".join(
            sorted(
                {
                    *values,
                    *(["due"] if not isinstance(due_at, _Unset) else []),
                    *(["blocked_by"] if not isinstance(blocked_by, _Unset) else []),
                }
                - {"due_at", "blocked_by_id"}
            )
        )
        return await self._act(actor, number, decide, fields=values, note=f"changed {changed}")

    async def outside(
        self,
        actor: Actor,
        number: int,
        decide: Decide,
        after: After | None = None,
        *,
        fields: Columns | None = None,
        note: str | None = None,
    ) -> ActionResult:
        """An action decided outside the members' own (a GitHub event, bot/services/
        github): the same write path, history row, card mark and notices."""
        return await self._act(actor, number, decide, after, fields=fields, note=note)

    async def cancel(self, actor: Actor, number: int, reason: str) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.cancel(c.state, actor, reason)

        return await self._act(actor, number, decide)

    async def reopen(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: Ctx) -> Outcome:
            return lc.reopen(c.state, actor)

        return await self._act(actor, number, decide)

    async def set_card(
        self,
        guild_id: int,
        number: int,
        channel_id: int,
        message_id: int,
        thread_id: int | None = None,
        *,
        shows: int | None = None,
    ) -> None:
        """Remember where the card lives, so every change can edit it in place. `shows`:
        the task's version the card was drawn from. A change made while it was being
        posted (a claim a moment after the create) found no card to mark; the card then
        shows an older state, so it is marked here, for the sweep's repair at once."""
        async with self._db.unit() as uow:
            if not await uow.tasks.set_card(guild_id, number, channel_id, message_id, thread_id):
                raise no_such_task(number)
            if shows is not None:
                mark = card_mark(self._clock.now(), timedelta(0))
                await uow.cards.mark_if_changed(guild_id, number, shows, mark)
            await uow.commit()

    @staticmethod
    async def _blocker_id(uow: UnitOfWork, task: Task, number: int | None) -> int | None:
        if number is None:
            return None
        blocker = await task_or_404(uow, task.guild_id, number)
        if blocker.id == task.id:
            raise InvalidInput("A task can't be blocked by itself.")
        seen = 0
        step: Task | None = blocker
        while step is not None and step.blocked_by_id is not None and seen < 100:
            if step.blocked_by_id == task.id:
                raise InvalidInput(
                    "#{number} already waits on #{task}; that would be a loop.",
                    number=number,
                    task=task.number,
                )
            step = await uow.tasks.task_by_id(step.blocked_by_id)
            seen += 1
        return blocker.id
