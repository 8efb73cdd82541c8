"""Issue 17 end to end: members get Peerboard in their language, under field conditions.

SimCord sends every interaction with locale "en-US", so these run the real bot, in this
process, against the loopback stand-in for Discord (tests/support/fake_discord.py), which
delivers each member's slash command with their client's `locale` and the server's
`guild_locale`, and records everything the bot sends.

- A member whose Discord is in Spanish (es-ES), in a server whose language is English,
  takes a task through claim, submit and (by a reviewer, in Spanish too) approval, then
  asks for /profile, /leaderboard and /me tasks: every reply either of them gets is
  Spanish, while the card, the thread and the review post stay in the server's English.
- A German server (`/config language` German, or no setting and Discord's "Server Primary
  Language" German): its card, the task's thread and the review posts are German; a member
  whose Discord is in Japanese, a language Peerboard does not have, gets German replies;
  its weekly digest is German, with German month and weekday names and plurals.

"Spanish" is decided by the catalogs themselves (tests/support/languages.py): no English
piece of a translated message, and at least one piece of a translation. Time is the
services' manual clock, and nothing sleeps: each step awaits what the bot sends and the
handler of each command to end.

"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import discord
import discord.gateway
import discord.http
import pytest
from babel import Locale, dates
from babel.messages.catalog import Catalog

from bot import i18n
from bot.app import PeerBot, point_discord_at
from bot.bootstrap import Runtime, build_bot, build_services
from bot.domain.model import Actor, Status
from bot.services.clock import ManualClock
from tests.support.fake_discord import (
    EPHEMERAL,
    TIMEOUT,
    TOKEN,
    FakeDiscord,
    FakeGuild,
    Interaction,
    dm_channel_id,
    guild_id_on,
    serving,
    step,
)
from tests.support.fake_guilds import snowflake
from tests.support.languages import Language, WrongLanguage, check, shown

# A Wednesday in March ("März": not the English name); the Monday after it, whose
# digest is for the week of 9–15 March 2026 in Berlin.
START: Final = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)
DIGEST_AT: Final = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
WEEK: Final = (date(2026, 3, 9), date(2026, 3, 15))
LINK: Final = "https://example.org/pr/1"

# The Spanish server's members (its maintainer is FakeGuild's) and the German one's.
ES_MEMBER, ES_REVIEWER = 7_001, 7_002
JA_MEMBER, DE_MEMBER, DE_REVIEWER = 8_001, 8_002, 8_003
# Task titles that are no language's words, so they never count for or against one.
TITLES: Final = ("Zorblax 1", "Zorblax 2", "Zorblax 3")


def names(code: str) -> set[str]:
    """A language's month and weekday names (Babel's, wide)."""
    found = Locale.parse(code)
    return {*found.months["format"]["wide"].values(), *found.days["format"]["wide"].values()}


# English month and weekday names that German does not share ("August" it does).
ENGLISH_NAMES: Final = tuple(sorted(names("en") - names("de")))
GERMAN_DAYS: Final = Locale.parse("de").days["format"]["wide"]


@pytest.fixture
def discord_urls_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """point_discord_at() changes class attributes: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


