"""Command sync: push the slash commands to Discord only when they changed. Syncing is
rate limited, and a global sync takes a while to reach every client."""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger("peerboard")

_OPTION_KEYS = (
    "type",
    "name",
    "description",
    "required",
    "autocomplete",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
)


def _given(value: Any) -> Any:
    """Absent, null, false and "" mean the same to Discord; 0 (e.g. min_value=0) does not."""
    return None if value is None or value is False or value == "" else value


def _localised(payload: dict[str, Any], key: str) -> tuple[tuple[str, str], ...] | None:
    """A `*_localizations` map in one order; absent, null and {} are the same to Discord."""
    return tuple(sorted((payload.get(key) or {}).items())) or None


def _norm_option(option: dict[str, Any]) -> dict[str, Any]:
    out = {k: _given(option.get(k)) for k in _OPTION_KEYS}
    out["description_localizations"] = _localised(option, "description_localizations")
    out["choices"] = (
        sorted(
            (c["name"], str(c["value"]), _localised(c, "name_localizations"))
            for c in option.get("choices") or []
        )
        or None
    )
    out["channel_types"] = sorted(option.get("channel_types") or []) or None
    out["options"] = [_norm_option(o) for o in option.get("options") or []] or None
    return out


def normalise_commands(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Discord keeps of a command, in a form that compares equal across fetch and build."""
    result = []
    for cmd in payload:
        perms = cmd.get("default_member_permissions")
        result.append(
            {
                "name": cmd["name"],
                "type": cmd.get("type", 1),
                "description": cmd.get("description", ""),
                "description_localizations": _localised(cmd, "description_localizations"),
                "default_member_permissions": str(perms) if perms not in (None, "") else None,
                "options": [_norm_option(o) for o in cmd.get("options") or []] or None,
            }
        )
    return sorted(result, key=lambda c: (c["type"], c["name"]))


def _fetched_payload(cmd: discord.app_commands.AppCommand) -> dict[str, Any]:
    # AppCommand.to_dict() leaves default_member_permissions out; without it a command
    # hidden behind Manage Server (/config) never compares equal, and every start re-syncs.
    payload: dict[str, Any] = dict(cmd.to_dict())
    perms = cmd.default_member_permissions
    payload["default_member_permissions"] = perms.value if perms is not None else None
    return payload


async def built_payload(
    tree: discord.app_commands.CommandTree[discord.Client], guild: discord.Object | None
) -> list[dict[str, Any]]:
    """The commands as `tree.sync` sends them: translated when the tree has a translator."""
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is None:
        return [c.to_dict(tree) for c in commands]
    return [await c.get_translated_payload(tree, translator) for c in commands]


async def sync_if_changed(
    tree: discord.app_commands.CommandTree[discord.Client], dev_guild_id: int | None
) -> bool:
    """Sync only when the command set differs from what Discord has: syncing is rate
    limited, and a global sync takes a while to reach every client."""
    guild = discord.Object(dev_guild_id) if dev_guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    local = normalise_commands(await built_payload(tree, guild))
    try:
        remote_cmds = await tree.fetch_commands(guild=guild)
        remote = normalise_commands([_fetched_payload(c) for c in remote_cmds])
    except discord.HTTPException:
        remote = None
    if remote == local:
        log.info("commands unchanged; not syncing")
        return False
    await tree.sync(guild=guild)
    log.info(
        "synced %d commands %s", len(local), f"to guild {dev_guild_id}" if guild else "globally"
    )
    return True
