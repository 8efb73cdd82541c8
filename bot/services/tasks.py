"""TaskService: one method per SPEC §2 action, plus show, list and history.

Every mutating call is one transaction that compare-and-sets the task's version, writes
what the domain decided, and appends one history row. A lost race retries from a fresh
read, so the loser sees the winner's state (and usually a clear refusal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final, Protocol

import sqlalchemy.exc

from bot.db.models import ClaimRow, GuildSettings, Task
from bot.db.queries.common import MAX_NUMBER, tags_from_column, tags_to_column
from bot.db.queries.suggest import typed_number
from bot.db.repos.claims import NewClaim
from bot.db.repos.deliveries import Notice
from bot.db.repos.history import HistoryEntry
from bot.db.repos.ledger import Credit
from bot.db.repos.tasks import NewTask
from bot.db.uow import Database, UnitOfWork
from bot.domain import lifecycle as lc
from bot.domain import rules as r
from bot.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from bot.domain.lifecycle import Outcome, TaskState
from bot.domain.model import (
    CHANNEL,
    Action,
    Actor,
    ClaimEnd,
    LedgerKind,
    Reminder,
    Rules,
    Status,
    TrustLevel,
    Verdict,
)
from bot.services.clock import Clock
from bot.services.config import ConfigService, GuildConfig
from bot.services.importing import PROBLEM, ROW, parse_csv
from bot.services.views import (
    ActionResult,
    ClaimView,
    HistoryView,
    MemberStanding,
    SubmissionView,
    TaskChoice,
    TaskPage,
    TaskView,
)

FINISHED: Final = (Status.DONE.value, Status.CANCELLED.value)
ACTIVE_STATUSES: Final = (Status.OPEN.value, Status.CLAIMED.value, Status.IN_REVIEW.value)
LIST_STATUSES: Final = {s.value for s in Status} | {"all"}
PAGE_SIZE: Final = 10
HISTORY_LIMIT: Final = 200


def no_such_task(number: int) -> NotFound:
    return NotFound(f"There is no task #{number} in this server. Try /task list.")


def _claim_view(c: ClaimRow) -> ClaimView:
    return ClaimView(c.member_id, c.claimed_at, c.expires_at, c.extensions)


def _claim_views(rows: Iterable[ClaimRow]) -> list[ClaimView]:
    return [_claim_view(c) for c in rows]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def parse_task_number(raw: str | int) -> int:
    """Accepts 12, "12", "#12" and autocomplete values like "12"."""
    if isinstance(raw, int):
        number = raw
    else:
        text = raw.strip().lstrip("#").split(" ", 1)[0].split("·", 1)[0].strip()
        if not text.isdigit():
            raise InvalidInput(f"“{raw[:40]}” is not a task number — use one like 12 or #12.")
        number = int(text)
    if number < 1:
        raise InvalidInput("Task numbers start at 1.")
    return number


@dataclass
class _Ctx:
    uow: UnitOfWork
    now: datetime
    settings: GuildSettings | GuildConfig
    rules: Rules
    task: Task
    state: TaskState
    claims: Sequence[ClaimRow]

    async def level(self, member_id: int) -> TrustLevel:
        done = await self.uow.ledger.done_task_count(self.task.guild_id, member_id)
        return r.trust_level(done, self.rules)


def _claims_after(claims: Sequence[ClaimRow], o: Outcome) -> list[ClaimView]:
    """The task's active claims once `o` is written: those read before it, less the ended,
    with renewals applied, and the new one last (claims are listed oldest first)."""
    renewed = {c.member_id: c for c in o.renew_claims}
    views = []
    for c in claims:
        if c.member_id in o.end_claims:
            continue
        r_ = renewed.get(c.member_id)
        if r_ is not None:
            views.append(ClaimView(c.member_id, c.claimed_at, r_.expires_at, r_.extensions))
        else:
            views.append(_claim_view(c))
    if o.add_claim is not None:
        a = o.add_claim
        views.append(ClaimView(a.member_id, a.claimed_at, a.expires_at, a.extensions))
    return views


class CardSettings(Protocol):
    """What a card needs of the guild's settings (GuildSettings and GuildConfig have it)."""

    @property
    def rules(self) -> Rules: ...


Decide = Callable[[_Ctx], Awaitable[Outcome]]
After = Callable[[_Ctx, Outcome], Awaitable[None]]


