"""The write engine: one way a change reaches the database.

An action reads the task, lets the domain decide (`Decide` returns a lifecycle
`Outcome`), and `bot.domain.change.apply` turns the outcome into a `TaskChange`. The
writer persists that change and decides nothing: the task's columns by compare-and-set
on its version (a lost race reads again), then `persist` (claims, the history row), the
action's own record (`After`: a submission, a review, a vote), the credits (`pay`) and
the notices (`notify`), all in one transaction. The sweep's expiries go through
`persist_expiries`, the batched `persist` + `notify`, built from the same rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.db.errors import Duplicate
from bot.db.models import ClaimRow, Task
from bot.db.repos.cards import card_mark
from bot.db.repos.deliveries import Notice as NoticeRow
from bot.db.repos.ledger import Credit as CreditRow
from bot.db.repos.tasks import NewTask
from bot.db.uow import Database, UnitOfWork
from bot.domain import lifecycle as lc
from bot.domain import rules as r
from bot.domain.change import Credit, Dependent, HistoryEntry, PendingReview, TaskChange, apply
from bot.domain.errors import Conflict
from bot.domain.lifecycle import Outcome, TaskState
from bot.domain.model import (
    Action,
    Actor,
    ClaimEnd,
    LedgerKind,
    Rules,
    Status,
    TrustLevel,
    Verdict,
)
from bot.services.clock import Clock
from bot.services.config import ConfigService
from bot.services.tasks.common import FINISHED, TaskFields, no_such_task, task_or_404
from bot.services.tasks.views import claim_views, task_views
from bot.services.views import ActionResult

# How long card repair leaves a changed card to the interaction that changed it, which
# edits the card at once (and clears the mark) unless Discord refuses.
CARD_GRACE: Final = timedelta(seconds=30)


@dataclass
class Ctx:
    """What an action's decision may read: the task as read, in the unit of work."""

    uow: UnitOfWork
    now: datetime
    rules: Rules
    task: Task
    state: TaskState

    async def level(self, member_id: int) -> TrustLevel:
        done = await self.uow.ledger.done_task_count(self.task.guild_id, member_id)
        return r.trust_level(done, self.rules)


Decide = Callable[[Ctx], Awaitable[Outcome]]
After = Callable[[Ctx, TaskChange], Awaitable[None]]  # the action's own record
DecideNew = Callable[[UnitOfWork, Rules, datetime], Awaitable[Outcome]]


async def load_state(uow: UnitOfWork, task: Task, claims: Sequence[ClaimRow]) -> TaskState:
    """The snapshot the rules decide on: the task, its active claims, this round's
    reviews (in review), its votes (proposed) and its blocker, if unfinished."""
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
        review_round=task.review_round,
        blocked_by=blocked_by,
        endorsements=frozenset(v.member_id for v in votes if v.kind == "endorse"),
        objections=frozenset(v.member_id for v in votes if v.kind == "object"),
        claim_days=task.claim_days,
    )


# -- rows from a change: one mapping each, for the single write and the batch ---------------


def notice_rows(task: Task, change: TaskChange, dependents: Iterable[Dependent]) -> list[NoticeRow]:
    """The outbox rows of a change (about the task, then each waiting task it unblocks),
    due at once."""
    assert task.id is not None
    return [
        NoticeRow(
            task.guild_id,
            n.kind.value,
            n.dependent if n.dependent is not None else task.id,
            n.member_id,
            change.at,
            change.at,
        )
        for n in (*change.notices, *change.dependent_notices(dependents))
    ]


def ledger_rows(task: Task, at: datetime, credits: Iterable[Credit]) -> list[CreditRow]:
    assert task.id is not None
    return [
        CreditRow(
            guild_id=task.guild_id,
            member_id=c.member_id,
            kind=c.kind.value,
            points=c.points,
            task_id=task.id,
            review_id=c.review_id,
            created_at=at,
        )
        for c in credits
    ]


# -- persisting one change ------------------------------------------------------------------


async def persist(uow: UnitOfWork, task: Task, change: TaskChange) -> None:
    """The change's claims (new, renewed, ended) and its history row. The task's own
    columns were compare-and-set before (`Writer`), as a lost race writes nothing."""
    assert task.id is not None
    if change.new_claim is not None:
        await uow.claims.insert_claim(task.guild_id, task.id, change.new_claim)
    for renewed in change.renewed:
        await uow.claims.renew_claim(task.id, renewed)
    if change.ended is not None:
        await uow.claims.end_claims(task.id, change.ended)
    await uow.history.add(task.guild_id, task.id, change.history)


