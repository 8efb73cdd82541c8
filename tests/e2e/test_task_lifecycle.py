"""/task happy paths end to end: every SPEC §2 transition as members drive it, the card
edited in place, the task's thread, the announcements, and /task history."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, card_of, field, make_world, said
from tests.e2e.helpers import (
    claimed,
    create,
    in_review,
    refused,
    requests_to,
    status,
    stored,
    thread_lines,
    thread_of,
)


def buttons(message: Any) -> list[str]:
    return [c.label for row in message.components for c in row.children]


# -- create, show --------------------------------------------------------------------------


async def test_create_posts_a_card_with_a_thread_and_confirms_privately(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general,
        "task create",
        title="Translate   the FAQ",
        description="Into *Spanish*; see the glossary.",
        points=5,
        tags="Docs, good first, docs",
        due="in 3 days",
    )
    assert r.ephemeral
    text = said(r)
    assert text.startswith("Created **#1 · Translate the FAQ** (5 points). Its card is in ")
    card = card_of(w.tasks, 1)
    assert card.jump_url in text
    embed = card.embeds[0]
    assert embed.title == "#1 · Translate the FAQ"  # whitespace folded
    assert embed.description == "Into \\*Spanish\\*; see the glossary."  # member markdown escaped
    assert field(card, "Status") == "🟢 Open"
    assert field(card, "Points") == "5"
    assert field(card, "Tags") == "`docs` `good first`"
    assert field(card, "Claimed by") == "Nobody yet"
    due = w.env.now().replace(hour=23, minute=59).timestamp() + 3 * 86400
    assert field(card, "Due") == f"<t:{int(due)}:f> (<t:{int(due)}:R>)"
    assert buttons(card) == ["Claim"]
    [thread] = w.tasks.threads
    assert thread.name == "#1 Translate the FAQ"
    assert thread.id == card.id


async def test_without_a_tasks_channel_the_card_is_posted_where_the_command_ran(
    simcord_env: Any,
) -> None:
    w = await make_world(simcord_env, configure=False)
    r = await w.maint.slash(w.general, "task create", title="Sort the photos")
    assert not r.ephemeral  # the card itself, in public
    assert said(r) == "Created **#1 · Sort the photos** (1 point)."
    card = r.response
    assert card.embeds[0].title == "#1 · Sort the photos"
    click = await w.alice.click(card, label="Claim")
    assert "You claimed **#1 · Sort the photos**" in said(click)
    # Later changes, made anywhere, edit that same message in place.
    r = await w.alice.slash(w.general, "task release", task="1")
    assert said(r).startswith("You released **#1")
    now = card_of(w.general, 1)
    assert now.id == card.id
    assert field(now, "Status") == "🟢 Open"


async def test_show_gives_the_card_privately_with_its_buttons(world: World) -> None:
    w = world
    await create(w, "Write release notes", points=2)
    r = await w.bob.slash(w.general, "task show", task="#1")
    assert r.ephemeral
    assert r.response.embeds[0].title == "#1 · Write release notes"
    assert buttons(r.response.message) == ["Claim"]
    # The private card works like the public one, and the public one follows.
    click = await w.bob.click(r.response, label="Claim")
    assert "You claimed" in said(click)
    assert status(w, 1) == "🔵 Claimed"


# -- claim, release, extend ----------------------------------------------------------------


async def test_claim_from_the_card_edits_it_in_place_and_notes_it_in_the_thread(
    world: World,
) -> None:
    w = world
    await create(w, "Fix the footer", points=3)
    before = card_of(w.tasks, 1)
    r = await w.alice.click(before, label="Claim")
    assert r.response.id == before.id  # the card itself was updated
    [confirmation] = r.followups
    assert confirmation.ephemeral
    expires = int(w.env.now().timestamp()) + 7 * 86400  # 3 points: a 7-day window
    assert confirmation.content == (
        f"You claimed **#1 · Fix the footer**. Your claim runs until <t:{expires}:f> "
        f"(<t:{expires}:R>); use `/task extend` if you need more time."
    )
    card = card_of(w.tasks, 1)
    assert card.id == before.id
    assert field(card, "Status") == "🔵 Claimed"
    assert field(card, "Claimed by") == f"<@{w.alice.id}> · claim ends <t:{expires}:R>"
    assert buttons(card) == ["Release", "Submit"]
    assert thread_lines(w, 1) == [f"<@{w.alice.id}> claimed this task."]


async def test_release_with_a_note_hands_it_to_the_next_claimer(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    r = await w.alice.slash(
        w.general, "task release", task="1", note="Halfway: the *wip-footer* branch has it"
    )
    assert r.ephemeral
    assert said(r) == (
        "You released **#1 · Fix the footer** — thanks for letting someone else pick it up."
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert field(card, "Claimed by") == "Nobody yet"
    note = "Halfway: the \\*wip-footer\\* branch has it"
    # Shown before claiming: on the card and in /task show ...
    assert field(card, "Note from the last holder") == note
    shown = await w.bob.slash(w.general, "task show", task="1")
    assert field(shown.response.message, "Note from the last holder") == note
    # ... and again to whoever claims it.
    r = await w.bob.slash(w.general, "task claim", task="1")
    assert said(r).endswith(f"\n> Note from the last holder: {note}")
    assert field(card_of(w.tasks, 1), "Note from the last holder") is None
    assert thread_lines(w, 1)[1] == f"<@{w.alice.id}> released this task; it's back on the board."


async def test_release_button_asks_for_an_optional_note(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, 1), label="Release")
    assert shown.modal is not None and shown.modal["title"] == "Release #1"
    done = await w.alice.submit_modal(shown, {})
    assert "You released **#1" in said(done)
    assert field(card_of(w.tasks, 1), "Note from the last holder") is None
    assert status(w, 1) == "🟢 Open"


async def test_extend_renews_the_claim_window(world: World) -> None:
    w = world
    await claimed(w, w.alice, points=1)  # a 3-day window
    await w.env.advance_time(2 * 86400)
    r = await w.alice.slash(w.general, "task extend", task="1")
    assert r.ephemeral
    expires = int(w.env.now().timestamp()) + 4 * 86400  # the day left, and 3 more
    assert said(r) == (
        f"Extended: your claim on **#1 · Fix the footer** now runs until "
        f"<t:{expires}:f> (<t:{expires}:R>)."
    )
    assert field(card_of(w.tasks, 1), "Claimed by") == (
        f"<@{w.alice.id}> · claim ends <t:{expires}:R>"
    )


# -- submit, review --------------------------------------------------------------------------


async def test_submit_sends_it_to_review_and_tells_the_reviewers(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    r = await w.alice.slash(
        w.general, "task submit", task="1", link="https://example.org/pr/7", notes="Ready"
    )
    assert r.ephemeral
    assert said(r) == (
        "Submitted **#1 · Fix the footer** for review — thank you! "
        f"I'm letting reviewers know in <#{w.review.id}>."
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟡 In review"
    assert field(card, "Approvals") == "0 of 1"
    assert field(card, "Submission") == "https://example.org/pr/7\nReady"
    assert buttons(card) == ["Approve", "Request changes"]
    announce = w.review.last_message
    assert announce.content == (
        f"<@&{w.reviewers.id}> 📬 **#1 · Fix the footer** is ready for review — "
        f"submitted by <@{w.alice.id}>."
    )
    [post] = requests_to(w.env, "POST", f"/channels/{w.review.id}/messages")
    # The reviewer role is pinged because the bot named it, and nothing else is.
    assert post.json["allowed_mentions"] == {"parse": [], "roles": [w.reviewers.id]}
    assert buttons(announce) == ["Approve", "Request changes"]


async def test_submit_without_evidence_asks_for_it_in_a_form(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    shown = await w.alice.slash(w.general, "task submit", task="1")
    assert shown.modal is not None
    assert shown.modal["title"] == "Submit #1 for review"
    done = await w.alice.submit_modal(shown, {"notes": "Tested on Firefox and Chrome"})
    assert "Submitted **#1" in said(done)
    assert field(card_of(w.tasks, 1), "Submission") == "Tested on Firefox and Chrome"


async def test_submit_button_opens_the_same_form(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, 1), label="Submit")
    done = await w.alice.submit_modal(shown, {"link": "https://example.org/pr/2"})
    assert "Submitted **#1" in said(done)
    assert status(w, 1) == "🟡 In review"


async def test_approve_marks_it_done_and_thanks_in_the_thread(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    r = await w.carol.slash(w.general, "task approve", task="1", comment="Lovely")
    assert r.ephemeral
    assert said(r) == "Approved **#1 · Fix the footer** — it's done! 🎉"
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "✅ Done"
    assert buttons(card) == []
    # The claimant hears of it (pinged, as a change request pings them), and only they.
    assert thread_lines(w, 1)[-1] == (
        f"<@{w.alice.id}> — <@{w.carol.id}> approved this — it's done! 🎉 Thank you for the work."
    )
    assert stored(w.env, thread_of(w, 1).last_message).ping_user_ids == [w.alice.id]


async def test_approve_from_the_review_post_updates_both_messages(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    announce = w.review.last_message
    r = await w.carol.click(announce, label="Approve")
    assert r.response.id == announce.id
    assert "it's done! 🎉" in said(r)
    assert field(w.review.last_message, "Status") == "✅ Done"
    assert status(w, 1) == "✅ Done"


async def test_two_required_approvals_need_two_reviewers(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    await in_review(w, w.alice)
    r = await w.carol.slash(w.general, "task approve", task="1")
    assert said(r) == "Approved **#1 · Fix the footer** (1 of 2 approvals)."
    assert field(card_of(w.tasks, 1), "Approvals") == "1 of 2"
    r = await w.maint.slash(w.general, "task approve", task="1")
    assert "it's done! 🎉" in said(r)
    assert status(w, 1) == "✅ Done"


async def test_request_changes_pings_only_the_claimant_with_the_reason(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    r = await w.carol.slash(
        w.general, "task request-changes", task="1", reason="Please add a test @everyone"
    )
    assert r.ephemeral
    assert said(r) == (
        "Asked for changes on **#1 · Fix the footer**; I'm letting the claimant know in "
        "the task's thread."
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🔵 Claimed"
    assert buttons(card) == ["Release", "Submit"]
    thread = next(t for t in w.tasks.threads if t.name.startswith("#1 "))
    line = thread.last_message
    # The card no longer shows the review, so the line carries the reason (defused).
    assert line.content == (
        f"<@{w.alice.id}> — <@{w.carol.id}> asked for changes:\n> Please add a test @\u200beveryone"
    )
    [post] = [
        e
        for e in requests_to(w.env, "POST", f"/channels/{thread.id}/messages")
        if "asked for changes" in e.json["content"]
    ]
    assert post.json["allowed_mentions"] == {"parse": [], "users": [w.alice.id]}
    record = stored(w.env, line)
    assert record.ping_user_ids == [w.alice.id]  # not carol, though her name is in the line
    assert record.ping_role_ids == [] and not record.mention_everyone
    # The claim window starts again for the rework.
    expires = int(w.env.now().timestamp()) + 3 * 86400
    assert field(card, "Claimed by") == f"<@{w.alice.id}> · claim ends <t:{expires}:R>"


async def test_request_changes_button_asks_for_the_reason(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    shown = await w.carol.click(card_of(w.tasks, 1), label="Request changes")
    assert shown.modal is not None and shown.modal["title"] == "Request changes on #1"
    done = await w.carol.submit_modal(shown, {"reason": "Typo in line 3"})
    assert "Asked for changes on **#1" in said(done)
    assert status(w, 1) == "🔵 Claimed"


async def test_a_third_round_of_changes_asks_maintainers_to_step_in(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config roles", maintainer=w.maintainers)
    await in_review(w, w.alice)
    for round_ in range(1, 4):
        r = await w.carol.slash(
            w.general, "task request-changes", task="1", reason=f"Round {round_}"
        )
        if round_ < 3:
            await w.alice.slash(w.general, "task submit", task="1", notes=f"Fixed {round_}")
    assert "maintainers were asked to step in" in said(r)
    last = w.review.last_message
    assert last.content.startswith(f"<@&{w.maintainers.id}> 🧭 **#1 · Fix the footer** has been")
    [post] = [
        e
        for e in requests_to(w.env, "POST", f"/channels/{w.review.id}/messages")
        if "🧭" in e.json["content"]
    ]
    assert post.json["allowed_mentions"] == {"parse": [], "roles": [w.maintainers.id]}


# -- maintaining -----------------------------------------------------------------------------


async def test_assign_claims_for_a_member_and_tells_them(world: World) -> None:
    w = world
    await create(w, "Update the map")
    r = await w.maint.slash(w.general, "task assign", task="1", member=w.bob)
    assert r.ephemeral
    assert said(r) == f"Assigned **#1 · Update the map** to <@{w.bob.id}>."
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🔵 Claimed"
    assert (field(card, "Claimed by") or "").startswith(f"<@{w.bob.id}> · claim ends")
    thread = next(t for t in w.tasks.threads if t.name.startswith("#1 "))
    line = thread.last_message
    assert line.content == f"<@{w.maint.id}> assigned this to <@{w.bob.id}>."
    assert stored(w.env, line).ping_user_ids == [w.bob.id]  # the assignee hears of it
    # It is bob's claim now: he can submit it.
    r = await w.bob.slash(w.general, "task submit", task="1", notes="done")
    assert "Submitted" in said(r)


async def test_edit_changes_the_card_in_place(world: World) -> None:
    w = world
    await create(w, "Old title", due="in 2 days")
    await create(w, "Blocker")
    r = await w.maint.slash(
        w.general,
        "task edit",
        task="1",
        title="New title",
        description="More words",
        points=8,
        tags="infra",
        capacity=3,
        blocked_by="#2",
    )
    assert r.ephemeral
    assert said(r) == (
        "Updated **#1 · New title**: changed the title (now “New title”), the description, "
        "the points (now 8), the tags (now infra), the capacity (now 3) and the blocker (now #2)."
    )
    card = card_of(w.tasks, 1)
    assert card.embeds[0].title == "#1 · New title"
    assert card.embeds[0].description == "More words"
    assert field(card, "Points") == "8"
    assert field(card, "Tags") == "`infra`"
    assert field(card, "Claimed by") == "3 spots open"
    assert field(card, "Blocked by") == "#2 (waiting)"
    assert field(card, "Due") is not None
    r = await w.maint.slash(w.general, "task edit", task="1", due="none", blocked_by="none")
    assert said(r) == "Updated **#1 · New title**: cleared the due date and the blocker."
    card = card_of(w.tasks, 1)
    assert field(card, "Due") is None and field(card, "Blocked by") is None
    # The thread says what changed; invite-url asks for no Manage Threads, so the rename
    # is refused and the thread is told the new title instead.
    assert thread_lines(w, 1) == [
        f"<@{w.maint.id}> changed the title (now “New title”), the description, the points "
        "(now 8), the tags (now infra), the capacity (now 3) and the blocker (now #2).",
        "📝 This task is now called “New title”.",
        f"<@{w.maint.id}> cleared the due date and the blocker.",
    ]


async def test_cancel_and_reopen(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    r = await w.maint.slash(w.general, "task cancel", task="1", reason="Duplicate of #7")
    assert r.ephemeral and said(r) == "Cancelled **#1 · Fix the footer**."
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "⚪ Cancelled"
    assert buttons(card) == []
    # alice's claim ended with it: she may claim something else.
    await create(w, "Another")
    assert "You claimed" in said(await w.alice.slash(w.general, "task claim", task="2"))
    r = await w.maint.slash(w.general, "task reopen", task="1")
    assert r.ephemeral and said(r) == "Reopened **#1 · Fix the footer**; it's back on the board."
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert field(card, "Claimed by") == "Nobody yet"
    assert buttons(card) == ["Claim"]
    assert thread_lines(w, 1)[-2:] == [
        # The reason is in the thread, and the claimant whose work it was hears of it.
        f"<@{w.alice.id}> — <@{w.maint.id}> cancelled this task:\n> Duplicate of #7",
        f"<@{w.maint.id}> reopened this task.",
    ]


async def test_a_done_task_can_be_reopened(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task approve", task="1")
    r = await w.maint.slash(w.general, "task reopen", task="1")
    assert "back on the board" in said(r)
    assert status(w, 1) == "🟢 Open"


# -- capacity, double clicks, dependencies ---------------------------------------------------


async def test_capacity_two_stays_open_until_both_slots_are_claimed(world: World) -> None:
    w = world
    await create(w, "Test the beta", capacity=2)
    card = card_of(w.tasks, 1)
    assert field(card, "Claimed by") == "2 spots open"
    await w.alice.click(card, label="Claim")
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert (field(card, "Claimed by") or "").endswith("\n1 spot open")
    assert "Claim" in buttons(card)
    r = await w.bob.click(card, label="Claim")
    assert "You claimed" in said(r)
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🔵 Claimed"
    claimed_by = field(card, "Claimed by") or ""
    assert f"<@{w.alice.id}>" in claimed_by and f"<@{w.bob.id}>" in claimed_by
    assert claimed_by.endswith("\nFull")
    assert "Claim" not in buttons(card)
    # Either holder can submit; the task then waits for review as one piece of work.
    r = await w.bob.slash(w.general, "task submit", task="1", notes="both parts")
    assert "Submitted" in said(r)


async def test_pressing_claim_twice_changes_nothing_the_second_time(world: World) -> None:
    w = world
    await create(w, "Test the beta", capacity=2)
    await w.alice.click(card_of(w.tasks, 1), label="Claim")
    card = card_of(w.tasks, 1)
    seen = len(w.env.http_requests)
    r = await w.alice.click(card, label="Claim")
    refused(r, "You already claimed #1.")
    # Nothing else was sent: no card edit, no thread line.
    calls = [e for e in w.env.http_requests[seen:] if e.method in ("POST", "PATCH", "PUT")]
    assert len(calls) == 1 and "/callback" in calls[0].path
    assert card_of(w.tasks, 1).embeds[0].to_dict() == card.embeds[0].to_dict()
    hist = await w.alice.slash(w.general, "task history", task="1")
    assert (hist.response.embeds[0].description or "").count("claimed") == 1


async def test_a_stale_claim_button_on_a_taken_task_explains_and_changes_nothing(
    world: World,
) -> None:
    w = world
    await create(w, "Fix the footer")
    stale = (await w.bob.slash(w.general, "task show", task="1")).response
    await w.alice.click(card_of(w.tasks, 1), label="Claim")
    r = await w.bob.click(stale, label="Claim")
    refused(r, "#1 was just taken — every spot is taken. Try /task list for another.")
    assert (field(card_of(w.tasks, 1), "Claimed by") or "").startswith(f"<@{w.alice.id}>")


async def test_finishing_a_blocker_unblocks_and_announces(world: World) -> None:
    w = world
    await create(w, "Design the schema")
    await create(w, "Write the migration", blocked_by="1")
    assert field(card_of(w.tasks, 2), "Blocked by") == "#1 (waiting)"
    refused(
        await w.bob.slash(w.general, "task claim", task="2"),
        "#2 is waiting on #1; it can be claimed once that is done.",
    )
    await w.alice.slash(w.general, "task claim", task="1")
    await w.alice.slash(w.general, "task submit", task="1", notes="schema.sql")
    await w.carol.slash(w.general, "task approve", task="1")
    assert w.tasks.last_message.content == (
        "🔓 **#2 · Write the migration** can be claimed now: #1 is done."
    )
    # The blocked task's own card follows.
    assert field(card_of(w.tasks, 2), "Blocked by") == "#1 (finished)"
    assert "You claimed **#2" in said(await w.bob.slash(w.general, "task claim", task="2"))


# -- proposals -------------------------------------------------------------------------------


async def test_a_proposal_opens_after_two_endorsements(world: World) -> None:
    w = world
    r = await w.alice.slash(
        w.general, "task propose", title="Add dark mode", description="Eyes!", tags="ui"
    )
    assert r.ephemeral
    assert said(r).startswith(
        "Proposed **#1 · Add dark mode**. It opens once 2 members endorse it, or after the "
        "proposal window if nobody objects. Its card is in "
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "💡 Proposed"
    assert field(card, "Proposal") == "0 of 2 endorsements"
    assert buttons(card) == ["Endorse", "Object"]
    r = await w.bob.click(card, label="Endorse")
    assert said(r) == "Endorsed **#1 · Add dark mode** (1 of 2)."
    assert field(card_of(w.tasks, 1), "Proposal") == "1 of 2 endorsements"
    r = await w.carol.slash(w.general, "task endorse", task="1")
    assert said(r) == "Endorsed **#1 · Add dark mode** — it's now open on the board."
    assert (
        w.tasks.last_message.content
        == "💡 Proposal **#1 · Add dark mode** is now open on the board."
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert buttons(card) == ["Claim"]


async def test_a_maintainers_endorsement_opens_a_proposal_at_once(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Add dark mode")
    r = await w.maint.slash(w.general, "task endorse", task="1")
    assert said(r) == "Endorsed **#1 · Add dark mode** — it's now open on the board."
    assert status(w, 1) == "🟢 Open"


async def test_an_objection_is_recorded_on_the_card(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    r = await w.bob.slash(w.general, "task object", task="1", reason="We have no Rust reviewers")
    assert r.ephemeral
    assert said(r) == (
        "Your objection to **#1 · Rewrite it in Rust** is recorded; a maintainer will decide."
    )
    assert field(card_of(w.tasks, 1), "Proposal") == (
        "0 of 2 endorsements · 1 objection (a maintainer decides)"
    )
    shown = await w.carol.click(card_of(w.tasks, 1), label="Object")
    assert shown.modal is not None and shown.modal["title"] == "Object to proposal #1"
    done = await w.carol.submit_modal(shown, {"reason": "Scope creep"})
    assert "objection" in said(done)
    assert field(card_of(w.tasks, 1), "Proposal") == (
        "0 of 2 endorsements · 2 objections (a maintainer decides)"
    )
    # A maintainer decides: here, against.
    r = await w.maint.slash(w.general, "task cancel", task="1", reason="Not now")
    assert status(w, 1) == "⚪ Cancelled"


async def test_a_proposer_may_withdraw_their_own_proposal(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Add dark mode")
    r = await w.alice.slash(w.general, "task cancel", task="1", reason="Changed my mind")
    assert said(r) == "Cancelled **#1 · Add dark mode**."


# -- history ---------------------------------------------------------------------------------


async def test_history_lists_every_action_in_order(world: World) -> None:
    w = world
    await create(w, "Fix the footer", points=2)
    await w.alice.slash(w.general, "task claim", task="1")
    await w.env.advance_time(3600)
    await w.alice.slash(w.general, "task extend", task="1")
    await w.alice.slash(w.general, "task release", task="1", note="see branch x")
    await w.maint.slash(w.general, "task assign", task="1", member=w.bob)
    await w.bob.slash(w.general, "task submit", task="1", link="https://example.org/1")
    await w.carol.slash(w.general, "task request-changes", task="1", reason="needs docs")
    await w.bob.slash(w.general, "task submit", task="1", notes="docs added")
    await w.carol.slash(w.general, "task approve", task="1", comment="thanks")
    await w.maint.slash(w.general, "task reopen", task="1")
    await w.maint.slash(w.general, "task edit", task="1", points=3)
    await w.maint.slash(w.general, "task cancel", task="1", reason="superseded")

    r = await w.bob.slash(w.general, "task history", task="1")
    assert r.ephemeral
    embed = r.response.embeds[0]
    assert embed.title == "History of #1 · Fix the footer"
    lines = (embed.description or "").split("\n")
    m, a, b, c = (f"<@{x.id}>" for x in (w.maint, w.alice, w.bob, w.carol))
    expected = [
        f"{m} created",
        f"{a} claimed (open → claimed)",
        f"{a} extended",
        f"{a} released (claimed → open) — see branch x",
        f"{m} assigned (open → claimed) — <@{w.bob.id}>",
        f"{b} submitted (claimed → in_review)",
        f"{c} asked for changes (in_review → claimed) — needs docs",
        f"{b} submitted (claimed → in_review)",
        f"{c} approved (in_review → done) — thanks",
        f"{m} reopened (done → open)",
        f"{m} edited — changed points",
        f"{m} cancelled (open → cancelled) — superseded",
    ]
    assert len(lines) == len(expected)
    for line, want in zip(lines, expected, strict=True):
        stamp, rest = line.split(" ", 1)
        assert stamp.startswith("<t:") and stamp.endswith(":R>"), line
        assert rest == want


async def test_history_of_a_proposal(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Add dark mode")
    await w.bob.slash(w.general, "task object", task="1", reason="Needs a designer")
    await w.carol.slash(w.general, "task endorse", task="1")
    await w.maint.slash(w.general, "task endorse", task="1")
    r = await w.alice.slash(w.general, "task history", task="#1")
    lines = [line.split(" ", 1)[1] for line in (r.response.embeds[0].description or "").split("\n")]
    assert lines == [
        f"<@{w.alice.id}> proposed",
        f"<@{w.bob.id}> objected — Needs a designer",
        f"<@{w.carol.id}> endorsed",
        f"<@{w.maint.id}> endorsed (proposed → open)",
    ]


# -- mention safety --------------------------------------------------------------------------


async def test_a_title_with_everyone_and_a_role_mention_pings_nobody(world: World) -> None:
    w = world
    role = f"<@&{w.reviewers.id}>"
    title = f"Hi @everyone and @here and {role}"
    r = await w.maint.slash(w.general, "task create", title=title, tags="@everyone")
    # The member sees the text, defused (a zero-width space after "@").
    text = said(r)
    assert "Hi @\u200beveryone and @\u200bhere and <@\u200b&" in text
    assert stored(w.env, r.response).mention_everyone is False
    await w.alice.slash(w.general, "task claim", task="1")
    await w.alice.slash(w.general, "task submit", task="1", notes=f"@everyone look {role}")
    await w.alice.slash(w.general, "task history", task="1")
    await w.carol.slash(w.general, "task request-changes", task="1", reason=f"{role} @here")
    # Nothing any channel holds pings everyone, or a role the bot did not mean to ping.
    for channel in (w.tasks, w.review, w.general, *w.tasks.threads):
        for message in channel.history():
            record = stored(w.env, message)
            assert not record.mention_everyone, message.content
            assert set(record.ping_role_ids) <= {w.reviewers.id}, message.content
            if w.reviewers.id in record.ping_role_ids:  # only the bot's own review call
                assert message.content.startswith(f"<@&{w.reviewers.id}> 📬")


async def test_a_proposer_may_edit_their_own_proposal(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Add dark mode")
    r = await w.alice.slash(w.general, "task edit", task="1", title="Add a dark theme", points=3)
    assert said(r) == (
        "Updated **#1 · Add a dark theme**: changed the title (now “Add a dark theme”) "
        "and the points (now 3)."
    )
    card = card_of(w.tasks, 1)
    assert card.embeds[0].title == "#1 · Add a dark theme"
    assert field(card, "Points") == "3"
