"""Pull requests as a webhook's `pull_request` object shows them, and the tasks and issues
one refers to. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.github.issues import closing_refs, peerboard_refs
from bot.github.repos import RepoName


@dataclass(frozen=True, slots=True)
class GitHubPull:
    """A pull request: `author` opened it, `merged_by` merged it (None until merged)."""

    number: int
    title: str
    body: str
    html_url: str
    author: str
    state: str
    draft: bool
    merged: bool
    merged_by: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> GitHubPull:
        """A `pull_request` object of GitHub's webhooks or REST API; ValueError if it is
        not one."""
        number = data.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ValueError("pull request without a number")
        title, body, url = data.get("title"), data.get("body"), data.get("html_url")
        if not isinstance(title, str) or not isinstance(url, str):
            raise ValueError(f"pull request #{number} without a title or html_url")
        if body is not None and not isinstance(body, str):
            raise ValueError(f"pull request #{number} with a body that is not text")
        state, draft, merged = data.get("state"), data.get("draft"), data.get("merged")
        return cls(
            number=number,
            title=title,
            body=body or "",
            html_url=url,
            author=_login(data.get("user")) or "ghost",
            state=state if isinstance(state, str) else "open",
            draft=draft is True,
            merged=merged is True,
            merged_by=_login(data.get("merged_by")),
        )

    def closes(self, repo: RepoName | str) -> set[int]:
        """The issues of `repo` its description closes (GitHub reads closing keywords in
        the description, not in the title)."""
        return closing_refs(self.body, repo)

    def tasks(self) -> set[int]:
        """The task numbers its title or description names as `Peerboard #12`."""
        return peerboard_refs(self.title) | peerboard_refs(self.body)


def _login(user: object) -> str | None:
    login = user.get("login") if isinstance(user, Mapping) else None
    return login if isinstance(login, str) else None
