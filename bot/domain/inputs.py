"""What members type, read one way everywhere: task numbers, times of day, and text.

- Task numbers are ASCII digits with an optional leading '#', from 1 to `TASK_NUMBER_MAX`
  (`str.isdigit()` also accepts "²" and "①", and `int()` reads "٠٧" as 7: neither is a
  number a member sees on a card).
- Times are HH:MM in ASCII digits, 24-hour.
- Text loses what no member means to send and some databases refuse (NUL and the other
  control characters, bidi overrides and isolates, zero-width spaces, fillers that look
  blank); text with nothing visible left counts as empty.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import time
from typing import Final
from urllib.parse import urlsplit

from bot.domain.errors import InvalidInput, Number

# Custom ids hold at most 9 digits of a task number, and PostgreSQL's INTEGER column holds
# up to 2,147,483,647: no guild can have a task past this one.
TASK_NUMBER_MAX: Final = 999_999_999

_NUMBER: Final = re.compile(r"#?\s*([0-9]+)", re.ASCII)
_TIME: Final = re.compile(r"([0-9]{1,2}):([0-9]{2})", re.ASCII)

# Removed wherever they are: NUL and the C0/C1 controls (tab and newline are kept), bidi
# embeddings, overrides and isolates, zero-width space, word joiner, BOM, the Mongolian
# vowel separator, the characters that render as a blank (Hangul fillers, the braille
# blank), and lone surrogates (no encoder takes them). Zero-width joiners and LRM/RLM stay
# inside text: emoji sequences and right-to-left writing need them; alone they are nothing.
_STRIP: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\u200b\u2060\ufeff\u180e\u3164\u115f\u1160\uffa0\u2800\ud800-\udfff]"
)
# Characters that show nothing on their own: variation selectors, the combining grapheme
# joiner, and any format character (category Cf) such as ZWJ, LRM, RLM or a soft hyphen.
_NOTHING: Final = re.compile("[\ufe00-\ufe0f\u034f\U000e0100-\U000e01ef]")
_LINK_FORBIDDEN: Final = re.compile(r"[\s<>\[\]`|]")
_MASKED: Final = re.compile(r"\[[^\]]*\]\((\S+?)\)")


def clean_text(value: str | None) -> str:
    """Member text without the characters above, trimmed; "" if nothing visible is left."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _STRIP.sub("", text).strip()
    return text if has_visible(text) else ""


def clean_line(value: str | None) -> str:
    """`clean_text` on one line: every run of whitespace (newlines too) is one space."""
    return " ".join(clean_text(value).split())


def has_visible(text: str) -> bool:
    return any(
        not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc")
        for ch in _NOTHING.sub("", text)
    )


def parse_task_number(raw: str | int) -> int:
    """12, "12", "#12" (what autocomplete sends, or a member types) as a task number."""
    if isinstance(raw, bool):
        raise InvalidInput("That is not a task number — use one like 12 or #12.")
    if isinstance(raw, int):
        number = raw
    else:
        text = clean_line(raw)
        match = _NUMBER.fullmatch(text)
        if match is None:
            if not text:
                raise InvalidInput("That is not a task number — use one like 12 or #12.")
            raise InvalidInput(
                "“{shown}” is not a task number — use one like 12 or #12.", shown=text[:40]
            )
        digits = match[1].lstrip("0") or "0"
        if len(digits) > len(str(TASK_NUMBER_MAX)):  # int() of 5,000 digits raises
            raise _too_big()
        number = int(digits)
    if number < 1:
        raise InvalidInput("Task numbers start at 1.")
    if number > TASK_NUMBER_MAX:
        raise _too_big()
    return number


def _too_big() -> InvalidInput:
    return InvalidInput(
        "No task has a number that large (they go up to {most}). Try /task list.",
        most=Number(TASK_NUMBER_MAX),
    )


def typed_number(query: str) -> str | None:
    """What autocomplete was typed, as the digits of a task number (or of its start);
    None when it is words, to be matched against titles."""
    match = _NUMBER.fullmatch(clean_line(query))
    return match[1] if match else None


def parse_time(raw: str) -> time:
    """HH:MM, 24-hour, ASCII digits: "17:00", "7:05"."""
    match = _TIME.fullmatch(clean_line(raw))
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("Time must be HH:MM in 24-hour form, like 17:00.")
    return time(int(match[1]), int(match[2]))


def format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def clean_link(raw: str | None) -> str:
    """A submission link: one http(s) URL, shown as written. A Markdown masked link
    `[text](url)` is taken as its URL, so the text can't pretend to be somewhere else."""
    text = clean_line(raw)
    if not text:
        return ""
    masked = _MASKED.fullmatch(text)
    if masked is not None:
        text = masked[1]
    if _LINK_FORBIDDEN.search(text):
        raise InvalidInput(
            "The link should be one web address, like {example} — put anything else in the notes.",
            example="https://example.org/pr/12",
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInput("The link should start with http:// or https://.")
    return text
