"""/task list (pages and filters), autocomplete on the `task` option, and /task import."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import create, refused, status

HEADER = "title,description,points,tags,due,capacity"


def csv_file(*rows: str, header: str = HEADER) -> tuple[str, bytes]:
    return ("tasks.csv", ("\n".join([header, *rows]) + "\n").encode())


async def import_rows(w: World, *rows: str) -> Any:
    return await w.maint.slash(w.general, "task import", file=csv_file(*rows))


def listed(result_or_message: Any) -> list[int]:
    """Task numbers on one page of /task list, in order."""
    embed = result_or_message.embeds[0]
    numbers = []
    for line in (embed.description or "").split("\n"):
        if "**#" in line:
            numbers.append(int(line.split("**#", 1)[1].split("**", 1)[0]))
    return numbers


def page_buttons(message: Any) -> dict[str, bool]:
    """label -> disabled, for the list's Previous/Next."""
    return {
        c["label"]: bool(c.get("disabled")) for row in message.components for c in row["components"]
    }


# -- import ----------------------------------------------------------------------------------


async def test_import_creates_every_row_and_posts_their_cards(world: World) -> None:
    w = world
    r = await import_rows(
        w,
        'Translate the FAQ,"Spanish, then French",3,"docs, good first",2026-03-01,2',
        "Fix the footer,,,,,",
        "Sort the photos,Album 2019,13,media,in 2 weeks,1",
    )
    assert r.ephemeral
    assert said(r) == f"Imported 3 tasks (#1, #2, #3) and posted them in <#{w.tasks.id}>."
    faq = card_of(w.tasks, 1)
    assert faq.embeds[0].title == "#1 · Translate the FAQ"
    assert faq.embeds[0].description == "Spanish, then French"
    assert field(faq, "Points") == "3"
    assert field(faq, "Tags") == "`docs` `good first`"
    assert field(faq, "Claimed by") == "2 spots open"
    assert (field(faq, "Due") or "").startswith("<t:")
    footer = card_of(w.tasks, 2)
    assert field(footer, "Points") == "1"  # blank cells take the defaults
    assert field(footer, "Due") is None
    assert field(card_of(w.tasks, 3), "Points") == "13"
    assert len(w.tasks.threads) == 3
    # Imported tasks are ordinary tasks.
    assert "You claimed" in said(await w.alice.slash(w.general, "task claim", task="2"))


async def test_import_with_only_a_title_column(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "task import", file=csv_file("One", "Two", header="Title"))
    assert said(r).startswith("Imported 2 tasks (#1, #2)")


async def test_import_refuses_a_file_with_a_bad_header(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general,
        "task import",
        file=csv_file("Fix it,3", header="name,points"),
    )
    refused(
        r,
        "The first line must name the columns: title,description,points,tags,due,capacity. "
        "Unknown columns: name.",
    )
    assert not list(w.tasks.history())


async def test_import_lists_every_bad_row_and_imports_nothing(world: World) -> None:
    w = world
    r = await import_rows(
        w,
        "Fine,,1,,,",  # row 2
        "Bad points,,4,,,",  # row 3
        "Fine too,,2,,,",  # row 4
        f"{'x' * 101},,1,,,",  # row 5
        "Bad due,,1,,soon,",  # row 6
        "Too many,,1,,,,extra",  # row 7
        "Bad capacity,,1,,,11",  # row 8
        ",,1,,,",  # row 9: no title
    )
    text = refused(r)
    assert text == (
        "Nothing was imported. Fix these rows and try again:\n"
        "row 3: Points must be one of 1, 2, 3, 5, 8, 13 (you gave 4).\n"
        "row 5: The title is 101 characters; keep it to 100 and put the details in the "
        "description.\n"
        'row 6: I couldn\'t read “soon” as a date. Try a date like 2026-12-01, or "tomorrow", '
        '"in 3 days", "in 2 weeks", "next friday".\n'
        "row 7: 7 cells but 6 columns (quote cells that contain commas).\n"
        "row 8: Capacity must be between 1 and 10 people (you gave 11).\n"
        "row 9: A task needs a title."
    )
    assert not list(w.tasks.history())
    r = await w.alice.slash(w.general, "task list", status="all")
    assert listed(r.response) == []


