"""Who may do what, trust, limits, windows and input checks (SPEC §2–§4)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import lifecycle as lc
from bot.domain import rules as r
from bot.domain.change import warn_at
from bot.domain.errors import (
    AlreadyDone,
    DomainError,
    InvalidInput,
    InvalidState,
    LimitReached,
    PermissionDenied,
)
from bot.domain.lifecycle import Claim, TaskState
from bot.domain.model import (
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    LINK_MAX,
    NOTE_MAX,
    POINT_CHOICES,
    REASON_MAX,
    RULE_BOUNDS,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    Actor,
    Bound,
    Rules,
    Status,
    TrustLevel,
)

S = Status
L = TrustLevel
GUILD = 7
NUMBER = 12
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RULES = Rules()

MAINTAINER = 1
REVIEWER = 2
CLAIMANT = 3
PROPOSER = 4
ALICE = 5
BOB = 6
CAROL = 7


def member(member_id: int = ALICE, **flags: bool) -> Actor:
    return Actor(GUILD, member_id, **flags)


def maintainer(member_id: int = MAINTAINER) -> Actor:
    return member(member_id, is_maintainer=True)


def bot() -> Actor:
    return member(999, is_bot=True)


def claim_of(member_id: int, *, extensions: int = 0, expires_in_days: float = 2) -> Claim:
    return Claim(
        member_id, NOW - timedelta(days=1), NOW + timedelta(days=expires_in_days), extensions
    )


def task(
    status: Status = S.OPEN,
    *,
    claimants: tuple[int, ...] = (),
    capacity: int = 1,
    points: int = 3,
    creator: int = PROPOSER,
    **fields: object,
) -> TaskState:
    fields.setdefault("claims", tuple(claim_of(m) for m in claimants))
    return TaskState(
        number=NUMBER,
        status=status,
        points=points,
        capacity=capacity,
        creator_id=creator,
        **fields,  # type: ignore[arg-type]
    )


def in_review(**fields: object) -> TaskState:
    return task(S.IN_REVIEW, claimants=(CLAIMANT,), **fields)


def assert_readable(err: DomainError) -> None:
    assert str(err) == err.message
    assert err.message.strip()
    assert "_" not in err.message.replace("/task", "")


# -- permissions --------------------------------------------------------------------------


class TestCreate:
    @pytest.mark.parametrize("level", list(TrustLevel))
    @pytest.mark.parametrize("regulars_can_create", [False, True])
    def test_maintainers_always_may(self, level: TrustLevel, regulars_can_create: bool) -> None:
        rules = Rules(regulars_can_create=regulars_can_create)
        assert lc.create(maintainer(), level, rules).after is S.OPEN

    @pytest.mark.parametrize(
        ("level", "regulars_can_create", "allowed"),
        [
            (L.REGULAR, True, True),
            (L.REGULAR, False, False),
            (L.CONTRIBUTOR, True, False),
            (L.CONTRIBUTOR, False, False),
            (L.NEWCOMER, True, False),
            (L.NEWCOMER, False, False),
        ],
    )
    def test_others_only_as_regulars_when_enabled(
        self, level: TrustLevel, regulars_can_create: bool, allowed: bool
    ) -> None:
        rules = Rules(regulars_can_create=regulars_can_create)
        if allowed:
            assert lc.create(member(), level, rules).after is S.OPEN
            return
        with pytest.raises(PermissionDenied) as caught:
            lc.create(member(), level, rules)
        assert_readable(caught.value)
        hint = "Regulars may create" if regulars_can_create else "/task propose"
        assert hint in caught.value.message

    def test_check_can_create_matches(self) -> None:
        r.check_can_create(maintainer(), L.NEWCOMER, RULES)
        r.check_can_create(member(), L.REGULAR, Rules(regulars_can_create=True))
        with pytest.raises(PermissionDenied):
            r.check_can_create(member(), L.REGULAR, RULES)

    def test_anyone_may_propose(self) -> None:
        assert lc.propose(member(), L.NEWCOMER, 0, RULES).after is S.PROPOSED


class TestCancel:
    @pytest.mark.parametrize("status", [S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW])
    def test_maintainer_any_live_task(self, status: Status) -> None:
        holders = (CLAIMANT,) if status in (S.CLAIMED, S.IN_REVIEW) else ()
        outcome = lc.cancel(task(status, claimants=holders), maintainer(), "Out of scope.")
        assert outcome.after is S.CANCELLED
        assert outcome.end_claims == holders
        assert outcome.note == "Out of scope."

    def test_proposer_may_withdraw_own_proposal(self) -> None:
        outcome = lc.cancel(task(S.PROPOSED), member(PROPOSER), "Changed my mind.")
        assert outcome.after is S.CANCELLED

    @pytest.mark.parametrize("status", [S.OPEN, S.CLAIMED, S.IN_REVIEW])
    def test_proposer_not_once_it_opened(self, status: Status) -> None:
        holders = (CLAIMANT,) if status is not S.OPEN else ()
        with pytest.raises(PermissionDenied) as caught:
            lc.cancel(task(status, claimants=holders), member(PROPOSER), "Changed my mind.")
        assert_readable(caught.value)

    @pytest.mark.parametrize("status", [S.PROPOSED, S.OPEN])
    def test_others_may_not(self, status: Status) -> None:
        with pytest.raises(PermissionDenied):
            lc.cancel(task(status), member(ALICE), "I don't like it.")
        with pytest.raises(PermissionDenied):
            lc.cancel(task(status), member(REVIEWER, has_reviewer_role=True), "Nope.")

    def test_claimant_may_not(self) -> None:
        with pytest.raises(PermissionDenied):
            lc.cancel(task(S.CLAIMED, claimants=(CLAIMANT,)), member(CLAIMANT), "Too hard.")

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_needs_a_reason(self, reason: str | None) -> None:
        with pytest.raises(InvalidInput):
            lc.cancel(task(), maintainer(), reason)  # type: ignore[arg-type]

    def test_reason_length(self) -> None:
        lc.cancel(task(), maintainer(), "x" * REASON_MAX)
        with pytest.raises(InvalidInput):
            lc.cancel(task(), maintainer(), "x" * (REASON_MAX + 1))

    def test_twice_changes_nothing(self) -> None:
        with pytest.raises(AlreadyDone):
            lc.cancel(task(S.CANCELLED), maintainer(), "Again.")
        with pytest.raises(InvalidState):
            lc.cancel(task(S.DONE), maintainer(), "Too late.")


class TestEdit:
    @pytest.mark.parametrize("status", [S.PROPOSED, S.OPEN, S.CLAIMED, S.IN_REVIEW])
    def test_maintainer(self, status: Status) -> None:
        assert lc.edit(task(status, capacity=3), maintainer(), None).after is status

    def test_proposer_own_proposal(self) -> None:
        assert lc.edit(task(S.PROPOSED), member(PROPOSER), 3).after is S.PROPOSED

    def test_proposer_not_once_open(self) -> None:
        with pytest.raises(PermissionDenied) as caught:
            lc.edit(task(S.OPEN), member(PROPOSER), None)
        assert_readable(caught.value)

    @pytest.mark.parametrize("status", [S.PROPOSED, S.OPEN])
    def test_others_may_not(self, status: Status) -> None:
        with pytest.raises(PermissionDenied):
            lc.edit(task(status), member(ALICE), None)

    def test_claimant_may_not(self) -> None:
        with pytest.raises(PermissionDenied):
            lc.edit(task(S.CLAIMED, claimants=(CLAIMANT,)), member(CLAIMANT), 2)

    def test_capacity_not_below_holders(self) -> None:
        held = task(S.CLAIMED, claimants=(CLAIMANT, ALICE), capacity=2)
        with pytest.raises(InvalidInput) as caught:
            lc.edit(held, maintainer(), 1)
        assert f"#{NUMBER}" in caught.value.message
        assert lc.edit(held, maintainer(), 2).after is S.CLAIMED

    @pytest.mark.parametrize("capacity", [0, -1, CAPACITY_MAX + 1])
    def test_capacity_in_range(self, capacity: int) -> None:
        with pytest.raises(InvalidInput) as caught:
            lc.edit(task(S.OPEN), maintainer(), capacity)
        assert "between 1 and 10" in caught.value.message


class TestAssign:
    def test_maintainer_on_behalf_of_a_member(self) -> None:
        outcome = lc.assign(task(), maintainer(), ALICE, False, RULES, NOW)
        assert outcome.after is S.CLAIMED
        assert outcome.add_claim == Claim(ALICE, NOW, NOW + timedelta(days=7))

    @pytest.mark.parametrize(
        "actor",
        [member(ALICE), member(REVIEWER, has_reviewer_role=True), member(PROPOSER)],
        ids=["member", "reviewer-role", "creator"],
    )
    def test_others_may_not(self, actor: Actor) -> None:
        with pytest.raises(PermissionDenied) as caught:
            lc.assign(task(), actor, BOB, False, RULES, NOW)
        assert_readable(caught.value)

    def test_not_to_a_bot(self) -> None:
        with pytest.raises(InvalidInput):
            lc.assign(task(), maintainer(), 999, True, RULES, NOW)

    def test_not_twice(self) -> None:
        held = task(S.OPEN, claimants=(ALICE,), capacity=2)
        with pytest.raises(AlreadyDone):
            lc.assign(held, maintainer(), ALICE, False, RULES, NOW)

    def test_not_while_blocked(self) -> None:
        with pytest.raises(InvalidState) as caught:
            lc.assign(task(blocked_by=3), maintainer(), ALICE, False, RULES, NOW)
        assert "#3" in caught.value.message

    def test_maintainer_may_assign_themselves(self) -> None:
        assert lc.assign(task(), maintainer(), MAINTAINER, False, RULES, NOW).add_claim


class TestReopen:
    @pytest.mark.parametrize("status", [S.DONE, S.CANCELLED])
    def test_maintainer(self, status: Status) -> None:
        outcome = lc.reopen(task(status), maintainer())
        assert outcome.after is S.OPEN
        assert outcome.new_round
        assert not outcome.done  # credit already given stays; none is given again

    @pytest.mark.parametrize("status", [S.DONE, S.CANCELLED])
    def test_others_may_not(self, status: Status) -> None:
        with pytest.raises(PermissionDenied):
            lc.reopen(task(status), member(PROPOSER))
        with pytest.raises(PermissionDenied):
            lc.reopen(task(status), member(REVIEWER, has_reviewer_role=True))


class TestBots:
    def test_refused_everywhere_they_could_act(self) -> None:
        calls = [
            lambda: lc.create(member(999, is_bot=True, is_maintainer=True), L.REGULAR, RULES),
            lambda: lc.propose(bot(), L.NEWCOMER, 0, RULES),
            lambda: lc.endorse(task(S.PROPOSED), bot(), RULES),
            lambda: lc.object_(task(S.PROPOSED), bot(), "Spam."),
            lambda: lc.claim(task(), bot(), L.REGULAR, 0, RULES, NOW),
            lambda: lc.approve(in_review(), bot(), L.REGULAR, RULES, None),
            lambda: lc.request_changes(in_review(), bot(), L.REGULAR, "No.", RULES, NOW),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied) as caught:
                call()
            assert caught.value.message == "Bots can't take part in tasks."


# -- trust and limits ------------------------------------------------------------------------


class TestTrust:
    @pytest.mark.parametrize(
        ("done", "level"),
        [
            (0, L.NEWCOMER),
            (1, L.CONTRIBUTOR),
            (4, L.CONTRIBUTOR),
            (5, L.REGULAR),
            (6, L.REGULAR),
            (500, L.REGULAR),
        ],
    )
    def test_from_done_counts(self, done: int, level: TrustLevel) -> None:
        assert r.trust_level(done, RULES) is level

    @pytest.mark.parametrize(
        ("threshold", "done", "level"),
        [
            (3, 2, L.CONTRIBUTOR),
            (3, 3, L.REGULAR),
            (10, 9, L.CONTRIBUTOR),
            (10, 10, L.REGULAR),
            (2, 1, L.CONTRIBUTOR),
            (2, 0, L.NEWCOMER),
        ],
    )
    def test_regular_threshold_is_configurable(
        self, threshold: int, done: int, level: TrustLevel
    ) -> None:
        assert r.trust_level(done, Rules(regular_threshold=threshold)) is level

    @pytest.mark.parametrize("threshold", [1, 2, 5, 8])
    def test_never_goes_down_as_work_is_accepted(self, threshold: int) -> None:
        rules = Rules(regular_threshold=threshold)
        ranks = [r.trust_level(done, rules).rank for done in range(20)]
        assert ranks == sorted(ranks)
        assert ranks[0] == L.NEWCOMER.rank
        assert ranks[-1] == L.REGULAR.rank

    def test_ranks_are_ordered(self) -> None:
        assert L.NEWCOMER.rank < L.CONTRIBUTOR.rank < L.REGULAR.rank


class TestClaimLimits:
    @pytest.mark.parametrize(
        ("level", "limit"), [(L.NEWCOMER, 1), (L.CONTRIBUTOR, 3), (L.REGULAR, 5)]
    )
    def test_defaults_by_level(self, level: TrustLevel, limit: int) -> None:
        assert r.claim_limit(level, RULES) == limit
        r.check_claim_limit(member(), level, limit - 1, RULES)
        lc.claim(task(), member(), level, limit - 1, RULES, NOW)
        with pytest.raises(LimitReached) as caught:
            r.check_claim_limit(member(), level, limit, RULES)
        assert f"hold {limit} task" in caught.value.message
        assert level.value in caught.value.message
        with pytest.raises(LimitReached):
            lc.claim(task(), member(), level, limit, RULES, NOW)

    def test_message_grammar(self) -> None:
        with pytest.raises(LimitReached) as one:
            r.check_claim_limit(member(), L.NEWCOMER, 1, RULES)
        assert "1 task at a time" in one.value.message
        with pytest.raises(LimitReached) as three:
            r.check_claim_limit(member(), L.CONTRIBUTOR, 3, RULES)
        assert "3 tasks at a time" in three.value.message

    def test_configurable(self) -> None:
        rules = Rules(limit_newcomer=2, limit_contributor=4, limit_regular=8)
        assert [r.claim_limit(level, rules) for level in TrustLevel] == [2, 4, 8]
        lc.claim(task(), member(), L.NEWCOMER, 1, rules, NOW)
        with pytest.raises(LimitReached):
            lc.claim(task(), member(), L.NEWCOMER, 2, rules, NOW)

    @pytest.mark.parametrize("level", list(TrustLevel))
    def test_maintainers_have_no_limit(self, level: TrustLevel) -> None:
        r.check_claim_limit(maintainer(), level, 10_000, RULES)
        assert lc.claim(task(), maintainer(), level, 10_000, RULES, NOW).add_claim

    def test_claim_refused_while_blocked(self) -> None:
        with pytest.raises(InvalidState) as caught:
            lc.claim(task(blocked_by=9), member(), L.REGULAR, 0, RULES, NOW)
        assert "#9" in caught.value.message
        assert f"#{NUMBER}" in caught.value.message

    def test_claiming_twice_changes_nothing(self) -> None:
        held = task(S.OPEN, claimants=(ALICE,), capacity=2)
        with pytest.raises(AlreadyDone):
            lc.claim(held, member(ALICE), L.REGULAR, 1, RULES, NOW)
        full = task(S.CLAIMED, claimants=(ALICE,))
        with pytest.raises(AlreadyDone):
            lc.claim(full, member(ALICE), L.REGULAR, 1, RULES, NOW)

    def test_the_loser_of_the_last_slot_gets_a_clear_message(self) -> None:
        full = task(S.CLAIMED, claimants=(ALICE,))
        with pytest.raises(LimitReached) as caught:
            lc.claim(full, member(BOB), L.REGULAR, 0, RULES, NOW)
        assert "every spot is taken" in caught.value.message


# -- reviewing -------------------------------------------------------------------------------


class TestReviewerEligibility:
    @pytest.mark.parametrize(
        ("actor", "level", "eligible"),
        [
            (member(ALICE), L.NEWCOMER, False),
            (member(ALICE), L.CONTRIBUTOR, True),
            (member(ALICE), L.REGULAR, True),
            (member(REVIEWER, has_reviewer_role=True), L.NEWCOMER, True),
            (maintainer(), L.NEWCOMER, True),
        ],
        ids=["newcomer", "contributor", "regular", "reviewer-role", "maintainer"],
    )
    def test_who(self, actor: Actor, level: TrustLevel, eligible: bool) -> None:
        assert r.can_review(actor, level) is eligible
        for review in (
            lambda: lc.approve(in_review(), actor, level, RULES, "Nice."),
            lambda: lc.request_changes(in_review(), actor, level, "Fix it.", RULES, NOW),
        ):
            if eligible:
                assert review().review is not None
            else:
                with pytest.raises(PermissionDenied) as caught:
                    review()
                assert "reviewer role" in caught.value.message

    @pytest.mark.parametrize(
        "actor",
        [member(CLAIMANT), maintainer(CLAIMANT), member(CLAIMANT, has_reviewer_role=True)],
        ids=["member", "maintainer", "reviewer-role"],
    )
    def test_never_a_claimant(self, actor: Actor) -> None:
        work = task(S.IN_REVIEW, claimants=(CLAIMANT, ALICE), capacity=2)
        with pytest.raises(PermissionDenied) as caught:
            lc.approve(work, actor, L.REGULAR, RULES, None)
        assert f"#{NUMBER}" in caught.value.message
        with pytest.raises(PermissionDenied):
            lc.request_changes(work, actor, L.REGULAR, "Mine needs work.", RULES, NOW)

    def test_one_review_per_person_per_round(self) -> None:
        first = in_review(approvals=frozenset({BOB}), reviewers=frozenset({BOB}))
        rules = Rules(required_approvals=2)
        with pytest.raises(AlreadyDone):
            lc.approve(first, member(BOB), L.CONTRIBUTOR, rules, None)
        with pytest.raises(AlreadyDone):
            lc.request_changes(first, member(BOB), L.CONTRIBUTOR, "On second thought.", rules, NOW)
        # Someone else may, and that second approval is enough.
        assert lc.approve(first, member(CAROL), L.CONTRIBUTOR, rules, None).after is S.DONE
        # In the next round (approvals and reviewers reset by a new submission) BOB may again.
        fresh = in_review()
        assert lc.approve(fresh, member(BOB), L.CONTRIBUTOR, rules, None).after is S.IN_REVIEW

    def test_changes_need_a_reason(self) -> None:
        for reason in ("", "  "):
            with pytest.raises(InvalidInput):
                lc.request_changes(in_review(), member(BOB), L.CONTRIBUTOR, reason, RULES, NOW)
        with pytest.raises(InvalidInput):
            lc.request_changes(
                in_review(), member(BOB), L.CONTRIBUTOR, "x" * (REASON_MAX + 1), RULES, NOW
            )

    def test_comment_length(self) -> None:
        assert lc.approve(in_review(), member(BOB), L.CONTRIBUTOR, RULES, "x" * NOTE_MAX).done
        with pytest.raises(InvalidInput):
            lc.approve(in_review(), member(BOB), L.CONTRIBUTOR, RULES, "x" * (NOTE_MAX + 1))


# -- claim windows, extensions, rework --------------------------------------------------------


class TestClaimWindow:
    @pytest.mark.parametrize(
        ("points", "days"), [(1, 3), (2, 3), (3, 7), (5, 7), (8, 14), (13, 14)]
    )
    def test_by_size(self, points: int, days: int) -> None:
        assert r.claim_window(points, RULES) == timedelta(days=days)
        outcome = lc.claim(task(points=points), member(), L.NEWCOMER, 0, RULES, NOW)
        assert outcome.add_claim == Claim(ALICE, NOW, NOW + timedelta(days=days))

    @pytest.mark.parametrize("points", POINT_CHOICES)
    def test_guild_override(self, points: int) -> None:
        rules = Rules(claim_days=10)
        assert r.claim_window(points, rules) == timedelta(days=10)

    @pytest.mark.parametrize("guild_days", [None, 10])
    @pytest.mark.parametrize("points", [1, 13])
    def test_task_override_wins(self, guild_days: int | None, points: int) -> None:
        rules = Rules(claim_days=guild_days)
        assert r.claim_window(points, rules, 2) == timedelta(days=2)
        outcome = lc.claim(task(points=points, claim_days=2), member(), L.NEWCOMER, 0, rules, NOW)
        assert outcome.add_claim is not None
        assert outcome.add_claim.expires_at == NOW + timedelta(days=2)

    def test_warning_time(self) -> None:
        """The warning falls at the rules' fraction of the window that starts now."""
        assert warn_at(NOW, NOW + timedelta(days=14), RULES) == NOW + timedelta(days=7)
        rules = Rules(claim_warning_fraction=0.75)
        assert warn_at(NOW, NOW + timedelta(days=4), rules) == NOW + timedelta(days=3)

    def test_changes_requested_renews_the_window(self) -> None:
        work = task(S.IN_REVIEW, claimants=(CLAIMANT,), points=8)
        outcome = lc.request_changes(work, member(BOB), L.CONTRIBUTOR, "Typo.", RULES, NOW)
        assert [c.expires_at for c in outcome.renew_claims] == [NOW + timedelta(days=14)]
        assert outcome.renew_claims[0].extensions == 0  # a rework round isn't an extension


