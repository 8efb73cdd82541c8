"""End-to-end: the real bot and our cogs against SimCord, on a real SQLite file, under
field conditions (tests/e2e/field.py): the bot holds exactly invite-url's permissions,
its role sits just above @everyone, and roles are not mentionable, unless a test's
markers say otherwise.

Every test's traffic is checked afterwards: each request body must match Discord's
OpenAPI description, and no message may let member text ping @everyone, @here or a
role (the bot pings a role only by naming it in allowed_mentions.roles).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot, build_services
from bot.services.clock import FunctionClock
from tests.e2e import field as field_conditions
from tests.support.openapi import check_requests

CHECKED: dict[str, int] = {"bodies": 0, "tests": 0}


def virtual_clock() -> FunctionClock:
    # SimCord swaps discord.utils' datetime for its virtual clock while an env runs.
    return FunctionClock(lambda: discord.utils.utcnow())


@pytest.fixture
async def runtime(sqlite_url: str) -> AsyncIterator[Runtime]:
    rt = build_services(sqlite_url, clock=virtual_clock())
    yield rt
    await rt.close()


@pytest.fixture
async def simcord_bot(runtime: Runtime) -> AsyncIterator[PeerBot]:
    bot = build_bot(runtime.services, scheduler=False)
    yield bot
    await bot.close()


def mentions_of(body: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "allowed_mentions" and isinstance(value, dict):
                found.append(value)
            else:
                found.extend(mentions_of(value))
    elif isinstance(body, list):
        for value in body:
            found.extend(mentions_of(value))
    return found


@pytest.fixture(autouse=True)
def conditions(request: pytest.FixtureRequest) -> Iterator[field_conditions.Conditions]:
    """The field conditions of this test (its markers may ask for more)."""
    chosen = field_conditions.conditions_for(request.node)
    field_conditions.use(chosen)
    yield chosen
    field_conditions.use(field_conditions.FIELD)


@pytest.fixture
def simcord_env(simcord_env: Any, conditions: field_conditions.Conditions) -> Iterator[Any]:
    """SimCord's env, with every request it saw checked once the test is over, and every
    guild checked to have been built under the test's field conditions."""
    yield simcord_env
    check_traffic(simcord_env.http_requests)
    for guild in list(simcord_env.backend.guilds.values()):
        role = field_conditions.bot_role(simcord_env, guild)
        assert role.permissions == conditions.bot_permissions.value, (
            f"guild {guild.name!r} was not built with tests/e2e/field.py's create_guild"
        )


def check_traffic(entries: Any) -> None:
    entries = list(entries)
    report = check_requests(entries)
    CHECKED["bodies"] += report.checked
    CHECKED["tests"] += 1
    assert not report.problems, "requests that don't match Discord's API:\n" + "\n".join(
        report.problems
    )
    for entry in entries:
        if entry.method not in ("POST", "PATCH") or entry.json is None:
            continue
        for mentions in mentions_of(entry.json):
            parse = mentions.get("parse", [])
            assert "everyone" not in parse and "roles" not in parse, (entry.path, mentions)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CHECKED["tests"]:
        terminalreporter.write_line(
            f"OpenAPI: {CHECKED['bodies']} request bodies from {CHECKED['tests']} end-to-end tests "
            "matched Discord's API description"
        )


@dataclass
class World:
    env: Any
    guild: Any
    tasks: Any  # channel handles
    review: Any
    general: Any
    maint: Any  # member actors
    alice: Any
    bob: Any
    carol: Any
    reviewers: Any  # role
    maintainers: Any


async def make_world(env: Any, *, configure: bool = True) -> World:
    guild = field_conditions.create_guild(env, "Commons")
    tasks = guild.create_text_channel("tasks")
    review = guild.create_text_channel("review")
    general = guild.create_text_channel("general")
    maintainers = field_conditions.create_role(
        guild, "Maintainers", permissions=discord.Permissions(manage_guild=True)
    )
    reviewers = field_conditions.create_role(guild, "Reviewers")
    # The community had its roles before it invited the bot: they stay above its role.
    field_conditions.place_bot_role_lowest(env, guild)
    maint = guild.add_member(env.create_user("mara"), roles=[maintainers])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    carol = guild.add_member(env.create_user("carol"), roles=[reviewers])
    world = World(
        env, guild, tasks, review, general, maint, alice, bob, carol, reviewers, maintainers
    )
    if configure:
        await maint.slash(general, "config channels", tasks=tasks, review=review)
        await maint.slash(general, "config roles", reviewer=reviewers)
    return world


@pytest.fixture
async def world(simcord_env: Any) -> World:
    return await make_world(simcord_env)


def card_of(channel: Any, number: int) -> Any:
    """The newest card of task #number in a channel, read fresh."""
    footer = f"Peerboard · task #{number}"
    for message in reversed(list(channel.history())):
        if message.embeds and message.embeds[0].footer.text == footer:
            return message
    raise AssertionError(f"no card for #{number} in #{channel.name}")


def field(message: Any, name: str) -> str | None:
    return next((f.value for f in message.embeds[0].fields if f.name == name), None)


def said(result: Any) -> str:
    """Everything the bot told the actor in reply to one interaction."""
    parts = [result.response.content if result.response is not None else ""]
    parts += [m.content for m in result.followups]
    return "\n".join(p for p in parts if p)