async def test_import_row_numbers_match_the_file_with_blank_lines(world: World) -> None:
    w = world
    r = await import_rows(w, "First,,1,,,", "", "Second,,4,,,")
    refused(r, "row 4: Points must be one of")


async def test_import_refuses_a_description_over_the_limit(world: World) -> None:
    w = world
    r = await import_rows(w, f"Long,{'d' * 2001},1,,,")
    refused(r, "row 2: The description is 2001 characters; the limit is 2000.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty. The first line should be: " + HEADER),
        (HEADER.encode() + b"\n", "The file has a header but no tasks."),
        (b"title\n\xff\xfe broken", "The file is not UTF-8 text; save it as CSV (UTF-8)"),
    ],
)
async def test_import_refuses_files_that_are_not_task_lists(
    world: World, data: bytes, message: str
) -> None:
    w = world
    r = await w.maint.slash(w.general, "task import", file=("tasks.csv", data))
    refused(r, message)
    assert not list(w.tasks.history())


# -- list ------------------------------------------------------------------------------------


async def test_list_pages_through_23_tasks(world: World) -> None:
    w = world
    await import_rows(w, *(f"Task number {i},,1,,," for i in range(1, 24)))
    r = await w.alice.slash(w.general, "task list")
    assert r.ephemeral
    page = r.response
    embed = page.embeds[0]
    assert embed.title == "Open tasks"
    assert embed.footer.text == "Page 1"
    assert listed(page) == list(range(1, 11))
    assert (embed.description or "").split("\n")[0] == "🟢 **#1** Task number 1 · 1 pt"
    assert page_buttons(page) == {"Previous": True, "Next": False}

    nxt = await w.alice.click(page, label="Next")
    assert nxt.response.id == page.id  # the same message, edited
    assert listed(nxt.response) == list(range(11, 21))
    assert nxt.response.embeds[0].footer.text == "Page 2"
    assert page_buttons(nxt.response) == {"Previous": False, "Next": False}

    last = await w.alice.click(page, label="Next")
    assert listed(last.response) == [21, 22, 23]
    assert last.response.embeds[0].footer.text == "Page 3"
    assert page_buttons(last.response) == {"Previous": False, "Next": True}

    back = await w.alice.click(page, label="Previous")
    assert listed(back.response) == list(range(11, 21))
    back = await w.alice.click(page, label="Previous")
    assert listed(back.response) == list(range(1, 11))
    assert page_buttons(back.response) == {"Previous": True, "Next": False}


async def test_list_filters_by_status_tag_and_member(world: World) -> None:
    w = world
    await import_rows(
        w,
        "Docs one,,1,docs,,",  # 1
        "Code one,,1,code,,",  # 2
        'Docs two,,1,"docs, good first",,',  # 3
        "Code two,,1,code,,",  # 4
        "Docs three,,1,docs,,",  # 5
    )
    await w.alice.slash(w.general, "task claim", task="1")
    await w.bob.slash(w.general, "task claim", task="2")
    await w.bob.slash(w.general, "task submit", task="2", notes="done")
    await w.maint.slash(w.general, "task cancel", task="4", reason="dup")
    await w.carol.slash(w.general, "task propose", title="An idea")  # 6

    async def numbers(who: Any = None, **options: Any) -> tuple[list[int], str]:
        r = await (who or w.alice).slash(w.general, "task list", **options)
        assert r.ephemeral
        return listed(r.response), r.response.embeds[0].title or ""

    assert await numbers() == ([3, 5], "Open tasks")
    assert await numbers(status="claimed") == ([1], "Tasks: claimed")
    assert await numbers(status="in_review") == ([2], "Tasks: in review")
    assert await numbers(status="cancelled") == ([4], "Tasks: cancelled")
    assert await numbers(status="proposed") == ([6], "Tasks: proposed")
    assert await numbers(status="done") == ([], "Tasks: done")
    assert (await numbers(status="all"))[0] == [1, 2, 3, 4, 5, 6]
    assert await numbers(tag="Docs") == ([3, 5], "Open tasks tagged “docs”")
    assert await numbers(tag="docs", status="all") == ([1, 3, 5], "All tasks tagged “docs”")
    assert (await numbers(tag="good first"))[0] == [3]
    assert (await numbers(tag="nothing-like-it"))[0] == []
    assert await numbers(member=w.bob) == ([2], "Work in progress held by bob")
    assert await numbers(mine=True) == ([1], "Work in progress held by alice")
    assert (await numbers(w.bob, mine=True))[0] == [2]
    assert (await numbers(w.carol, mine=True))[0] == []

    empty = await w.carol.slash(w.general, "task list", mine=True)
    assert empty.response.embeds[0].description == "Nothing here right now."
    # A line shows who holds a task.
    r = await w.alice.slash(w.general, "task list", status="claimed")
    assert r.response.embeds[0].description == f"🔵 **#1** Docs one · 1 pt — <@{w.alice.id}>"