async def pay(uow: UnitOfWork, task: Task, change: TaskChange) -> tuple[int, ...]:
    """Done: the claimants' credits and those of the reviews not paid yet (the action's own
    review among them, so flush it first), but none the task already paid. Who was
    credited."""
    assert task.id is not None
    reviews = []
    for rv in await uow.reviews.uncredited_reviews(task.id):
        assert rv.id is not None
        reviews.append(PendingReview(rv.id, rv.reviewer_id))
    # Once per (task, member, kind): a reopened task done again pays nobody twice.
    paid = {(m, LedgerKind(kind)) for m, kind in await uow.ledger.task_credits(task.id)}
    credits = change.payments(reviews, paid)
    await uow.ledger.add_credits(ledger_rows(task, change.at, credits))
    await uow.reviews.mark_reviews_credited([rv.review_id for rv in reviews])
    return change.credited(reviews, paid)


async def notify(uow: UnitOfWork, task: Task, change: TaskChange, unblocked: Sequence[int]) -> int:
    """Notices that must not be lost go in the same transaction as the change; the
    reminder sweep delivers them (at least once, never twice). How many were written."""
    dependents: list[Dependent] = []
    for number in unblocked:
        waiting = await uow.tasks.task_by_number(task.guild_id, number)
        if waiting is None or waiting.id is None:
            continue
        claims = await uow.claims.active_claims(waiting.id)
        dependents.append(Dependent(waiting.id, tuple(c.member_id for c in claims)))
    rows = notice_rows(task, change, dependents)
    await uow.deliveries.enqueue(rows)
    return len(rows)


# -- persisting a batch of expiries ---------------------------------------------------------


async def persist_expiries(
    uow: UnitOfWork, changes: Mapping[int, tuple[Task, TaskChange, int]], now: datetime
) -> set[int]:
    """The sweep's expiries, by task id (the task, its change, the claim's id), in a few
    statements: each group of tasks that share a version and the columns written is one
    compare-and-set; then what `persist` and `notify` write for each task written (the
    claim ended by its id). The ids of the tasks written; the others changed since."""
    groups: dict[tuple[int, tuple[tuple[str, object], ...]], list[int]] = {}
    for task_id, (task, change, _claim) in changes.items():
        # An expiry adds, renews, pays and unblocks nothing.
        assert change.new_claim is None and not change.renewed and not change.credits
        assert change.ended is not None and change.ended.reason is ClaimEnd.EXPIRED
        values = change.fields.values()
        if task.card_message_id is not None:
            # The card still shows the claim: repair it in this very sweep.
            values = {**values, **card_mark(now, timedelta(0))}
        key = (task.version, tuple(sorted(values.items())))
        groups.setdefault(key, []).append(task_id)
    written: set[int] = set()
    for (version, items), ids in groups.items():
        written |= await uow.tasks.compare_and_set_many(ids, version, dict(items))
    done = [changes[t] for t in changes if t in written]
    await uow.claims.end_claims_by_id([claim for _t, _c, claim in done], now, ClaimEnd.EXPIRED)
    history: list[tuple[int, int, HistoryEntry]] = []
    for task, change, _claim in done:
        assert task.id is not None
        history.append((task.guild_id, task.id, change.history))
    await uow.history.add_many(history)
    await uow.deliveries.enqueue([n for t, c, _ in done for n in notice_rows(t, c, ())])
    return written


# -- the engine -----------------------------------------------------------------------------


