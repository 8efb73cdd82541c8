"""Plays the week: the real bot (build_services + build_bot, as `peerboard run` builds it)
against SimCord's simulated Discord, with SimCord's virtual clock.

In a server of another language with `--locale` (bot/demo/language.py).

SimCord is a demo/test dependency (`pip install -e ".[demo]"`): it is imported inside
functions, so `bot` imports without it. Messages are read from SimCord's backend store
(`env.backend`, pinned with simcord==3.2.1) because it holds every message — channel
posts, threads, DMs and ephemeral replies — in Discord's own JSON shapes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from bot import i18n
from bot.demo import language as languages
from bot.demo import script as s
from bot.demo.cast import Community, community
from bot.demo.render import BOT_NAME, Renderer, Shown, Style, clock, day_heading, header

if TYPE_CHECKING:
    from simcord.preview import Preview

    from bot.app import PeerBot

PreviewHook = Callable[["Preview", "World"], Awaitable[None]]

EPHEMERAL = 1 << 6
LOADING = 1 << 7  # a deferred reply still "thinking"
SHOWN_TYPES = {0, 19, 20, 23}  # default, reply, slash-command reply, context-menu reply
ROLE_ADD = re.compile(r"^/guilds/\d+/members/(\d+)/roles/(\d+)$")
DAY_TIME = re.compile(r"^(next )?(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d\d):(\d\d)$")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DemoError(RuntimeError):
    """The bot did not answer the way the story needs: a bug, shown instead of a story."""


@dataclass
class World:
    """The simulated server and who is who in it."""

    env: Any
    community: Community
    guild: Any
    channels: dict[str, Any]  # name -> ChannelHandle
    roles: dict[str, Any]  # maintainers, reviewers, milestone -> RoleHandle
    actors: dict[str, Any]  # username -> MemberActor
    bot_id: int
    numbers: dict[str, int] = field(default_factory=dict)  # task key -> number
    user_names: dict[int, str] = field(default_factory=dict)
    role_names: dict[int, str] = field(default_factory=dict)
    language: str = i18n.SOURCE  # the guild's: what everyone reads is in it

    @property
    def public(self) -> i18n.Texts:
        """The texts of the guild's public posts (buttons, cards)."""
        return i18n.texts(self.language)

    def actor(self, part: str) -> Any:
        return self.actors[self.community.who(part).username]

    def name(self, part: str) -> str:
        return self.community.who(part).name

    # -- Names, for the renderer ---------------------------------------------------------

    def user(self, user_id: int) -> str:
        if user_id == self.bot_id:
            return BOT_NAME
        return self.user_names.get(user_id, "someone")

    def role(self, role_id: int) -> str:
        return self.role_names.get(role_id, "a role")

    def channel(self, channel_id: int) -> str:
        store = self.env.backend.channels
        c = store.get(channel_id)
        if c is None:
            return "#unknown"
        if c.type == 1:  # a DM
            other = next((u for u in c.recipient_ids if u != self.bot_id), 0)
            return f"DM to {self.user(other)}"
        if c.is_thread:
            parent = store.get(c.parent_id)
            number = re.match(r"#(\d+) ", c.name or "")
            label = f"thread #{number[1]}" if number else f"thread “{c.name}”"
            return f"#{parent.name if parent else '?'} › {label}"
        return f"#{c.name}"

    def fill(self, text: str) -> str:
        """Placeholders in script text: {#big} becomes "#7", {reviewer} their name."""
        values = {f"#{key}": f"#{n}" for key, n in self.numbers.items()}
        values |= {part: p.name for part, p in self.community.parts.items()}
        values |= {"lead": self.name("lead"), "co-lead": self.name("co-lead")}
        return text.format_map(values)


@dataclass
class Outcome:
    """What the demo did: for the CLI's summary line and for tests."""

    community: Community
    numbers: dict[str, int]
    steps: int
    messages: int
    digest_posted: bool
    started: datetime
    ended: datetime
    requests: list[Any]  # every REST call the bot made (SimCord's HttpLogEntry)
    language: str | None = None  # the guild's /config language when the week ended


