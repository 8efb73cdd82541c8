"""What maintainers type to name GitHub things: a repository, a label, a login.

- A repository is `owner/name` as GitHub spells them — an owner (a user or an
  organisation) of 1 to 39 letters, digits and hyphens, not starting or ending with a
  hyphen; a name of 1 to 100 letters, digits, `.`, `_` and `-`, other than `.` and `..`
  — or its address, `https://github.com/owner/name` (a trailing `/` or `.git` allowed).
  GitHub compares both case-insensitively; so does `RepoName`.
- A label is what `labels=` filters by: up to 50 characters, no comma (GitHub reads a
  comma as "and").
- A login has the owner's grammar, with an optional leading `@`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from bot.domain.errors import InvalidInput
from bot.domain.inputs import clean_line
from bot.github.errors import InvalidLabel, InvalidRepo

OWNER_MAX: Final = 39
NAME_MAX: Final = 100
LABEL_MAX: Final = 50
GITHUB_HOSTS: Final = ("github.com", "www.github.com")

_OWNER: Final = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?", re.ASCII)
_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,100}", re.ASCII)
# The examples the refusals give (values: an address is the same in every language).
_EXAMPLE: Final = {"repo": "octocat/hello-world", "url": "https://github.com/octocat/hello-world"}


@dataclass(frozen=True, slots=True, eq=False)
class RepoName:
    """A repository as GitHub names it. Equal, and hashed, case-insensitively."""

    owner: str
    name: str

    @property
    def full(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def key(self) -> str:
        """The form to store and compare: lower case."""
        return self.full.lower()

    @property
    def html_url(self) -> str:
        return f"https://github.com/{self.full}"

    def __str__(self) -> str:
        return self.full

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RepoName) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def is_owner(text: str) -> bool:
    return _OWNER.fullmatch(text) is not None


def is_name(text: str) -> bool:
    return _NAME.fullmatch(text) is not None and text not in (".", "..")


def parse_repo(raw: str | None) -> RepoName:
    """`owner/name` or `https://github.com/owner/name` as a `RepoName`; anything else is
    refused with a message that says what to type."""
    text = clean_line(raw)
    if not text:
        raise InvalidRepo("Name the repository, like {repo} or {url}.", **_EXAMPLE)
    shown = text[:60]
    path = text
    if "://" in text or text.lower().startswith(GITHUB_HOSTS):
        path = _path_of(text if "://" in text else "https://" + text, shown)
    parts = path.split("/")
    if len(parts) != 2:
        raise InvalidRepo(
            "“{shown}” is not a repository — use owner/name, like {repo} or {url}.",
            shown=shown,
            **_EXAMPLE,
        )
    owner, name = parts
    if not is_owner(owner):
        raise InvalidRepo(
            "“{owner}” can't be a GitHub owner: owners have up to {most} letters, digits and hyphens, and don't start or end with a hyphen.",
            owner=owner[: OWNER_MAX + 1],
            most=OWNER_MAX,
        )
    if not is_name(name):
        raise InvalidRepo(
            "“{name}” can't be a repository name: names have up to {most} letters, digits, dots, hyphens and underscores.",
            name=name[: NAME_MAX + 1],
            most=NAME_MAX,
        )
    return RepoName(owner, name)


def _path_of(url: str, shown: str) -> str:
    """owner/name from a repository's address on github.com."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise InvalidRepo(
            "“{shown}” is not a web address like {repo} or {url}.", shown=shown, **_EXAMPLE
        ) from None
    if parts.scheme.lower() not in ("http", "https") or host not in GITHUB_HOSTS:
        raise InvalidRepo(
            "Only repositories on github.com can be connected, like {repo} or {url}.", **_EXAMPLE
        )
    if port is not None or parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidRepo(
            "“{shown}” is not a repository's address, like {repo} or {url}.",
            shown=shown,
            **_EXAMPLE,
        )
    path = parts.path.strip("/")
    if path.lower().endswith(".git"):
        path = path[: -len(".git")]
    if path.count("/") != 1:
        raise InvalidRepo(
            "“{shown}” is not a repository's own address — give the repository, like {repo} or {url}.",
            shown=shown,
            **_EXAMPLE,
        )
    return path


def parse_label(raw: str | None) -> str:
    """A label to filter issues by, as written (GitHub matches labels case-insensitively)."""
    label = clean_line(raw)
    if not label:
        raise InvalidLabel("Name the label, like good first issue.")
    if "," in label:
        raise InvalidLabel("Use one label, without commas.")
    if len(label) > LABEL_MAX:
        raise InvalidLabel(
            "The label is {count} characters; GitHub labels have at most {most}.",
            count=len(label),
            most=LABEL_MAX,
        )
    return label


def parse_login(raw: str | None) -> str:
    """A GitHub login (`octocat` or `@octocat`), as written."""
    text = clean_line(raw)
    login = text.removeprefix("@")
    if not login:
        raise InvalidInput("Give your GitHub login, like octocat.")
    if not is_owner(login):
        raise InvalidInput(
            "“{login}” can't be a GitHub login: logins have up to {most} letters, digits and hyphens, and don't start or end with a hyphen.",
            login=login[: OWNER_MAX + 1],
            most=OWNER_MAX,
        )
    return login


@dataclass(frozen=True, slots=True)
class GitHubLink:
    """An issue or a pull request of a repository, from its address."""

    repo: RepoName
    kind: Literal["issue", "pull"]
    number: int

    @property
    def html_url(self) -> str:
        """The address GitHub gives it (`html_url` in its API and webhooks)."""
        return f"{self.repo.html_url}/{'issues' if self.kind == 'issue' else 'pull'}/{self.number}"


_LINK_PATH: Final = re.compile(r"([^/]+)/([^/]+)/(issues|pull)/([0-9]{1,10})(?:/[a-z]+)?/?")


def parse_link(raw: str | None) -> GitHubLink:
    """`https://github.com/owner/name/issues/12` or `…/pull/12` (a tab of it, like
    `/files`, a `#comment` or a query allowed) as what it points to."""
    text = clean_line(raw)
    example = {"issue": "https://github.com/octocat/hello-world/issues/12", "pull": "…/pull/12"}
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or (parts.hostname or "").lower() not in GITHUB_HOSTS
        or port is not None
        or parts.username
    ):
        raise InvalidInput(
            "Give the address of a GitHub issue or pull request, like {issue} or {pull}.",
            **example,
        )
    match = _LINK_PATH.fullmatch(parts.path.lstrip("/"))
    if match is None or not (is_owner(match[1]) and is_name(match[2])) or int(match[4]) < 1:
        raise InvalidInput(
            "That is not an issue or a pull request on GitHub — use one like {issue} or {pull}.",
            **example,
        )
    kind: Literal["issue", "pull"] = "issue" if match[3] == "issues" else "pull"
    return GitHubLink(RepoName(match[1], match[2]), kind, int(match[4]))