class Writer:
    """Runs an action on a task: one transaction, retried from a fresh read when another
    wrote the task first (or a unique index caught a concurrent duplicate)."""

    def __init__(
        self, db: Database, clock: Clock, config: ConfigService | None, max_attempts: int
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._max_attempts = max_attempts

    async def act(
        self,
        actor: Actor,
        number: int,
        decide: Decide,
        after: After | None = None,
        *,
        member_id: int | None = None,
        fields: Mapping[str, object] | None = None,
        note: str | None = None,
    ) -> ActionResult:
        """`fields`: the task's own columns an edit writes; `note`: the history's note, if
        not the outcome's."""
        for _attempt in range(self._max_attempts):
            try:
                result = await self._attempt(actor, number, decide, after, member_id, fields, note)
            except Duplicate:
                # A unique index caught a concurrent duplicate; re-read and let the rules answer.
                continue
            if result is not None:
                return result
        raise Conflict(
            "#{number} is changing a lot right now — please try again in a moment.", number=number
        )

    async def _attempt(
        self,
        actor: Actor,
        number: int,
        decide: Decide,
        after: After | None,
        member_id: int | None,
        fields: Mapping[str, object] | None,
        note: str | None,
    ) -> ActionResult | None:
        # The guild's rules from the config cache (kept current by every /config write in
        # this process), not a read of the settings row in every write.
        cached = await self._config.get(actor.guild_id) if self._config is not None else None
        async with self._db.unit() as uow:
            now = self._clock.now()
            if cached is not None:
                rules = cached.rules
            else:
                rules = (await uow.guilds.ensure_guild(actor.guild_id, now)).rules
            found = await uow.tasks.task_for_action(actor.guild_id, number)
            if found is None:
                raise no_such_task(number)
            task, claims, last_note = found
            assert task.id is not None
            state = await load_state(uow, task, claims)
            ctx = Ctx(uow, now, rules, task, state)
            outcome = await decide(ctx)
            change = apply(state, outcome, rules, now, actor_id=actor.member_id, note=note)
            values = {**(fields or {}), **change.fields.values()}
            if task.card_message_id is not None:
                # In the same transaction: the card owes this change until Discord has it.
                values.update(card_mark(now, CARD_GRACE))
            if not await uow.tasks.compare_and_set(task.id, task.version, values):
                return None  # someone else changed the task: read again

            await persist(uow, task, change)
            if after is not None:
                await after(ctx, change)
            unblocked: tuple[int, ...] = ()
            credited: tuple[int, ...] = ()
            if change.notify_dependents:
                await uow.flush()
                credited = await pay(uow, task, change)
                unblocked = tuple(await uow.tasks.waiting_on(task.id))
                # Their cards say "waiting" until edited: they owe the change too.
                await uow.cards.mark_cards(task.guild_id, unblocked, card_mark(now, CARD_GRACE))
            notices = await notify(uow, task, change, unblocked)
            await uow.flush()
            # The CAS wrote through SQL: the row now holds `values` (no need to read it back).
            uow.tasks.mark_written(task, {**values, "version": task.version + 1})
            # The claims as the change left them (no second read) — unless a hook wrote
            # more than the outcome says.
            known = None if after is not None else {task.id: claim_views(change.state.claims)}
            view = (await task_views(uow, [task], rules, detail=True, claims=known))[0]
            await uow.commit()
        return ActionResult(
            outcome.action,
            view,
            outcome.before,
            outcome.after,
            actor.member_id,
            member_id=member_id,
            escalate=outcome.escalate,
            handoff_note=last_note if outcome.action is Action.CLAIM else None,
            unblocked=unblocked,
            opened=change.opened,
            credited=credited,
            note=outcome.note,
            notices=notices,
            holders=tuple(c.member_id for c in state.claims),
            edited=tuple(fields or ()) if outcome.action is Action.EDIT else (),
        )

    async def insert(
        self,
        actor: Actor,
        decide: DecideNew,
        fields: TaskFields,
        *,
        due_at: datetime | None = None,
        blocked_by: int | None = None,
        claim_days: int | None = None,
    ) -> ActionResult:
        """A new task (create, propose): its row and its first history row."""
        async with self._db.unit() as uow:
            now = self._clock.now()
            rules = (await uow.guilds.ensure_guild(actor.guild_id, now)).rules
            outcome = await decide(uow, rules, now)
            blocker_id = None
            if blocked_by is not None:
                blocker_id = (await task_or_404(uow, actor.guild_id, blocked_by)).id
            task = await new_task(
                uow,
                actor,
                outcome,
                fields,
                now,
                rules=rules,
                due_at=due_at,
                blocker_id=blocker_id,
                claim_days=claim_days,
            )
            view = (await task_views(uow, [task], rules, detail=True))[0]
            await uow.commit()
        return ActionResult(outcome.action, view, None, outcome.after, actor.member_id)


async def new_task(
    uow: UnitOfWork,
    actor: Actor,
    outcome: Outcome,
    fields: TaskFields,
    now: datetime,
    *,
    rules: Rules,
    due_at: datetime | None = None,
    blocker_id: int | None = None,
    claim_days: int | None = None,
    note: str | None = None,
) -> Task:
    """`note`: the history's note, if not the title (an issue's URL)."""
    number = await uow.tasks.next_task_number(actor.guild_id)
    proposal = outcome.after is Status.PROPOSED
    task = await uow.tasks.insert_task(
        NewTask(
            guild_id=actor.guild_id,
            number=number,
            status=outcome.after.value,
            creator_id=actor.member_id,
            title=fields.title,
            description=fields.description,
            points=fields.points,
            tags=fields.tags,
            capacity=fields.capacity,
            due_at=due_at,
            blocked_by_id=blocker_id,
            claim_days=claim_days,
            created_at=now,
            opens_at=now + timedelta(hours=rules.proposal_window_hours) if proposal else None,
        )
    )
    assert task.id is not None
    entry = HistoryEntry(
        actor.member_id, outcome.action, None, outcome.after, note or task.title, now
    )
    await uow.history.add(actor.guild_id, task.id, entry)
    return task