class Recorder:
    """Turns what appeared in the simulated Discord since the last look into text."""

    def __init__(self, world: World, renderer: Renderer, out: TextIO) -> None:
        self.world = world
        self.r = renderer
        self.out = out
        self.seen: dict[int, str | None] = {}  # message id -> edited timestamp last shown
        self.http_seen = 0
        self.count = 0

    def write(self, lines: list[str]) -> None:
        for line in lines:
            print(line, file=self.out)

    def mark_all_seen(self) -> None:
        for _channel, messages in self.world.env.backend.messages.items():
            for m in messages.values():
                self.seen[m.id] = m.edited_timestamp
        self.http_seen = len(self.world.env.http_requests)

    def _shown(self, m: Any) -> Shown:
        meta = m.interaction_metadata or {}
        only = int(meta["user"]["id"]) if m.flags & EPHEMERAL and meta.get("user") else None
        return Shown(
            id=m.id,
            channel_id=m.channel_id,
            author_id=m.author_id,
            content=m.content,
            embeds=m.embeds,
            components=m.components,
            created=datetime.fromisoformat(m.timestamp),
            only_for=only,
        )

    def flush(self, *, brief: bool = False) -> list[Shown]:
        """Show what is new, in the order members would notice it: replies to whoever
        acted, then cards edited in place, then posts, threads and DMs by time."""
        replies: list[Any] = []
        posts: list[Any] = []
        edits: list[Any] = []
        for _channel, messages in self.world.env.backend.messages.items():
            for m in messages.values():
                if m.type not in SHOWN_TYPES or m.flags & LOADING:
                    continue
                if m.id not in self.seen:
                    (replies if m.interaction_metadata else posts).append(m)
                elif self.seen[m.id] != m.edited_timestamp:
                    edits.append(m)
                self.seen[m.id] = m.edited_timestamp
        lines: list[str] = []
        for m in sorted(replies, key=lambda m: m.id):
            lines += self.r.message(self._shown(m), brief=brief)
        for m in sorted(edits, key=lambda m: m.id):
            lines += self.r.card_change(self._shown(m))
        for m in sorted(posts, key=lambda m: m.id):
            lines += self.r.message(self._shown(m))
        lines += self._role_grants()
        self.write(lines)
        self.count += len(replies) + len(posts)
        return [self._shown(m) for m in sorted(replies + posts, key=lambda m: m.id)]

    def _role_grants(self) -> list[str]:
        """Roles the bot gave: members see them on their profile, not as a message."""
        requests = self.world.env.http_requests
        lines = []
        for entry in requests[self.http_seen :]:
            match = ROLE_ADD.match(entry.path)
            if entry.method == "PUT" and match:
                who = self.r.s.person("@" + self.world.user(int(match[1])))
                role = self.r.s.bold("@" + self.world.role(int(match[2])))
                lines.append(
                    self.r.line(
                        self.world.env.now(),
                        f"{self.r.s.place(self.world.guild.name)} · 🏅 {self.r.s.bot(BOT_NAME)} gave {who} the {role} role",
                    )
                )
        self.http_seen = len(requests)
        return lines


# -- the run ------------------------------------------------------------------------------


