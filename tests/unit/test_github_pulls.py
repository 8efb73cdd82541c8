"""bot/github/pulls.py on GitHub's own pull_request payloads, and what a PR refers to."""

from __future__ import annotations

from typing import Any

import pytest

from bot.github.pulls import GitHubPull
from tests.support.fake_github import payload, payloads_dir

ACTIONS = sorted(
    p.name.removesuffix(".payload.json") for p in (payloads_dir() / "pull_request").iterdir()
)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_pull_request_github_sends_is_read(action: str) -> None:
    raw = payload("pull_request", action)["pull_request"]
    pull = GitHubPull.from_api(raw)
    assert (pull.number, pull.title, pull.html_url) == (
        raw["number"],
        raw["title"],
        raw["html_url"],
    )
    assert (pull.author, pull.state, pull.draft) == (
        raw["user"]["login"],
        raw["state"],
        raw["draft"],
    )
    assert (pull.merged, pull.merged_by) == (False, None)
    assert pull.draft == (action == "converted_to_draft")


def test_a_merge_names_who_merged() -> None:
    raw = payload("pull_request", "closed")["pull_request"]  # as the payloads' README says
    raw.update(merged=True, merged_at="2026-03-02T09:30:00Z")
    raw["merged_by"] = {**raw["user"], "login": "mona", "id": 583231}
    pull = GitHubPull.from_api(raw)
    assert (pull.state, pull.merged, pull.merged_by, pull.author) == (
        "closed",
        True,
        "mona",
        "Codertocat",
    )


def test_what_a_pull_request_refers_to() -> None:
    raw: dict[str, Any] = payload("pull_request", "opened")["pull_request"]
    raw.update(
        title="Spelling, Peerboard #4",
        body="Fixes #1 and closes Codertocat/Hello-World#2.\nAlso fixes other/repo#3. Peerboard #5",
    )
    pull = GitHubPull.from_api(raw)
    assert pull.closes("codertocat/hello-world") == {1, 2}
    assert pull.tasks() == {4, 5}
    raw.update(title="Fixes #6", body=None)  # GitHub reads closing keywords in the body only
    assert GitHubPull.from_api(raw).closes("Codertocat/Hello-World") == set()


@pytest.mark.parametrize(
    "broken", [{"number": None}, {"title": 3}, {"html_url": None}, {"body": []}]
)
def test_what_is_not_a_pull_request_is_refused(broken: dict[str, Any]) -> None:
    raw = payload("pull_request", "opened")["pull_request"]
    raw.update(broken)
    with pytest.raises(ValueError):
        GitHubPull.from_api(raw)
