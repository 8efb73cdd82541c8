"""The weekly digest's pure core: local weeks (with daylight-saving changes), the posting
moment, and composition from fixed facts, checked section by section."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import (
    Change,
    CreditKind,
    Digest,
    DoneItem,
    KudosQuote,
    Numbers,
    ReviewerThanks,
    StreakItem,
    TaskFact,
    TaskRef,
    TopContributor,
    Waiting,
    Week,
    card_url,
    compose,
    due_slot,
    last_full_week,
    latest_slot,
    parse_hhmm,
    previous_week,
    streak_weeks,
    week_starting,
)
from tests.support.digest_oracle import CreditFact, DoneFact, WeekFacts, summarize

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- weeks ---------------------------------------------------------------------------------------


def test_last_full_week_is_the_local_monday_to_monday_before_now() -> None:
    # Monday 12 January 2026, 17:00 in Berlin (CET, UTC+1).
    week = last_full_week(utc(2026, 1, 12, 16, 0), BERLIN)
    assert week == Week(utc(2026, 1, 4, 23, 0), utc(2026, 1, 11, 23, 0), date(2026, 1, 5))
    assert week.last_day == date(2026, 1, 11)
    assert week.end - week.start == timedelta(days=7)


@pytest.mark.parametrize(
    ("moment", "tz", "monday"),
    [
        # Sunday 23:30 in Los Angeles is already Monday in UTC: still the same local week.
        (utc(2026, 1, 12, 7, 30), LOS_ANGELES, date(2025, 12, 29)),
        # Monday 00:30 in Auckland is still Sunday in UTC: already the next local week.
        (utc(2026, 1, 11, 11, 30), AUCKLAND, date(2026, 1, 5)),
        # Exactly local Monday 00:00 belongs to the new week.
        (utc(2026, 1, 4, 23, 0), BERLIN, date(2025, 12, 29)),
        (utc(2026, 1, 4, 22, 59, 59), BERLIN, date(2025, 12, 22)),
    ],
)
def test_the_week_is_decided_by_local_time_not_utc(
    moment: datetime, tz: ZoneInfo, monday: date
) -> None:
    assert last_full_week(moment, tz).first_day == monday


def test_a_week_with_the_spring_daylight_saving_change_is_167_hours() -> None:
    # Berlin moves to CEST on Sunday 29 March 2026: 02:00 → 03:00.
    week = week_starting(date(2026, 3, 23), BERLIN)
    assert week.start == utc(2026, 3, 22, 23, 0)  # Monday 00:00 CET
    assert week.end == utc(2026, 3, 29, 22, 0)  # Monday 00:00 CEST
    assert week.end - week.start == timedelta(hours=167)
    # The next week starts where this one ends: no instant is in two weeks, none in none.
    following = last_full_week(utc(2026, 4, 6, 12, 0), BERLIN)
    assert following.start == week.end
    assert previous_week(following, BERLIN) == week


def test_a_week_with_the_autumn_daylight_saving_change_is_169_hours() -> None:
    # New York falls back on Sunday 1 November 2026: 02:00 EDT → 01:00 EST.
    week = week_starting(date(2026, 10, 26), NEW_YORK)
    assert week.start == utc(2026, 10, 26, 4, 0)  # Monday 00:00 EDT
    assert week.end == utc(2026, 11, 2, 5, 0)  # Monday 00:00 EST
    assert week.end - week.start == timedelta(hours=169)


# -- the posting moment --------------------------------------------------------------------------


def test_latest_slot_is_this_weeks_time_once_it_has_passed() -> None:
    monday_1700 = time(17, 0)
    # Mondays 17:00 Berlin = 16:00 UTC in winter.
    assert latest_slot(utc(2026, 1, 12, 16, 0), BERLIN, 0, monday_1700) == utc(2026, 1, 12, 16)
    assert latest_slot(utc(2026, 1, 12, 15, 59), BERLIN, 0, monday_1700) == utc(2026, 1, 5, 16)
    # Sundays 20:00: on a Monday the latest one was yesterday.
    assert latest_slot(utc(2026, 1, 12, 8, 0), BERLIN, 6, time(20, 0)) == utc(2026, 1, 11, 19)


def test_due_slot_gives_a_day_of_grace_and_no_more() -> None:
    at = time(17, 0)
    slot = utc(2026, 1, 12, 16, 0)
    assert due_slot(slot - timedelta(seconds=1), BERLIN, 0, at) is None  # last week's is stale
    assert due_slot(slot, BERLIN, 0, at) == slot
    assert due_slot(slot + timedelta(hours=23, minutes=59), BERLIN, 0, at) == slot
    assert due_slot(slot + timedelta(hours=24), BERLIN, 0, at) is None


def test_the_slot_follows_daylight_saving_time() -> None:
    # Mondays 09:00 in Berlin: 08:00 UTC in March before the change, 07:00 UTC after it.
    at = time(9, 0)
    assert latest_slot(utc(2026, 3, 23, 12), BERLIN, 0, at) == utc(2026, 3, 23, 8)
    assert latest_slot(utc(2026, 3, 30, 12), BERLIN, 0, at) == utc(2026, 3, 30, 7)
    # The week that slot covers is the short one.
    covered = last_full_week(utc(2026, 3, 30, 7), BERLIN)
    assert covered.first_day == date(2026, 3, 23)
    assert covered.end - covered.start == timedelta(hours=167)


def test_streak_weeks_go_back_week_by_week_to_the_look_back() -> None:
    # Berlin moves to CEST on 29 March 2026: the weeks before keep local Monday midnights.
    week = week_starting(date(2026, 4, 6), BERLIN)
    since = week.start - timedelta(days=20)
    assert streak_weeks(week, BERLIN, since) == (
        (utc(2026, 3, 29, 22), utc(2026, 4, 5, 22)),
        (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)),  # 167 hours
        (since, utc(2026, 3, 22, 23)),  # cut at the look-back
    )
    assert len(streak_weeks(week, BERLIN, week.start - timedelta(days=400))) == 58


def test_parse_hhmm() -> None:
    assert parse_hhmm("07:05") == time(7, 5)
    assert parse_hhmm("17:00") == time(17, 0)


def test_card_url_only_when_the_card_exists() -> None:
    assert card_url(1, 2, 3) == "https://discord.com/channels/1/2/3"
    assert card_url(1, None, 3) is None
    assert card_url(1, 2, None) is None


# -- composition from fixed facts ------------------------------------------------------------------

GUILD = 1
ALICE, BOB, CAROL, DAN, EVE = 11, 12, 13, 14, 15
WEEK = week_starting(date(2026, 1, 5), BERLIN)  # 4 Jan 23:00 UTC → 11 Jan 23:00 UTC
PREVIOUS = previous_week(WEEK, BERLIN)
NOW = utc(2026, 1, 12, 16, 0)


def task(
    id_: int,
    number: int,
    title: str,
    points: int = 1,
    status: str = "done",
    tags: tuple[str, ...] = (),
    card: bool = True,
    since: datetime = NOW,
) -> TaskFact:
    url = card_url(GUILD, 500, 9000 + number) if card else None
    return TaskFact(id_, number, title, points, status, tags, url, since)


T1 = task(101, 1, "Fix the footer", 3)
T2 = task(102, 2, "Translate the FAQ", 5, card=False)
T3 = task(103, 3, "Sort the photos", 1)
T4 = task(104, 4, "Old work", 2)
T5 = task(105, 5, "Write the docs", 2, "open", since=utc(2025, 11, 20))
T6 = task(106, 6, "Design a logo", 3, "open", ("design", "good first"), since=utc(2025, 12, 1))
T7 = task(107, 7, "Fix a typo", 1, "open", ("good first",), since=utc(2026, 1, 3))
T8 = task(108, 8, "Review the API", 5, "in_review", since=utc(2026, 1, 10, 9))


def credit(
    member: int,
    kind: CreditKind,
    at: datetime,
    task_id: int | None = None,
    points: int = 0,
    giver: int | None = None,
    reason: str = "",
) -> CreditFact:
    return CreditFact(member, kind, points, task_id, at, giver, reason)


T, R, K = CreditKind.TASK, CreditKind.REVIEW, CreditKind.KUDOS


def fixed_facts(**overrides: object) -> WeekFacts:
    tue, thu, sat = utc(2026, 1, 6, 10), utc(2026, 1, 8, 15), utc(2026, 1, 10, 12)
    credits = [
        # this week
        credit(ALICE, T, tue, 101, 3),
        credit(CAROL, R, tue, 101, 1),
        credit(DAN, K, utc(2026, 1, 9, 18), giver=CAROL, reason="welcome aboard!"),
        credit(BOB, T, thu, 102, 5),
        credit(DAN, T, thu, 102, 5),
        credit(CAROL, R, thu, 102, 1),
        credit(ALICE, R, thu, 102, 1),
        credit(EVE, T, sat, 103, 1),
        credit(BOB, R, sat, 103, 1),
        # the first instant of the week counts; the first instant of the next one does not
        credit(ALICE, K, WEEK.start, giver=BOB, reason="for the *great* footer fix"),
        credit(CAROL, K, WEEK.end, giver=BOB, reason="too late for this digest"),
        # last week
        credit(ALICE, T, utc(2025, 12, 30, 12), 104, 2),
        credit(CAROL, R, utc(2025, 12, 30, 12), 104, 1),
        credit(DAN, K, utc(2025, 12, 31, 12), giver=ALICE, reason="last week's thanks"),
    ]
    values: dict[str, object] = {
        "guild_id": GUILD,
        "tz": BERLIN,
        "now": NOW,
        "week": WEEK,
        "previous": PREVIOUS,
        "tasks": {t.id: t for t in (T1, T2, T3, T4)},
        "done": [
            DoneFact(101, tue),
            DoneFact(102, thu),
            DoneFact(103, sat),
            DoneFact(104, utc(2025, 12, 30, 12)),
        ],
        "credits": credits,
        "first_credit": {DAN: thu, EVE: sat},
        "credit_times": {
            ALICE: [utc(2025, 12, 23), utc(2025, 12, 30, 12), tue, thu],
            BOB: [thu, sat],
            CAROL: [utc(2025, 12, 30, 12), tue, thu],
            DAN: [thu],
            EVE: [utc(2025, 12, 16), utc(2025, 12, 23), utc(2025, 12, 30), sat],
        },
        "hidden": frozenset({EVE}),
        "oldest_open": [T5, T6],
        "open_total": 3,
        "good_first": [T6, T7],
        "in_review": [T8],
        "in_review_total": 1,
        "stale": [T5],
        "stale_total": 1,
    }
    values.update(overrides)
    return WeekFacts(**values)  # type: ignore[arg-type]


def ref(t: TaskFact) -> TaskRef:
    return TaskRef(t.number, t.title, t.url)


@pytest.fixture
def digest() -> Digest:
    return compose(summarize(fixed_facts()), "Europe/Berlin")


def test_header_facts(digest: Digest) -> None:
    assert digest.guild_id == GUILD
    assert digest.week == WEEK
    assert digest.timezone == "Europe/Berlin"
    assert digest.generated_at == NOW
    assert not digest.quiet
    assert digest.people == 5  # alice, bob, dan and eve did tasks; carol reviewed


def test_done_lists_each_task_with_who_did_and_who_reviewed_it(digest: Digest) -> None:
    assert digest.done == (
        DoneItem(ref(T1), 3, (ALICE,), (CAROL,)),
        DoneItem(ref(T2), 5, (BOB, DAN), (CAROL, ALICE)),
        DoneItem(ref(T3), 1, (EVE,), (BOB,)),  # hidden from rankings, never from credit
    )
    assert digest.done[0].task.url == "https://discord.com/channels/1/500/9001"
    assert digest.done[1].task.url is None  # no card: no link


def test_reviewers_are_thanked_most_reviews_first_with_their_tasks(digest: Digest) -> None:
    assert digest.reviewers == (
        ReviewerThanks(CAROL, 2, (ref(T1), ref(T2))),
        ReviewerThanks(ALICE, 1, (ref(T2),)),
        ReviewerThanks(BOB, 1, (ref(T3),)),
    )


def test_first_time_contributors_are_welcomed_with_their_first_task(digest: Digest) -> None:
    assert [(w.member_id, w.task) for w in digest.newcomers] == [(DAN, ref(T2)), (EVE, ref(T3))]


def test_kudos_are_quoted_in_order_within_the_week_only(digest: Digest) -> None:
    assert digest.kudos == (
        KudosQuote(BOB, ALICE, "for the *great* footer fix"),
        KudosQuote(CAROL, DAN, "welcome aboard!"),
    )


def test_top_contributors_by_points_leave_out_hidden_members(digest: Digest) -> None:
    assert digest.top == (
        TopContributor(BOB, 6, 1, 1),
        TopContributor(DAN, 5, 1, 0),
        TopContributor(ALICE, 4, 1, 1),
        TopContributor(CAROL, 2, 0, 2),
    )
    assert EVE not in {t.member_id for t in digest.top}


def test_streaks_of_two_weeks_or_more_leave_out_hidden_members(digest: Digest) -> None:
    # Eve has a 4-week streak but chose not to be ranked; Bob and Dan have one week.
    assert digest.streaks == (StreakItem(ALICE, 3), StreakItem(CAROL, 2))


def test_help_wanted_oldest_open_and_good_first_without_repeats(digest: Digest) -> None:
    assert digest.oldest_open == (ref(T5), ref(T6))
    assert digest.good_first == (ref(T7),)  # T6 is good-first too, but already listed
    assert digest.open_total == 3


def test_waiting_for_review_and_maintainer_hygiene(digest: Digest) -> None:
    assert digest.waiting == (Waiting(ref(T8), utc(2026, 1, 10, 9)),)
    assert digest.waiting_total == 1
    assert digest.hygiene == (Waiting(ref(T5), utc(2025, 11, 20)),)
    assert digest.hygiene_total == 1


def test_numbers_against_last_week(digest: Digest) -> None:
    assert digest.this_week == Numbers(done=3, points=18, reviews=4, kudos=2, new_contributors=2)
    assert digest.last_week == Numbers(done=1, points=3, reviews=1, kudos=1, new_contributors=0)
    assert digest.numbers == (
        Change("Tasks done", 3, 1),
        Change("Points", 18, 3),
        Change("Reviews", 4, 1),
        Change("Kudos", 2, 1),
        Change("New contributors", 2, 0),
    )
    assert [c.delta for c in digest.numbers] == [2, 15, 3, 1, 2]


def test_a_task_done_twice_in_the_week_is_listed_once_with_all_its_credit() -> None:
    tue, wed = utc(2026, 1, 6, 10), utc(2026, 1, 7, 10)
    facts = fixed_facts(
        done=[DoneFact(101, tue), DoneFact(101, wed)],  # reopened and done again
        credits=[
            credit(ALICE, T, tue, 101, 3),
            credit(CAROL, R, tue, 101, 1),
            credit(BOB, T, wed, 101, 3),
            credit(CAROL, R, wed, 101, 1),
        ],
        first_credit={},
    )
    digest = compose(summarize(facts), "Europe/Berlin")
    assert digest.done == (DoneItem(ref(T1), 3, (ALICE, BOB), (CAROL,)),)
    assert digest.reviewers == (ReviewerThanks(CAROL, 2, (ref(T1),)),)
    assert digest.this_week.done == 1


def test_a_quiet_week_says_so_and_still_lists_help_wanted() -> None:
    facts = fixed_facts(
        done=[DoneFact(104, utc(2025, 12, 30, 12))],
        credits=[c for c in fixed_facts().credits if c.created_at < WEEK.start],
        first_credit={},
    )
    digest = compose(summarize(facts), "Europe/Berlin")
    assert digest.quiet
    assert digest.done == digest.reviewers == digest.newcomers == digest.kudos == ()
    assert digest.top == digest.streaks == ()
    assert digest.people == 0
    assert digest.oldest_open == (ref(T5), ref(T6))
    assert digest.good_first == (ref(T7),)
    assert digest.numbers[0] == Change("Tasks done", 0, 1)


def test_lists_keep_their_totals_for_and_n_more() -> None:
    many = [task(200 + i, 20 + i, f"Task {i}", status="in_review") for i in range(40)]
    digest = compose(
        summarize(fixed_facts(in_review=many, in_review_total=57, stale=many, stale_total=80)),
        "Europe/Berlin",
    )
    assert len(digest.waiting) == 15 and digest.waiting_total == 57
    assert len(digest.hygiene) == 15 and digest.hygiene_total == 80


def test_a_huge_stale_backlog_is_counted_only_so_far() -> None:
    from bot import i18n
    from bot.domain.digest import STALE_COUNT_LIMIT
    from bot.ui.digest import hygiene_embed

    many = tuple(fixed_facts().tasks.values())[:1]
    digest = compose(
        summarize(fixed_facts(stale=many, stale_total=STALE_COUNT_LIMIT + 1)), "Europe/Berlin"
    )
    assert digest.hygiene_total == STALE_COUNT_LIMIT + 1
    embed = hygiene_embed(i18n.texts(), digest)
    assert embed is not None and embed.description is not None
    assert embed.description.endswith(f"…and {STALE_COUNT_LIMIT - 1:,}+ more tasks")
