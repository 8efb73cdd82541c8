"""Field conditions: the end-to-end tier runs under what a real community's server gives
the bot, not under SimCord's generous defaults.

- The bot's member holds exactly the permissions `peerboard invite-url` asks for
  (`bot.app.INVITE_PERMISSIONS`, the same constant), through its managed role, placed
  as a real invite places it: just above @everyone, below the roles the admins made.
- Roles are not mentionable (Discord's default), so the bot's role pings reach people
  only when it holds Mention Everyone (or an admin made the role mentionable).

A test that needs more says so with a marker (registered in pyproject.toml):
`@pytest.mark.bot_permissions(manage_threads=True)` adds to invite-url's permissions,
`@pytest.mark.bot_permissions(value=0x...)` replaces them, and
`@pytest.mark.mentionable_roles` makes the world's Reviewers and Maintainers mentionable.

Also here: what happens under the bot in a real server — a member leaves, a channel or
a message is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
import pytest

from bot.app import INVITE_PERMISSIONS


@dataclass(frozen=True, slots=True)
class Conditions:
    bot_permissions: discord.Permissions
    mentionable_roles: bool = False


FIELD = Conditions(discord.Permissions(INVITE_PERMISSIONS.value))
_current: list[Conditions] = [FIELD]


def conditions_for(node: pytest.Item) -> Conditions:
    """The conditions a test runs under: the field's, plus what its markers ask for."""
    permissions = discord.Permissions(INVITE_PERMISSIONS.value)
    for mark in node.iter_markers("bot_permissions"):
        flags = dict(mark.kwargs)
        if "value" in flags:
            permissions = discord.Permissions(int(flags.pop("value")))
        permissions.update(**flags)
    return Conditions(permissions, node.get_closest_marker("mentionable_roles") is not None)


def use(conditions: Conditions) -> None:
    """Set by the e2e conftest for each test, read when its guilds are built."""
    _current[0] = conditions


def current() -> Conditions:
    return _current[0]


# -- the guild as an invite leaves it ------------------------------------------------------


def bot_role(env: Any, guild: Any) -> Any:
    """SimCord's record of the bot's managed (integration) role in a guild."""
    record = env.backend.get_guild(guild.id)
    member = record.members[env.backend.bot_user.id]
    return next(record.roles[r] for r in member.role_ids if record.roles[r].managed)


def create_guild(env: Any, name: str, **settings: Any) -> Any:
    """A guild whose bot member holds exactly the current conditions' permissions."""
    guild = env.create_guild(name, **settings)
    role = bot_role(env, guild)
    env.backend.edit_role(guild.id, role.id, {"permissions": current().bot_permissions.value})
    return guild


def place_bot_role_lowest(env: Any, guild: Any) -> None:
    """Move the bot's role just above @everyone, as an invite to a server that already
    has roles leaves it (its admins' roles stay above it)."""
    record = env.backend.get_guild(guild.id)
    role = bot_role(env, guild)
    others = sorted(
        (r for r in record.roles.values() if r.id not in (guild.id, role.id)),
        key=lambda r: r.position,
    )
    order = [role, *others]
    env.backend.reorder_roles(
        guild.id, [{"id": r.id, "position": i} for i, r in enumerate(order, start=1)]
    )


def create_role(guild: Any, name: str, **fields: Any) -> Any:
    """A role made by the server's admins: mentionable only if the test asks for it."""
    fields.setdefault("mentionable", current().mentionable_roles)
    return guild.create_role(name, **fields)


def bot_permissions_in(env: Any, guild: Any, channel: Any | None = None) -> discord.Permissions:
    """What Discord lets the bot do in the guild (or in one channel), computed by SimCord."""
    value = env.backend.compute_permissions(
        guild.id, env.backend.bot_user.id, channel.id if channel is not None else None
    )
    return discord.Permissions(value)


# -- what happens under the bot ------------------------------------------------------------


async def member_leaves(env: Any, guild: Any, member: Any) -> None:
    """The member leaves the server (or is kicked): Discord forgets them as a member."""
    guild.remove_member(member)
    await env.settle()


async def delete_channel(env: Any, channel: Any) -> None:
    """An admin deletes a channel the bot posts in."""
    env.backend.delete_channel(channel.id)
    await env.settle()


async def delete_message(env: Any, message: Any) -> None:
    """Someone with Manage Messages deletes one of the bot's messages (a card, a post)."""
    channel_id = message.channel_id if hasattr(message, "channel_id") else message.channel.id
    env.backend.delete_message(channel_id, message.id)
    await env.settle()
