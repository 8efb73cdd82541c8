"""The task lifecycle as a Hypothesis state machine over an in-memory board.

A handful of tasks and five members — one maintainer, one with the reviewer role, three
whose trust comes from their done counts — press every button in random order while a
fake clock moves. Each call to the domain returns an `Outcome`; the domain's `apply` turns
it into the `TaskChange` the service layer writes, and the machine writes that to the
board (its history, claims and ledger). The machine keeps its own record (which tasks went
done with which claimants, which reviews were given) and checks the board and ledger
against it after every step.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from bot.domain import lifecycle as lc
from bot.domain import rules as r
from bot.domain.change import PendingReview, TaskChange, Unchanged, apply
from bot.domain.errors import DomainError
from bot.domain.lifecycle import ALLOWED, Outcome, TaskState
from bot.domain.model import (
    POINT_CHOICES,
    Action,
    Actor,
    ClaimEnd,
    LedgerKind,
    Rules,
    Status,
    TrustLevel,
    Verdict,
)

S = Status
A = Action

GUILD = 7
START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BOT_ID = 999

MAINTAINER, REVIEWER, ALICE, BOB, CAROL = 1, 2, 3, 4, 5
MEMBERS = (MAINTAINER, REVIEWER, ALICE, BOB, CAROL)
EVERYONE = (*MEMBERS, BOT_ID)  # the bot presses buttons too, and must always be refused
BOT_JOBS = (A.EXPIRE, A.ACCEPT)  # what the bot itself runs
HOLDING = (S.OPEN, S.CLAIMED)  # claims there count against the claim limit
CLAIMANT_ACTIONS = (A.RELEASE, A.EXTEND, A.EXPIRE, A.SUBMIT)  # need a claim on the task
FINISHED = (S.DONE, S.CANCELLED)
# A small board keeps the work on a few tasks, so they get taken all the way to done.
LIVE_TASKS = 4
PENDING_PROPOSALS = 2


class Long(str):
    """Text past a limit, printed short in Hypothesis' reports."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{self[:1]!r} * {len(self)}"


members = st.sampled_from(MEMBERS)
# Who presses the button on which task. Mostly someone for whom it could work (see
# `Board.pick`), sometimes anyone, so refusals are exercised too; and mostly on a task in
# a state that allows it (see `Board.aim`), but at WILD on the task drawn, whatever it is.
WILD = 15
who = st.integers(0, WILD)
creators = st.sampled_from((*EVERYONE, MAINTAINER, MAINTAINER, MAINTAINER))
# Texts: mostly valid (a refused submit or review cuts a run short of done), and every
# kind of invalid one too: blank, whitespace, too long, not a link.
reasons = st.sampled_from(
    ["Duplicates #1.", "Needs a clearer scope.", "The tests fail.", "Wrong file.", "", "  ",
     Long("x" * 501)]
)  # fmt: skip
# Cancelling ends a task's story, so it is refused (no reason) more often than it goes through.
cancel_reasons = st.sampled_from(["No longer needed.", "", "   ", Long("x" * 501)])
notes = st.sampled_from([None, "", "Handing over: notes in the thread.", Long("n" * 1001)])
links = st.sampled_from(
    ["https://example.org/pr/1", "http://example.org", "HTTPS://EXAMPLE.ORG/2", None, None,
     "", "ftp://x", "example.org"]
)  # fmt: skip
submit_notes = st.sampled_from(
    ["Done, see the thread.", "Ready.", "All set.", "Fixed.", "Have a look.", None, "",
     Long("n" * 1001)]
)  # fmt: skip
comments = st.sampled_from([None, "", "Looks good.", "Thanks!", "LGTM", Long("c" * 1001)])

rule_sets = st.one_of(
    st.just(Rules()),
    st.builds(
        Rules,
        claim_days=st.none() | st.integers(1, 20),
        max_extensions=st.integers(0, 3),
        limit_newcomer=st.integers(1, 2),
        limit_contributor=st.integers(1, 4),
        limit_regular=st.integers(2, 6),
        required_approvals=st.integers(1, 2),  # 3 can deadlock a young board
        regular_threshold=st.integers(1, 4),
        regulars_can_create=st.booleans(),
        proposal_endorsements=st.integers(1, 3),
        proposal_window_hours=st.sampled_from([1, 24, 72]),
        review_points=st.integers(0, 3),
        rework_limit=st.integers(1, 4),
        claim_warning_fraction=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
        review_nudge_hours=st.integers(1, 96),
        proposal_limit_newcomer=st.integers(1, 2),
        proposal_limit_contributor=st.integers(1, 3),
        proposal_limit_regular=st.integers(1, 4),
    ),
)