def week_start(now: datetime) -> datetime:
    """The first Monday 00:00 UTC on or after `now`."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if day < now:
        day += timedelta(days=1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def when(at: str, start: datetime) -> datetime:
    match = DAY_TIME.match(at)
    if match is None:
        raise DemoError(f"a step's time must look like 'Tue 14:00' or 'next Mon 09:00', not {at!r}")
    days = DAYS.index(match[2]) + (7 if match[1] else 0)
    return start + timedelta(days=days, hours=int(match[3]), minutes=int(match[4]))


async def build_world(env: Any, c: Community, language: str = i18n.SOURCE) -> World:
    import discord

    local = (
        {} if language == i18n.SOURCE else {"preferred_locale": languages.discord_locale(language)}
    )
    guild = env.create_guild(c.theme.server, **local)
    channels = {
        name: guild.create_text_channel(name) for name in ("general", "tasks", "review", "digest")
    }
    roles = {
        "maintainers": guild.create_role(
            "Maintainers", permissions=discord.Permissions(manage_guild=True)
        ),
        "reviewers": guild.create_role("Reviewers"),
        # Created after the bot joined, so it sits below the bot's role: the bot may grant it.
        "milestone": guild.create_role(c.theme.milestone_role),
    }
    actors: dict[str, Any] = {}
    for person in c.members:
        user = env.create_user(person.username, global_name=person.name)
        given = []
        if person in c.maintainers:
            given.append(roles["maintainers"])
        if person == c.parts["reviewer"]:
            given.append(roles["reviewers"])
        actors[person.username] = guild.add_member(user, roles=given)
    world = World(
        env, c, guild, channels, roles, actors, bot_id=env.backend.bot_user.id, language=language
    )
    world.user_names = {actors[p.username].id: p.name for p in c.members}
    world.role_names = {r.id: r.name for r in roles.values()}
    return world


async def play(
    database_url: str,
    seed: int,
    out: TextIO,
    *,
    color: bool = False,
    on_preview: PreviewHook | None = None,
    language: str = i18n.SOURCE,
) -> Outcome:
    """Run the bot on `database_url` (already migrated) and play the seed's week, in a
    server whose language is `language` (a catalog code of bot.i18n.LANGUAGES)."""
    if language not in i18n.LANGUAGES:
        raise DemoError(f"no such language: {language!r}; one of {', '.join(i18n.LANGUAGES)}")
    import discord
    import simcord

    from bot.bootstrap import build_bot, build_services
    from bot.services.clock import FunctionClock

    c = community(seed)
    steps = s.week(c)
    if language != i18n.SOURCE:
        steps = [languages.first_step(language), *steps]
    # The bot's clock is SimCord's virtual one (discord.utils.utcnow, while the env runs).
    runtime = build_services(database_url, clock=FunctionClock(lambda: discord.utils.utcnow()))
    bot = build_bot(runtime.services, scheduler=False)  # the demo runs the sweep itself
    try:
        async with simcord.run(bot) as env:
            env.backend.edit_bot_profile(BOT_NAME)
            await env.settle()
            world = await build_world(env, c, language)
            style = Style(color)
            renderer = Renderer(world, style, env.now, world.public)
            recorder = Recorder(world, renderer, out)
            recorder.mark_all_seen()
            start = week_start(env.now())
            await env.advance_time((start - env.now()).total_seconds())
            _intro(world, style, out)
            outcome = await _play_steps(world, bot, steps, start, renderer, recorder, out)
            if on_preview is not None:
                env.raise_errors()  # the week must have run cleanly before anyone looks
                viewers = _preview_viewers(world)
                async with env.preview(
                    world.channels["tasks"], viewers=viewers, layout="channel"
                ) as pv:
                    await on_preview(pv, world)
                # Whatever a person did in the page is theirs to see, not a failed demo.
                for error in env.errors:
                    print(f"The bot raised {type(error).__name__}: {error}", file=sys.stderr)
            return outcome
    finally:
        await bot.close()
        await runtime.close()


def _preview_viewers(world: World) -> list[Any]:
    order = ("picker", "lead", "reviewer", "worker", "newcomer", "co-lead")
    viewers: list[Any] = []
    for part in order:
        actor = world.actor(part)
        if actor not in viewers:
            viewers.append(actor)
    return viewers


def _intro(world: World, style: Style, out: TextIO) -> None:
    for line in header(world.community, style) + languages.intro(world.language, style):
        print(line, file=out)


async def _play_steps(
    world: World,
    bot: PeerBot,
    steps: list[s.Step],
    start: datetime,
    renderer: Renderer,
    recorder: Recorder,
    out: TextIO,
) -> Outcome:
    env = world.env
    style = renderer.s
    day: int | None = None
    digest_posted = False
    for step in steps:
        target = when(step.at, start)
        if target < env.now():
            raise DemoError(
                f"steps must go forward in time: {step.at} comes after {clock(env.now())}"
            )
        if target > env.now():
            await env.advance_time((target - env.now()).total_seconds())
        new_day = day != target.toordinal()
        if isinstance(step, s.Wait) or new_day:
            # The reminder sweep, as the bot's scheduler runs it. In production it runs every
            # minute; here at the steps that wait for it, and first thing each day (a sweep
            # is dozens of queries, and the week should take seconds).
            await bot.run_sweep()
        if new_day:
            day = target.toordinal()
            recorder.write(["", style.bold(f"── {day_heading(target)} " + "─" * 40)])
        if isinstance(step, s.Wait) and step.note:
            recorder.write([renderer.line(env.now(), style.italic("· " + world.fill(step.note)))])
        recorder.flush()  # what the sweep just sent
        if isinstance(step, s.Slash):
            shown = await _slash(world, step, renderer, recorder)
            if step.command == "digest post":
                digest_posted = any(m.channel_id == world.channels["digest"].id for m in shown)
        elif isinstance(step, s.Click):
            await _click(world, step, renderer, recorder)
    await env.settle()
    recorder.flush()
    config = await bot.services.config.get(world.guild.id)
    return Outcome(
        language=config.language,
        community=world.community,
        numbers=dict(world.numbers),
        steps=len(steps),
        messages=recorder.count,
        digest_posted=digest_posted,
        started=start,
        ended=env.now(),
        requests=list(env.http_requests),
    )


def _option(world: World, value: Any) -> tuple[Any, str]:
    """A step's option as SimCord takes it, and as the transcript shows it."""
    if isinstance(value, s.Task):
        number = world.numbers[value.key]
        return str(number), f"#{number}"
    if isinstance(value, s.Member):
        return world.actor(value.part), "@" + world.name(value.part)
    if isinstance(value, s.Channel):
        return world.channels[value.name], f"#{value.name}"
    if isinstance(value, s.Role):
        role = world.roles[value.name]
        return role, f"@{role.name}"
    if isinstance(value, s.File):
        return (value.name, world.community.csv()), value.name
    if isinstance(value, str):
        text = world.fill(value)
        shown = text if len(text) <= 72 else text[:71] + "…"
        return text, f"“{shown}”" if " " in text else shown
    return value, str(value)


