"""The read model: task rows (and what a card shows of their claims, reviews, votes and
blocker) assembled into `TaskView`s, a page at a time in a few statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.db.models import ClaimRow, Task, TaskHistory
from bot.db.queries.common import tags_from_column
from bot.db.uow import UnitOfWork
from bot.domain.lifecycle import Claim
from bot.domain.model import Rules, Status
from bot.services.tasks.common import FINISHED
from bot.services.views import ClaimView, HistoryView, LinkView, SubmissionView, TaskView


def claim_views(rows: Iterable[ClaimRow | Claim]) -> list[ClaimView]:
    """Claim rows as read, or a change's claims (`TaskChange.state.claims`)."""
    return [ClaimView(c.member_id, c.claimed_at, c.expires_at, c.extensions) for c in rows]


def history_views(rows: Iterable[TaskHistory]) -> tuple[HistoryView, ...]:
    return tuple(
        HistoryView(h.actor_id, h.action, h.from_status, h.to_status, h.note, h.created_at)
        for h in rows
    )


async def task_views(
    uow: UnitOfWork,
    tasks: Sequence[Task],
    rules: Rules,
    *,
    detail: bool = False,
    claims: dict[int, list[ClaimView]] | None = None,
    handoffs: dict[int, str | None] | None = None,
) -> list[TaskView]:
    """`claims` (by task id), when the caller knows them for every task, and `handoffs`
    save their reads; `detail` adds the latest submission and the hand-off note."""
    ids = [t.id for t in tasks if t.id is not None]
    claims_by_task: dict[int, list[ClaimView]] = {i: [] for i in ids}
    if claims is not None and set(claims) == set(ids):
        claims_by_task = claims
    else:
        for c in await uow.claims.active_claims_for_tasks(ids):
            claims_by_task[c.task_id].append(
                ClaimView(c.member_id, c.claimed_at, c.expires_at, c.extensions)
            )
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
    links: dict[int, list[LinkView]] = {}
    for link in await uow.github.links(ids):
        links.setdefault(link.task_id, []).append(
            LinkView(link.url, link.kind, link.origin, link.state, link.author)
        )
    views: list[TaskView] = []
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
                version=t.version,
                links=tuple(links.get(t.id, ())),
            )
        )
    return views
