"""Peerboard's languages: gettext catalogs read with Babel, one `.po` file per language
(bot/locale/<code>/LC_MESSAGES/peerboard.po; docs/translating.md).

Which language a text is in is decided by who reads it (SPEC "Languages"): a reply only the
caller sees follows the caller's Discord locale, then the guild's language, then English.
This module knows nothing of discord.py: a Discord locale is its string (``"es-ES"``).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Literal

from babel import Locale, dates, lists, numbers
from babel.messages import mofile, pofile
from babel.messages.catalog import Catalog
from babel.support import NullTranslations, Translations

DOMAIN = "peerboard"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SOURCE = "en"

# The languages Peerboard speaks, by catalog code, each named in its own language.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "de": "Deutsch",
    "pt_BR": "Português (Brasil)",
}

# Discord's locales (discord.Locale values) each language serves. Spanish serves Spain and
# Latin America; English serves both of Discord's English locales.
DISCORD_LOCALES: dict[str, tuple[str, ...]] = {
    "en": ("en-US", "en-GB"),
    "es": ("es-ES", "es-419"),
    "fr": ("fr",),
    "de": ("de",),
    "pt_BR": ("pt-BR",),
}
_BY_DISCORD = {loc: code for code, locs in DISCORD_LOCALES.items() for loc in locs}

# Where a text is used, as the catalog's message context: a command's description in the
# picker is a different sentence from a reply, however alike the English.
COMMAND = "command"

ListStyle = Literal["standard", "or"]


def language_of(discord_locale: str | None) -> str | None:
    """The language serving a Discord locale, or None when Peerboard has none for it
    (e.g. ``ja``): the caller of this falls back (to the guild's language, then English)."""
    if not discord_locale:
        return None
    return _BY_DISCORD.get(str(discord_locale))


def choose(*candidates: str | None) -> str:
    """The first language Peerboard has among the candidates (Discord locales or catalog
    codes, most preferred first), else English."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
        found = language_of(candidate)
        if found is not None:
            return found
    return SOURCE


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(code: str) -> NullTranslations:
    """The language's compiled catalog (English: the messages themselves). Read once per
    process; a fuzzy or empty entry is not used (gettext falls back to the English)."""
    if code == SOURCE or code not in LANGUAGES:
        return NullTranslations()
    with catalog_path(code).open("rb") as source:
        return compiled(pofile.read_po(source, locale=code, domain=DOMAIN))


def compiled(catalog: Catalog) -> Translations:
    """A catalog as gettext reads it; fuzzy entries are left out (write_mo's default), so an
    unreviewed suggestion never reaches a member: the English is used instead."""
    binary = io.BytesIO()
    mofile.write_mo(binary, catalog)
    binary.seek(0)
    return Translations(binary, domain=DOMAIN)


def locale(code: str) -> Locale:
    """Babel's CLDR locale of a language: its dates, numbers and plural rules."""
    return Locale.parse(code)


def command_text(code: str, english: str) -> str | None:
    """A command picker's text (description, option description, choice name) in the
    language, or None where the catalog gives nothing but the English."""
    if code == SOURCE:
        return None
    text = str(translations(code).pgettext(COMMAND, english))
    return text if text and text != english else None


class Texts:
    """The texts of one reader's language: `tr("You already claimed #{number}.", number=3)`
    is the catalog's translation with its values put in (English where the catalog has
    none). Values go in as they are: a task number stays `#12345` in every language."""

    def __init__(self, code: str) -> None:
        self.code = code if code in LANGUAGES else SOURCE
        self._catalog = translations(self.code)

    def __call__(self, message: str, /, **values: object) -> str:
        text = str(self._catalog.gettext(message))
        return text.format(**values) if values else text

    def plural(self, one: str, other: str, n: int, /, **values: object) -> str:
        """`{n} task` / `{n} tasks` in the form the language's plural rules pick for n;
        other placeholders are filled from `values`."""
        return str(self._catalog.ngettext(one, other, n)).format(n=n, **values)

    @property
    def locale(self) -> Locale:
        return locale(self.code)

    # Dates, numbers and lists from CLDR (Babel), never put together by hand.
    def date(self, value: date | datetime, format: str = "medium") -> str:
        """`3 Dec 2026`, `3 dic 2026`, `03.12.2026`: a date (a datetime's own date)."""
        return dates.format_date(value, format, locale=self.locale)

    def when(self, value: datetime, tz: tzinfo | None = None, format: str = "medium") -> str:
        """A moment in `tz` (else as given): `3 Dec 2026, 17:00:00` (format "short" drops
        the seconds)."""
        return dates.format_datetime(value, format, tzinfo=tz, locale=self.locale)

    def time(self, value: datetime, tz: tzinfo | None = None, format: str = "short") -> str:
        return dates.format_time(value, format, tzinfo=tz, locale=self.locale)

    def weekday(self, index: int, width: str = "wide") -> str:
        """The weekday's name, Monday = 0 as in `datetime.weekday()`."""
        return str(self.locale.days["format"][width][index])

    def number(self, value: float) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def join(self, items: Iterable[str], style: ListStyle = "standard") -> str:
        """`a, b and c` / `a, b y c` / `a, b und c`."""
        values = list(items)
        return lists.format_list(values, style=style, locale=self.locale) if values else ""

    def __repr__(self) -> str:
        return f"Texts({self.code!r})"


def texts(*candidates: str | None) -> Texts:
    """The texts for the first language Peerboard has among the candidates (Discord locales
    or catalog codes, most preferred first), else English."""
    return _texts(choose(*candidates))


@functools.cache
def _texts(code: str) -> Texts:
    return Texts(code)