def possible(action: Action) -> Callable[[object], object]:
    """Only draw this rule while some task on the board could take the action."""
    return precondition(lambda self: self.any_could(action))


@dataclass(frozen=True)
class HistoryRow:
    task: int
    actor_id: int
    action: Action
    from_status: Status | None
    to_status: Status
    at: datetime


@dataclass(frozen=True)
class LedgerRow:
    member_id: int
    kind: LedgerKind
    points: int
    task: int


@dataclass(frozen=True)
class ReviewRow:
    seq: int
    task: int
    reviewer_id: int
    verdict: Verdict


@settings(
    max_examples=int(os.environ.get("PEERBOARD_HYPOTHESIS_EXAMPLES", "250")),
    stateful_step_count=40,
    deadline=None,
)
class Board(RuleBasedStateMachine):
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.rules = Rules()
        self.now = START
        self.board: dict[int, TaskState] = {}  # blocked_by holds the blocking task, if any
        self.status_changed_at: dict[int, datetime] = {}
        self.nudge: dict[int, datetime | None] = {}  # each task's next review nudge
        self.history: list[HistoryRow] = []
        self.ledger: list[LedgerRow] = []
        self.reviews: list[ReviewRow] = []
        self.credited: set[int] = set()  # seqs of reviews already paid
        # The machine's own record, kept apart from the ledger:
        self.seq = 0
        self.done_record: list[tuple[int, int, frozenset[int], int]] = []  # seq, task, who, pts
        self.review_record: list[tuple[int, int, int]] = []  # seq, task, reviewer
        self.applied = 0
        self.seen_level = dict.fromkeys(MEMBERS, TrustLevel.NEWCOMER)
        self._done_counts: tuple[int, dict[int, int]] = (0, {})  # cache, by ledger length
        self._any_could: tuple[int, dict[Action, bool]] = (-1, {})  # cache, by board version

    # -- helpers --------------------------------------------------------------------------

    def actor(self, member_id: int) -> Actor:
        return Actor(
            GUILD,
            member_id,
            is_maintainer=member_id == MAINTAINER,
            has_reviewer_role=member_id == REVIEWER,
            is_bot=member_id == BOT_ID,
        )

    def could(self, action: Action, number: int) -> bool:
        """Whether the action might go through on this task (status and claims allowing)."""
        task = self.board[number]
        if task.status not in ALLOWED[action]:
            return False
        if action in CLAIMANT_ACTIONS:
            return bool(task.claims)
        if action in (A.CLAIM, A.ASSIGN):
            return self.snapshot(number).blocked_by is None
        return True

    def any_could(self, action: Action) -> bool:
        """`could` for some task; asked many times per step, so cached until the board changes."""
        version, known = self._any_could
        if version != self.applied:
            version, known = self.applied, {}
            self._any_could = (version, known)
        if action not in known:
            known[action] = any(self.could(action, n) for n in self.board)
        return known[action]

    def aim(self, action: Action, number: int, who: int) -> int:
        """The drawn task if the action could apply to it, else (unless `who` is WILD) a
        task it could apply to: random pairs would almost never take a task to done."""
        if who == WILD or self.could(action, number):
            return number
        fits = sorted(n for n in self.board if self.could(action, n))
        return fits[number % len(fits)] if fits else number

    def pick(self, who: int, likely: list[int]) -> int:
        """Mostly someone from `likely` (when there is anyone), else anyone — the bot
        included. (`seq` varies the "anyone" from step to step.)"""
        if likely and who < WILD - 1:
            return likely[who % len(likely)]
        return EVERYONE[(who + self.seq) % len(EVERYONE)]

    def claimant(self, number: int, who: int) -> int:
        return self.pick(who, [c.member_id for c in self.board[number].claims])

    def reviewer(self, number: int, who: int) -> int:
        task = self.board[number]
        return self.pick(
            who,
            [
                m
                for m in MEMBERS
                if m not in task.claimant_ids
                and m not in task.reviewers
                and r.can_review(self.actor(m), self.level(m))
            ],
        )

    def voter(self, number: int, who: int) -> int:
        task = self.board[number]
        voted = task.endorsements | task.objections | {task.creator_id}
        return self.pick(who, [m for m in MEMBERS if m not in voted])

    def maintainer(self, who: int) -> int:
        return self.pick(who, [MAINTAINER])

    def done_count(self, member_id: int) -> int:
        """Distinct tasks the ledger credits the member for, as `done_task_count` counts."""
        if self._done_counts[0] != len(self.ledger):
            done: dict[int, set[int]] = {}
            for row in self.ledger:
                if row.kind is LedgerKind.TASK:
                    done.setdefault(row.member_id, set()).add(row.task)
            self._done_counts = (len(self.ledger), {m: len(t) for m, t in done.items()})
        return self._done_counts[1].get(member_id, 0)

    def level(self, member_id: int) -> TrustLevel:
        return r.trust_level(self.done_count(member_id), self.rules)

    def count(self, *statuses: Status) -> int:
        return sum(1 for t in self.board.values() if t.status in statuses)

    def proposals(self, member_id: int) -> int:
        """The member's proposals still waiting to open."""
        return sum(
            1 for t in self.board.values() if t.status is S.PROPOSED and t.creator_id == member_id
        )

    def held(self, member_id: int) -> int:
        return sum(
            1 for t in self.board.values() if t.status in HOLDING and member_id in t.claimant_ids
        )

    def snapshot(self, number: int) -> TaskState:
        """The task as the service would load it: blocked only while the blocker is live."""
        task = self.board[number]
        blocker = task.blocked_by
        live = blocker is not None and self.board[blocker].status not in FINISHED
        return replace(task, blocked_by=blocker if live else None)

    def fingerprint(self) -> tuple[object, ...]:
        """Everything the model holds. Tasks are frozen, so copying the dict is enough;
        the lists only ever grow, so their lengths are enough."""
        return (
            dict(self.board),
            dict(self.status_changed_at),
            dict(self.nudge),
            frozenset(self.credited),
            self.now,
            self.seq,
            self.applied,
            len(self.history),
            len(self.ledger),
            len(self.reviews),
            len(self.done_record),
            len(self.review_record),
        )

    def refused(self, err: DomainError, before: tuple[object, ...]) -> None:
        assert str(err) == err.message
        assert err.message.strip(), "a refusal must say why"
        assert self.fingerprint() == before, "a refused action must change nothing"

    def act(
        self, number: int, actor_id: int, decide: Callable[[TaskState], Outcome]
    ) -> Outcome | None:
        """Call the domain on a task; write what it decided, or check it changed nothing."""
        state = self.snapshot(number)
        before = self.fingerprint()
        try:
            outcome = decide(state)
        except DomainError as err:
            self.refused(err, before)
            return None
        self.applied += 1
        self.record(number, state, outcome, actor_id)
        return outcome

    def record(self, number: int, state: TaskState, outcome: Outcome, actor_id: int) -> None:
        assert outcome.before is state.status
        assert state.status in ALLOWED[outcome.action]
        assert actor_id != BOT_ID or outcome.action in BOT_JOBS, "a bot took part in a task"
        event(f"{outcome.action.value}: {outcome.before.value} -> {outcome.after.value}")
        window = r.claim_window(state.points, self.rules, state.claim_days)
        if outcome.add_claim is not None:  # a new claim runs one full window from now
            assert outcome.add_claim.expires_at == self.now + window
        for claim in outcome.renew_claims:
            if outcome.action is A.EXTEND:  # one more window on what was left, once
                was = state.claim_of(claim.member_id)
                assert was is not None and was.expires_at - self.now <= window
                assert claim.expires_at == max(was.expires_at, self.now) + window
            else:  # a rework round renews the window from now
                assert claim.expires_at == self.now + window
        assert not outcome.escalate or outcome.action is A.REQUEST_CHANGES
        self.seq += 1
        change = apply(state, outcome, self.rules, self.now, actor_id=actor_id)
        self.check_change(state, change)
        new = change.state
        self.board[number] = replace(new, blocked_by=self.board[number].blocked_by)
        if change.fields.status_changed_at is not None:
            self.status_changed_at[number] = change.fields.status_changed_at
        if not isinstance(change.fields.next_nudge_at, Unchanged):
            self.nudge[number] = change.fields.next_nudge_at
        h = change.history
        self.history.append(
            HistoryRow(number, h.actor_id, h.action, h.from_status, h.to_status, h.at)
        )
        if outcome.review is not None:  # written before the credits are (as the service does)
            self.reviews.append(ReviewRow(self.seq, number, actor_id, outcome.review))
            self.review_record.append((self.seq, number, actor_id))
        assert outcome.done is (outcome.after is S.DONE)
        if outcome.done:
            # Reaching done: enough approvals in this round, none from a claimant.
            assert len(new.approvals) >= self.rules.required_approvals
            assert not (new.approvals & state.claimant_ids)
            assert not new.claims
            assert outcome.end_reason is ClaimEnd.DONE
            assert sorted(outcome.credit_claimants) == sorted(state.claimant_ids)
            self.done_record.append((self.seq, number, state.claimant_ids, state.points))
        else:
            assert not outcome.credit_claimants
            assert not change.credits and change.review_points is None
        self.credit(number, change)

    def check_change(self, state: TaskState, change: TaskChange) -> None:
        """What the change writes agrees with the task it leaves behind."""
        holders, new = state.claimant_ids, change.state
        assert change.fields.status is new.status is change.outcome.after
        assert (change.fields.status_changed_at is not None) is (new.status is not state.status)
        if change.ended is not None:
            assert set(change.ended.members) <= holders, "only held claims can end"
            assert not set(change.ended.members) & new.claimant_ids
        for renewed in change.renewed:
            assert renewed.member_id in holders, "only held claims can be renewed"
            assert self.now <= renewed.warn_at <= renewed.expires_at
            assert renewed.expires_at > self.now
        if (c := change.new_claim) is not None:
            assert c.member_id not in holders and c.member_id in new.claimant_ids
            assert c.claimed_at == self.now < c.expires_at
            assert self.now <= c.warn_at <= c.expires_at
        assert new.review_round == change.fields.review_round or (
            change.fields.review_round is None and new.review_round == state.review_round
        )
        assert new.rework_rounds == change.fields.rework_rounds or (
            change.fields.rework_rounds is None and new.rework_rounds == state.rework_rounds
        )
        assert change.notify_dependents is change.outcome.done

    def credit(self, number: int, change: TaskChange) -> None:
        """What the writer's `pay` writes: the change's credits, and each review of the
        task not paid yet, once per (task, member, kind)."""
        pending = [
            PendingReview(review.seq, review.reviewer_id)
            for review in self.reviews
            if review.task == number and review.seq not in self.credited
        ]
        paid = {(row.member_id, row.kind) for row in self.ledger if row.task == number}
        for c in change.payments(pending, paid):
            self.ledger.append(LedgerRow(c.member_id, c.kind, c.points, number))
        if change.review_points is not None:  # done: every pending review is settled
            self.credited |= {review.review_id for review in pending}

    # -- configuration and time ---------------------------------------------------------------

    @initialize(target=tasks, rules=rule_sets, points=st.sampled_from(POINT_CHOICES))
    def configure(self, rules: Rules, points: int) -> int:
        """The guild's rules, and a first task so that every rule has something to act on."""
        self.rules = rules
        number = self.new(A.CREATE, MAINTAINER, points, 1, None, None)
        assert number is not None
        return number

    # -- creation -------------------------------------------------------------------------

    def new(
        self,
        kind: Action,
        actor_id: int,
        points: int,
        capacity: int,
        blocker: int | None,
        claim_days: int | None,
    ) -> int | None:
        before = self.fingerprint()
        at_limit = actor_id != MAINTAINER and self.proposals(actor_id) >= r.proposal_limit(
            self.level(actor_id), self.rules
        )
        try:
            if kind is A.CREATE:
                outcome = lc.create(self.actor(actor_id), self.level(actor_id), self.rules)
            else:
                outcome = lc.propose(
                    self.actor(actor_id), self.level(actor_id), self.proposals(actor_id), self.rules
                )
                capacity = 1  # what the service gives a proposal
        except DomainError as err:
            self.refused(err, before)
            assert (
                actor_id == BOT_ID
                or (kind is A.CREATE and actor_id != MAINTAINER)
                or (kind is A.PROPOSE and at_limit)
            )
            return None
        assert outcome.after is (S.OPEN if kind is A.CREATE else S.PROPOSED)
        assert kind is A.CREATE or not at_limit, "a proposal past the member's limit"
        self.applied += 1
        task = TaskState(
            number=len(self.board) + 1,
            status=outcome.after,
            points=points,
            capacity=capacity,
            creator_id=actor_id,
            blocked_by=blocker if blocker in self.board else None,
            claim_days=claim_days,
        )
        self.board[task.number] = task
        self.status_changed_at[task.number] = self.now
        self.nudge[task.number] = None
        self.history.append(
            HistoryRow(task.number, actor_id, outcome.action, None, outcome.after, self.now)
        )
        return task.number

    @precondition(lambda self: self.count(S.OPEN, S.CLAIMED, S.IN_REVIEW) < LIVE_TASKS)
    @rule(
        target=tasks,
        actor_id=creators,
        points=st.sampled_from(POINT_CHOICES),
        capacity=st.integers(1, 3),
        blocker=st.integers(0, 15),
        claim_days=st.none() | st.integers(1, 5),
    )
    def create(
        self, actor_id: int, points: int, capacity: int, blocker: int, claim_days: int | None
    ) -> object:
        number = self.new(A.CREATE, actor_id, points, capacity, blocker, claim_days)
        return multiple() if number is None else number

    @precondition(lambda self: self.count(S.PROPOSED) < PENDING_PROPOSALS)
    @rule(target=tasks, actor_id=st.sampled_from(EVERYONE), points=st.sampled_from(POINT_CHOICES))
    def propose(self, actor_id: int, points: int) -> object:
        number = self.new(A.PROPOSE, actor_id, points, 1, None, None)
        return multiple() if number is None else number

    # -- proposals ------------------------------------------------------------------------

    @possible(A.ENDORSE)
    @rule(number=tasks, who=who)
    def endorse(self, number: int, who: int) -> None:
        number = self.aim(A.ENDORSE, number, who)
        actor_id = self.voter(number, who)
        before = self.snapshot(number)
        outcome = self.act(
            number, actor_id, lambda t: lc.endorse(t, self.actor(actor_id), self.rules)
        )
        if outcome is not None:
            assert actor_id != before.creator_id
            opens = actor_id == MAINTAINER or (  # an objection holds it for a maintainer
                not before.objections
                and len(before.endorsements) + 1 >= self.rules.proposal_endorsements
            )
            assert outcome.after is (S.OPEN if opens else S.PROPOSED)

    @possible(A.OBJECT)
    @rule(number=tasks, who=who, reason=reasons)
    def object(self, number: int, who: int, reason: str) -> None:
        number = self.aim(A.OBJECT, number, who)
        actor_id = self.voter(number, who)
        self.act(number, actor_id, lambda t: lc.object_(t, self.actor(actor_id), reason))

    @possible(A.ACCEPT)
    @rule(number=tasks, who=who, hours=st.integers(0, 100))
    def consensus(self, number: int, who: int, hours: int) -> None:
        """The proposal job: after some time, try lazy consensus."""
        number = self.aim(A.ACCEPT, number, who)
        self.now += timedelta(hours=hours)
        proposed_at = self.status_changed_at[number]
        outcome = self.act(
            number,
            BOT_ID,
            lambda t: lc.open_by_consensus(t, proposed_at, self.now, self.rules),
        )
        if outcome is not None:
            assert self.now - proposed_at >= timedelta(hours=self.rules.proposal_window_hours)
            assert not self.board[number].objections

    # -- claims ----------------------------------------------------------------------------

    @possible(A.CLAIM)
    @rule(number=tasks, who=who)
    def claim(self, number: int, who: int) -> None:
        number = self.aim(A.CLAIM, number, who)
        holders = self.board[number].claimant_ids
        actor_id = self.pick(who, [m for m in MEMBERS if m not in holders])
        level, held = self.level(actor_id), self.held(actor_id)
        outcome = self.act(
            number,
            actor_id,
            lambda t: lc.claim(t, self.actor(actor_id), level, held, self.rules, self.now),
        )
        if outcome is not None:
            assert actor_id == MAINTAINER or held < r.claim_limit(level, self.rules)
            assert self.snapshot(number).blocked_by is None

    @possible(A.ASSIGN)
    @rule(number=tasks, who=who, member_id=members, member_is_bot=st.booleans())
    def assign(self, number: int, who: int, member_id: int, member_is_bot: bool) -> None:
        number = self.aim(A.ASSIGN, number, who)
        actor_id = self.maintainer(who)
        outcome = self.act(
            number,
            actor_id,
            lambda t: lc.assign(
                t, self.actor(actor_id), member_id, member_is_bot, self.rules, self.now
            ),
        )
        if outcome is not None:
            assert actor_id == MAINTAINER and not member_is_bot

    @possible(A.RELEASE)
    @rule(number=tasks, who=who, note=notes)
    def release(self, number: int, who: int, note: str | None) -> None:
        number = self.aim(A.RELEASE, number, who)
        actor_id = self.claimant(number, who)
        self.act(number, actor_id, lambda t: lc.release(t, self.actor(actor_id), note))

    @possible(A.EXTEND)
    @rule(number=tasks, who=who)
    def extend(self, number: int, who: int) -> None:
        number = self.aim(A.EXTEND, number, who)
        actor_id = self.claimant(number, who)
        used = c.extensions if (c := self.board[number].claim_of(actor_id)) else None
        outcome = self.act(
            number, actor_id, lambda t: lc.extend(t, self.actor(actor_id), self.rules, self.now)
        )
        if outcome is not None:
            assert used is not None and used < self.rules.max_extensions

    @possible(A.EXPIRE)
    @rule(
        number=tasks, who=who, due=st.sampled_from([False, False, True]), hours=st.integers(0, 120)
    )
    def expire(self, number: int, who: int, due: bool, hours: int) -> None:
        """The claim-expiry job, after the fake clock moved: either some hours (the claim
        may not be due yet) or until the chosen claim runs out."""
        number = self.aim(A.EXPIRE, number, who)
        member_id = self.claimant(number, who)
        claim = self.board[number].claim_of(member_id)
        if due and claim is not None:
            self.now = max(self.now, claim.expires_at)
        else:
            self.now += timedelta(hours=hours)
        outcome = self.act(number, BOT_ID, lambda t: lc.expire(t, member_id, self.now))
        if outcome is not None:
            assert claim is not None and claim.expires_at <= self.now
            assert outcome.end_claims == (member_id,)

    # -- review ----------------------------------------------------------------------------

    @possible(A.SUBMIT)
    @rule(number=tasks, who=who, link=links, text=submit_notes)
    def submit(self, number: int, who: int, link: str | None, text: str | None) -> None:
        number = self.aim(A.SUBMIT, number, who)
        actor_id = self.claimant(number, who)
        self.act(number, actor_id, lambda t: lc.submit(t, self.actor(actor_id), link, text))

    @possible(A.APPROVE)
    @rule(number=tasks, who=who, comment=comments)
    def approve(self, number: int, who: int, comment: str | None) -> None:
        number = self.aim(A.APPROVE, number, who)
        actor_id = self.reviewer(number, who)
        level = self.level(actor_id)
        outcome = self.act(
            number,
            actor_id,
            lambda t: lc.approve(t, self.actor(actor_id), level, self.rules, comment),
        )
        if outcome is not None:
            assert r.can_review(self.actor(actor_id), level)

    @possible(A.REQUEST_CHANGES)
    @rule(number=tasks, who=who, reason=reasons)
    def request_changes(self, number: int, who: int, reason: str) -> None:
        number = self.aim(A.REQUEST_CHANGES, number, who)
        actor_id = self.reviewer(number, who)
        level = self.level(actor_id)
        rounds = self.board[number].rework_rounds
        outcome = self.act(
            number,
            actor_id,
            lambda t: lc.request_changes(
                t, self.actor(actor_id), level, reason, self.rules, self.now
            ),
        )
        if outcome is not None:
            assert r.can_review(self.actor(actor_id), level)
            assert outcome.escalate is (rounds + 1 >= self.rules.rework_limit)

    # -- maintenance -------------------------------------------------------------------------

    @possible(A.EDIT)
    @rule(number=tasks, who=who, capacity=st.none() | st.integers(0, 11))
    def edit_capacity(self, number: int, who: int, capacity: int | None) -> None:
        number = self.aim(A.EDIT, number, who)
        actor_id = self.pick(who, [MAINTAINER, self.board[number].creator_id])
        self.act(
            number,
            actor_id,
            lambda t: lc.edit(t, self.actor(actor_id), capacity),
        )

    @possible(A.CANCEL)
    @rule(number=tasks, who=who, reason=cancel_reasons)
    def cancel(self, number: int, who: int, reason: str) -> None:
        number = self.aim(A.CANCEL, number, who)
        actor_id = self.pick(who, [MAINTAINER, self.board[number].creator_id])
        self.act(number, actor_id, lambda t: lc.cancel(t, self.actor(actor_id), reason))

    @possible(A.REOPEN)
    @rule(number=tasks, who=who)
    def reopen(self, number: int, who: int) -> None:
        number = self.aim(A.REOPEN, number, who)
        actor_id = self.maintainer(who)
        self.act(number, actor_id, lambda t: lc.reopen(t, self.actor(actor_id)))

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def claims_fit_the_status(self) -> None:
        for task in self.board.values():
            held = len(task.claims)
            assert 1 <= task.capacity <= 10
            assert held <= task.capacity
            assert len(task.claimant_ids) == held, "a member holds a task at most once"
            if task.status is S.CLAIMED:
                assert held == task.capacity
            elif task.status is S.OPEN:
                assert held < task.capacity
            elif task.status is S.IN_REVIEW:
                assert held >= 1
            else:
                assert held == 0, f"#{task.number} is {task.status} but still held"

    @invariant()
    def a_task_in_review_and_only_such_a_task_waits_for_a_nudge(self) -> None:
        for number, task in self.board.items():
            nudge = self.nudge[number]
            assert (nudge is not None) is (task.status is S.IN_REVIEW)
            if nudge is not None:
                assert nudge == self.status_changed_at[number] + timedelta(
                    hours=self.rules.review_nudge_hours
                )

    @invariant()
    def reviews_fit_the_status(self) -> None:
        for task in self.board.values():
            assert task.approvals <= task.reviewers
            assert not (task.reviewers & task.claimant_ids), "nobody reviews their own work"
            if task.status in (S.PROPOSED, S.OPEN, S.CLAIMED):
                assert not task.approvals
                assert not task.reviewers
            if task.status is S.IN_REVIEW:
                assert len(task.approvals) < self.rules.required_approvals
            if task.status is S.DONE:
                assert len(task.approvals) >= self.rules.required_approvals
            if task.status is not S.PROPOSED:
                continue
            assert not (task.endorsements & task.objections)
            assert task.creator_id not in task.endorsements | task.objections

    @invariant()
    def one_history_row_per_applied_action(self) -> None:
        assert len(self.history) == self.applied
        by_task: dict[int, list[HistoryRow]] = {}
        for row in self.history:
            by_task.setdefault(row.task, []).append(row)
        assert set(by_task) == set(self.board)
        for number, rows in by_task.items():
            assert rows[0].from_status is None
            assert rows[0].action in (A.CREATE, A.PROPOSE)
            for prev, row in itertools.pairwise(rows):
                assert row.from_status is prev.to_status
                assert row.at >= prev.at
            assert rows[-1].to_status is self.board[number].status

    @invariant()
    def ledger_matches_the_record(self) -> None:
        """Each claimant of a task that went done got its points (as they were the first
        time it went done), once however often it went done; each member who reviewed a
        task before it went done got review points, once per task."""
        expected: dict[tuple[int, int, LedgerKind], int] = {}
        for _, number, claimants, points in self.done_record:
            for member_id in claimants:
                expected.setdefault((number, member_id, LedgerKind.TASK), points)
        for seq, number, reviewer in self.review_record:
            if any(s >= seq and t == number for s, t, _, _ in self.done_record):
                expected.setdefault((number, reviewer, LedgerKind.REVIEW), self.rules.review_points)
        actual = {(row.task, row.member_id, row.kind): row.points for row in self.ledger}
        assert len(actual) == len(self.ledger), "a (task, member, kind) was credited twice"
        assert actual == expected

    @invariant()
    def trust_only_goes_up(self) -> None:
        for member_id in MEMBERS:
            level = self.level(member_id)
            assert level.rank >= self.seen_level[member_id].rank
            self.seen_level[member_id] = level


TestBoard = Board.TestCase
