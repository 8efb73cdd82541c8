"""The one error path: a refusal is an answer, an unexpected error is a reference the
member can quote, whether it came from a command or a card's button."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.bootstrap import Runtime
from bot.ui.errors import ComponentError
from tests.e2e.conftest import World, card_of, said
from tests.e2e.helpers import create

REF = re.compile(r"^Something went wrong on our side \(ref [0-9A-F]{6}\)\. ")


def broken(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("the database caught fire")


async def test_an_unexpected_error_behind_a_button_answers_with_a_reference(
    world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    monkeypatch.setattr(runtime.services.tasks, "claim", broken)
    r = await w.alice.click(card_of(w.tasks, number), label="Claim")
    assert r.ephemeral and REF.match(said(r)), said(r)
    # Handed to the tree's handler like a command's error, so it is logged and seen.
    errors = w.env.errors
    assert len(errors) == 1 and isinstance(errors[0], ComponentError)
    assert str(errors[0].original) == "the database caught fire"


async def test_an_unexpected_error_behind_a_command_answers_with_a_reference(
    world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    monkeypatch.setattr(runtime.services.tasks, "claim", broken)
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert r.ephemeral and REF.match(said(r)), said(r)
    errors = w.env.errors
    assert len(errors) == 1 and "the database caught fire" in str(errors[0])


async def test_a_refusal_behind_a_button_is_an_answer_not_an_error(world: World) -> None:
    w = world
    number = await create(w, "Fix the footer")
    r = await w.alice.click(card_of(w.tasks, number), label="Claim")
    assert "You claimed" in said(r)
    r = await w.bob.click(card_of(w.tasks, number), label="Submit")
    assert r.ephemeral and said(r) == f"You haven't claimed #{number}."
    assert w.env.errors == []