@dataclass
class Board:
    """The stand-in, the bot serving it, and its two servers."""

    fake: FakeDiscord
    runtime: Runtime
    bot: PeerBot
    clock: ManualClock
    running: asyncio.Task[None]
    spanish: FakeGuild  # English server, Spanish members
    german: FakeGuild
    asked: list[tuple[str, Interaction]] = field(default_factory=list)  # (command, sent)

    async def command(self, guild: FakeGuild, user_id: int, name: str, **options: Any) -> Any:
        """A member's slash command, once the bot has answered it and its handler (the
        card, the thread, the review posts it sends) has ended."""
        ended = asyncio.ensure_future(
            self.bot.wait_for(
                "app_command_completion",
                check=lambda i, command: i.user.id == user_id and command.qualified_name == name,
                timeout=TIMEOUT,
            )
        )
        sent = await self.fake.slash(guild.id, user_id, name, **options)
        self.asked.append((name, sent))
        await self.fake.until(lambda: sent.answered, self.running)
        await ended  # the command's handler has ended (and with it the posts it sends)
        await asyncio.wait_for(self.bot.pacer.idle(), TIMEOUT)
        return sent

    async def status(self, guild: FakeGuild, number: int) -> Status:
        return (await self.runtime.services.tasks.show(guild.id, number)).status

    def replies(self, user_id: int) -> list[tuple[str, str]]:
        """What each of the member's commands showed them, (which, text): each reply only
        they could see (ephemeral)."""
        found = []
        for n, (name, sent) in enumerate(self.asked, start=1):
            if sent.user_id == user_id:
                assert is_ephemeral(sent), f"/{name} by {user_id} was answered in public"
                found.append((f"step {n}, /{name} by {user_id} ({sent.locale})", replies_of(sent)))
        return found

    def sent_by(self, user_id: int) -> list[Interaction]:
        return [sent for _name, sent in self.asked if sent.user_id == user_id]

    def public(self, guild: FakeGuild) -> list[tuple[str, str]]:
        """Everything the bot posted or edited in the server's channels and threads."""
        channels = set(guild.channels.values()) | {
            t for t, v in self.fake.threads.items() if int(v["guild_id"]) == guild.id
        }
        found = []
        for method, path, _headers, body in self.fake.requests:
            parts = path.strip("/").split("/")
            if method not in ("POST", "PATCH") or parts[0] != "channels":
                continue
            if int(parts[1]) not in channels or parts[2:3] != ["messages"]:
                continue
            if parts[4:] == ["threads"]:
                continue  # a thread's name: the task's number and title
            text = shown(body)
            if text:
                found.append((f"{method} {path}", text))
        return found


def is_ephemeral(interaction: Interaction) -> bool:
    first = interaction.callbacks[0]
    return bool((first.get("data") or {}).get("flags", 0) & EPHEMERAL)


def replies_of(interaction: Interaction) -> str:
    bodies = [c.get("data") or {} for c in interaction.callbacks]
    return "\n".join(shown(b) for b in [*bodies, *interaction.edits, *interaction.followups])


def add_reviewer_role(guild: FakeGuild, *member_ids: int) -> int:
    role_id = snowflake()
    guild.roles["Reviewers"] = (role_id, 0)
    for member_id in member_ids:
        guild.members[member_id].role_ids.append(role_id)
    return role_id


async def configure(runtime: Runtime, guild: FakeGuild, reviewers: int, **settings: Any) -> None:
    await runtime.services.config.update(
        Actor(guild.id, guild.maintainer, is_maintainer=True),
        tasks_channel_id=guild.channels["tasks"],
        review_channel_id=guild.channels["review"],
        digest_channel_id=guild.channels["digest"],
        reviewer_role_id=reviewers,
        **settings,
    )