# -- autocomplete ----------------------------------------------------------------------------


async def test_autocomplete_finds_tasks_by_number_and_title_open_first(world: World) -> None:
    w = world
    await import_rows(w, *(f"Chore {i},,1,,," for i in range(1, 31)))
    await w.alice.slash(w.general, "task claim", task="12")
    await w.maint.slash(w.general, "task cancel", task="13", reason="dup")

    everything = await w.alice.autocomplete(w.general, "task claim", "task", "")
    assert len(everything) == 25  # Discord's limit
    assert all(c["value"].isdigit() for c in everything)

    by_number = await w.alice.autocomplete(w.general, "task claim", "task", "1")
    values = [c["value"] for c in by_number]
    assert values[0] == "1"  # the exact number comes first
    assert set(values) == {"1", "10", "11", "12", "14", "15", "16", "17", "18", "19"}
    assert values[-1] == "12"  # open ones before the claimed one; cancelled #13 is not offered
    assert {"name": "#12 · Chore 12 (Claimed)", "value": "12"} in by_number
    assert {"name": "#1 · Chore 1 (Open)", "value": "1"} in by_number

    hashed = await w.alice.autocomplete(w.general, "task claim", "task", "#3")
    assert [c["value"] for c in hashed] == ["3", "30"]

    by_title = await w.alice.autocomplete(w.general, "task release", "task", "chore 2")
    assert {c["value"] for c in by_title} == {"2", *(str(n) for n in range(20, 30))}

    none = await w.alice.autocomplete(w.general, "task show", "task", "no such thing")
    assert none == []


async def test_autocomplete_offers_what_each_command_can_act_on(world: World) -> None:
    w = world
    await create(w, "Write the guide")
    await create(w, "Old idea")
    await w.maint.slash(w.general, "task cancel", task="2", reason="dup")
    # Reopen is for finished tasks only; show and history take any task.
    reopen = await w.maint.autocomplete(w.general, "task reopen", "task", "")
    assert reopen == [{"name": "#2 · Old idea (Cancelled)", "value": "2"}]
    shown = await w.alice.autocomplete(w.general, "task history", "task", "")
    assert [c["value"] for c in shown] == ["1", "2"]
    claim = await w.alice.autocomplete(w.general, "task claim", "task", "")
    assert [c["value"] for c in claim] == ["1"]
    # blocked_by on create suggests tasks too.
    blocked = await w.maint.autocomplete(w.general, "task create", "blocked_by", "guide", title="x")
    assert [c["value"] for c in blocked] == ["1"]
    # The value an autocomplete choice carries works as the option.
    r = await w.maint.slash(w.general, "task reopen", task=reopen[0]["value"])
    assert "Reopened **#2" in said(r)
    assert status(w, 2) == "🟢 Open"


async def test_autocomplete_names_fit_discords_limit(world: World) -> None:
    w = world
    await create(w, "W" * 100)
    [choice] = await w.alice.autocomplete(w.general, "task claim", "task", "1")
    assert len(choice["name"]) <= 100
    assert choice["name"].startswith("#1 · WWW") and choice["name"].endswith("…")
