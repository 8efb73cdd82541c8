"""/task refusals end to end: each one reaches the member as an ephemeral message that says
what was wrong and how to put it right, and leaves the board exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
import simcord

from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, create, in_review, refused, status

CSV = b"title,points\nWrite the docs,2\n"


def history_count(w: World) -> int:
    return sum(1 for m in w.tasks.history() if m.embeds)


# -- who may do what -------------------------------------------------------------------------


async def test_members_cannot_create_tasks_but_are_pointed_to_propose(world: World) -> None:
    w = world
    r = await w.alice.slash(w.general, "task create", title="Fix the footer")
    refused(
        r,
        "Only maintainers can put tasks straight on the board. You can suggest one with "
        "/task propose.",
    )
    assert history_count(w) == 0


@pytest.mark.parametrize(
    ("command", "options", "message"),
    [
        ("task assign", {"member": "bob"}, "Only maintainers can assign tasks."),
        (
            "task edit",
            {"title": "Mine now"},
            "Only maintainers can edit tasks (proposers may edit their own proposals).",
        ),
        (
            "task cancel",
            {"reason": "I don't like it"},
            "Only maintainers can cancel tasks (proposers may withdraw their own proposals).",
        ),
    ],
)
async def test_maintainer_only_commands_refuse_members(
    world: World, command: str, options: dict[str, Any], message: str
) -> None:
    w = world
    await create(w, "Fix the footer")
    card = card_of(w.tasks, 1).embeds[0].to_dict()
    values = {k: getattr(w, v) if k == "member" else v for k, v in options.items()}
    r = await w.alice.slash(w.general, command, task="1", **values)
    refused(r, message)
    assert card_of(w.tasks, 1).embeds[0].to_dict() == card


async def test_members_cannot_reopen(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    await w.maint.slash(w.general, "task cancel", task="1", reason="dup")
    refused(
        await w.alice.slash(w.general, "task reopen", task="1"),
        "Only maintainers can reopen tasks.",
    )
    assert status(w, 1) == "⚪ Cancelled"


async def test_members_cannot_import(world: World) -> None:
    w = world
    r = await w.alice.slash(w.general, "task import", file=("tasks.csv", CSV))
    # Permission comes first, so nobody fixes a file they could never import.
    refused(r, "Only maintainers can put tasks straight on the board.")
    assert history_count(w) == 0


async def test_a_newcomer_holds_one_claim_at_a_time(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    await create(w, "Second task")
    r = await w.alice.click(card_of(w.tasks, 2), label="Claim")
    refused(
        r,
        "You can hold 1 task at a time as a newcomer, and you hold 1. Finish or release one "
        "first — the limit grows as your work is accepted.",
    )
    assert status(w, 2) == "🟢 Open"
    # Once her first task is accepted she is a contributor, with room for three.
    await w.alice.slash(w.general, "task submit", task="1", notes="done")
    await w.carol.slash(w.general, "task approve", task="1")
    assert "You claimed" in said(await w.alice.slash(w.general, "task claim", task="2"))


async def test_a_member_without_standing_cannot_review(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    r = await w.bob.slash(w.general, "task approve", task="1")
    refused(
        r,
        "Reviewing opens up once one of your own tasks is accepted (or with the reviewer role).",
    )
    assert status(w, 1) == "🟡 In review"


# -- own work --------------------------------------------------------------------------------


async def test_a_claimant_cannot_approve_their_own_work(world: World) -> None:
    w = world
    await in_review(w, w.carol)  # carol has the reviewer role, but this is her own work
    refused(
        await w.carol.slash(w.general, "task approve", task="1"),
        "You worked on #1, so someone else needs to review it.",
    )
    refused(
        await w.carol.click(card_of(w.tasks, 1), label="Approve"),
        "You worked on #1, so someone else needs to review it.",
    )
    assert status(w, 1) == "🟡 In review"


async def test_a_claimant_cannot_request_changes_on_their_own_work(world: World) -> None:
    w = world
    await in_review(w, w.carol)
    refused(
        await w.carol.slash(w.general, "task request-changes", task="1", reason="meh"),
        "You worked on #1, so someone else needs to review it.",
    )
    # The button says so before a form is filled in.
    r = await w.carol.click(card_of(w.tasks, 1), label="Request changes")
    assert r.modal is None
    refused(r, "You worked on #1, so someone else needs to review it.")
    assert status(w, 1) == "🟡 In review"


async def test_one_review_per_person(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task approve", task="1")
    refused(
        await w.carol.slash(w.general, "task approve", task="1"),
        "You already reviewed this submission of #1.",
    )
    assert field(card_of(w.tasks, 1), "Approvals") == "1 of 2"


async def test_only_a_claimant_can_release_extend_or_submit(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    for command, options in (
        ("task release", {}),
        ("task extend", {}),
        ("task submit", {"link": "https://example.org"}),
    ):
        r = await w.bob.slash(w.general, command, task="1", **options)
        refused(r, "You haven't claimed #1.")
    r = await w.bob.click(card_of(w.tasks, 1), label="Submit")
    assert r.modal is None
    refused(r, "You haven't claimed #1.")
    assert status(w, 1) == "🔵 Claimed"


# -- wrong state -----------------------------------------------------------------------------


async def test_approving_an_open_task_explains_its_state(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    refused(
        await w.carol.slash(w.general, "task approve", task="1"),
        "#1 isn't waiting for review: nothing has been submitted yet.",
    )
    refused(
        await w.carol.slash(w.general, "task request-changes", task="1", reason="x"),
        "#1 isn't waiting for review: nothing has been submitted yet.",
    )


async def test_claiming_a_done_task_explains_its_state(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task approve", task="1")
    refused(
        await w.bob.slash(w.general, "task claim", task="1"),
        "You can't claim #1: it is already done.",
    )
    refused(
        await w.maint.slash(w.general, "task cancel", task="1", reason="x"),
        "You can't cancel #1: it is already done.",
    )
    refused(
        await w.maint.slash(w.general, "task assign", task="1", member=w.bob),
        "You can't assign #1: it is already done.",
    )


async def test_other_wrong_states(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    refused(
        await w.maint.slash(w.general, "task reopen", task="1"),
        "#1 is still on the board; only done or cancelled tasks can be reopened.",
    )
    refused(
        await w.bob.slash(w.general, "task endorse", task="1"),
        "#1 is already on the board, so there's nothing to endorse: only proposals are "
        "endorsed or objected to.",
    )
    refused(
        await w.bob.slash(w.general, "task object", task="1", reason="no"),
        "#1 is already on the board, so there's nothing to object to: only proposals are "
        "endorsed or objected to.",
    )
    await w.alice.slash(w.general, "task propose", title="An idea")
    refused(
        await w.bob.slash(w.general, "task claim", task="2"),
        "You can't claim #2: it is still a proposal — it opens once endorsed.",
    )
    await w.maint.slash(w.general, "task cancel", task="1", reason="dup")
    refused(
        await w.maint.slash(w.general, "task cancel", task="1", reason="dup"),
        "#1 is already cancelled.",
    )


async def test_a_proposer_cannot_endorse_their_own_proposal_and_nobody_twice(
    world: World,
) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Add dark mode")
    refused(
        await w.alice.click(card_of(w.tasks, 1), label="Endorse"),
        "You proposed this task, so others decide whether it opens.",
    )
    await w.bob.slash(w.general, "task endorse", task="1")
    refused(await w.bob.slash(w.general, "task endorse", task="1"), "You already endorsed #1.")
    refused(
        await w.bob.slash(w.general, "task object", task="1", reason="changed my mind"),
        "You already endorsed #1.",
    )
    assert field(card_of(w.tasks, 1), "Proposal") == "1 of 2 endorsements"


async def test_extensions_run_out(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    for _ in range(2):
        assert "Extended" in said(await w.alice.slash(w.general, "task extend", task="1"))
        await w.env.advance_time(3 * 86400 + 1)  # less than a window left: worth extending
    refused(
        await w.alice.slash(w.general, "task extend", task="1"),
        "You've extended #1 2 times, the most allowed. If you need more time, ask a "
        "maintainer, or release it with a hand-off note.",
    )


# -- blocked ---------------------------------------------------------------------------------


async def test_a_blocked_task_cannot_be_claimed_or_assigned(world: World) -> None:
    w = world
    await create(w, "Design the schema")
    await create(w, "Write the migration", blocked_by="#1")
    refused(
        await w.alice.click(card_of(w.tasks, 2), label="Claim"),
        "#2 is waiting on #1; it can be claimed once that is done.",
    )
    refused(
        await w.maint.slash(w.general, "task assign", task="2", member=w.alice),
        "#2 is waiting on #1; assign it once that is done.",
    )
    assert status(w, 2) == "🟢 Open"


async def test_dependencies_cannot_loop(world: World) -> None:
    w = world
    await create(w, "A")
    await create(w, "B", blocked_by="1")
    refused(
        await w.maint.slash(w.general, "task edit", task="1", blocked_by="2"),
        "#2 already waits on #1; that would be a loop.",
    )
    refused(
        await w.maint.slash(w.general, "task edit", task="1", blocked_by="1"),
        "A task can't be blocked by itself.",
    )


# -- unknown task ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("task show", {}),
        ("task claim", {}),
        ("task history", {}),
        ("task approve", {}),
        ("task cancel", {"reason": "x"}),
        ("task release", {"note": "x"}),
        ("task submit", {"notes": "x"}),
        ("task submit", {}),
    ],
)
async def test_an_unknown_task_number_says_how_to_find_one(
    world: World, command: str, options: dict[str, Any]
) -> None:
    w = world
    r = await w.maint.slash(w.general, command, task="#999", **options)
    refused(r, "There is no task #999 in this server. Try /task list.")


async def test_a_task_option_that_is_not_a_number(world: World) -> None:
    w = world
    refused(
        await w.alice.slash(w.general, "task claim", task="the footer one"),
        "“the footer one” is not a task number — use one like 12 or #12.",
    )
    refused(
        await w.maint.slash(w.general, "task create", title="X", blocked_by="#999"),
        "There is no task #999 in this server. Try /task list.",
    )
    assert history_count(w) == 0


# -- text and values -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["task create", "task propose"])
async def test_a_title_over_100_characters_never_reaches_the_bot(
    world: World, command: str
) -> None:
    w = world
    with pytest.raises(simcord.OptionError) as caught:
        await w.maint.slash(w.general, command, title="x" * 101)
    assert caught.value.code == "option-length"
    assert history_count(w) == 0


async def test_editing_in_a_title_over_100_characters_never_reaches_the_bot(
    world: World,
) -> None:
    w = world
    await create(w, "Fix the footer")
    with pytest.raises(simcord.OptionError):
        await w.maint.slash(w.general, "task edit", task="1", title="y" * 101)
    assert card_of(w.tasks, 1).embeds[0].title == "#1 · Fix the footer"


async def test_a_long_tag_is_refused_with_the_limit(world: World) -> None:
    w = world
    long_tag = "a" * 33
    refused(
        await w.maint.slash(w.general, "task create", title="X", tags=f"docs, {long_tag}"),
        f"The tag “{long_tag}…” is too long; keep tags to 32 characters.",
    )
    assert history_count(w) == 0
    await create(w, "Fix the footer")
    refused(
        await w.maint.slash(
            w.general, "task edit", task="1", tags=",".join(f"t{i}" for i in range(11))
        ),
        "A task can have at most 10 tags (you gave 11).",
    )


async def test_a_blank_reason_is_refused(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    refused(
        await w.carol.slash(w.general, "task request-changes", task="1", reason="   "),
        "Please give a reason.",
    )
    refused(
        await w.maint.slash(w.general, "task cancel", task="1", reason=" "),
        "Please give a reason.",
    )
    assert status(w, 1) == "🟡 In review"


async def test_submission_evidence_is_checked(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    refused(
        await w.alice.slash(w.general, "task submit", task="1", link="example.org/pr/1"),
        "The link should start with http:// or https://.",
    )
    shown = await w.alice.slash(w.general, "task submit", task="1")
    r = await w.alice.submit_modal(shown, {"link": " ", "notes": ""})
    refused(r, "Add a link to your work, a few notes, or both, so reviewers can check it.")
    assert status(w, 1) == "🔵 Claimed"


@pytest.mark.parametrize("command", ["task create", "task edit"])
async def test_a_due_date_that_is_not_a_date(world: World, command: str) -> None:
    w = world
    await create(w, "Fix the footer")
    options = {"title": "New"} if command == "task create" else {"task": "1"}
    r = await w.maint.slash(w.general, command, due="soon", **options)
    refused(
        r,
        'I couldn\'t read “soon” as a date. Try a date like 2026-12-01, or "tomorrow", '
        '"in 3 days", "in 2 weeks", "next friday".',
    )
    r = await w.maint.slash(w.general, command, due="2025-06-01", **options)
    refused(r, "That due date is in the past; pick a later one.")
    assert history_count(w) == 1
    assert field(card_of(w.tasks, 1), "Due") is None


async def test_edit_needs_something_to_change_and_capacity_above_the_holders(
    world: World,
) -> None:
    w = world
    await create(w, "Test the beta", capacity=3)
    await w.alice.slash(w.general, "task claim", task="1")
    await w.bob.slash(w.general, "task claim", task="1")
    refused(
        await w.maint.slash(w.general, "task edit", task="1"),
        "Nothing to change: give at least one field to edit.",
    )
    refused(
        await w.maint.slash(w.general, "task edit", task="1", capacity=1),
        "2 people hold #1; capacity can't go below that.",
    )


async def test_assign_refuses_bots_holders_and_full_tasks(world: World) -> None:
    w = world
    await create(w, "Fix the footer")
    helper = w.guild.add_member(w.env.create_user("helperbot", bot=True))
    refused(
        await w.maint.slash(w.general, "task assign", task="1", member=helper),
        "Tasks can only be assigned to people, not bots.",
    )
    await w.maint.slash(w.general, "task assign", task="1", member=w.alice)
    refused(
        await w.maint.slash(w.general, "task assign", task="1", member=w.alice),
        "That member already holds #1.",
    )
    refused(
        await w.maint.slash(w.general, "task assign", task="1", member=w.bob),
        "You can't assign #1: every spot is taken.",
    )
