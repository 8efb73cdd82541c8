"""The weekly digest end to end: /digest preview and /digest post, the scheduled post at
the guild's local time (once, across restarts, and late by less than a day after
downtime), APScheduler's own cron job, and a very busy week within Discord's limits."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import discord
import pytest
import simcord

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot
from bot.db.engine import create_session_factory
from bot.db.models import LedgerEntry, Task, TaskHistory
from bot.db.uow import Database
from bot.jobs.digest import job_id
from tests.e2e.conftest import World, card_of, said

HOUR = 3600
# SimCord's clock starts on Thursday 1 January 2026, 00:00 UTC: work done then falls in the
# local week of Monday 29 December. With the digest on Mondays at 09:00 in Berlin (CET),
# that week's digest is due on Monday 5 January at 08:00 UTC: 104 hours in.
DUE_IN = 104 * HOUR
WEEK_TITLE = "🌟 Weekly digest · 29 December 2025 – 4 January 2026"


@pytest.fixture
async def bots() -> AsyncIterator[list[PeerBot]]:
    """Bots built for a restart. Requested before `world`, so they are closed after
    SimCord's env is torn down (SimCord never closes a bot)."""
    built: list[PeerBot] = []
    yield built
    for bot in built:
        await bot.close()


async def restart(w: World, runtime: Runtime, bots: list[PeerBot], **options: Any) -> PeerBot:
    fresh = build_bot(runtime.services, scheduler=False, **options)
    bots.append(fresh)
    await w.env.restart_bot(fresh)
    return fresh


async def set_up_digest(w: World, **options: Any) -> Any:
    digest = w.guild.create_text_channel("digest")
    r = await w.maint.slash(w.general, "config channels", digest=digest)
    assert "Saved." in said(r)
    settings = {"day": 0, "time": "09:00", "timezone": "Europe/Berlin", **options}
    r = await w.maint.slash(w.general, "config digest", **settings)
    assert "Saved." in said(r)
    return digest


async def finish(w: World, title: str, worker: Any, reviewer: Any, points: int = 3) -> int:
    r = await w.maint.slash(w.general, "task create", title=title, points=points)
    number = int(said(r).split("**#", 1)[1].split(" ", 1)[0])
    await worker.slash(w.general, "task claim", task=str(number))
    await worker.slash(w.general, "task submit", task=str(number), link="https://example.org/pr/1")
    r = await reviewer.slash(w.general, "task approve", task=str(number))
    assert r.acknowledged and "Something went wrong" not in said(r)
    return number


async def busy_week(w: World) -> tuple[int, int]:
    """Alice's footer fix, reviewed by Carol; Bob thanks Alice; an open task waits."""
    done = await finish(w, "Fix the *footer* @everyone", w.alice, w.carol)
    r = await w.bob.slash(w.general, "kudos", member=w.alice, reason="For the lovely footer fix")
    assert not r.ephemeral
    r = await w.maint.slash(w.general, "task create", title="Translate the FAQ", tags="good first")
    waiting = int(said(r).split("**#", 1)[1].split(" ", 1)[0])
    return done, waiting


def embeds_of(messages: list[Any]) -> list[discord.Embed]:
    return [e for m in messages for e in m.embeds]


def text_of(embeds: list[discord.Embed]) -> str:
    parts: list[str] = []
    for e in embeds:
        parts += [e.title or "", e.description or ""]
        parts += [f"{f.name}: {f.value}" for f in e.fields]
    return "\n".join(parts)


def digests_in(channel: Any) -> list[Any]:
    return [
        m
        for m in channel.history()
        if m.embeds and (m.embeds[0].title or "").startswith("🌟 Weekly digest")
    ]


def section(embeds: list[discord.Embed], title: str) -> discord.Embed:
    return next(e for e in embeds if e.title == title)


# -- /digest preview ---------------------------------------------------------------------------


