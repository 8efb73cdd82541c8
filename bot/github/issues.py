"""GitHub issues as the board reads them, and the references a pull request makes. Pure:
no I/O.

- `GitHubIssue.from_api` reads an issue object — from the REST API's issue list or a
  webhook's `issue` — keeping what the board uses.
- `task_draft` maps an issue to a row for `TaskService.import_tasks`, the input the CSV
  import builds (`bot/services/tasks/importing.py`), so GitHub issues go through the same
  checks and the same all-or-none insert. Its text is cleaned the way member text is
  (`clean_text`), trimmed to the board's limits, and mentions of @everyone, @here, roles
  and members are broken so no message showing it can ping (`neutralise_mentions`).
- `closing_refs` and `peerboard_refs` read a pull request's title or body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from bot.domain.inputs import TASK_NUMBER_MAX, clean_line, clean_text
from bot.domain.model import DESCRIPTION_MAX, POINT_CHOICES, TITLE_MAX
from bot.github.repos import RepoName, is_name, is_owner, parse_repo

# A task's points when no label gives them: what /task create and a CSV's blank cell give.
DEFAULT_POINTS: Final = 1
ELLIPSIS: Final = "…"
# GitHub's issue numbers fit PostgreSQL's INTEGER; more digits than this is not a number
# GitHub gave out (and `int()` of thousands of digits is slow).
ISSUE_NUMBER_MAX: Final = 2_147_483_647
# What breaks a mention: Discord reads "@everyone" only as one word. A zero-width space
# (what discord.py's escape_mentions puts there) is removed by `clean_text`, which the
# board applies to every text it stores; the zero-width non-joiner is kept (it is
# legitimate inside words of some scripts) and shows nothing.
BREAK: Final = "\u200c"
# Row keys `import_tasks` ignores, carried for the caller: the issue's address and number.
LINK: Final = "link"
ISSUE: Final = "github_issue"

_MENTION: Final = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")
_HTML_COMMENT: Final = re.compile(r"<!--.*?-->", re.DOTALL)
_POINTS: Final = re.compile(r"points\s*:\s*([0-9]{1,3})", re.IGNORECASE)
_KEYWORD: Final = r"(?<![A-Za-z0-9_-])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?:\s*:\s*|\s+)"
_PART: Final = r"[A-Za-z0-9._-]+"
_END: Final = r"(?![A-Za-z0-9_])"
_CLOSING: Final = re.compile(
    _KEYWORD
    + r"(?:"
    + r"#([0-9]{1,10})"
    + rf"|({_PART})/({_PART})#([0-9]{{1,10}})"
    + rf"|https?://(?:www\.)?github\.com/({_PART})/({_PART})/issues/([0-9]{{1,10}})"
    + r")"
    + _END,
    re.IGNORECASE,
)
_PEERBOARD: Final = re.compile(
    r"(?<![A-Za-z0-9_-])peerboard\s*#\s*([0-9]{1,10})" + _END, re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class GitHubIssue:
    """An issue as GitHub shows it; `author` is the opener's login."""

    number: int
    title: str
    body: str
    html_url: str
    labels: tuple[str, ...]
    author: str
    state: str = "open"

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> GitHubIssue:
        """An issue object of GitHub's REST API or of a webhook; ValueError if it is not
        one (a missing or mistyped field)."""
        number = data.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ValueError("issue without a number")
        title, body, url = data.get("title"), data.get("body"), data.get("html_url")
        if not isinstance(title, str) or not isinstance(url, str):
            raise ValueError(f"issue #{number} without a title or html_url")
        if body is not None and not isinstance(body, str):
            raise ValueError(f"issue #{number} with a body that is not text")
        user = data.get("user")
        login = user.get("login") if isinstance(user, Mapping) else None
        state = data.get("state")
        return cls(
            number=number,
            title=title,
            body=body or "",
            html_url=url,
            labels=_label_names(data.get("labels"), number),
            author=login if isinstance(login, str) else "ghost",  # GitHub's deleted user
            state=state if isinstance(state, str) else "open",
        )


