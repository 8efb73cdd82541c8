"""Recognition end to end: kudos, profile, leaderboard, ranking, milestone roles."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, card_of, said


async def complete(w: World, title: str, points: int, worker: Any, reviewer: Any) -> int:
    r = await w.maint.slash(w.general, "task create", title=title, points=points)
    number = int(said(r).split("**#", 1)[1].split(" ", 1)[0])
    await worker.slash(w.general, "task claim", task=str(number))
    await worker.slash(w.general, "task submit", task=str(number), link="https://example.org/done")
    await reviewer.slash(w.general, "task approve", task=str(number))
    return number


async def test_kudos_thanks_in_public_and_pings_only_the_receiver(world: World) -> None:
    w = world
    r = await w.alice.slash(
        w.general, "kudos", member=w.bob, reason="Great review @everyone <@&123>"
    )
    assert not r.ephemeral
    assert r.response.content.startswith(f"🙏 <@{w.bob.id}> — kudos from <@{w.alice.id}>")
    assert "@everyone" not in r.response.content.replace("@\u200beveryone", "")  # escaped
    callback = next(
        e
        for e in reversed(w.env.http_requests)
        if e.path.endswith("/callback") and e.json.get("type") == 4
    )
    assert callback.json["data"]["allowed_mentions"] == {"users": [w.bob.id], "parse": []}
    # The budget is counted over the last 7 days, as the refusal says; "1 more kudos" nowhere.
    assert r.followups[0].ephemeral
    assert r.followups[0].content == (
        "Thanks for noticing! You can give kudos 4 more times for now: "
        "the budget counts the last 7 days."
    )


async def test_kudos_refusals(world: World) -> None:
    w = world
    r = await w.alice.slash(w.general, "kudos", member=w.alice, reason="me")
    assert r.ephemeral and "yourself" in said(r)
    for i in range(5):
        await w.alice.slash(w.general, "kudos", member=w.bob, reason=f"thanks {i}")
    r = await w.alice.slash(w.general, "kudos", member=w.carol, reason="one too many")
    assert r.ephemeral and "5 kudos in the last 7 days" in said(r)
    assert "budget is 5 in any 7 days" in said(r) and "week" not in said(r)
    await w.env.advance_time(7 * 86400 + 1)
    r = await w.alice.slash(w.general, "kudos", member=w.carol, reason="a new week")
    assert not r.ephemeral


async def test_profile_and_leaderboard_read_the_ledger(world: World) -> None:
    w = world
    await complete(w, "Write docs", 5, w.alice, w.carol)
    await w.bob.slash(w.general, "kudos", member=w.alice, reason="Lovely docs")
    r = await w.alice.slash(w.general, "profile")
    embed = r.response.embeds[0]
    values = {f.name: f.value for f in embed.fields}
    assert r.ephemeral and values["Points"] == "5" and values["Tasks done"] == "1"
    assert values["Kudos received"] == "1" and values["Level"] == "🌿 Contributor"
    assert "regular" in values["Next level"]
    r = await w.alice.slash(w.general, "profile", member=w.carol)
    assert {f.name: f.value for f in r.response.embeds[0].fields}["Reviews given"] == "1"
    r = await w.bob.slash(w.general, "leaderboard", period="all", by="points")
    assert r.response.embeds[0].description.splitlines() == [
        f"🥇 <@{w.alice.id}> — 5 points",
        f"🥈 <@{w.carol.id}> — 1 point",
    ]
    await w.alice.slash(w.general, "me ranking", visible=False)
    r = await w.bob.slash(w.general, "leaderboard", period="all", by="points")
    assert f"<@{w.alice.id}>" not in r.response.embeds[0].description
    r = await w.alice.slash(w.general, "profile")
    assert {f.name: f.value for f in r.response.embeds[0].fields}["Points"] == "5"


async def test_milestone_role_granted_once(world: World, simcord_bot: Any) -> None:
    w = world
    helper = w.guild.create_role("Helper")
    r = await w.maint.slash(w.general, "config milestone", points=5, role=helper)
    assert "At 5 points" in said(r)
    await complete(w, "First big one", 8, w.alice, w.carol)
    member = await simcord_bot.get_guild(w.guild.id).fetch_member(w.alice.id)
    assert helper.id in [role.id for role in member.roles]
    adds = [e for e in w.env.http_requests if e.method == "PUT" and "/roles/" in e.path]
    await complete(w, "Second one", 3, w.alice, w.carol)
    assert [e for e in w.env.http_requests if e.method == "PUT" and "/roles/" in e.path] == adds


async def test_milestone_refusal_is_reported_once(world: World, simcord_bot: Any) -> None:
    w = world
    legend = w.guild.create_role("Legend", position=99)  # above the bot's own role
    await w.maint.slash(w.general, "config milestone", points=1, role=legend)
    await complete(w, "Tiny", 1, w.alice, w.carol)
    warning = [m for m in w.review.history() if "couldn't give" in m.content]
    assert len(warning) == 1 and f"<@&{legend.id}>" in warning[0].content
    member = await simcord_bot.get_guild(w.guild.id).fetch_member(w.alice.id)
    assert legend.id not in [role.id for role in member.roles]
    await complete(w, "Tiny again", 1, w.bob, w.carol)
    assert len([m for m in w.review.history() if "couldn't give" in m.content]) == 1
    assert card_of(w.tasks, 2).embeds  # the board kept working