class TestExtensions:
    def held(self, extensions: int) -> TaskState:
        return task(
            S.CLAIMED,
            claims=(claim_of(CLAIMANT, extensions=extensions, expires_in_days=0.5),),
            points=1,
        )

    @pytest.mark.parametrize("used", [0, 1])
    def test_renews_the_window(self, used: int) -> None:
        outcome = lc.extend(self.held(used), member(CLAIMANT), RULES, NOW)
        assert outcome.after is S.CLAIMED
        (renewed,) = outcome.renew_claims
        assert renewed.expires_at == NOW + timedelta(days=0.5 + 3)  # a window on what is left
        assert renewed.extensions == used + 1
        assert renewed.claimed_at == self.held(used).claims[0].claimed_at

    def test_capped_at_max_extensions(self) -> None:
        with pytest.raises(LimitReached) as caught:
            lc.extend(self.held(RULES.max_extensions), member(CLAIMANT), RULES, NOW)
        assert f"#{NUMBER}" in caught.value.message
        assert "2 times" in caught.value.message

    @pytest.mark.parametrize(("cap", "used", "ok"), [(0, 0, False), (1, 0, True), (1, 1, False)])
    def test_configurable(self, cap: int, used: int, ok: bool) -> None:
        rules = Rules(max_extensions=cap)
        if ok:
            lc.extend(self.held(used), member(CLAIMANT), rules, NOW)
        else:
            with pytest.raises(LimitReached):
                lc.extend(self.held(used), member(CLAIMANT), rules, NOW)

    def test_a_second_extension_in_a_row_changes_nothing(self) -> None:
        """Extended once, the claim has more than a window left: pressing again is refused
        (the extension isn't used up), whatever the budget."""
        once = lc.extend(self.held(0), member(CLAIMANT), RULES, NOW).renew_claims
        state = task(S.CLAIMED, claims=once, points=1)
        with pytest.raises(AlreadyDone, match="nothing to extend yet"):
            lc.extend(state, member(CLAIMANT), Rules(max_extensions=10), NOW)
        later = NOW + timedelta(days=0.5, seconds=1)  # less than a window left again
        assert lc.extend(state, member(CLAIMANT), RULES, later).renew_claims[0].extensions == 2

    def test_an_overdue_claim_is_extended_from_now(self) -> None:
        state = task(S.CLAIMED, claims=(claim_of(CLAIMANT, expires_in_days=-0.25),), points=1)
        (renewed,) = lc.extend(state, member(CLAIMANT), RULES, NOW).renew_claims
        assert renewed.expires_at == NOW + timedelta(days=3)

    def test_only_claimants(self) -> None:
        with pytest.raises(PermissionDenied) as caught:
            lc.extend(self.held(0), member(ALICE), RULES, NOW)
        assert f"#{NUMBER}" in caught.value.message