@pytest.fixture
async def board(
    request: pytest.FixtureRequest, sqlite_url: str, discord_urls_restored: None
) -> AsyncIterator[Board]:
    """The bot on a fresh database, serving an English server with Spanish members and a
    German one: German by `/config language` ("language", the default) or by Discord's
    preferred locale ("preferred_locale", indirect parametrization)."""
    german_by = getattr(request, "param", "language")
    fake = FakeDiscord()
    spanish = fake.add_guild(guild_id_on(0, 1, 0), "Comunidad", [ES_MEMBER, ES_REVIEWER])
    german = fake.add_guild(
        guild_id_on(0, 1, 1), "Gemeinschaft", [JA_MEMBER, DE_MEMBER, DE_REVIEWER]
    )
    fake.locales.update({ES_MEMBER: "es-ES", ES_REVIEWER: "es-ES", JA_MEMBER: "ja"})
    fake.locales.update({DE_MEMBER: "de", DE_REVIEWER: "de"})
    clock = ManualClock(START)
    runtime = build_services(sqlite_url, clock=clock)
    await configure(runtime, spanish, add_reviewer_role(spanish, ES_REVIEWER))
    language = {"language": "de"} if german_by == "language" else {}
    if german_by == "preferred_locale":
        fake.guild_locales[german.id] = "de"
    await configure(
        runtime,
        german,
        add_reviewer_role(german, DE_REVIEWER),
        digest_timezone="Europe/Berlin",
        **language,
    )
    bot = build_bot(runtime.services, scheduler=False, guild_ready_timeout=0.5)
    try:
        async with serving(fake):
            point_discord_at(f"http://127.0.0.1:{fake.port}/api/v10", f"ws://127.0.0.1:{fake.port}")
            running = asyncio.create_task(bot.start(TOKEN))
            try:
                await step(fake.synced, running)
                await step(fake.identified, running)
                await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
                assert {g.id for g in bot.guilds} == {spanish.id, german.id}
                seen = bot.get_guild(german.id)
                assert seen is not None and str(seen.preferred_locale) == (
                    "de" if german_by == "preferred_locale" else "en-US"
                )
                yield Board(fake, runtime, bot, clock, running, spanish, german)
            finally:
                await bot.close()
                await asyncio.wait_for(running, TIMEOUT)
    finally:
        await runtime.close()


# -- the checker itself ------------------------------------------------------------------


def tiny_catalog() -> Catalog:
    catalog = Catalog(locale="es", domain="peerboard")
    catalog.add(
        "You claimed **{title}**. Use `/task extend` if you need more time.",
        "Has tomado **{title}**. Usa `/task extend` si necesitas más tiempo.",
    )
    catalog.add("OK", "OK")  # the same in both: never a sign of English
    catalog.add("Nothing here yet.", "Todavía nada.", flags=["fuzzy"])  # never shown
    catalog.add("`/task show` · https://example.org/{path}", "{path}")
    catalog.add(("{n} task", "{n} tasks"), ("{n} tarea", "{n} tareas"))
    return catalog


def test_the_checker_flags_english_and_passes_spanish() -> None:
    tiny = Language.from_catalog(tiny_catalog())
    # The English pieces: split on the placeholder, `/task extend` (in the Spanish too) kept
    # only inside a longer piece, "OK" (not translated) never; a fuzzy translation is not
    # used, so its English counts; a piece that is all address or command never.
    assert set(tiny.english) == {
        "You claimed **",
        "**. Use `/task extend` if you need more time.",
        "Nothing here yet.",
    }
    assert "Todavía nada" not in tiny.native
    english = "You claimed **Zorblax 1**. Use `/task extend` if you need more time."
    spanish = "Has tomado **Zorblax 1**. Usa `/task extend` si necesitas más tiempo."
    assert tiny.english_in(english) == [
        "**. Use `/task extend` if you need more time.",
        "You claimed **",
    ]
    assert tiny.problems(spanish, "reply") == []
    assert tiny.problems(f"{spanish} (2 tasks)", "r") == ["r: plural '2 tasks' is English"]
    assert tiny.problems("OK", "reply") == ["reply: nothing of the es catalog in 'OK'"]
    assert tiny.problems(" ", "reply") == ["reply: empty"]
    with pytest.raises(WrongLanguage, match=r"reply: English 'You claimed \*\*'"):
        check(tiny, [("reply", english)])
    check(tiny, [("reply", spanish)])
    # Plurals: the form the rule picks for the number, and no English form.
    assert tiny.wrong_plurals("1 tarea y 2 tareas") == []
    assert tiny.wrong_plurals("1 tareas, 2 tarea, 3 tasks") == [
        "'2 tarea': 2 takes '{n} tareas'",
        "'1 tareas': 1 takes '{n} tarea'",
        "'3 tasks' is English",
    ]
    assert sorted(tiny.plural_matches("1 tarea y 2 tareas")) == [(1, 0), (2, 1)]