async def test_preview_names_the_contributor_the_reviewer_and_the_kudos_reason(
    world: World,
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    done, waiting = await busy_week(w)
    await w.env.advance_time(DUE_IN - HOUR)  # Monday morning, before it goes out
    r = await w.maint.slash(w.general, "digest preview")
    assert r.ephemeral
    assert r.response.content == (
        "👀 Preview of the digest for **29 December 2025 – 4 January 2026** — only you can "
        f"see this. It goes out Mondays at 09:00 (Europe/Berlin) in <#{digest_channel.id}>."
    )
    embeds = embeds_of([r.response, *r.followups])
    assert all(m.ephemeral for m in r.followups)
    assert embeds[0].title == WEEK_TITLE
    card = card_of(w.tasks, done)
    link = f"https://discord.com/channels/{w.guild.id}/{w.tasks.id}/{card.id}"
    assert section(embeds, "✅ Done this week").description == (
        f"[#{done} · Fix the \\*footer\\* @\u200beveryone]({link}) · 3 pts — "
        f"by <@{w.alice.id}> · reviewed by <@{w.carol.id}>"
    )
    assert f"<@{w.carol.id}> — 1 review: [#{done}]({link})" in (
        section(embeds, "🔍 Reviewers thanked").description or ""
    )
    assert section(embeds, "🌱 First-time contributors").description == (
        f"Welcome, <@{w.alice.id}>! — first task: [#{done} · Fix the \\*footer\\* "
        f"@\u200beveryone]({link})"
    )
    assert section(embeds, "💬 Kudos").description == (
        f"“For the lovely footer fix” — <@{w.bob.id}> to <@{w.alice.id}>"
    )
    help_wanted = section(embeds, "🙋 Help wanted")
    assert f"#{waiting} · Translate the FAQ" in help_wanted.fields[0].value
    # A preview posts nothing anywhere.
    assert digests_in(digest_channel) == []


async def test_a_fuller_week_in_the_posted_digest(world: World, simcord_bot: PeerBot) -> None:
    """Every section at once. Alice hid herself from rankings: she keeps her credit on
    tasks but leaves the top list."""
    w = world
    digest_channel = await set_up_digest(w)
    first, waiting = await busy_week(w)
    second = await finish(w, "Sort the photo archive", w.bob, w.alice, points=5)
    await w.carol.slash(w.general, "kudos", member=w.bob, reason="Thanks for sorting 2,000 photos!")
    r = await w.maint.slash(w.general, "task create", title="Review the glossary")
    review = int(said(r).split("**#", 1)[1].split(" ", 1)[0])
    await w.carol.slash(w.general, "task claim", task=str(review))
    await w.carol.slash(w.general, "task submit", task=str(review), link="https://example.org/g")
    await w.alice.slash(w.general, "me ranking", visible=False)
    await w.env.advance_time(DUE_IN)
    assert (await simcord_bot.run_digests()).posted == [w.guild.id]
    [message] = digests_in(digest_channel)
    embeds = message.embeds
    assert [e.title for e in embeds] == [
        WEEK_TITLE,
        "✅ Done this week",
        "🔍 Reviewers thanked",
        "🌱 First-time contributors",
        "💬 Kudos",
        "🏆 Top contributors",
        "🙋 Help wanted",
        "👀 Waiting for review",
    ]
    done = section(embeds, "✅ Done this week").description or ""
    assert f"by <@{w.alice.id}>" in done and f"by <@{w.bob.id}>" in done
    top = section(embeds, "🏆 Top contributors").description or ""
    assert f"<@{w.alice.id}>" not in top
    assert top.splitlines() == [
        f"🥇 <@{w.bob.id}> — 5 points (1 task)",
        f"🥈 <@{w.carol.id}> — 1 point (1 review)",
    ]
    assert f"#{review} · Review the glossary" in (
        section(embeds, "👀 Waiting for review").description or ""
    )
    assert [f.name for f in section(embeds, "🙋 Help wanted").fields] == ["Waiting longest"]
    assert first and second and waiting


async def test_preview_is_for_maintainers_only(world: World) -> None:
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await world.alice.slash(world.general, "digest preview")
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await world.alice.slash(world.general, "digest post")


async def test_preview_without_a_digest_channel_says_where_to_set_one(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "digest preview")
    assert r.ephemeral
    assert "no digest channel is set" in r.response.content
    embeds = embeds_of([r.response, *r.followups])
    header = embeds[0]
    assert header.title == "🌟 Weekly digest · 22–28 December 2025"
    assert (header.description or "").startswith("A quiet week: no tasks were finished")
    assert section(embeds, "🙋 Help wanted").description == (
        "Nothing is open on the board right now. Ideas welcome: `/task propose`."
    )


# -- the scheduled digest ------------------------------------------------------------------------


async def test_the_digest_is_posted_at_the_local_time_once_also_after_a_restart(
    bots: list[PeerBot], world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    done, _waiting = await busy_week(w)

    await w.env.advance_time(DUE_IN - 1)  # 08:59:59 in Berlin
    await simcord_bot.run_digests()
    assert digests_in(digest_channel) == []

    await w.env.advance_time(1)  # 09:00 in Berlin
    report = await simcord_bot.run_digests()
    assert report.posted == [w.guild.id]
    [message] = digests_in(digest_channel)
    embeds = message.embeds
    assert embeds[0].title == WEEK_TITLE
    text = text_of(embeds)
    assert f"by <@{w.alice.id}> · reviewed by <@{w.carol.id}>" in text
    assert "For the lovely footer fix" in text
    # Names in embeds, and nobody pinged.
    post = next(
        e
        for e in w.env.http_requests
        if e.method == "POST" and e.path == f"/channels/{digest_channel.id}/messages"
    )
    assert post.json["allowed_mentions"] == {"parse": []}
    assert "content" not in post.json or not post.json["content"]

    await w.env.advance_time(HOUR)
    await simcord_bot.run_digests()
    fresh = await restart(w, runtime, bots)
    await fresh.run_digests()
    await w.env.advance_time(20 * HOUR)
    await fresh.run_digests()
    assert len(digests_in(digest_channel)) == 1

    # The next Monday brings the next week's digest (a quiet one), once.
    await w.env.advance_time(7 * 24 * HOUR - 21 * HOUR)
    await fresh.run_digests()
    await fresh.run_digests()
    later = digests_in(digest_channel)
    assert [m.embeds[0].title for m in later] == [
        WEEK_TITLE,
        "🌟 Weekly digest · 5–11 January 2026",
    ]
    assert done  # the first week's task


async def test_a_bot_that_was_down_posts_on_start_up_when_less_than_a_day_late(
    bots: list[PeerBot], world: World, runtime: Runtime
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await busy_week(w)
    await w.env.advance_time(DUE_IN + 23 * HOUR)  # down all Monday
    fresh = await restart(w, runtime, bots)
    assert (await fresh.run_digests()).posted == [w.guild.id]
    assert len(digests_in(digest_channel)) == 1


async def test_a_bot_down_for_more_than_a_day_skips_that_week(
    bots: list[PeerBot], world: World, runtime: Runtime
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await busy_week(w)
    await w.env.advance_time(DUE_IN + 24 * HOUR)
    fresh = await restart(w, runtime, bots)
    assert (await fresh.run_digests()).posted == []
    assert digests_in(digest_channel) == []
    # ... but a maintainer can still post it by hand.
    r = await w.maint.slash(w.general, "digest post")
    assert r.ephemeral and said(r).startswith("📬 Posted the digest for **29 December 2025")
    assert len(digests_in(digest_channel)) == 1


async def test_without_a_digest_channel_nothing_is_posted_on_schedule(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await w.maint.slash(w.general, "config digest", day=0, time="09:00", timezone="Europe/Berlin")
    await busy_week(w)
    before = len(w.env.http_requests)
    await w.env.advance_time(DUE_IN)
    report = await simcord_bot.run_digests()
    assert (report.posted, report.skipped) == ([], [w.guild.id])
    assert not [e for e in w.env.http_requests[before:] if e.method == "POST"]
    assert (await simcord_bot.run_digests()).skipped == []  # recorded: not asked again


# -- /digest post -----------------------------------------------------------------------------------


async def test_post_by_hand_goes_out_once_and_then_says_where_it_is(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await busy_week(w)
    await w.env.advance_time(DUE_IN - 2 * HOUR)  # Monday 07:00 in Berlin: last week is over
    r = await w.maint.slash(w.general, "digest post")
    [message] = digests_in(digest_channel)
    link = f"https://discord.com/channels/{w.guild.id}/{digest_channel.id}/{message.id}"
    assert r.ephemeral
    assert said(r) == (
        "📬 Posted the digest for **29 December 2025 – 4 January 2026** in "
        f"<#{digest_channel.id}>: {link}"
    )
    r = await w.maint.slash(w.general, "digest post")
    assert r.ephemeral
    posted_at = int(w.env.now().timestamp())
    text = said(r)
    assert text.startswith(
        "Good news — the digest for **29 December 2025 – 4 January 2026** was already posted "
    )
    assert f": {link} I won't post it twice, so nothing new went out." in text
    assert f"posted <t:{posted_at}:R>: " in text
    # At the scheduled time, nothing goes out again.
    await w.env.advance_time(2 * HOUR)
    assert (await simcord_bot.run_digests()).posted == []
    assert len(digests_in(digest_channel)) == 1


async def test_post_without_a_digest_channel_posts_where_the_maintainer_asked(
    world: World,
) -> None:
    w = world
    await busy_week(w)
    await w.env.advance_time(DUE_IN)
    r = await w.maint.slash(w.general, "digest post")
    [message] = digests_in(w.general)
    assert f"in <#{w.general.id}>: " in said(r)
    assert message.embeds[0].title == WEEK_TITLE


async def test_post_when_discord_refuses_says_so_and_can_be_tried_again(world: World) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await w.env.advance_time(DUE_IN)
    w.env.inject_error(
        "POST",
        f"/channels/{digest_channel.id}/messages",
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    r = await w.maint.slash(w.general, "digest post")
    assert r.ephemeral
    assert said(r).startswith(
        f"I couldn't post the digest in <#{digest_channel.id}> — Discord said: 403 50013"
    )
    assert digests_in(digest_channel) == []
    r = await w.maint.slash(w.general, "digest post")
    assert said(r).startswith("📬 Posted the digest")
    assert len(digests_in(digest_channel)) == 1


# -- a very busy week --------------------------------------------------------------------------------


async def seed_busy_week(runtime: Runtime, guild_id: int, done: int = 200) -> None:
    """200 tasks done in the week of 29 December, each by two people and reviewed by
    two more, with 60 long kudos: written straight to the tables, as the ledger would be."""
    db = Database(create_session_factory(runtime.engine))
    base = datetime(2025, 12, 29, 8, tzinfo=UTC)
    async with db.unit() as uow:
        settings = await uow.guilds.ensure_guild(guild_id, base)
        start = settings.next_task_number
        settings.next_task_number = start + done
        for i in range(done):
            at = base + timedelta(minutes=30 * i)
            task = Task(
                guild_id=guild_id,
                number=start + i,
                title=f"Task {i} with a long title " + "z" * 60,
                points=8,
                status="done",
                creator_id=1,
                card_channel_id=1,
                card_message_id=10**18 + i,
                status_changed_at=at,
                created_at=at,
                updated_at=at,
            )
            uow.session.add(task)
            await uow.flush()
            assert task.id is not None
            uow.session.add(
                TaskHistory(
                    guild_id=guild_id,
                    task_id=task.id,
                    actor_id=1,
                    action="approve",
                    from_status="in_review",
                    to_status="done",
                    created_at=at,
                )
            )
            for member, kind, points in (
                (10**18 + 2 * i, "task", 8),
                (10**18 + 2 * i + 1, "task", 8),
                (10**18 + 5000 + i % 7, "review", 1),
                (10**18 + 6000 + i % 11, "review", 1),
            ):
                uow.session.add(
                    LedgerEntry(
                        guild_id=guild_id,
                        member_id=member,
                        kind=kind,
                        points=points,
                        task_id=task.id,
                        created_at=at,
                    )
                )
        for i in range(60):
            uow.session.add(
                LedgerEntry(
                    guild_id=guild_id,
                    member_id=10**18 + i,
                    kind="kudos",
                    giver_id=10**18 + 100 + i,
                    reason="Thank you @everyone for " + "w" * 170,
                    created_at=base + timedelta(hours=i),
                )
            )
        await uow.commit()


async def test_a_week_with_200_done_tasks_posts_within_discords_limits(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await seed_busy_week(runtime, w.guild.id)
    # The preview of the same week, just before it goes out, fits too (ephemeral follow-ups).
    await w.env.advance_time(DUE_IN - HOUR)
    preview = await w.maint.slash(w.general, "digest preview")
    await w.env.advance_time(HOUR)
    assert (await simcord_bot.run_digests()).posted == [w.guild.id]
    posts = [
        e
        for e in w.env.http_requests
        if e.method == "POST" and e.path == f"/channels/{digest_channel.id}/messages"
    ]
    assert 2 <= len(posts) <= 4
    for post in posts:
        embeds = post.json["embeds"]
        assert len(embeds) <= 10
        assert len(discord.Embed.from_dict(embeds[0])) > 0
        assert sum(len(discord.Embed.from_dict(e)) for e in embeds) <= 6000
        for e in embeds:
            assert len(e.get("description", "")) <= 4096
            assert len(e.get("fields", [])) <= 25
    text = text_of([e for m in digest_channel.history() for e in m.embeds])
    assert "more tasks done (see `/task list status:done`)" in text
    assert "200 tasks done by 418 people" in text  # 400 workers, 18 reviewers
    assert "@everyone" not in text
    assert len([preview.response, *preview.followups]) == len(posts)


# -- APScheduler fires the guild's job itself ------------------------------------------------------


class VirtualDatetime(datetime):
    """`datetime` for APScheduler's modules: `now()` reads SimCord's virtual clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = discord.utils.utcnow()
        if tz is None:
            return current.astimezone().replace(tzinfo=None)
        return current.astimezone(tz)


def virtual_apscheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "apscheduler.schedulers.base",
        "apscheduler.executors.base",
        "apscheduler.triggers.interval",
        "apscheduler.triggers.date",
        "apscheduler.triggers.cron",
    ):
        monkeypatch.setattr(importlib.import_module(name), "datetime", VirtualDatetime)


async def test_apscheduler_fires_the_guild_job_rebuilt_by_config_digest(
    bots: list[PeerBot],
    world: World,
    simcord_bot: PeerBot,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With its own scheduler (one sweep a day, so APScheduler wakes rarely), the bot
    posts at the configured minute after /config digest moves it — no run_digests()."""
    w = world
    digest_channel = await set_up_digest(w)
    await busy_week(w)
    await w.env.advance_time(DUE_IN - 2 * HOUR)  # Monday 07:00 in Berlin

    virtual_apscheduler(monkeypatch)
    fresh = build_bot(runtime.services, scheduler=True, sweep_interval=24 * HOUR)
    bots.append(fresh)
    await w.env.restart_bot(fresh)
    job = fresh.scheduler.get_job(job_id(w.guild.id))
    assert job is not None
    assert job.next_run_time == datetime(2026, 1, 5, 8, tzinfo=UTC)

    # Moved to 07:30 Berlin: the job is rebuilt for it.
    r = await w.maint.slash(w.general, "config digest", time="07:30")
    assert "Saved." in said(r)
    job = fresh.scheduler.get_job(job_id(w.guild.id))
    assert job.next_run_time == datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
    await w.env.advance_time(30 * 60 - 1)
    assert digests_in(digest_channel) == []
    await w.env.advance_time(1)
    [message] = digests_in(digest_channel)
    assert message.embeds[0].title == WEEK_TITLE
    # Turned off: the job goes.
    await w.maint.slash(w.general, "config digest", enabled=False)
    assert fresh.scheduler.get_job(job_id(w.guild.id)) is None


async def test_with_its_scheduler_a_late_bot_posts_as_it_starts(
    bots: list[PeerBot],
    world: World,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world
    digest_channel = await set_up_digest(w)
    await busy_week(w)
    await w.env.advance_time(DUE_IN + 5 * HOUR)
    virtual_apscheduler(monkeypatch)
    fresh = build_bot(runtime.services, scheduler=True, sweep_interval=24 * HOUR)
    bots.append(fresh)
    await w.env.restart_bot(fresh)
    await w.env.settle()
    [message] = digests_in(digest_channel)
    assert message.embeds[0].title == WEEK_TITLE


async def test_preview_after_the_digest_went_out_shows_the_week_in_progress(
    world: World, simcord_bot: PeerBot
) -> None:
    """On a Wednesday, Monday's digest is out: the preview shows the week that goes out
    next, with what has happened so far, not last week again."""
    w = world
    await set_up_digest(w)
    old, _waiting = await busy_week(w)
    await w.env.advance_time(DUE_IN)
    assert (await simcord_bot.run_digests()).posted == [w.guild.id]
    await w.env.advance_time(2 * 24 * HOUR)  # Wednesday 7 January
    new = await finish(w, "Sort the photo archive", w.bob, w.carol)
    r = await w.maint.slash(w.general, "digest preview")
    assert "**5–11 January 2026** (the week so far)" in r.response.content
    embeds = embeds_of([r.response, *r.followups])
    assert embeds[0].title == "🌟 Weekly digest · 5–11 January 2026"
    done = section(embeds, "✅ Done this week").description or ""
    assert f"#{new} · Sort the photo archive" in done
    assert f"#{old} ·" not in done
