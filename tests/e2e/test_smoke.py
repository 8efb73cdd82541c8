from __future__ import annotations

from tests.e2e.conftest import World, card_of, field, said


async def test_create_claim_submit_approve(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general, "task create", title="Translate the FAQ", points=3, tags="docs"
    )
    assert r.ephemeral and "Created **#1" in said(r)
    card = card_of(w.tasks, 1)
    assert card.embeds[0].title == "#1 · Translate the FAQ"
    [thread] = w.tasks.threads
    r = await w.alice.click(card, label="Claim")
    assert "You claimed" in said(r)
    assert field(card_of(w.tasks, 1), "Status") == "🔵 Claimed"
    shown = await w.alice.click(card_of(w.tasks, 1), label="Submit")
    done = await w.alice.submit_modal(shown, {"link": "https://example.org/pr/1", "notes": "ready"})
    assert "Submitted" in said(done)
    announce = w.review.last_message
    assert "ready for review" in announce.content
    await w.carol.click(announce, label="Approve")
    assert field(card_of(w.tasks, 1), "Status") == "✅ Done"
    assert any("approved" in m.content for m in thread.history())
