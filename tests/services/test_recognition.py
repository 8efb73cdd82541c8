"""Recognition on a real database: kudos rules, profiles, leaderboards, milestones, and
a property: every score shown equals the ledger's sums."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import Runtime, build_services
from bot.domain.errors import InvalidInput, LimitReached, PermissionDenied
from bot.domain.model import Actor, TrustLevel
from bot.services.clock import ManualClock
from bot.services.registry import Services
from tests.services.conftest import ledger
from tests.services.helpers import GUILD, maint, member

ALICE, BOB, CAROL = 11, 12, 13


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> Runtime:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
def services(rt: Runtime) -> Services:
    return rt.services


async def finish(
    services: Services, number: int, worker: int, reviewer: int, guild: int = GUILD
) -> None:
    await services.tasks.claim(Actor(guild, worker, is_maintainer=True), number)
    await services.tasks.submit(Actor(guild, worker, is_maintainer=True), number, notes="done")
    await services.tasks.approve(Actor(guild, reviewer, is_maintainer=True), number)


async def test_kudos_rules(services: Services, rt, clock: ManualClock) -> None:
    with pytest.raises(PermissionDenied, match="yourself"):
        await services.recognition.give_kudos(member(ALICE), ALICE, False, "me")
    with pytest.raises(InvalidInput, match="people"):
        await services.recognition.give_kudos(member(ALICE), 77, True, "beep")
    with pytest.raises(InvalidInput, match="200"):
        await services.recognition.give_kudos(member(ALICE), BOB, False, "x" * 201)
    with pytest.raises(InvalidInput):
        await services.recognition.give_kudos(member(ALICE), BOB, False, "   ")
    for left in (4, 3, 2, 1, 0):
        result = await services.recognition.give_kudos(
            member(ALICE), BOB, False, "  great   review "
        )
        assert result.left_this_week == left and result.reason == "great review"
    with pytest.raises(LimitReached, match="5 kudos in the last 7 days"):
        await services.recognition.give_kudos(member(ALICE), CAROL, False, "one more")
    clock.advance(days=7, seconds=1)
    await services.recognition.give_kudos(member(ALICE), CAROL, False, "budget refilled")
    profile = await services.recognition.profile(GUILD, BOB)
    assert (profile.kudos_received, profile.points) == (5, 0)  # kudos are counted apart


async def test_profile_levels_and_streaks(services: Services, clock: ManualClock) -> None:
    fresh = await services.recognition.profile(GUILD, ALICE)
    assert fresh.level is TrustLevel.NEWCOMER
    assert fresh.next_level is not None and fresh.next_level.level is TrustLevel.CONTRIBUTOR
    for week in range(3):
        await services.tasks.create(maint(), f"Week {week}", points=2)
        await finish(services, week + 1, ALICE, BOB)
        clock.advance(days=7)
    p = await services.recognition.profile(GUILD, ALICE)
    assert (p.points, p.tasks_done, p.level, p.streak_weeks) == (6, 3, TrustLevel.CONTRIBUTOR, 3)
    assert p.next_level is not None and (p.next_level.level, p.next_level.tasks) == (
        TrustLevel.REGULAR,
        2,
    )
    reviewer = await services.recognition.profile(GUILD, BOB)
    assert (reviewer.points, reviewer.reviews_given, reviewer.tasks_done) == (3, 3, 0)
    clock.advance(days=14)
    assert (await services.recognition.profile(GUILD, ALICE)).streak_weeks == 0


async def test_leaderboard_periods_and_hidden_members(
    services: Services, clock: ManualClock
) -> None:
    await services.tasks.create(maint(), "Old", points=13)
    await finish(services, 1, ALICE, CAROL)
    clock.advance(days=10)
    await services.tasks.create(maint(), "New", points=3)
    await finish(services, 2, BOB, CAROL)
    assert await services.recognition.leaderboard(GUILD, "week", "points") == [(BOB, 3), (CAROL, 1)]
    assert await services.recognition.leaderboard(GUILD, "all", "points") == [
        (ALICE, 13),
        (BOB, 3),
        (CAROL, 2),
    ]
    assert await services.recognition.leaderboard(GUILD, "all", "reviews") == [(CAROL, 2)]
    await services.recognition.set_ranking_visible(member(ALICE), False)
    assert await services.recognition.leaderboard(GUILD, "all", "points") == [(BOB, 3), (CAROL, 2)]
    assert (await services.recognition.profile(GUILD, ALICE)).points == 13  # credit stays
    with pytest.raises(InvalidInput):
        await services.recognition.leaderboard(GUILD, "decade", "points")


async def test_milestones_are_due_once(services: Services) -> None:
    await services.config.set_milestone(maint(), 5, 555)
    await services.config.set_milestone(maint(), 50, 556)
    await services.tasks.create(maint(), "Big", points=8)
    await finish(services, 1, ALICE, BOB)
    due = await services.recognition.milestones_due(GUILD, ALICE)
    assert [(d.points, d.role_id) for d in due] == [(5, 555)]
    assert await services.recognition.record_grant(GUILD, ALICE, due[0], granted=True) is False
    assert await services.recognition.milestones_due(GUILD, ALICE) == []
    await services.tasks.create(maint(), "Big 2", points=8)
    await finish(services, 2, CAROL, BOB)
    [carol_due] = await services.recognition.milestones_due(GUILD, CAROL)
    assert await services.recognition.record_grant(GUILD, CAROL, carol_due, granted=False) is True
    await services.tasks.create(maint(), "Big 3", points=8)
    await finish(services, 3, 14, BOB)
    [dan_due] = await services.recognition.milestones_due(GUILD, 14)
    assert (
        await services.recognition.record_grant(GUILD, 14, dan_due, granted=False) is False
    )  # told once


# -- property: scores equal the ledger's sums -----------------------------------------------

_guilds = itertools.count(10_000)
events = st.lists(
    st.tuples(
        st.sampled_from(["task", "kudos"]),
        st.sampled_from([1, 2, 3, 5, 8, 13]),
        st.integers(1, 4),  # worker / receiver
        st.integers(1, 4),  # reviewer / giver
    ),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=events)
def test_scores_equal_ledger_sums(sqlite_url: str, events: list[tuple[str, int, int, int]]) -> None:
    asyncio.run(_scores_equal_ledger_sums(sqlite_url, next(_guilds), events))


async def _scores_equal_ledger_sums(
    url: str, guild: int, events: list[tuple[str, int, int, int]]
) -> None:
    clock = ManualClock()
    runtime = build_services(url, clock=clock)
    services = runtime.services
    try:
        number = 0
        for kind, points, a, b in events:
            clock.advance(hours=1)
            if kind == "task" and a != b:
                number += 1
                await services.tasks.create(
                    Actor(guild, 99, is_maintainer=True), f"t{number}", points=points
                )
                await finish(services, number, a, b, guild)
            elif kind == "kudos" and a != b:
                # Past the weekly budget a kudos is refused and writes nothing.
                with contextlib.suppress(LimitReached):
                    await services.recognition.give_kudos(Actor(guild, b), a, False, "thanks")
        rows = await ledger(services.tasks._db, guild)
        for m in range(1, 5):
            p = await services.recognition.profile(guild, m)
            mine = [(k, pts) for who, k, pts in rows if who == m]
            assert p.points == sum(pts for k, pts in mine if k in ("task", "review"))
            assert p.reviews_given == sum(1 for k, _ in mine if k == "review")
            assert p.kudos_received == sum(1 for k, _ in mine if k == "kudos")
        board = dict(await services.recognition.leaderboard(guild, "all", "points"))
        expected = {}
        for who, k, pts in rows:
            if k in ("task", "review"):
                expected[who] = expected.get(who, 0) + pts
        assert board == {m: v for m, v in expected.items() if v > 0}
    finally:
        await runtime.close()


def test_week_boundaries_for_streaks() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.domain.scoring import weekly_streak

    tz = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)  # Sunday 23:00 in New York, the DST weekend
    times = [now - timedelta(days=7 * i) for i in range(4)]
    assert weekly_streak(times, now, tz) == 4
    assert weekly_streak(times[1:], now, tz) == 3  # this week not yet: last week still counts
    assert weekly_streak(times[2:], now, tz) == 0
