"""Is a text in the reader's language? Checks built from Peerboard's own catalogs
(bot/locale/<code>/LC_MESSAGES/peerboard.po), so they follow the catalogs as they grow.

- English left in (`Language.english_in`): for every message whose translation differs
  from its English, the English is split on its `{placeholders}`; each literal piece of
  at least `ENGLISH_MIN` characters that occurs in no translation of the catalog is a sign
  of English. A text holding one was (partly) not translated. An untranslated or fuzzy
  message (whose English the bot shows) counts as translated differently; pieces with no
  words besides code spans, addresses and mentions (`/task list`) give nothing away.
- The language itself (`Language.native_in`): the pieces of the translations, split the
  same way, of at least `NATIVE_MIN` characters that occur (in any case) in no English
  message of the catalog. A text in the language holds at least one.
- Plurals (`Language.wrong_plurals`): each form of each plural message, as a pattern
  (`{n}` a number); a number shown with a form the language's plural rule does not pick
  for it ("1 Aufgaben", "2 Aufgabe") is wrong, and so is a number with an English form
  the language does not share ("3 points"): a count is too short for the first check.

`WrongLanguage` is what a failed check raises: a test can tell it from a failure of its
own set-up (`pytest.mark.xfail(raises=WrongLanguage)`).
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from babel.messages import pofile
from babel.messages.catalog import Catalog

from bot import i18n

ENGLISH_MIN: Final = 12  # characters of an English piece that give English away
NATIVE_MIN: Final = 5  # characters of a translated piece that show the language
PLACEHOLDER: Final = re.compile(r"\{[^{}]*\}")
# What stays as it is in every language: code spans (`/task claim`), addresses, mentions.
UNTRANSLATED: Final = re.compile(r"`[^`]*`|https?://\S+|<[@#&!:a-zA-Z0-9]+>")
NUMBER: Final = r"(?<![\w.,])(\d+)"


class WrongLanguage(AssertionError):
    """A text is not (wholly) in the language its reader should get."""


def pieces(message: str, minimum: int) -> list[str]:
    """The literal parts of a message between its placeholders, stripped, of at least
    `minimum` characters."""
    found = (part.strip() for part in PLACEHOLDER.split(message))
    return [part for part in found if len(part) >= minimum]


def wordy(piece: str) -> bool:
    """Whether a piece has words of its own, beside code spans, addresses and mentions."""
    return re.search(r"[^\W\d_]{2,}", UNTRANSLATED.sub(" ", piece)) is not None


def forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """A catalog entry's id or string as its forms (one, or one per plural form)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if v]


@dataclass(frozen=True)
class Plural:
    """One plural message: its English forms and the language's, in the catalog's order."""

    english: tuple[str, ...]
    native: tuple[str, ...]


def form_pattern(form: str) -> re.Pattern[str]:
    """`{n} Aufgabe` → the form with any number for `{n}`, as a whole word."""
    parts = [re.escape(p) for p in re.split(r"\{n\}", form)]
    pattern = NUMBER.join(parts)
    if re.match(r"\w", form[-1:]):
        pattern += r"(?![\w-])"
    if re.match(r"\w", form[:1]):
        pattern = r"(?<!\w)" + pattern
    return re.compile(pattern)