class TaskService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        max_attempts: int = 8,
        config: ConfigService | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_attempts = max_attempts
        # Reads (show, list, history) take the two settings a card shows from the config
        # cache rather than a query of their own; writes read the settings in their
        # transaction, as their rules depend on them.
        self._config = config

    # -- queries ---------------------------------------------------------------------------

    async def show_by_id(self, task_id: int) -> TaskView | None:
        async with self._db.read() as uow:
            task = await uow.tasks.task_by_id(task_id)
            if task is None:
                return None
            settings = await self._settings(uow, task.guild_id)
            return (await self._views(uow, [task], settings, detail=True))[0]

    async def show(self, guild_id: int, number: int) -> TaskView:
        settings = await self._card_settings(guild_id)
        async with self._db.read() as uow:
            if settings is None:
                settings = await self._settings(uow, guild_id)
            task, claims, note = await self._task_with_claims(uow, guild_id, number)
            assert task.id is not None
            views = await self._views(
                uow,
                [task],
                settings,
                detail=True,
                claims={task.id: _claim_views(claims)},
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
            raise InvalidInput(f"Unknown status “{status}”.")
        statuses: Sequence[str] | None
        if status == "all":
            statuses = None
        elif status is not None:
            statuses = (status,)
        else:
            # Someone's own list shows all their work in progress; the board shows what is open.
            statuses = ACTIVE_STATUSES if member_id is not None else (Status.OPEN.value,)
        clean_tag = r.parse_tags(tag)[0] if tag and r.parse_tags(tag) else None
        settings = await self._card_settings(guild_id)
        async with self._db.read() as uow:
            if settings is None:
                settings = await self._settings(uow, guild_id)
            rows, claims = await uow.tasks.list_tasks(
                guild_id, statuses, clean_tag, member_id, after, limit + 1
            )
            page = rows[:limit]
            known = {t.id: _claim_views(claims[t.id]) for t in page if t.id is not None}
            views = await self._views(uow, page, settings, claims=known)
            next_after = page[-1].number if len(rows) > limit else None
        return TaskPage(tuple(views), next_after)

    async def history(self, guild_id: int, number: int) -> tuple[TaskView, tuple[HistoryView, ...]]:
        settings = await self._card_settings(guild_id)
        async with self._db.read() as uow:
            if settings is None:
                settings = await self._settings(uow, guild_id)
            task = await self._task(uow, guild_id, number)
            assert task.id is not None
            rows = await uow.history.history(task.id, HISTORY_LIMIT)
            view = (await self._views(uow, [task], settings))[0]
        return view, tuple(
            HistoryView(h.actor_id, h.action, h.from_status, h.to_status, h.note, h.created_at)
            for h in rows
        )

    async def standing(self, actor: Actor) -> MemberStanding:
        async with self._db.read() as uow:
            settings = await self._settings(uow, actor.guild_id)
            rules = settings.rules
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            level = r.trust_level(done, rules)
            held = await uow.claims.count_held_claims(actor.guild_id, actor.member_id)
        limit = None if actor.is_maintainer else r.claim_limit(level, rules)
        return MemberStanding(actor.member_id, done, level, held, limit)

    async def settings(self, guild_id: int) -> GuildSettings:
        async with self._db.unit() as uow:
            settings = await uow.guilds.ensure_guild(guild_id, self._clock.now())
            await uow.commit()
            return settings

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
            settings = await self._settings(uow, actor.guild_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            if not r.can_review(actor, r.trust_level(done, settings.rules)):
                return ()
            rows = await uow.tasks.tasks_in_review_for(actor.guild_id, actor.member_id, limit)
            return tuple(await self._views(uow, rows, settings))

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
        clean = self._clean_fields(title, description, points, tags, capacity)
        r.check_claim_days(claim_days)

        async def decide(uow: UnitOfWork, rules: Rules, now: datetime) -> Outcome:
            self._check_due(due_at, now)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            return lc.create(actor, r.trust_level(done, rules), rules)

        return await self._insert(
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
        clean = self._clean_fields(title, description, points, tags, 1)

        async def decide(uow: UnitOfWork, rules: Rules, now: datetime) -> Outcome:
            return lc.propose(actor)

        return await self._insert(actor, decide, clean)

    async def import_csv(self, actor: Actor, data: bytes, tz: tzinfo) -> tuple[TaskView, ...]:
        """Permission first, so a non-maintainer learns that before fixing their file."""
        async with self._db.unit() as uow:
            settings = await self._settings(uow, actor.guild_id)
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            lc.create(actor, r.trust_level(done, settings.rules), settings.rules)
        return await self.import_tasks(actor, parse_csv(data, self._clock.now(), tz))

    async def import_tasks(
        self, actor: Actor, rows: Sequence[dict[str, Any]]
    ) -> tuple[TaskView, ...]:
        """All rows or none. Each row: title, description, points, tags, due_at, capacity.

        Rows are validated first, then inserted in one transaction."""
        if not rows:
            raise InvalidInput("The file has no tasks in it.")
        problems: list[str] = []
        cleaned: list[tuple[dict[str, Any], datetime | None]] = []
        now = self._clock.now()
        for index, row in enumerate(rows, start=2):  # row 1 is the header
            try:
                if row.get(PROBLEM):  # found while reading the file
                    raise InvalidInput(str(row[PROBLEM]))
                fields = self._clean_fields(
                    row.get("title") or "",
                    row.get("description"),
                    row.get("points", 1),
                    row.get("tags"),
                    row.get("capacity", 1),
                )
                due = row.get("due_at")
                self._check_due(due, now)
                cleaned.append((fields, due))
            except InvalidInput as err:
                problems.append(f"row {row.get(ROW, index)}: {err.message}")
        if problems:
            shown = problems[:10]
            more = f"\n…and {len(problems) - 10} more." if len(problems) > 10 else ""
            raise InvalidInput(
                "Nothing was imported. Fix these rows and try again:\n" + "\n".join(shown) + more
            )
        async with self._db.unit() as uow:
            settings = await uow.guilds.ensure_guild(actor.guild_id, now)
            rules = settings.rules
            done = await uow.ledger.done_task_count(actor.guild_id, actor.member_id)
            outcome = lc.create(actor, r.trust_level(done, rules), rules)
            tasks: list[Task] = []
            for fields, due in cleaned:
                task = await self._new_task(uow, actor, outcome, fields, now, due_at=due)
                tasks.append(task)
            views = await self._views(uow, tasks, settings)
            await uow.commit()
        return tuple(views)

    # -- proposals ------------------------------------------------------------------------

    async def endorse(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.endorse(c.state, actor, c.rules)

        async def after(c: _Ctx, o: Outcome) -> None:
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
        async def decide(c: _Ctx) -> Outcome:
            return lc.object_(c.state, actor, reason)

        async def after(c: _Ctx, o: Outcome) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_vote(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                kind="object",
                reason=o.note,
                created_at=c.now,
            )

        return await self._act(actor, number, decide, after)

    async def open_by_consensus(self, guild_id: int, number: int, bot_id: int) -> ActionResult:
        actor = Actor(guild_id, bot_id, is_bot=True)

        async def decide(c: _Ctx) -> Outcome:
            return lc.open_by_consensus(c.state, c.task.status_changed_at, c.now, c.rules)

        return await self._act(actor, number, decide)

    # -- claims ----------------------------------------------------------------------------

    async def claim(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
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
        async def decide(c: _Ctx) -> Outcome:
            return lc.assign(c.state, actor, member_id, member_is_bot, c.rules, c.now)

        return await self._act(actor, number, decide, member_id=member_id)

    async def release(self, actor: Actor, number: int, note: str | None = None) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.release(c.state, actor, note)

        return await self._act(actor, number, decide)

    async def extend(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.extend(c.state, actor, c.rules, c.now)

        return await self._act(actor, number, decide)

    async def expire(self, guild_id: int, number: int, member_id: int, bot_id: int) -> ActionResult:
        actor = Actor(guild_id, bot_id, is_bot=True)

        async def decide(c: _Ctx) -> Outcome:
            return lc.expire(c.state, member_id, c.now)

        return await self._act(actor, number, decide, member_id=member_id)

    async def expire_many(self, claims: Sequence[tuple[int, int]], bot_id: int) -> int:
        """The sweep's expiries, (task id, member) each: how many were applied. Each writes
        what `expire` writes (the task's version compare-and-set, the claim ended, one
        history row, the notices), all in one transaction of a few statements instead of a
        transaction of ~10 per claim. A claim the rules refuse now (extended, released,
        submitted) is left alone; a task someone else changed since it was read here, and
        a second claim on one task, go through `expire` one at a time."""
        if not claims:
            return 0
        first: dict[int, int] = {}
        one_by_one: list[tuple[int, int]] = []
        for task_id, member_id in claims:
            if task_id in first:
                one_by_one.append((task_id, member_id))
            else:
                first[task_id] = member_id
        applied = 0
        later: list[tuple[int, int, int]] = []  # (guild, number, member)
        async with self._db.unit() as uow:
            now = self._clock.now()
            tasks = {t.id: t for t in await uow.tasks.tasks_by_ids(list(first))}
            held: dict[int, list[ClaimRow]] = {}
            for claim in await uow.claims.active_claims_for_tasks(list(first)):
                held.setdefault(claim.task_id, []).append(claim)
            # Their blockers into the session, so _state reads none of them again.
            await uow.tasks.tasks_by_ids(
                [t.blocked_by_id for t in tasks.values() if t.blocked_by_id is not None]
            )
            groups: dict[tuple[int, tuple[tuple[str, Any], ...]], list[int]] = {}
            decided: dict[int, tuple[Task, Outcome, int]] = {}
            for task_id, member_id in first.items():
                task = tasks.get(task_id)
                if task is None:
                    continue  # deleted
                mine = next((c for c in held.get(task_id, []) if c.member_id == member_id), None)
                try:
                    outcome = lc.expire(
                        await self._state(uow, task, held.get(task_id, [])), member_id, now
                    )
                except DomainError:
                    continue  # extended, released or submitted in the meantime
                assert mine is not None and mine.id is not None
                assert outcome.after is not Status.IN_REVIEW  # no review nudge to set
                # What _attempt writes for this outcome.
                values: dict[str, Any] = {
                    "status": outcome.after.value,
                    "updated_at": now,
                    "next_nudge_at": None,
                }
                if outcome.after is not outcome.before:
                    values["status_changed_at"] = now
                key = (task.version, tuple(sorted(values.items())))
                groups.setdefault(key, []).append(task_id)
                decided[task_id] = (task, outcome, mine.id)
            written: set[int] = set()
            for (version, items), ids in groups.items():
                written |= await uow.tasks.compare_and_set_many(ids, version, dict(items))
            for task_id, (task, _outcome, _claim) in decided.items():
                if task_id not in written:  # someone else changed it: read it again
                    later.append((task.guild_id, task.number, first[task_id]))
            done = [decided[t] for t in decided if t in written]
            await uow.claims.end_claims_by_id(
                [c for _t, _o, c in done], now, ClaimEnd.EXPIRED.value
            )
            history: list[HistoryEntry] = []
            notices: list[Notice] = []
            for task, outcome, _claim in done:
                assert task.id is not None
                history.append(  # as _write writes it: one row per applied action
                    HistoryEntry(
                        guild_id=task.guild_id,
                        task_id=task.id,
                        actor_id=bot_id,
                        action=outcome.action.value,
                        from_status=outcome.before.value if outcome.before else None,
                        to_status=outcome.after.value,
                        note=f"<@{outcome.end_claims[0]}>",
                        created_at=now,
                    )
                )
                # As _outbox writes them, in the same transaction.
                members = [*outcome.end_claims, CHANNEL]
                kinds = [Reminder.CLAIM_EXPIRED] * len(outcome.end_claims)
                for kind, member in zip([*kinds, Reminder.BACK_ON_BOARD], members, strict=True):
                    notices.append(
                        Notice(
                            guild_id=task.guild_id,
                            kind=kind.value,
                            task_id=task.id,
                            member_id=member,
                            due_at=now,
                            created_at=now,
                        )
                    )
            await uow.history.add_many(history)
            await uow.deliveries.enqueue(notices)
            await uow.commit()
            applied = len(done)
        for task_id, member_id in one_by_one:
            task = tasks.get(task_id)
            if task is not None:
                later.append((task.guild_id, task.number, member_id))
        for guild_id, number, member_id in later:
            try:
                await self.expire(guild_id, number, member_id, bot_id)
                applied += 1
            except DomainError:
                continue  # extended, released or submitted in the meantime
        return applied

    # -- review ----------------------------------------------------------------------------

    async def submit(
        self, actor: Actor, number: int, link: str | None = None, notes: str | None = None
    ) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.submit(c.state, actor, link, notes)

        async def after(c: _Ctx, o: Outcome) -> None:
            assert c.task.id is not None
            c.uow.reviews.add_submission(
                task_id=c.task.id,
                guild_id=actor.guild_id,
                member_id=actor.member_id,
                round_=c.task.review_round + 1,
                link=(link or "").strip(),
                notes=(notes or "").strip(),
                created_at=c.now,
            )

        return await self._act(actor, number, decide, after)

    async def approve(self, actor: Actor, number: int, comment: str | None = None) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.approve(c.state, actor, await c.level(actor.member_id), c.rules, comment)

        return await self._act(actor, number, decide, self._review_writer(actor))

    async def request_changes(self, actor: Actor, number: int, reason: str) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.request_changes(
                c.state, actor, await c.level(actor.member_id), reason, c.rules, c.now
            )

        return await self._act(actor, number, decide, self._review_writer(actor))

    def _review_writer(self, actor: Actor) -> After:
        async def after(c: _Ctx, o: Outcome) -> None:
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
    ) -> ActionResult:
        values: dict[str, Any] = {}
        if not isinstance(title, _Unset):
            values["title"] = r.clean_title(title)
        if not isinstance(description, _Unset):
            values["description"] = r.clean_description(description)
        if not isinstance(points, _Unset):
            values["points"] = r.check_points(points)
        if not isinstance(tags, _Unset):
            values["tags"] = tags_to_column(r.parse_tags(tags))
        if not isinstance(capacity, _Unset):
            values["capacity"] = r.check_capacity(capacity)
        if not values and isinstance(due_at, _Unset) and isinstance(blocked_by, _Unset):
            raise InvalidInput("Nothing to change: give at least one field to edit.")

        async def decide(c: _Ctx) -> Outcome:
            if not isinstance(due_at, _Unset):
                self._check_due(due_at, c.now)
                values["due_at"] = due_at
            if not isinstance(blocked_by, _Unset):
                values["blocked_by_id"] = await self._blocker_id(c.uow, c.task, blocked_by)
            return lc.edit(c.state, actor, values.get("capacity"))

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

    async def cancel(self, actor: Actor, number: int, reason: str) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.cancel(c.state, actor, reason)

        return await self._act(actor, number, decide)

    async def reopen(self, actor: Actor, number: int) -> ActionResult:
        async def decide(c: _Ctx) -> Outcome:
            return lc.reopen(c.state, actor)

        return await self._act(actor, number, decide, fields={"rework_rounds": 0})

    async def set_card(
        self,
        guild_id: int,
        number: int,
        channel_id: int,
        message_id: int,
        thread_id: int | None = None,
    ) -> None:
        """Remember where the card lives, so every change can edit it in place."""
        async with self._db.unit() as uow:
            task = await self._task(uow, guild_id, number)
            task.card_channel_id = channel_id
            task.card_message_id = message_id
            if thread_id is not None:
                task.thread_id = thread_id
            await uow.commit()

    # -- machinery -------------------------------------------------------------------------

    @staticmethod
    def _clean_fields(
        title: str, description: str | None, points: Any, tags: str | None, capacity: Any
    ) -> dict[str, Any]:
        try:
            points_i = int(points) if points not in (None, "") else 1
            capacity_i = int(capacity) if capacity not in (None, "") else 1
        except (TypeError, ValueError):
            raise InvalidInput("Points and capacity must be whole numbers.") from None
        return {
            "title": r.clean_title(title),
            "description": r.clean_description(description),
            "points": r.check_points(points_i),
            "tags": tags_to_column(r.parse_tags(tags)),
            "capacity": r.check_capacity(capacity_i),
        }

    @staticmethod
    def _check_due(due_at: datetime | None, now: datetime) -> None:
        if due_at is not None and due_at <= now:
            raise InvalidInput("The due date is in the past; pick a later one.")

    async def _card_settings(self, guild_id: int) -> CardSettings | None:
        return await self._config.get(guild_id) if self._config is not None else None

    async def _settings(self, uow: UnitOfWork, guild_id: int) -> GuildSettings:
        settings = await uow.guilds.get_guild(guild_id)
        return settings if settings is not None else GuildSettings(guild_id=guild_id)

    @staticmethod
    async def _task(uow: UnitOfWork, guild_id: int, number: int) -> Task:
        task = await uow.tasks.task_by_number(guild_id, number)
        if task is None:
            raise no_such_task(number)
        return task

    @staticmethod
    async def _task_with_claims(
        uow: UnitOfWork, guild_id: int, number: int
    ) -> tuple[Task, list[ClaimRow], str | None]:
        """The task, its active claims and its last handoff note (one statement)."""
        found = await uow.tasks.task_for_action(guild_id, number)
        if found is None:
            raise no_such_task(number)
        return found

    async def _blocker_id(
        self, uow: UnitOfWork, task: Task | None, number: int | None
    ) -> int | None:
        if number is None:
            return None
        blocker = await self._task(uow, task.guild_id if task else 0, number) if task else None
        assert blocker is not None and task is not None
        if blocker.id == task.id:
            raise InvalidInput("A task can't be blocked by itself.")
        seen = 0
        step: Task | None = blocker
        while step is not None and step.blocked_by_id is not None and seen < 100:
            if step.blocked_by_id == task.id:
                raise InvalidInput(
                    f"#{number} already waits on #{task.number}; that would be a loop."
                )
            step = await uow.tasks.task_by_id(step.blocked_by_id)
            seen += 1
        return blocker.id

    async def _insert(
        self,
        actor: Actor,
        decide: Callable[[UnitOfWork, Rules, datetime], Awaitable[Outcome]],
        fields: dict[str, Any],
        *,
        due_at: datetime | None = None,
        blocked_by: int | None = None,
        claim_days: int | None = None,
    ) -> ActionResult:
        async with self._db.unit() as uow:
            now = self._clock.now()
            settings = await uow.guilds.ensure_guild(actor.guild_id, now)
            rules = settings.rules
            outcome = await decide(uow, rules, now)
            blocker_id = None
            if blocked_by is not None:
                blocker = await self._task(uow, actor.guild_id, blocked_by)
                blocker_id = blocker.id
            task = await self._new_task(
                uow,
                actor,
                outcome,
                fields,
                now,
                due_at=due_at,
                blocker_id=blocker_id,
                claim_days=claim_days,
            )
            view = (await self._views(uow, [task], settings, detail=True))[0]
            await uow.commit()
        return ActionResult(outcome.action, view, None, outcome.after, actor.member_id)

    async def _new_task(
        self,
        uow: UnitOfWork,
        actor: Actor,
        outcome: Outcome,
        fields: dict[str, Any],
        now: datetime,
        *,
        due_at: datetime | None = None,
        blocker_id: int | None = None,
        claim_days: int | None = None,
    ) -> Task:
        number = await uow.tasks.next_task_number(actor.guild_id)
        task = await uow.tasks.insert_task(
            NewTask(
                guild_id=actor.guild_id,
                number=number,
                status=outcome.after.value,
                creator_id=actor.member_id,
                due_at=due_at,
                blocked_by_id=blocker_id,
                claim_days=claim_days,
                created_at=now,
                **fields,
            )
        )
        assert task.id is not None
        await uow.history.add(
            HistoryEntry(
                guild_id=actor.guild_id,
                task_id=task.id,
                actor_id=actor.member_id,
                action=outcome.action.value,
                from_status=None,
                to_status=outcome.after.value,
                note=task.title,
                created_at=now,
            )
        )
        return task

    async def _act(
        self,
        actor: Actor,
        number: int,
        decide: Decide,
        after: After | None = None,
        *,
        member_id: int | None = None,
        fields: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> ActionResult:
        for _attempt in range(self._max_attempts):
            try:
                result = await self._attempt(actor, number, decide, after, member_id, fields, note)
            except sqlalchemy.exc.IntegrityError:
                # A unique index caught a concurrent duplicate; re-read and let the rules answer.
                continue
            if result is not None:
                return result
        raise Conflict(f"#{number} is changing a lot right now — please try again in a moment.")

    async def _attempt(
        self,
        actor: Actor,
        number: int,
        decide: Decide,
        after: After | None,
        member_id: int | None,
        fields: dict[str, Any] | None,
        note: str | None,
    ) -> ActionResult | None:
        # The guild's rules from the config cache (kept current by every /config write in
        # this process), not a read of the settings row in every write.
        cached = await self._config.get(actor.guild_id) if self._config is not None else None
        async with self._db.unit() as uow:
            now = self._clock.now()
            settings: GuildSettings | GuildConfig
            if cached is not None:
                settings = cached
            else:
                settings = await uow.guilds.ensure_guild(actor.guild_id, now)
            rules = settings.rules
            task, claims, last_note = await self._task_with_claims(uow, actor.guild_id, number)
            assert task.id is not None
            state = await self._state(uow, task, claims)
            ctx = _Ctx(uow, now, settings, rules, task, state, claims)
            outcome = await decide(ctx)

            values: dict[str, Any] = dict(fields or {})
            values["status"] = outcome.after.value
            values["updated_at"] = now
            if outcome.after is not outcome.before:
                values["status_changed_at"] = now
            if outcome.new_round and outcome.action is Action.SUBMIT:
                values["review_round"] = task.review_round + 1
            if outcome.action is Action.REOPEN:
                values["review_round"] = task.review_round + 1
            if outcome.review is Verdict.CHANGES:
                values["rework_rounds"] = task.rework_rounds + 1
            if outcome.after is Status.IN_REVIEW and outcome.before is not Status.IN_REVIEW:
                values["next_nudge_at"] = now + timedelta(hours=rules.review_nudge_hours)
            elif outcome.after is not Status.IN_REVIEW:
                values["next_nudge_at"] = None
            if not await uow.tasks.compare_and_set(task.id, task.version, values):
                return None  # someone else changed the task: read again

            await self._write(ctx, outcome, actor, note)
            if after is not None:
                await after(ctx, outcome)
            unblocked: tuple[int, ...] = ()
            credited: tuple[int, ...] = ()
            if outcome.done:
                await uow.flush()
                credited = await self._credit(ctx, outcome)
                unblocked = await self._unblocked(uow, task)
            notices = await self._outbox(ctx, outcome, unblocked)
            handoff = last_note if outcome.action is Action.CLAIM else None
            await uow.flush()
            # The CAS wrote through SQL: the row now holds `values` (no need to read it back).
            uow.tasks.mark_written(task, {**values, "version": task.version + 1})
            # The claims as they are now: what was read, with the outcome applied (no second
            # read) — unless a hook wrote more than the outcome says.
            known = None if after is not None else {task.id: _claims_after(claims, outcome)}
            view = (await self._views(uow, [task], settings, detail=True, claims=known))[0]
            await uow.commit()
        return ActionResult(
            outcome.action,
            view,
            outcome.before,
            outcome.after,
            actor.member_id,
            member_id=member_id,
            escalate=outcome.escalate,
            handoff_note=handoff,
            unblocked=unblocked,
            opened=outcome.before is Status.PROPOSED and outcome.after is Status.OPEN,
            credited=credited,
            note=outcome.note,
            notices=notices,
        )

    async def _write(self, c: _Ctx, o: Outcome, actor: Actor, note: str | None) -> None:
        uow, task = c.uow, c.task
        assert task.id is not None
        if o.add_claim is not None:
            await uow.claims.insert_claim(
                NewClaim(
                    task_id=task.id,
                    guild_id=task.guild_id,
                    member_id=o.add_claim.member_id,
                    claimed_at=o.add_claim.claimed_at,
                    expires_at=o.add_claim.expires_at,
                    warn_at=self._warn_at(c, o.add_claim.expires_at),
                )
            )
        for claim in o.renew_claims:
            await uow.claims.renew_claim(
                task.id,
                claim.member_id,
                claim.expires_at,
                claim.extensions,
                self._warn_at(c, claim.expires_at),
            )
        if o.end_claims:
            handoff = o.note if o.end_reason is ClaimEnd.RELEASED else None
            assert o.end_reason is not None
            await uow.claims.end_claims(task.id, o.end_claims, c.now, o.end_reason.value, handoff)
        history_note = note if note is not None else o.note
        if o.action in (Action.ASSIGN, Action.EXPIRE) and o.add_claim is not None:
            history_note = f"<@{o.add_claim.member_id}>"
        elif o.action is Action.EXPIRE and o.end_claims:
            history_note = f"<@{o.end_claims[0]}>"
        await uow.history.add(
            HistoryEntry(
                guild_id=task.guild_id,
                task_id=task.id,
                actor_id=actor.member_id,
                action=o.action.value,
                from_status=o.before.value if o.before else None,
                to_status=o.after.value,
                note=history_note[:2000],
                created_at=c.now,
            )
        )

    async def _outbox(self, c: _Ctx, o: Outcome, unblocked: tuple[int, ...]) -> int:
        """Notices that must not be lost are written in the same transaction as the change;
        the reminder sweep delivers them (at least once, never twice)."""
        task = c.task
        assert task.id is not None
        rows: list[Notice] = []

        def add(kind: Reminder, task_id: int, member_id: int) -> None:
            rows.append(Notice(task.guild_id, kind.value, task_id, member_id, c.now, c.now))

        if o.action is Action.EXPIRE:
            for member in o.end_claims:
                add(Reminder.CLAIM_EXPIRED, task.id, member)
            add(Reminder.BACK_ON_BOARD, task.id, CHANNEL)
        if o.before is Status.PROPOSED and o.after is Status.OPEN:
            add(Reminder.PROPOSAL_OPENED, task.id, CHANNEL)
        for number in unblocked:
            waiting = await c.uow.tasks.task_by_number(task.guild_id, number)
            if waiting is None or waiting.id is None:
                continue
            add(Reminder.UNBLOCKED, waiting.id, CHANNEL)
            for claim in await c.uow.claims.active_claims(waiting.id):
                add(Reminder.UNBLOCKED, waiting.id, claim.member_id)
        await c.uow.deliveries.enqueue(rows)
        return len(rows)

    @staticmethod
    def _warn_at(c: _Ctx, expires_at: datetime) -> datetime:
        """The claim warning falls at `claim_warning_fraction` of the window that starts now."""
        return c.now + (expires_at - c.now) * c.rules.claim_warning_fraction

    async def _credit(self, c: _Ctx, o: Outcome) -> tuple[int, ...]:
        """Done: each claimant gets the task's points; each review not yet paid gets review points."""
        task = c.task
        assert task.id is not None
        credits = [
            Credit(
                guild_id=task.guild_id,
                member_id=member,
                kind=LedgerKind.TASK.value,
                points=task.points,
                task_id=task.id,
                created_at=c.now,
            )
            for member in o.credit_claimants
        ]
        reviews = await c.uow.reviews.uncredited_reviews(task.id)
        credits += [
            Credit(
                guild_id=task.guild_id,
                member_id=review.reviewer_id,
                kind=LedgerKind.REVIEW.value,
                points=c.rules.review_points,
                task_id=task.id,
                review_id=review.id,
                created_at=c.now,
            )
            for review in reviews
        ]
        await c.uow.ledger.add_credits(credits)
        await c.uow.reviews.mark_reviews_credited([rv.id for rv in reviews if rv.id is not None])
        return tuple(dict.fromkeys([*o.credit_claimants, *(rv.reviewer_id for rv in reviews)]))

    async def _unblocked(self, uow: UnitOfWork, task: Task) -> tuple[int, ...]:
        assert task.id is not None
        return tuple(await uow.tasks.waiting_on(task.id))

    async def _state(self, uow: UnitOfWork, task: Task, claims: Sequence[ClaimRow]) -> TaskState:
        assert task.id is not None
        reviews = (
            await uow.reviews.reviews_in_round(task.id, task.review_round)
            if task.status == Status.IN_REVIEW
            else []
        )
        votes = await uow.reviews.votes(task.id) if task.status == Status.PROPOSED else []
        blocked_by = None
        if task.blocked_by_id is not None:
            blocker = await uow.tasks.task_by_id(task.blocked_by_id)
            if blocker is not None and blocker.status not in FINISHED:
                blocked_by = blocker.number
        return TaskState(
            number=task.number,
            status=Status(task.status),
            points=task.points,
            capacity=task.capacity,
            creator_id=task.creator_id,
            claims=tuple(
                lc.Claim(c.member_id, c.claimed_at, c.expires_at, c.extensions) for c in claims
            ),
            approvals=frozenset(rv.reviewer_id for rv in reviews if rv.verdict == Verdict.APPROVE),
            reviewers=frozenset(rv.reviewer_id for rv in reviews),
            rework_rounds=task.rework_rounds,
            blocked_by=blocked_by,
            endorsements=frozenset(v.member_id for v in votes if v.kind == "endorse"),
            objections=frozenset(v.member_id for v in votes if v.kind == "object"),
            claim_days=task.claim_days,
        )

    async def _views(
        self,
        uow: UnitOfWork,
        tasks: Sequence[Task],
        settings: CardSettings,
        *,
        detail: bool = False,
        claims: dict[int, list[ClaimView]] | None = None,
        handoffs: dict[int, str | None] | None = None,
    ) -> list[TaskView]:
        ids = [t.id for t in tasks if t.id is not None]
        claims_by_task: dict[int, list[ClaimView]] = {i: [] for i in ids}
        if claims is not None and set(claims) == set(ids):
            claims_by_task = claims
        else:
            for c in await uow.claims.active_claims_for_tasks(ids):
                claims_by_task[c.task_id].append(_claim_view(c))
        blockers = await uow.tasks.numbers_for_ids(
            [t.blocked_by_id for t in tasks if t.blocked_by_id is not None]
        )
        # Counted for the whole page at once (a page of tasks in review is one statement,
        # not one per task).
        approved = await uow.reviews.approvals(
            [t.id for t in tasks if t.id is not None and t.status == Status.IN_REVIEW]
        )
        voted = await uow.reviews.vote_counts(
            [t.id for t in tasks if t.id is not None and t.status == Status.PROPOSED]
        )
        views: list[TaskView] = []
        rules = settings.rules
        for t in tasks:
            assert t.id is not None
            approvals = approved.get(t.id, 0)
            endorsements, objections = voted.get(t.id, (0, 0))
            submission = None
            handoff = None
            # Every submission starts a review round: a task still in round 0 has none.
            if detail and t.review_round > 0:
                sub = await uow.reviews.latest_submission(t.id)
                if sub is not None:
                    submission = SubmissionView(
                        sub.member_id, sub.round, sub.link, sub.notes, sub.created_at
                    )
            if detail and t.status == Status.OPEN:
                if handoffs is not None and t.id in handoffs:
                    handoff = handoffs[t.id]
                else:
                    handoff = await uow.claims.last_handoff_note(t.id)
            blocker = blockers.get(t.blocked_by_id) if t.blocked_by_id is not None else None
            views.append(
                TaskView(
                    guild_id=t.guild_id,
                    number=t.number,
                    title=t.title,
                    description=t.description,
                    points=t.points,
                    tags=tags_from_column(t.tags),
                    due_at=t.due_at,
                    capacity=t.capacity,
                    status=Status(t.status),
                    creator_id=t.creator_id,
                    claims=tuple(claims_by_task[t.id]),
                    approvals=approvals,
                    required_approvals=rules.required_approvals,
                    review_round=t.review_round,
                    rework_rounds=t.rework_rounds,
                    blocked_by=blocker[0] if blocker else None,
                    blocked=bool(blocker and blocker[1] not in FINISHED),
                    endorsements=endorsements,
                    objections=objections,
                    required_endorsements=rules.proposal_endorsements,
                    submission=submission,
                    handoff_note=handoff,
                    card_channel_id=t.card_channel_id,
                    card_message_id=t.card_message_id,
                    thread_id=t.thread_id,
                    created_at=t.created_at,
                    updated_at=t.updated_at,
                )
            )
        return views