def test_the_shipped_catalogs_tell_their_refusals_apart_from_english() -> None:
    """On the real catalogs: a refusal's English is flagged, its translation passes."""
    message = "#{number} has no GitHub links."
    english = message.format(number=12)
    for code in ("es", "de"):
        translated = i18n.Texts(code)(message, number=12)
        language = Language.of(code)
        assert language.english_in(english) == ["has no GitHub links."], code
        assert language.problems(translated, "reply") == [], code
        assert language.native_in(translated), code


def test_the_stand_in_carries_the_members_and_the_servers_locale() -> None:
    fake = FakeDiscord()
    guild = fake.add_guild(guild_id_on(0, 1, 0), "G", [1, 2])
    fake.locales[1] = "es-ES"
    fake.guild_locales[guild.id] = "de"
    assert fake.guild_create(guild.id)["preferred_locale"] == "de"
    assert guild.guild_create()["preferred_locale"] == "en-US"  # FakeGuild's own: unchanged
    other = fake.add_guild(guild_id_on(0, 1, 1), "H", [])
    assert fake.guild_create(other.id)["preferred_locale"] == "en-US"


async def test_a_refusal_reaches_a_spanish_member_in_spanish(board: Board) -> None:
    """Refusals are translated already: the locale reaches the bot, and the checker passes
    a real Spanish reply (the control for the tests below)."""
    b, g = board, board.spanish
    await b.command(g, g.maintainer, "task create", title=TITLES[0])
    refused = await b.command(g, ES_MEMBER, "task approve", task="1")
    assert refused.locale == "es-ES"
    assert await b.status(g, 1) is Status.OPEN
    check(Language.of("es"), [("refusal", replies_of(refused))])


# -- a Spanish member --------------------------------------------------------------------


async def test_a_spanish_member_gets_every_reply_in_spanish(board: Board) -> None:
    b, g = board, board.spanish
    await b.command(g, g.maintainer, "task create", title=TITLES[0], points=3)
    await b.command(g, ES_MEMBER, "task claim", task="1")
    assert await b.status(g, 1) is Status.CLAIMED
    await b.command(g, ES_MEMBER, "task submit", task="1", link=LINK)
    assert await b.status(g, 1) is Status.IN_REVIEW
    await b.command(g, ES_REVIEWER, "task approve", task="1")
    assert await b.status(g, 1) is Status.DONE
    for name in ("profile", "leaderboard", "me tasks"):
        await b.command(g, ES_MEMBER, name)
    replies = b.replies(ES_MEMBER) + b.replies(ES_REVIEWER)
    assert len(replies) == 6
    # What everyone in the server reads stays in its language, English, whoever acted.
    spanish = Language.of("es")
    public = b.public(g)
    assert public and not [(w, spanish.native_in(t)) for w, t in public if spanish.native_in(t)]
    check(spanish, replies)


async def test_a_spanish_members_reminder_is_a_spanish_dm(board: Board) -> None:
    """A DM follows the member's last seen locale (stored as they interacted), while the
    task's thread in the English server stays English."""
    b, g = board, board.spanish
    await b.command(g, g.maintainer, "task create", title=TITLES[0], points=1)
    await b.command(g, ES_MEMBER, "task claim", task="1")
    await b.bot.locales_stored()
    assert await b.runtime.services.languages.locale_of(g.id, ES_MEMBER) == "es-ES"
    b.clock.set(START + timedelta(days=3) - timedelta(hours=2))  # the claim nearly over
    report = await b.bot.run_sweep()
    assert report is not None
    dms = b.fake.in_channel(dm_channel_id(ES_MEMBER))
    assert len(dms) == 1, dms
    check(Language.of("es"), [("the claim's reminder DM", shown(dms[0]))])
    spanish = Language.of("es")
    assert not [t for _w, t in b.public(g) if spanish.native_in(t)]


# -- a German server ---------------------------------------------------------------------


