"""What maintainers are told about Peerboard's own upkeep: pings that can't reach a role,
cards and notices Discord refused, exports. Pure text, as `messages`, in the language of
those who read it (`tr`)."""

from __future__ import annotations

from babel import numbers

from bot import i18n


def cards_blocked(tr: i18n.Texts, channel_id: int) -> str:
    return tr(
        "⚠️ I can't update the task cards in <#{channel}>: the channel is gone or I may not "
        "post there. A maintainer can restore my access or pick another with `/config channels`.",
        channel=channel_id,
    )


def cards_stuck(tr: i18n.Texts, count: int) -> str:
    return tr.plural(
        "⚠️ {n} task card could not be updated: Discord keeps refusing. "
        "I keep trying; check that I can see the tasks channel and post there.",
        "⚠️ {n} task cards could not be updated: Discord keeps refusing. "
        "I keep trying; check that I can see the tasks channel and post there.",
        count,
    )


def pings_unreachable(tr: i18n.Texts, role_ids: list[int], review_channel_id: int | None) -> str:
    roles = tr.join((f"<@&{r}>" for r in role_ids), style="or")
    fix = tr(
        "Fix either: give Peerboard's role Mention Everyone (the link from "
        "`peerboard invite-url` asks for it), or make the role mentionable (Server Settings "
        "→ Roles → the role → Allow anyone to @mention this role)."
    )
    one = len(role_ids) == 1
    if review_channel_id and one:
        head = tr(
            "⚠️ Peerboard can't ping {roles}: that role isn't mentionable and Peerboard lacks "
            "**Mention Everyone** in <#{channel}>, so Discord would drop review pings without "
            "a word.",
            roles=roles,
            channel=review_channel_id,
        )
    elif review_channel_id:
        head = tr(
            "⚠️ Peerboard can't ping {roles}: those roles aren't mentionable and Peerboard lacks "
            "**Mention Everyone** in <#{channel}>, so Discord would drop review pings without "
            "a word.",
            roles=roles,
            channel=review_channel_id,
        )
    elif one:
        head = tr(
            "⚠️ Peerboard can't ping {roles}: that role isn't mentionable and Peerboard lacks "
            "**Mention Everyone**, so Discord would drop review pings without a word.",
            roles=roles,
        )
    else:
        head = tr(
            "⚠️ Peerboard can't ping {roles}: those roles aren't mentionable and Peerboard lacks "
            "**Mention Everyone**, so Discord would drop review pings without a word.",
            roles=roles,
        )
    return f"{head} {fix}"


def _size(tr: i18n.Texts, size: int) -> str:
    """ "2 KB", "9.0 MB" ("9,0 MB" in German): whole kilobytes, megabytes to one decimal."""
    if size < 1024 * 1024:
        kb = numbers.format_decimal(max(1, round(size / 1024)), "0", locale=tr.locale)
        return tr("{size} KB", size=kb)
    mb = numbers.format_decimal(size / (1024 * 1024), "0.0", locale=tr.locale)
    return tr("{size} MB", size=mb)


def export_reply(
    tr: i18n.Texts,
    fmt: str,
    tasks: int,
    size: int,
    packed_size: int,
    compressed: bool,
    import_max: int,
) -> str:
    """The reply to /export, with the file (compressed when over Discord's limit)."""
    what = tr.plural("{n} task", "{n} tasks", tasks)
    if not compressed:
        text = tr(
            "📦 Here is this server's board: {tasks} as {format} ({size}). Only you can see this.",
            tasks=what,
            format=fmt.upper(),
            size=_size(tr, size),
        )
    else:
        text = tr(
            "📦 Here is this server's board: {tasks} as {format}. It was {size}, over Discord's "
            "attachment limit, so I compressed it with gzip ({packed}): "
            "open it with any unzip tool, or `gunzip`. Only you can see this.",
            tasks=what,
            format=fmt.upper(),
            size=_size(tr, size),
            packed=_size(tr, packed_size),
        )
    if fmt == "csv" and tasks > import_max:
        text += "\n" + tr.plural(
            "`/task import` reads up to {n} task a file: split this one to import it elsewhere.",
            "`/task import` reads up to {n} tasks a file: split this one to import it elsewhere.",
            import_max,
        )
    return text


def export_too_large(tr: i18n.Texts, fmt: str, tasks: int, packed_size: int, guild_id: int) -> str:
    return tr(
        "This server's board ({tasks} as {format}) is {size} even compressed — too large to "
        "attach in Discord. The bot's operator can export it with "
        "`peerboard export --guild {guild} --format {fmt}`.",
        tasks=tr.plural("{n} task", "{n} tasks", tasks),
        format=fmt.upper(),
        size=_size(tr, packed_size),
        guild=guild_id,
        fmt=fmt,
    )


def undelivered(tr: i18n.Texts, count: int) -> str:
    """/config show: the dead letters of the server, when there are any."""
    return tr.plural(
        "⚠️ {n} notice could not be delivered: nobody could receive it (DMs closed and no "
        "thread or channel to fall back on, no channel set, or Discord kept refusing). Check "
        "the channels and the bot's permissions.",
        "⚠️ {n} notices could not be delivered: nobody could receive them (DMs closed and no "
        "thread or channel to fall back on, no channel set, or Discord kept refusing). Check "
        "the channels and the bot's permissions.",
        count,
    )
