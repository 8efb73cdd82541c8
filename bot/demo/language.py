"""`peerboard demo --locale de`: the week in a server of another language.

The server is created with Discord's preferred locale for the language (`de`, `es-ES`,
`pt-BR`), and its lead sets `/config language` to it first thing, so what everyone reads
— cards and their buttons, threads, review calls, notices, the digest — is in it.
SimCord sends every interaction with the locale `en-US`, so what only the member who
acted sees (their replies, their DMs) stays English: the members are English speakers
in a German (Spanish, …) server. The script's checks of the bot's words are English:
they hold for those replies; a public answer only has to be there.
"""

from __future__ import annotations

from typing import Any

from bot import i18n
from bot.demo import script as s
from bot.demo.render import Style


def discord_locale(language: str) -> str:
    """The Discord locale a server of this language has (`de`, `es-ES`, `pt-BR`)."""
    return i18n.DISCORD_LOCALES[language][0]


def first_step(language: str) -> s.Slash:
    """The lead's first act in a server of another language: its public posts in it."""
    return s.Slash(
        at="Mon 08:55",
        who="lead",
        command="config language",
        options={"language": language},
        expect="Saved.",
        brief=True,
    )


def intro(language: str, style: Style) -> list[str]:
    """What the transcript's header says about the server's language."""
    if language == i18n.SOURCE:
        return []
    name = i18n.LANGUAGES[language]
    return [
        "",
        f"The server's language is {name} ({language}): Discord's preferred locale "
        f"{discord_locale(language)}, and /config language {language}.",
        style.dim(
            f"What everyone reads (cards, buttons, threads, review calls, the digest) is in {name};"
        ),
        style.dim(
            "SimCord's members all use Discord in en-US, so their own replies and DMs stay English."
        ),
        style.dim(
            "Discord timestamps are shown here in English; Discord shows each reader theirs."
        ),
    ]


def label(message: Any, english: str, public: i18n.Texts) -> str:
    """A button's label as the message shows it: a card's in the guild's language, a
    DM's in the member's (en-US)."""
    shown = {
        str(getattr(child, "label", "") or "")
        for row in message.components
        for child in getattr(row, "children", [])
    }
    translated = public(english)
    return translated if translated in shown else english