class TestExpire:
    def test_only_after_the_window(self) -> None:
        held = task(S.CLAIMED, claims=(claim_of(CLAIMANT, expires_in_days=1),))
        with pytest.raises(InvalidState):
            lc.expire(held, CLAIMANT, NOW)
        at_expiry = NOW + timedelta(days=1)
        outcome = lc.expire(held, CLAIMANT, at_expiry)
        assert outcome.after is S.OPEN
        assert outcome.end_claims == (CLAIMANT,)

    def test_a_claim_that_already_ended(self) -> None:
        with pytest.raises(InvalidState):
            lc.expire(task(S.OPEN), CLAIMANT, NOW)


class TestRework:
    @pytest.mark.parametrize(
        ("limit", "done_rounds", "escalate"),
        [
            (3, 0, False),
            (3, 1, False),
            (3, 2, True),  # the 3rd request
            (3, 3, True),  # and maintainers keep being asked after that
            (1, 0, True),
            (2, 0, False),
            (2, 1, True),
        ],
    )
    def test_escalates_on_the_limit_th_request(
        self, limit: int, done_rounds: int, escalate: bool
    ) -> None:
        work = in_review(rework_rounds=done_rounds)
        rules = Rules(rework_limit=limit)
        outcome = lc.request_changes(work, member(BOB), L.CONTRIBUTOR, "Again.", rules, NOW)
        assert outcome.escalate is escalate
        assert outcome.after is S.CLAIMED

    def test_approvals_never_escalate(self) -> None:
        work = in_review(rework_rounds=10)
        assert not lc.approve(work, member(BOB), L.CONTRIBUTOR, RULES, None).escalate


