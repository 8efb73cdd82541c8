"""An objection holds a proposal until a maintainer decides (SPEC §2), and the maintainers
hear, once, that a decision waits for them (issue 13, bug 10)."""

from __future__ import annotations

from typing import Any

from bot.app import PeerBot
from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import refused, requests_to, status

HOUR = 3600


def review_posts(w: World) -> list[Any]:
    return [m for m in w.review.history() if "objection" in m.content]


async def test_an_objected_proposal_does_not_open_on_endorsements(world: World) -> None:
    w = world
    dan = w.guild.add_member(w.env.create_user("dan"))
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    await w.bob.slash(w.general, "task object", task="1", reason="We have no Rust reviewers")
    r = await w.carol.slash(w.general, "task endorse", task="1")
    assert said(r) == (
        "Endorsed **#1 · Rewrite it in Rust** (1 of 2). It has an objection, so a maintainer "
        "decides whether it opens."
    )
    r = await dan.slash(w.general, "task endorse", task="1")
    assert said(r) == (
        "Endorsed **#1 · Rewrite it in Rust** (2 of 2). It has an objection, so a maintainer "
        "decides whether it opens."
    )
    assert status(w, 1) == "💡 Proposed"
    assert field(card_of(w.tasks, 1), "Proposal") == (
        "2 of 2 endorsements · 1 objection (a maintainer decides)"
    )
    # A maintainer's endorsement is their decision: it opens.
    r = await w.maint.slash(w.general, "task endorse", task="1")
    assert said(r) == "Endorsed **#1 · Rewrite it in Rust** — it's now open on the board."
    assert status(w, 1) == "🟢 Open"


async def test_maintainers_are_told_once_that_a_decision_waits(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await w.maint.slash(w.general, "config roles", maintainer=w.maintainers)
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    assert review_posts(w) == []
    await w.bob.slash(w.general, "task object", task="1", reason="We have no Rust reviewers")
    [post] = review_posts(w)
    assert post.content == (
        f"<@&{w.maintainers.id}> ✋ Proposal **#1 · Rewrite it in Rust** has an objection, so it "
        "waits for a maintainer: accept it with `/task endorse`, or `/task cancel` it."
    )
    assert post.embeds and post.embeds[0].footer.text == "Peerboard · task #1"
    [sent] = [e for e in requests_to(w.env, "POST", f"/channels/{w.review.id}/messages")]
    assert [int(r) for r in sent.json["allowed_mentions"]["roles"]] == [w.maintainers.id]
    assert sent.json["allowed_mentions"]["parse"] == []
    # A second objection, sweeps and the proposal window passing tell nobody again.
    await w.carol.slash(w.general, "task object", task="1", reason="Scope creep")
    await simcord_bot.run_sweep()
    await w.env.advance_time(80 * HOUR)
    await simcord_bot.run_sweep()
    assert len(review_posts(w)) == 1
    assert status(w, 1) == "💡 Proposed"  # the window passed; the objection still holds it


async def test_a_newcomer_cannot_flood_the_board_with_proposals(world: World) -> None:
    w = world
    for title in ("Dark mode", "Light mode"):
        r = await w.alice.slash(w.general, "task propose", title=title)
        assert said(r).startswith("Proposed **"), said(r)
    cards = [m.id for m in w.tasks.history() if m.embeds]
    r = await w.alice.slash(w.general, "task propose", title="Sepia mode")
    refused(
        r,
        "You have 2 proposals waiting to open, the most a newcomer can have at a time. Once "
        "one of them opens (or you withdraw one with /task cancel), you can propose another.",
    )
    assert [m.id for m in w.tasks.history() if m.embeds] == cards  # no card, no thread
    assert len(w.tasks.threads) == 2
    await w.alice.slash(w.general, "task cancel", task="1", reason="Changed my mind")
    r = await w.alice.slash(w.general, "task propose", title="Sepia mode")
    assert said(r).startswith("Proposed **#3 · Sepia mode**"), said(r)
