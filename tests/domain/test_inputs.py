"""The one reader of task numbers, times of day and member text (bot/domain/inputs.py)."""

from __future__ import annotations

from datetime import time

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.inputs import (
    TASK_NUMBER_MAX,
    clean_line,
    clean_link,
    clean_text,
    parse_task_number,
    parse_time,
    typed_number,
)


@pytest.mark.parametrize(
    ("raw", "number"), [("12", 12), ("#12", 12), (" #12 ", 12), ("# 7", 7), ("007", 7), (5, 5)]
)
def test_task_numbers_members_type(raw: str | int, number: int) -> None:
    assert parse_task_number(raw) == number


@pytest.mark.parametrize(
    "raw",
    ["²", "#²", "①", "٠٧", "1 000", "12 · Fix", "1e3", "-1", "+1", "0x1f", "", "#", "\u200b"],
)
def test_what_is_no_task_number(raw: str) -> None:
    with pytest.raises(InvalidInput, match="is not a task number"):
        parse_task_number(raw)


@pytest.mark.parametrize(
    "raw", [str(TASK_NUMBER_MAX + 1), "2147483648", "9223372036854775808", "9" * 5000]
)
def test_numbers_past_the_bound(raw: str) -> None:
    with pytest.raises(InvalidInput, match="that large"):
        parse_task_number(raw)
    assert parse_task_number(str(TASK_NUMBER_MAX)) == TASK_NUMBER_MAX
    assert TASK_NUMBER_MAX < 2**31  # PostgreSQL's INTEGER


def test_zero_and_bools() -> None:
    with pytest.raises(InvalidInput, match="start at 1"):
        parse_task_number("0")
    with pytest.raises(InvalidInput):
        parse_task_number(True)


def test_typed_number_for_autocomplete() -> None:
    assert typed_number("#12") == "12" and typed_number("012") == "012"
    assert typed_number("²") is None and typed_number("docs") is None


@pytest.mark.parametrize(
    ("raw", "at"), [("17:00", time(17)), ("7:05", time(7, 5)), ("00:00", time(0))]
)
def test_times(raw: str, at: time) -> None:
    assert parse_time(raw) == at


@pytest.mark.parametrize(
    "raw", ["1²:00", "٠٧:٠٥", "07:٠٥", "24:00", "12:60", "7:5", "7", "", "7:05pm"]
)
def test_bad_times(raw: str) -> None:
    with pytest.raises(InvalidInput, match="HH:MM"):
        parse_time(raw)


def test_clean_text() -> None:
    assert clean_text("a\x00b\u202ec\u2066d\u2069\u200b") == "abcd"
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text("\u200b\u200d\u200e\u3164\u115f\u1160\uffa0\u2800\ufe0f\u034f") == ""
    # Joiners stay inside emoji and right-to-left text; alone they are nothing.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_text(family) == family
    assert clean_text("שלום\u200f!") == "שלום\u200f!"
    assert clean_line(" a \n\t b ") == "a b"
    assert clean_text("a\ud800b\x7f\x85c") == "abc"  # lone surrogates and C1 controls


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://example.org/pr/1", "https://example.org/pr/1"),
        ("[Release notes](https://phish.example)", "https://phish.example"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("", ""),
    ],
)
def test_links(raw: str, url: str) -> None:
    assert clean_link(raw) == url


@pytest.mark.parametrize(
    "raw",
    [
        "https://a.example [x](https://phish.example)",
        "https://a.example/[x](https://phish.example)",
        "ftp://a.example",
        "https://",
        "<https://a.example>",
        "example.org",
    ],
)
def test_bad_links(raw: str) -> None:
    with pytest.raises(InvalidInput, match="link"):
        clean_link(raw)