# -- input validation --------------------------------------------------------------------------


class TestTitle:
    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            ("Fix the docs", "Fix the docs"),
            ("  Fix   the\n\tdocs  ", "Fix the docs"),
            ("a", "a"),
            ("x" * TITLE_MAX, "x" * TITLE_MAX),
            ("a" * 50 + " " * 40 + "b" * 49, "a" * 50 + " " + "b" * 49),  # fits once folded
        ],
    )
    def test_kept_and_folded(self, raw: str, clean: str) -> None:
        assert r.clean_title(raw) == clean

    @pytest.mark.parametrize("raw", ["", "   ", "\n\t", "x" * (TITLE_MAX + 1), "y " * 51])
    def test_refused(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            r.clean_title(raw)
        assert_readable(caught.value)


class TestDescription:
    def test_limits(self) -> None:
        assert r.clean_description(None) == ""
        assert r.clean_description("  hi  ") == "hi"
        assert r.clean_description("x" * DESCRIPTION_MAX) == "x" * DESCRIPTION_MAX
        with pytest.raises(InvalidInput) as caught:
            r.clean_description("x" * (DESCRIPTION_MAX + 1))
        assert str(DESCRIPTION_MAX) in caught.value.message


class TestPointsAndCapacity:
    @pytest.mark.parametrize("points", POINT_CHOICES)
    def test_points_kept(self, points: int) -> None:
        assert r.check_points(points) == points

    @pytest.mark.parametrize("points", [0, -1, 4, 6, 7, 10, 21, 100])
    def test_points_refused(self, points: int) -> None:
        with pytest.raises(InvalidInput) as caught:
            r.check_points(points)
        assert "1, 2, 3, 5, 8, 13" in caught.value.message

    @pytest.mark.parametrize("capacity", range(1, 11))
    def test_capacity_kept(self, capacity: int) -> None:
        assert r.check_capacity(capacity) == capacity

    @pytest.mark.parametrize("capacity", [-1, 0, 11, 100])
    def test_capacity_refused(self, capacity: int) -> None:
        with pytest.raises(InvalidInput):
            r.check_capacity(capacity)


class TestTags:
    @pytest.mark.parametrize(
        ("raw", "tags"),
        [
            (None, ()),
            ("", ()),
            (" , ,, ", ()),
            ("docs", ("docs",)),
            (" Docs, docs ,DOCS, Good  First   Issue ,,", ("docs", "good first issue")),
            ("b,a,b,c", ("b", "a", "c")),  # order kept
            (",".join(f"t{i}" for i in range(TAGS_MAX)), tuple(f"t{i}" for i in range(10))),
            ("x" * TAG_MAX, ("x" * TAG_MAX,)),
        ],
    )
    def test_parsed(self, raw: str | None, tags: tuple[str, ...]) -> None:
        assert r.parse_tags(raw) == tags

    def test_duplicates_do_not_count_towards_the_limit(self) -> None:
        raw = ",".join([f"t{i}" for i in range(TAGS_MAX)] + ["T0", " t1 "])
        assert len(r.parse_tags(raw)) == TAGS_MAX

    def test_too_many(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            r.parse_tags(",".join(f"t{i}" for i in range(TAGS_MAX + 1)))
        assert str(TAGS_MAX) in caught.value.message

    def test_too_long(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            r.parse_tags("ok," + "x" * (TAG_MAX + 1))
        assert str(TAG_MAX) in caught.value.message


class TestSubmit:
    def work(self) -> TaskState:
        return task(S.CLAIMED, claimants=(CLAIMANT,))

    @pytest.mark.parametrize(
        ("link", "notes"),
        [
            ("https://example.org/pr/1", None),
            ("http://example.org", ""),
            ("HTTPS://EXAMPLE.ORG/X", None),
            ("  https://example.org  ", None),
            (None, "Done: see the wiki page."),
            ("", "Done."),
            ("https://example.org", "And notes."),
            ("https://e.org/" + "a" * (LINK_MAX - 14), None),
            (None, "n" * NOTE_MAX),
        ],
    )
    def test_accepted(self, link: str | None, notes: str | None) -> None:
        outcome = lc.submit(self.work(), member(CLAIMANT), link, notes)
        assert outcome.after is S.IN_REVIEW
        assert outcome.new_round

    @pytest.mark.parametrize(
        ("link", "notes"),
        [
            (None, None),
            ("", ""),
            ("   ", "  \n "),
            ("example.org/pr/1", None),
            ("www.example.org", "notes"),
            ("ftp://example.org/file", None),
            ("javascript:alert(1)", None),
            ("https://e.org/" + "a" * LINK_MAX, None),
            (None, "n" * (NOTE_MAX + 1)),
        ],
    )
    def test_refused(self, link: str | None, notes: str | None) -> None:
        with pytest.raises(InvalidInput) as caught:
            lc.submit(self.work(), member(CLAIMANT), link, notes)
        assert_readable(caught.value)

    def test_only_claimants(self) -> None:
        with pytest.raises(PermissionDenied):
            lc.submit(self.work(), member(ALICE), "https://example.org", None)
        with pytest.raises(PermissionDenied):
            lc.submit(self.work(), maintainer(), "https://example.org", None)


class TestReleaseNote:
    def test_optional_and_bounded(self) -> None:
        held = task(S.CLAIMED, claimants=(CLAIMANT,))
        assert lc.release(held, member(CLAIMANT), None).note == ""
        assert lc.release(held, member(CLAIMANT), "  see thread ").note == "see thread"
        with pytest.raises(InvalidInput):
            lc.release(held, member(CLAIMANT), "x" * (NOTE_MAX + 1))
        with pytest.raises(PermissionDenied):
            lc.release(held, member(ALICE), None)


# -- proposals ----------------------------------------------------------------------------------


class TestProposals:
    def proposal(self, **fields: object) -> TaskState:
        return task(S.PROPOSED, **fields)

    def test_proposer_cannot_vote(self) -> None:
        with pytest.raises(PermissionDenied) as endorse:
            lc.endorse(self.proposal(), member(PROPOSER), RULES)
        assert_readable(endorse.value)
        with pytest.raises(PermissionDenied):
            lc.object_(self.proposal(), member(PROPOSER), "I object to myself.")
        # …not even a maintainer who proposed
        own = self.proposal(creator=MAINTAINER)
        with pytest.raises(PermissionDenied):
            lc.endorse(own, maintainer(), RULES)

    def test_one_vote_per_member(self) -> None:
        endorsed = self.proposal(endorsements=frozenset({ALICE}))
        objected = self.proposal(objections=frozenset({ALICE}))
        with pytest.raises(AlreadyDone):
            lc.endorse(endorsed, member(ALICE), Rules(proposal_endorsements=5))
        with pytest.raises(AlreadyDone):
            lc.object_(endorsed, member(ALICE), "Changed my mind.")
        with pytest.raises(AlreadyDone):
            lc.endorse(objected, member(ALICE), RULES)
        with pytest.raises(AlreadyDone):
            lc.object_(objected, member(ALICE), "Still no.")

    @pytest.mark.parametrize("needed", [1, 2, 3])
    def test_opens_at_n_endorsements(self, needed: int) -> None:
        rules = Rules(proposal_endorsements=needed)
        voters = (ALICE, BOB, CAROL)
        state = self.proposal()
        for i, voter in enumerate(voters[:needed], start=1):
            outcome = lc.endorse(state, member(voter), rules)
            assert outcome.vote == "endorse"
            assert outcome.after is (S.OPEN if i == needed else S.PROPOSED)
            state = TaskState(
                number=state.number,
                status=outcome.after,
                points=state.points,
                capacity=state.capacity,
                creator_id=state.creator_id,
                endorsements=state.endorsements | {voter},
            )

    def test_a_maintainers_endorsement_opens_at_once(self) -> None:
        rules = Rules(proposal_endorsements=3)
        assert lc.endorse(self.proposal(), maintainer(), rules).after is S.OPEN
        assert lc.endorse(self.proposal(), member(ALICE), rules).after is S.PROPOSED
        # even over an objection: that is the maintainer deciding
        objected = self.proposal(objections=frozenset({BOB}))
        assert lc.endorse(objected, maintainer(), rules).after is S.OPEN

    def test_objection_needs_a_reason(self) -> None:
        for reason in ("", "   "):
            with pytest.raises(InvalidInput):
                lc.object_(self.proposal(), member(ALICE), reason)
        with pytest.raises(InvalidInput):
            lc.object_(self.proposal(), member(ALICE), "x" * (REASON_MAX + 1))
        outcome = lc.object_(self.proposal(), member(ALICE), "  Duplicates #3. ")
        assert (outcome.after, outcome.vote, outcome.note) == (
            S.PROPOSED,
            "object",
            "Duplicates #3.",
        )

    @pytest.mark.parametrize("window", [1, 72])
    def test_lazy_consensus_after_the_window(self, window: int) -> None:
        rules = Rules(proposal_window_hours=window)
        proposed_at = NOW
        too_early = NOW + timedelta(hours=window) - timedelta(seconds=1)
        with pytest.raises(InvalidState) as caught:
            lc.open_by_consensus(self.proposal(), proposed_at, too_early, rules)
        assert f"#{NUMBER}" in caught.value.message
        for later in (timedelta(hours=window), timedelta(hours=window, days=30)):
            outcome = lc.open_by_consensus(self.proposal(), proposed_at, NOW + later, rules)
            assert outcome.after is S.OPEN

    def test_lazy_consensus_never_over_an_objection(self) -> None:
        objected = self.proposal(objections=frozenset({ALICE}), endorsements=frozenset({BOB}))
        with pytest.raises(InvalidState) as caught:
            lc.open_by_consensus(objected, NOW, NOW + timedelta(days=365), RULES)
        assert "maintainer" in caught.value.message

    def test_votes_only_on_proposals(self) -> None:
        with pytest.raises(InvalidState):
            lc.endorse(task(S.OPEN), member(ALICE), RULES)
        with pytest.raises(InvalidState):
            lc.object_(task(S.OPEN), member(ALICE), "Too late?")


# -- the guild's rule settings and their bounds -------------------------------------------


class TestRuleBounds:
    def test_every_bound_is_a_rule_and_every_default_lies_in_it(self) -> None:
        names = {f.name for f in fields(Rules)}
        assert set(RULE_BOUNDS) <= names
        for name, bound in RULE_BOUNDS.items():
            default = getattr(RULES, name)
            assert default is None or default in bound, name

    @pytest.mark.parametrize(
        ("name", "label", "low", "high"),
        [
            ("claim_days", "Claim days", 1, 90),
            ("max_extensions", "Max extensions", 0, 10),
            ("limit_newcomer", "Limit newcomer", 1, 50),
            ("limit_contributor", "Limit contributor", 1, 50),
            ("limit_regular", "Limit regular", 1, 50),
            ("required_approvals", "Required approvals", 1, 5),
            ("regular_threshold", "Regular threshold", 2, 1000),
            ("proposal_endorsements", "Proposal endorsements", 1, 25),
            ("proposal_window_hours", "Proposal window hours", 1, 720),
            ("review_points", "Review points", 0, 13),
            ("rework_limit", "Rework limit", 1, 20),
            ("review_nudge_hours", "Review nudge hours", 1, 336),
            ("kudos_weekly_budget", "Kudos weekly budget", 1, 100),
        ],
    )
    def test_each_setting_is_checked_at_both_ends(
        self, name: str, label: str, low: int, high: int
    ) -> None:
        assert RULE_BOUNDS[name] == Bound(low, high)
        for fine in (low, high, None):
            r.check_rule_values({name: fine})
        for wrong in (low - 1, high + 1):
            with pytest.raises(InvalidInput) as err:
                r.check_rule_values({name: wrong})
            assert err.value.message == f"{label} must be between {low} and {high}."

    def test_the_first_setting_out_of_range_is_the_one_reported(self) -> None:
        with pytest.raises(InvalidInput, match=r"^Max extensions"):
            r.check_rule_values({"required_approvals": 9, "max_extensions": 11})
        r.check_rule_values({"digest_day": 99, "claim_warning_fraction": 7})  # no bounds declared

    def test_a_bound_holds_only_numbers_within_it(self) -> None:
        bound = Bound(1, 5)
        assert 1 in bound and 5 in bound and 3 in bound
        assert 0 not in bound and 6 not in bound
        assert "3" not in bound and None not in bound

    @pytest.mark.parametrize("days", [1, 90, None])
    def test_a_tasks_own_claim_window_in_range(self, days: int | None) -> None:
        assert r.check_claim_days(days) == days

    @pytest.mark.parametrize("days", [0, 91, -3])
    def test_a_tasks_own_claim_window_out_of_range(self, days: int) -> None:
        with pytest.raises(InvalidInput) as err:
            r.check_claim_days(days)
        assert err.value.message == "A claim window must be between 1 and 90 days."

    def test_milestone_points(self) -> None:
        assert r.check_milestone_points(1) == 1
        assert r.check_milestone_points(1_000_000) == 1_000_000
        for wrong in (0, 1_000_001):
            with pytest.raises(InvalidInput) as err:
                r.check_milestone_points(wrong)
            assert err.value.message == "Milestone points must be between 1 and 1,000,000."
