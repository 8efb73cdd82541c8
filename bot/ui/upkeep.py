"""What maintainers are told about Peerboard's own upkeep: pings that can't reach a role,
cards and notices Discord refused, exports. Pure text, as `messages`."""

from __future__ import annotations

from bot.ui.text import plural


def cards_blocked(channel_id: int) -> str:
    return (
        f"⚠️ I can't update the task cards in <#{channel_id}>: the channel is gone or I may not "
        "post there. A maintainer can restore my access or pick another with `/config channels`."
    )


def cards_stuck(count: int) -> str:
    return (
        f"⚠️ {plural(count, 'task card')} could not be updated: Discord keeps refusing. "
        "I keep trying; check that I can see the tasks channel and post there."
    )


def pings_unreachable(role_ids: list[int], review_channel_id: int | None) -> str:
    roles = " or ".join(f"<@&{r}>" for r in role_ids)
    where = f" in <#{review_channel_id}>" if review_channel_id else ""
    these = "that role isn't" if len(role_ids) == 1 else "those roles aren't"
    return (
        f"⚠️ Peerboard can't ping {roles}: {these} mentionable and Peerboard lacks "
        f"**Mention Everyone**{where}, so Discord would drop review pings without a word. "
        "Fix either: give Peerboard's role Mention Everyone (the link from "
        "`peerboard invite-url` asks for it), or make the role mentionable (Server Settings "
        "→ Roles → the role → Allow anyone to @mention this role)."
    )


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def export_reply(
    fmt: str, tasks: int, size: int, packed_size: int, compressed: bool, import_max: int
) -> str:
    """The reply to /export, with the file (compressed when over Discord's limit)."""
    what = f"{plural(tasks, 'task')} as {fmt.upper()}"
    if not compressed:
        text = f"📦 Here is this server's board: {what} ({_size(size)}). Only you can see this."
    else:
        text = (
            f"📦 Here is this server's board: {what}. It was {_size(size)}, over Discord's "
            f"attachment limit, so I compressed it with gzip ({_size(packed_size)}): "
            "open it with any unzip tool, or `gunzip`. Only you can see this."
        )
    if fmt == "csv" and tasks > import_max:
        text += (
            f"\n`/task import` reads up to {import_max} tasks a file: split this one "
            "to import it elsewhere."
        )
    return text


def export_too_large(fmt: str, tasks: int, packed_size: int, guild_id: int) -> str:
    return (
        f"This server's board ({plural(tasks, 'task')} as {fmt.upper()}) is {_size(packed_size)} "
        "even compressed — too large to attach in Discord. The bot's operator can export it "
        f"with `peerboard export --guild {guild_id} --format {fmt}`."
    )


def undelivered(count: int) -> str:
    """/config show: the dead letters of the server, when there are any."""
    notices = plural(count, "notice could not be delivered", "notices could not be delivered")
    return (
        f"⚠️ {notices}: nobody could receive {'it' if count == 1 else 'them'} (DMs closed and no thread or channel to "
        "fall back on, no channel set, or Discord kept refusing). Check the channels and "
        "the bot's permissions."
    )