async def german_week(b: Board) -> None:
    """Two tasks done (1 and 3 points, by two members, one reviewer) and one left open,
    on Wednesday 11 March 2026."""
    g = b.german
    for title, points in zip(TITLES, (1, 3, 2), strict=True):
        await b.command(g, g.maintainer, "task create", title=title, points=points)
    for member, number in ((JA_MEMBER, "1"), (DE_MEMBER, "2")):
        await b.command(g, member, "task claim", task=number)
        await b.command(g, member, "task submit", task=number, link=LINK)
    for number in ("1", "2"):
        await b.command(g, DE_REVIEWER, "task approve", task=number)
    assert [await b.status(g, n) for n in (1, 2, 3)] == [Status.DONE, Status.DONE, Status.OPEN]


GERMAN_BY = pytest.mark.parametrize("board", ["language", "preferred_locale"], indirect=True)


@GERMAN_BY
async def test_the_card_thread_and_review_posts_of_a_german_server_are_german(
    board: Board,
) -> None:
    """Every version of every card (posted, then edited at each step), the lines in the
    tasks' threads, the review calls in #review: all German."""
    await german_week(board)
    g = board.german
    cards = []
    for number in (1, 2, 3):
        task = await board.runtime.services.tasks.show(g.id, number)
        assert task.card_message_id is not None, f"#{number} has no card"
        now = board.fake.messages[task.card_message_id]
        cards.append((f"the card of #{number} as it is now", shown(now)))
    posted = board.public(g)
    assert len(posted) > len(cards)
    check(Language.of("de"), cards + posted)


@GERMAN_BY
async def test_a_member_in_a_language_peerboard_lacks_gets_the_servers_german(
    board: Board,
) -> None:
    await german_week(board)
    g = board.german
    for name in ("profile", "leaderboard", "me tasks"):
        await board.command(g, JA_MEMBER, name)
    replies = board.replies(JA_MEMBER)
    assert {i.locale for i in board.sent_by(JA_MEMBER)} == {"ja"}
    assert len(replies) == 5
    check(Language.of("de"), replies)


def digest_problems(text: str, title: str) -> list[str]:
    """German dates (Babel's month and weekday names) and plurals in the digest."""
    german = Language.of("de")
    problems = []
    month = dates.format_date(WEEK[0], "MMMM", locale="de")
    if month not in title:
        problems.append(f"digest: the week {title!r} is not named with {month!r}")
    for day in (GERMAN_DAYS[0], GERMAN_DAYS[6]):  # "Monday to Sunday"
        if day not in text:
            problems.append(f"digest: no {day!r}")
    for name in ENGLISH_NAMES:
        if re.search(rf"\b{name}\b", text):
            problems.append(f"digest: English {name!r}")
    counted = {index for _n, index in german.plural_matches(text)}
    if counted != {0, 1}:  # "1 Punkt" and "3 Punkte", "2 Aufgaben"…
        problems.append(f"digest: not both German plural forms of a count: {sorted(counted)}")
    return problems


@GERMAN_BY
async def test_the_digest_of_a_german_server_is_german(board: Board) -> None:
    await german_week(board)
    g = board.german
    board.clock.set(DIGEST_AT)
    await board.command(g, g.maintainer, "digest post")
    await board.fake.until(lambda: bool(digest_messages(board.fake, g)), board.running)
    posted = digest_messages(board.fake, g)
    text = "\n".join(shown(m) for m in posted)
    title = posted[0]["embeds"][0]["title"]
    assert "Zorblax 1" in text and "Zorblax 2" in text  # the week's work is in it
    problems = digest_problems(text, title)
    problems += Language.of("de").problems(text, "digest")
    if problems:
        raise WrongLanguage("the digest is not German:\n" + "\n".join(problems))


def digest_messages(fake: FakeDiscord, guild: FakeGuild) -> list[dict[str, Any]]:
    return [m for m in fake.in_channel(guild.channels["digest"]) if m["embeds"]]
