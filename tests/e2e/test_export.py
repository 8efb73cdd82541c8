"""/export: a maintainer takes the board away as a file (JSON: everything; CSV: the tasks,
which /task import reads back in another server)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import simcord

from bot.app import PeerBot
from tests.e2e.conftest import World, make_world, said
from tests.e2e.helpers import claimed, create, in_review, refused


async def attachment(result: Any) -> tuple[str, bytes]:
    # After a defer, the first follow-up is the response itself.
    [message] = [m for m in (result.response, *result.followups) if m is not None and m.attachments]
    assert message.ephemeral, "an export is for the maintainer's eyes only"
    [file] = message.attachments
    return file.filename, await file.read()


async def test_export_json_holds_the_board_with_its_history(world: World) -> None:
    w = world
    number = await in_review(w, w.alice, "Fix the footer", points=3, tags="docs, web")
    r = await w.carol.slash(w.general, "task approve", task=str(number), comment="Lovely")
    assert "Approved" in said(r) or "approved" in said(r), said(r)
    await claimed(w, w.bob, "Write the FAQ")
    await w.alice.slash(w.general, "kudos", member=w.bob, reason="For the FAQ draft")
    await w.alice.slash(w.general, "me ranking", visible=False)

    r = await w.maint.slash(w.general, "export")
    name, data = await attachment(r)
    assert name.endswith(".json")
    assert "2 tasks as JSON" in said(r), said(r)
    board = json.loads(data)
    assert board["format"] == "peerboard-export" and board["format_version"] == 1
    assert board["guild_id"] == str(w.guild.id)
    assert board["settings"]["tasks_channel_id"] == str(w.tasks.id)
    by_title = {t["title"]: t for t in board["tasks"]}
    done = by_title["Fix the footer"]
    assert done["status"] == "done" and done["points"] == 3 and done["tags"] == ["docs", "web"]
    assert [c["member_id"] for c in done["claims"]] == [str(w.alice.id)]
    assert done["submissions"][0]["link"] == "https://example.org/pr/1"
    assert [(v["reviewer_id"], v["comment"]) for v in done["reviews"]] == [
        (str(w.carol.id), "Lovely")
    ]
    assert [h["action"] for h in done["history"]] == ["create", "claim", "submit", "approve"]
    assert by_title["Write the FAQ"]["status"] == "claimed"
    assert {(e["member_id"], e["kind"]) for e in board["ledger"]} == {
        (str(w.alice.id), "task"),
        (str(w.carol.id), "review"),
    }
    assert [(k["member_id"], k["giver_id"], k["reason"]) for k in board["kudos"]] == [
        (str(w.bob.id), str(w.alice.id), "For the FAQ draft")
    ]
    hidden = [m for m in board["members"] if m["member_id"] == str(w.alice.id)]
    assert [m["ranking_visible"] for m in hidden] == [False]


async def test_export_csv_imports_into_another_server(world: World) -> None:
    w = world
    await create(w, '=HYPERLINK("http://evil")', description="- step one\n- step two")
    await create(w, "Translate the guide", points=5, tags="i18n", capacity=2, due="in 3 days")
    await claimed(w, w.alice, "@here look")

    r = await w.maint.slash(w.general, "export", format="csv")
    name, data = await attachment(r)
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == [
        "title",
        "description",
        "points",
        "tags",
        "due",
        "capacity",
        "status",
        "number",
    ]
    # No cell a spreadsheet would run: each formula start is quoted.
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert rows[1][0] == '\'=HYPERLINK("http://evil")' and rows[1][1].startswith("'- step")
    assert rows[3][6] == "claimed"

    other = await make_world(w.env)
    r = await other.maint.slash(other.general, "task import", file=(name, data))
    assert "Imported 3 tasks" in said(r), said(r)
    r = await other.maint.slash(other.general, "export", format="csv")
    _name, again = await attachment(r)
    copied = list(csv.reader(io.StringIO(again.decode("utf-8"))))
    # The same tasks, each open again in the new server.
    assert [row[:6] for row in copied] == [row[:6] for row in rows]
    assert [row[6] for row in copied[1:]] == ["open", "open", "open"]


async def test_export_is_hidden_from_members_and_refused_when_shown(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await create(w, "Fix the footer")
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await w.alice.slash(w.general, "export")
    # Server admins can show the command to anyone; the bot still refuses, on its side.
    command = next(c for c in await simcord_bot.tree.fetch_commands() if c.name == "export")
    w.guild.set_command_permissions(command, {w.alice: True})
    r = await w.alice.slash(w.general, "export", format="csv")
    assert refused(r) == "Only maintainers can export the board."
    assert not [m for m in (r.response, *r.followups) if m is not None and m.attachments]


async def test_an_exported_due_date_that_has_passed_is_dropped_on_import(world: World) -> None:
    w = world
    await create(w, "Fix the footer", due="in 1 day")
    await create(w, "Write the FAQ", due="in 30 days")
    await w.env.advance_time(3 * 86400)
    r = await w.maint.slash(w.general, "export", format="csv")
    name, data = await attachment(r)

    other = await make_world(w.env)
    r = await other.maint.slash(other.general, "task import", file=(name, data))
    assert "Imported 2 tasks" in said(r), said(r)
    _name, again = await attachment(await other.maint.slash(other.general, "export", format="csv"))
    dues = {row[0]: row[4] for row in csv.reader(io.StringIO(again.decode()))}
    assert dues["Fix the footer"] == ""  # its date had passed: a new open task has none
    assert dues["Write the FAQ"] != ""
    # A hand-written file (no status column) with a past date is still refused.
    r = await other.maint.slash(
        other.general, "task import", file=("t.csv", b"title,due\nOld,2020-01-01\n")
    )
    refused(r, "Nothing was imported", "row 2: That due date is in the past")