@dataclass(frozen=True)
class Language:
    """What the catalog of one language says about texts meant to be in it."""

    code: str
    english: Mapping[str, str]  # English piece -> the English message it comes from
    native: frozenset[str]
    plurals: tuple[Plural, ...]
    plural_index: Callable[[int], int]

    @classmethod
    def of(cls, code: str) -> Language:
        """The language's catalog as shipped (bot/locale)."""
        return _language(code)

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> Language:
        entries = [m for m in catalog if m.id]  # the header has none
        # A fuzzy translation is never shown (bot.i18n.compiled): the English is.
        used = {id(m): [] if m.fuzzy else forms(m.string) for m in entries}
        translated = [s for m in entries for s in used[id(m)]]
        english_ids = [e for m in entries for e in forms(m.id)]
        english: dict[str, str] = {}
        plurals: list[Plural] = []
        for message in entries:
            ids, strings = forms(message.id), used[id(message)]
            if strings == ids[: len(strings)] and len(strings) == len(ids):
                continue  # the translation is the English itself: nothing to tell apart
            for source in ids:
                for piece in pieces(source, ENGLISH_MIN):
                    if wordy(piece) and not any(piece in s for s in translated):
                        english.setdefault(piece, source)
            if message.pluralizable and strings:
                plurals.append(Plural(tuple(ids), tuple(strings)))
        lowered = [e.lower() for e in english_ids]
        native = frozenset(
            piece
            for s in translated
            for piece in pieces(s, NATIVE_MIN)
            if wordy(piece) and not any(piece.lower() in e for e in lowered)
        )
        rule = catalog.plural_expr if catalog.num_plurals > 1 else "0"
        return cls(
            str(catalog.locale or ""),
            english,
            native,
            tuple(plurals),
            gettext.c2py(rule),
        )

    def english_in(self, text: str) -> list[str]:
        """The English pieces (of translated messages) found in the text."""
        return sorted(piece for piece in self.english if piece in text)

    def native_in(self, text: str) -> list[str]:
        return sorted(piece for piece in self.native if piece in text)

    def problems(self, text: str, where: str) -> list[str]:
        """What is wrong with `text` as a text in this language (none: it is)."""
        if not text.strip():
            return [f"{where}: empty"]
        found = [
            f"{where}: English {piece!r} (of {self.english[piece]!r})"
            for piece in self.english_in(text)
        ]
        found += [f"{where}: plural {p}" for p in self.wrong_plurals(text)]
        if not self.native_in(text):
            found.append(f"{where}: nothing of the {self.code} catalog in {clip(text)!r}")
        return found

    def wrong_plurals(self, text: str) -> list[str]:
        """Numbers shown with a plural form the language does not use for them; and
        English plural forms (that the language does not share) with a number."""
        found: list[str] = []
        for plural in self.plurals:
            if len(set(plural.native)) > 1:
                for index, form in enumerate(plural.native):
                    for match in form_pattern(form).finditer(text):
                        n = int(match.group(1))
                        if self.plural_index(n) != index:
                            found.append(f"{match.group(0)!r}: {n} takes {self.form(plural, n)!r}")
            for form in plural.english:
                if form in plural.native:
                    continue
                for match in form_pattern(form).finditer(text):
                    found.append(f"{match.group(0)!r} is English")
        return found

    def plural_matches(self, text: str) -> list[tuple[int, int]]:
        """(number, form index) of every number shown with a form of a plural message."""
        return [
            (int(m.group(1)), index)
            for plural in self.plurals
            if len(set(plural.native)) > 1
            for index, form in enumerate(plural.native)
            for m in form_pattern(form).finditer(text)
        ]

    def form(self, plural: Plural, n: int) -> str:
        index = min(self.plural_index(n), len(plural.native) - 1)
        return plural.native[index]


@functools.cache
def _language(code: str) -> Language:
    with i18n.catalog_path(code).open("rb") as source:
        return Language.from_catalog(pofile.read_po(source, locale=code, domain=i18n.DOMAIN))


def clip(text: str, size: int = 160) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# -- what a message shows ----------------------------------------------------------------


def _embed_texts(embed: Mapping[str, Any]) -> Iterator[str]:
    yield embed.get("title") or ""
    yield embed.get("description") or ""
    for item in embed.get("fields") or []:
        yield item.get("name") or ""
        yield item.get("value") or ""
    yield (embed.get("footer") or {}).get("text") or ""
    yield (embed.get("author") or {}).get("name") or ""


def _component_texts(components: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for component in components:
        yield component.get("label") or ""
        yield component.get("placeholder") or ""
        yield component.get("content") or ""  # text display components
        for option in component.get("options") or []:
            yield option.get("label") or ""
            yield option.get("description") or ""
        yield from _component_texts(component.get("components") or [])


def shown(body: Mapping[str, Any] | None) -> str:
    """Everything a message (a REST body or a message object) shows a reader: its content,
    its embeds' words and its components' labels, one per line."""
    if not body:
        return ""
    texts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        texts.extend(_embed_texts(embed))
    texts.extend(_component_texts(body.get("components") or []))
    if body.get("title"):  # a modal
        texts.append(str(body["title"]))
    return "\n".join(t for t in texts if t)


def check(language: Language, texts: Iterable[tuple[str, str]]) -> None:
    """Each (where, text) wholly in the language, or WrongLanguage naming every problem."""
    problems = [p for where, text in texts for p in language.problems(text, where)]
    if problems:
        raise WrongLanguage(f"not in {language.code}:\n" + "\n".join(problems))
