"""/me away (SPEC §5): what the reply promises is what the bot does."""

from __future__ import annotations

from tests.e2e.conftest import World, said


async def test_coming_back_with_reminders_off_does_not_say_they_are_on(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "me reminders", enabled=False)
    await w.alice.slash(w.general, "me away", until="in 3 days")
    r = await w.alice.slash(w.general, "me away")
    text = said(r)
    assert r.ephemeral
    assert "Reminders are on again" not in text
    assert "Welcome back" in text and "reminders are still off" in text
    assert "/me reminders" in text


async def test_coming_back_with_reminders_on_says_they_are_on(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "me away", until="in 3 days")
    r = await w.alice.slash(w.general, "me away")
    assert said(r) == "Welcome back! Reminders are on again."


async def test_a_reviewer_going_away_is_told_what_still_reaches_them(world: World) -> None:
    """Review calls ping the reviewer role; Discord can't leave one member out of a role
    ping (and listing the role's members needs a privileged intent): say so, and how to
    get quiet, rather than promise it."""
    w = world
    r = await w.carol.slash(w.general, "me away", until="in 3 days")
    text = said(r)
    assert "no reminders until" in text
    assert f"<@&{w.reviewers.id}>" in text and f"<#{w.review.id}>" in text
    assert "mute" in text
    # A member without the role hears nothing about role pings.
    r = await w.alice.slash(w.general, "me away", until="in 3 days")
    assert f"<@&{w.reviewers.id}>" not in said(r)