def _answer(result: Any) -> str:
    parts = [result.response.content if result.response is not None else ""]
    parts += [m.content for m in result.followups]
    for m in [result.response, *result.followups]:
        for e in getattr(m, "embeds", None) or []:
            parts.append(str(e.title or ""))
    return "\n".join(p for p in parts if p)


def _check(step: s.Slash | s.Click, result: Any, world: World) -> None:
    answer = _answer(result)
    # The script's words are English: what the member alone is told (en-US) says them; a
    # public answer in another language only has to be there.
    foreign = world.language != i18n.SOURCE and not result.ephemeral
    if not result.acknowledged or not (foreign or step.expect in answer):
        raise DemoError(
            f"at {step.at}, {world.name(step.who)} expected the bot to say {step.expect!r}, "
            f"but it said: {answer!r}"
        )


def _record_numbers(world: World, step: s.Slash, result: Any) -> None:
    if not step.creates:
        return
    numbers = [int(n) for n in re.findall(r"(?<![<\d])#(\d+)", _answer(result))]
    if len(numbers) < len(step.creates):
        raise DemoError(f"at {step.at}: expected task numbers in {_answer(result)!r}")
    world.numbers.update(zip(step.creates, numbers, strict=False))


async def _slash(
    world: World, step: s.Slash, renderer: Renderer, recorder: Recorder
) -> list[Shown]:
    actor = world.actor(step.who)
    options: dict[str, Any] = {}
    shown = []
    for name, value in step.options.items():
        options[name], text = _option(world, value)
        shown.append(f"{name}:{text}")
    command = " ".join([f"/{step.command}", *shown])
    s_ = renderer.s
    recorder.write(
        [renderer.line(world.env.now(), f"{s_.person(world.name(step.who))} → {s_.code(command)}")]
    )
    result = await actor.slash(world.channels[step.where], step.command, **options)
    _check(step, result, world)
    _record_numbers(world, step, result)
    return recorder.flush(brief=step.brief)


async def _click(world: World, step: s.Click, renderer: Renderer, recorder: Recorder) -> None:
    actor = world.actor(step.who)
    number = world.numbers[step.task]
    s_ = renderer.s
    if step.where == "dm":
        message = _newest(actor.user.dm_channel.history(), number, world)
        clicker = actor.user
        place = "in a DM from " + s_.bot(BOT_NAME)
    else:
        message = _newest(world.channels[step.where].history(), number, world)
        clicker = actor
        place = f"on card #{number} in {s_.place('#' + step.where)}"
    if message is None:
        raise DemoError(f"at {step.at}: no message about #{number} in {step.where} to click")
    shown_label = languages.label(message, step.label, world.public)
    button = s_.button(3, f"[{shown_label}]")
    recorder.write(
        [
            renderer.line(
                world.env.now(), f"{s_.person(world.name(step.who))} presses {button} {place}"
            )
        ]
    )
    result = await clicker.click(message, label=shown_label)
    if result.modal is not None:
        title = str(result.modal.get("title", "a form"))
        values = {k: world.fill(v) for k, v in (step.form or {}).items()}
        filled = "; ".join(f"{k}: {v}" for k, v in values.items())
        recorder.write(
            [f"{' ' * 12}{s_.dim('↳ a form opens, “' + title + '”; they write')} {filled}"]
        )
        if step.form is None:
            raise DemoError(f"at {step.at}: [{step.label}] opened a form the step does not fill")
        result = await clicker.submit_modal(result, values)
    _check(step, result, world)
    recorder.flush()


def _newest(messages: list[Any], number: int, world: World) -> Any:
    """The newest message about task #number with buttons on it."""
    marker = re.compile(rf"^pb:t:\d+:{number}:")
    for message in reversed(messages):
        for row in message.components:
            for child in getattr(row, "children", []):
                if marker.match(str(getattr(child, "custom_id", "") or "")):
                    return message
    return None
