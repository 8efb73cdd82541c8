"""tests/support/openapi.py: hand-made log entries, then one real bot driven by SimCord."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord.ext import commands

from tests.support import openapi
from tests.support.openapi import check_requests, find_operation


@dataclass(frozen=True)
class Entry:
    """Mimics simcord.HttpLogEntry (method, path, params, json, reason)."""

    method: str
    path: str
    json: Any
    params: dict[str, Any] | None = None
    reason: str | None = None


CALLBACK = "/interactions/111/aW50ZXJhY3Rpb246MTExOnRva2Vu.x-y_z/callback"


def test_valid_create_message_passes() -> None:
    body = {
        "content": "hello",
        "embeds": [
            {"title": "Task #12", "color": 0x5865F2, "fields": [{"name": "a", "value": "b"}]}
        ],
        "allowed_mentions": {"parse": [], "replied_user": False},
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "x"}]}],
    }
    report = check_requests([Entry("POST", "/channels/123/messages", body)])
    assert report.problems == []
    assert report.checked == 1


@pytest.mark.parametrize(
    ("body", "pointer", "needle"),
    [
        ({"content": 123}, "/content", "123 is not of type"),
        ({"embeds": "x"}, "/embeds", "'x' is not of type"),
    ],
)
def test_wrong_type_is_reported_readably(body: dict[str, Any], pointer: str, needle: str) -> None:
    (problem,) = check_requests([Entry("POST", "/channels/123/messages", body)]).problems
    assert problem.startswith("POST /channels/123/messages [create_message]")
    assert f" at {pointer}: " in problem
    assert needle in problem


def test_interaction_callback_passes() -> None:
    body = {"type": 4, "data": {"content": "hi", "flags": 64, "allowed_mentions": {"parse": []}}}
    report = check_requests([Entry("POST", CALLBACK, body)])
    assert report.problems == []
    assert report.checked == 1


def test_interaction_callback_with_bad_type_fails() -> None:
    (problem,) = check_requests([Entry("POST", CALLBACK, {"type": "x"})]).problems
    assert "[create_interaction_response]" in problem
    assert "/type: 'x' is not of type 'integer'" in problem


def test_unknown_route_is_reported_only_with_a_body() -> None:
    report = check_requests(
        [Entry("POST", "/nowhere/1", {"a": 1}), Entry("POST", "/nowhere/2", None)]
    )
    assert report.problems == ["POST /nowhere/1: unknown route (no operation in the spec)"]
    assert report.checked == 0


def test_routes_prefer_literal_segments_and_ignore_prefix_and_query() -> None:
    original = find_operation("PATCH", "/webhooks/1/tok/messages/@original")
    assert original is not None and original.operation_id == "update_original_webhook_message"
    listed = find_operation("GET", "https://discord.com/api/v10/channels/1/messages?limit=5")
    assert listed is not None and listed.operation_id == "list_messages"


def test_multipart_only_operation_ignores_unlogged_file_parts() -> None:
    ok = Entry("POST", "/guilds/1/stickers", {"name": "ok", "tags": "x", "description": ""})
    bad = Entry("POST", "/guilds/1/stickers", {"tags": "x"})
    report = check_requests([ok, bad])
    assert report.checked == 2
    assert len(report.problems) == 1 and "'name' is a required property" in report.problems[0]


def test_attachment_index_ids_are_allow_listed_but_only_there() -> None:
    # discord.py's shape for a file upload: payload_json with attachments[n].id == n (an int).
    files = {"attachments": [{"id": 0, "filename": "a.txt"}]}
    ok = [
        Entry("POST", "/channels/1/messages", {"content": "f", **files}),
        Entry("POST", CALLBACK, {"type": 4, "data": {"content": "f", **files}}),
        Entry("POST", "/webhooks/1/tok", {"content": "f", "flags": 64, **files}),
    ]
    assert check_requests(ok).problems == []
    bad = {"attachments": [{"id": 0, "filename": 7}]}
    (problem,) = check_requests([Entry("POST", "/channels/1/messages", bad)]).problems
    assert " at /attachments/0/filename: 7 is not of type" in problem


def test_body_on_an_operation_without_one_is_reported() -> None:
    (problem,) = check_requests([Entry("GET", "/channels/1/messages", {"x": 1})]).problems
    assert problem == "GET /channels/1/messages [list_messages]: sent a body, spec has none"


def test_allow_list_excuses_only_the_listed_location(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"content": 5, "message_reference": {"message_id": 42}}  # discord.py sends int ids
    entry = Entry("POST", "/channels/1/messages", body)
    assert len(check_requests([entry]).problems) == 2
    monkeypatch.setitem(
        openapi.ALLOWED, ("create_message", "/message_reference/message_id"), "test"
    )
    (problem,) = check_requests([entry]).problems
    assert " at /content: " in problem


# --- end to end: a tiny real discord.py bot driven by SimCord -------------------------------


class ShapeBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())

        @self.tree.command(name="card", description="Show a card")
        async def card(interaction: discord.Interaction) -> None:
            view = discord.ui.View()
            view.add_item(discord.ui.Button(label="Claim", custom_id="shape:claim"))
            embed = discord.Embed(title="Task", description="Do it", colour=0x2ECC71)
            embed.add_field(name="Points", value="3").set_footer(text="peerboard")
            await interaction.response.send_message(embed=embed, view=view)
            assert interaction.channel is not None and hasattr(interaction.channel, "send")
            await interaction.channel.send(
                "@everyone see above", allowed_mentions=discord.AllowedMentions.none()
            )
            notes = discord.File(io.BytesIO(b"notes"), "notes.txt")  # multipart: payload_json
            await interaction.followup.send("only you", file=notes, ephemeral=True)
            await interaction.edit_original_response(content="edited")

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
def simcord_bot() -> commands.Bot:
    return ShapeBot()


async def test_real_bot_requests_match_the_spec(simcord_env: Any) -> None:
    guild = simcord_env.create_guild("Commons")
    channel = guild.create_text_channel("tasks")
    alice = guild.add_member(simcord_env.create_user("alice"))

    result = await alice.slash(channel, "card")
    assert result.response.embeds and result.response.components

    entries = simcord_env.http_requests
    report = check_requests(entries)
    assert report.problems == []
    assert report.checked >= 3
    paths = {f"{e.method} {e.path.split('/')[1]}" for e in entries if e.json is not None}
    assert {"POST interactions", "POST channels", "POST webhooks", "PATCH webhooks"} <= paths
    (followup,) = [e for e in entries if e.method == "POST" and e.path.startswith("/webhooks/")]
    assert followup.json["attachments"] == [{"id": 0, "filename": "notes.txt"}]
    sent = next(e for e in entries if e.path.startswith("/channels/") and e.method == "POST")
    assert sent.json["allowed_mentions"] == {"parse": []}
