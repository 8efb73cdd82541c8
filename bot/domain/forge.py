"""GitHub as the place where the work lives: the links between tasks and issues or pull
requests, and what a forge event does to a task, decided as the lifecycle decides a
member's action (an `Outcome`). What members type for GitHub (repositories, labels,
logins, links) is read by bot/github/repos.py.

- a merge is one approval by the merger (never a claimant, SPEC §4); a merger nobody
  linked is recorded as GitHub's merge, with no reviewer credit;
- a pull request closed without a merge sends the task back to its claimants;
- anything else GitHub tells (an issue closed, reopened or edited, a pull request by
  someone who holds no claim) is a note on the task, its status unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.domain import rules as r
from bot.domain.errors import AlreadyDone, InvalidState, PermissionDenied
from bot.domain.lifecycle import Outcome, TaskState, approval, held_status
from bot.domain.model import NOTE_MAX, Action, Rules, Status

GITHUB: Final = "https://github.com"


class LinkKind(StrEnum):
    ISSUE = "issue"
    PULL = "pull"


class LinkOrigin(StrEnum):
    """How a link came to a task: the issue it was made from (one task per issue), a
    maintainer's or claimant's /task link, a claimant's pull request that submitted it,
    or a pull request by someone holding no claim (a note for maintainers)."""

    SOURCE = "source"
    MANUAL = "manual"
    SUBMITTED = "submitted"
    MENTION = "mention"


class LinkState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"


@dataclass(frozen=True, slots=True)
class Target:
    """An issue or pull request: its repository (lower case, as GitHub matches it), kind
    and number, and its URL in one spelling."""

    full_name: str
    kind: LinkKind
    number: int

    @classmethod
    def from_url(cls, url: str) -> Target:
        """The target of an address as GitHub spells it (`html_url`, or what
        bot/github/repos.parse_link read): `https://github.com/owner/name/issues/12`."""
        owner, name, path, number = url.removeprefix(GITHUB + "/").split("/")[:4]
        kind = LinkKind.ISSUE if path == "issues" else LinkKind.PULL
        return cls(f"{owner}/{name}".lower(), kind, int(number))

    @property
    def url(self) -> str:
        path = "issues" if self.kind is LinkKind.ISSUE else "pull"
        return f"{GITHUB}/{self.full_name}/{path}/{self.number}"


# -- what an event does to a task ---------------------------------------------------------


def merged(
    task: TaskState, reviewer_id: int | None, bot_id: int, rules: Rules, url: str
) -> Outcome:
    """A merge on GitHub: one approval of the task in review. `reviewer_id`: the member
    linked to the merger's login (None: nobody is, and the approval is GitHub's, recorded
    as the bot's, with no reviewer credit). A claimant's own merge is no review."""
    if task.status is not Status.IN_REVIEW:
        raise InvalidState("#{number} isn't waiting for review.", number=task.number)
    approver = reviewer_id if reviewer_id is not None else bot_id
    if reviewer_id is not None and reviewer_id in task.claimant_ids:
        raise PermissionDenied(
            "The merger worked on #{number}: it needs another review.", number=task.number
        )
    if approver in task.reviewers:
        raise AlreadyDone(
            "The merger already reviewed this submission of #{number}.", number=task.number
        )
    return approval(task, rules, f"merged on GitHub: {url}")


def closed_unmerged(task: TaskState, rules: Rules, now: datetime, url: str) -> Outcome:
    """The submitted pull request was closed without a merge: back to the claimants, with
    their claim window renewed (as after a change request; no review is recorded)."""
    if task.status is not Status.IN_REVIEW:
        raise InvalidState("#{number} isn't waiting for review.", number=task.number)
    window = r.claim_window(task.points, rules, task.claim_days)
    renewed = tuple(replace(c, expires_at=now + window) for c in task.claims)
    return Outcome(
        Action.REQUEST_CHANGES,
        task.status,
        held_status(len(task.claims), task.capacity),
        renew_claims=renewed,
        note=f"pull request closed on GitHub without a merge: {url}",
    )


def noted(task: TaskState, note: str) -> Outcome:
    """A note on the task (its history, its thread and its card) about its GitHub links,
    its status unchanged."""
    return Outcome(Action.EDIT, task.status, task.status, note=note[:NOTE_MAX])