def _label_names(raw: object, number: int) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"issue #{number} with labels that are not a list")
    names: list[str] = []
    for label in raw:  # objects in the REST API and webhooks; names in some older answers
        name = label.get("name") if isinstance(label, Mapping) else label
        if not isinstance(name, str):
            raise ValueError(f"issue #{number} with a label without a name")
        names.append(name)
    return tuple(names)


def is_pull_request(data: Mapping[str, object]) -> bool:
    """The issues API lists pull requests too, each with a `pull_request` key."""
    return "pull_request" in data


@dataclass(frozen=True, slots=True)
class TaskDraft:
    """A task made from an issue, within the board's limits."""

    title: str
    description: str
    points: int
    link: str
    issue_number: int

    def row(self) -> dict[str, object]:
        """The row `TaskService.import_tasks` takes (as `importing.parse_csv` gives it):
        title, description, points, tags, capacity, due_at — and, left aside by
        `import_tasks`, the issue's `link` and number (`github_issue`)."""
        return {
            "title": self.title,
            "description": self.description,
            "points": self.points,
            "tags": "",
            "capacity": 1,
            "due_at": None,
            LINK: self.link,
            ISSUE: self.issue_number,
        }


def task_draft(issue: GitHubIssue) -> TaskDraft:
    """The task an issue becomes: its title and body (markdown kept, HTML comments — the
    hidden hints of issue templates — left out), a link to it, and points from a
    `points:N` label."""
    title = clip(neutralise_mentions(clean_line(issue.title)), TITLE_MAX)
    body = clean_text(_HTML_COMMENT.sub("", issue.body))
    return TaskDraft(
        title=title or f"GitHub issue #{issue.number}",
        description=clip(neutralise_mentions(body), DESCRIPTION_MAX),
        points=points_from_labels(issue.labels),
        link=issue.html_url,
        issue_number=issue.number,
    )


def points_from_labels(labels: Iterable[str]) -> int:
    """The points of the first label `points:N` (or `Points: N`, any case) whose N is one
    the board allows; `DEFAULT_POINTS` without one."""
    for label in labels:
        match = _POINTS.fullmatch(clean_line(label))
        if match is not None and int(match[1]) in POINT_CHOICES:
            return int(match[1])
    return DEFAULT_POINTS


def neutralise_mentions(text: str) -> str:
    """`text` with @everyone, @here and raw member or role mentions broken by an invisible
    character that the board's cleaning keeps: shown as written, never a ping."""
    return _MENTION.sub("@" + BREAK + r"\1", text)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis where it was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def closing_refs(text: str | None, repo: RepoName | str) -> set[int]:
    """The issues of `repo` a pull request's text closes, by GitHub's closing keywords
    (close, closes, closed, fix, fixes, fixed, resolve, resolves, resolved, any case, an
    optional colon) before `#12`, `owner/name#12` or the issue's address. References to
    other repositories are not this repository's issues and are left out."""
    own = parse_repo(repo) if isinstance(repo, str) else repo
    found: set[int] = set()
    for match in _CLOSING.finditer(text or ""):
        bare, owner, name, number = match[1], match[2], match[3], match[4]
        if bare is None:
            if owner is None:
                owner, name, number = match[5], match[6], match[7]
            if not (is_owner(owner) and is_name(name)) or RepoName(owner, name) != own:
                continue
        issue = int(bare or number)
        if 1 <= issue <= ISSUE_NUMBER_MAX:
            found.add(issue)
    return found


def peerboard_refs(text: str | None) -> set[int]:
    """The task numbers named as `Peerboard #12` (any case, spaces optional)."""
    numbers = (int(m[1]) for m in _PEERBOARD.finditer(text or ""))
    return {n for n in numbers if 1 <= n <= TASK_NUMBER_MAX}
