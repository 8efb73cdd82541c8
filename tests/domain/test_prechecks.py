"""The check a form makes before it opens (`lifecycle.may`) is the action's own.

For any task and any member, `may(action, …)` refuses exactly when the action itself,
sent with a valid text, would refuse, and with the same error and message: so a form
opens only for someone who can send it (issue #13, bug 16), and the pre-check cannot
drift from the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import lifecycle as lc
from bot.domain.errors import DomainError
from bot.domain.lifecycle import PRECHECKED, Claim, Outcome, TaskState
from bot.domain.model import Action, Actor, Rules, Status, TrustLevel

A = Action
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MEMBERS = (1, 2, 3, 4)
RULES = Rules()

Run = Callable[[TaskState, Actor, TrustLevel], Outcome]

# Each form's action, with a text that passes its own checks.
ACTIONS: dict[Action, Run] = {
    A.SUBMIT: lambda t, a, _l: lc.submit(t, a, "https://example.org/pr/1", None),
    A.RELEASE: lambda t, a, _l: lc.release(t, a, "over to you"),
    A.REQUEST_CHANGES: lambda t, a, lvl: lc.request_changes(t, a, lvl, "typo", RULES, NOW),
    A.OBJECT: lambda t, a, _l: lc.object_(t, a, "not now"),
}


def test_every_form_action_is_prechecked() -> None:
    assert set(ACTIONS) == PRECHECKED


members = st.sampled_from(MEMBERS)


@st.composite
def tasks(draw: st.DrawFn) -> TaskState:
    status = draw(st.sampled_from(list(Status)))
    claimants = draw(st.frozensets(members, max_size=2))
    votes = draw(st.frozensets(members, max_size=3))
    objections = (
        draw(st.frozensets(st.sampled_from(sorted(votes)), max_size=3)) if votes else frozenset()
    )
    reviewers = draw(st.frozensets(members, max_size=2)) - claimants
    return TaskState(
        number=7,
        status=status,
        points=1,
        capacity=2,
        creator_id=draw(members),
        claims=tuple(Claim(m, NOW, NOW + timedelta(days=3)) for m in sorted(claimants)),
        reviewers=reviewers,
        endorsements=votes - objections,
        objections=objections,
    )


@st.composite
def actors(draw: st.DrawFn) -> Actor:
    return Actor(
        guild_id=1,
        member_id=draw(members),
        is_maintainer=draw(st.booleans()),
        has_reviewer_role=draw(st.booleans()),
        is_bot=draw(st.booleans()),
    )


def outcome_of(run: Callable[[], object]) -> tuple[type[DomainError], str] | None:
    try:
        run()
    except DomainError as err:
        return type(err), err.message
    return None


@given(
    action=st.sampled_from(sorted(PRECHECKED)),
    task=tasks(),
    actor=actors(),
    level=st.sampled_from(list(TrustLevel)),
)
def test_the_precheck_refuses_exactly_as_the_action_would(
    action: Action, task: TaskState, actor: Actor, level: TrustLevel
) -> None:
    before = outcome_of(lambda: lc.may(action, task, actor, level))
    sent = outcome_of(lambda: ACTIONS[action](task, actor, level))
    assert before == sent
