"""End-to-end: /config language (the language of the guild's public posts) and each
member's last seen Discord locale (their DMs' language), stored as they interact.

SimCord sends every interaction with locale "en-US": a maintainer's own replies here are
English, whatever the guild's language."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import sqlalchemy as sa

from bot import i18n
from bot.app import PeerBot
from bot.bootstrap import Runtime
from tests.e2e import field as field_conditions
from tests.e2e.conftest import World, card_of, field, make_world, said
from tests.e2e.helpers import create, refused


async def stored_language(runtime: Runtime, guild_id: int) -> str | None:
    async with runtime.engine.connect() as conn:
        row = await conn.execute(
            sa.text("SELECT language FROM guild_settings WHERE guild_id = :g"), {"g": guild_id}
        )
        value = row.scalar_one()
    return None if value is None else str(value)


async def stored_locale(runtime: Runtime, guild_id: int, member_id: int) -> str | None:
    async with runtime.engine.connect() as conn:
        row = await conn.execute(
            sa.text("SELECT locale FROM guild_members WHERE guild_id = :g AND member_id = :m"),
            {"g": guild_id, "m": member_id},
        )
        value = row.scalar_one_or_none()
    return None if value is None else str(value)


async def test_a_maintainer_sets_the_guilds_language_and_back_to_the_servers(
    world: World, runtime: Runtime
) -> None:
    w = world
    r = await w.maint.slash(w.general, "config language", language="de")
    assert r.ephemeral
    assert said(r) == "Saved. Public posts (cards, threads, the digest) are now in Deutsch."
    assert field(r.response, "Language") == "Deutsch (set with /config language)"
    assert await stored_language(runtime, w.guild.id) == "de"
    assert (await runtime.services.config.get(w.guild.id)).language == "de"

    # A language's own name, or a Discord-style code, picks it too.
    r = await w.maint.slash(w.general, "config language", language="pt-BR")
    assert "now in Português (Brasil)." in said(r)
    r = await w.maint.slash(w.general, "config language", language="Español")
    assert await stored_language(runtime, w.guild.id) == "es"

    r = await w.maint.slash(w.general, "config language", language="server")
    assert said(r) == "Saved. Public posts now follow the server's Discord language: English."
    assert await stored_language(runtime, w.guild.id) is None
    shown = await w.maint.slash(w.general, "config show")
    assert field(shown.response, "Language") == ("English, following the server's Discord language")


async def test_the_servers_own_language_is_what_following_it_gives(simcord_env: Any) -> None:
    guild = field_conditions.create_guild(simcord_env, "Gemeinschaft", preferred_locale="de")
    general = guild.create_text_channel("general")
    maintainers = field_conditions.create_role(
        guild, "Maintainers", permissions=discord.Permissions(manage_guild=True)
    )
    owner = guild.add_member(simcord_env.create_user("greta"), roles=[maintainers])
    r = await owner.slash(general, "config show")
    assert field(r.response, "Language") == "Deutsch, following the server's Discord language"
    r = await owner.slash(general, "config language", language="server")
    assert said(r) == "Saved. Public posts now follow the server's Discord language: Deutsch."


async def test_an_unknown_language_is_refused_naming_those_peerboard_speaks(
    world: World, runtime: Runtime
) -> None:
    r = await world.maint.slash(world.general, "config language", language="Klingon")
    text = refused(r, "“Klingon” is not a language Peerboard speaks")
    for code, name in i18n.LANGUAGES.items():
        assert f"{name} ({code})" in text
    assert await stored_language(runtime, world.guild.id) is None


async def test_only_maintainers_set_the_language(
    world: World, runtime: Runtime, simcord_bot: PeerBot
) -> None:
    # Even when a server admin shows /config to everyone, the bot refuses on its side.
    config = next(c for c in await simcord_bot.tree.fetch_commands() if c.name == "config")
    world.guild.set_command_permissions(config, {world.alice: True})
    r = await world.alice.slash(world.general, "config language", language="fr")
    refused(r, "Only maintainers can change the settings.")
    assert await stored_language(runtime, world.guild.id) is None


async def test_autocomplete_offers_every_language_and_the_servers(world: World) -> None:
    offered = await world.maint.autocomplete(world.general, "config language", "language", "")
    values = [c["value"] for c in offered]
    assert values == [*i18n.LANGUAGES, "server"]
    names = [c["name"] for c in offered]
    assert "Deutsch (de)" in names
    assert "Follow the server's Discord language" in names
    typed = await world.maint.autocomplete(world.general, "config language", "language", "deu")
    assert [c["value"] for c in typed] == ["de"]


async def test_a_members_locale_is_stored_as_they_interact(
    simcord_env: Any, runtime: Runtime
) -> None:
    w = await make_world(simcord_env)
    assert await stored_locale(runtime, w.guild.id, w.alice.id) is None
    number = await create(w, "Fix the footer")
    # A command …
    await w.alice.slash(w.general, "me tasks")
    await simcord_env.settle()
    assert await stored_locale(runtime, w.guild.id, w.alice.id) == "en-US"
    assert await runtime.services.languages.locale_of(w.guild.id, w.alice.id) == "en-US"
    # … and a button (components do not pass the command tree).
    await w.bob.click(card_of(w.tasks, number), label="Claim")
    await simcord_env.settle()
    assert await stored_locale(runtime, w.guild.id, w.bob.id) == "en-US"


async def test_locale_writes_in_flight_are_bounded(simcord_bot: PeerBot, runtime: Runtime) -> None:
    """A burst of members seen for the first time never grows tasks without bound: past
    the bound, a member's locale waits for their next interaction."""
    from types import SimpleNamespace

    from bot.app import LOCALE_WRITES_MAX

    loop = asyncio.get_running_loop()
    waiting = [loop.create_future() for _ in range(LOCALE_WRITES_MAX)]
    simcord_bot._locale_writes.update(
        {(1, n): future for n, future in enumerate(waiting)}  # type: ignore[misc]
    )
    newcomer = SimpleNamespace(guild_id=1, user=SimpleNamespace(id=10**6), locale="fr")
    await simcord_bot.note_locale(newcomer)  # type: ignore[arg-type]
    assert len(simcord_bot._locale_writes) == LOCALE_WRITES_MAX
    assert (1, 10**6) not in simcord_bot._locale_writes
    for future in waiting:
        future.set_result(None)
    simcord_bot._locale_writes.clear()
    await simcord_bot.note_locale(newcomer)  # type: ignore[arg-type]
    await simcord_bot.locales_stored()
    assert await stored_locale(runtime, 1, 10**6) == "fr"
