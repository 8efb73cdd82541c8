"""What can go wrong talking to GitHub, as refusals a member can read.

Each error is a `DomainError`: its message is written for the maintainer who asked
(`/task import-github`, `/config github`), so the UI's one refusal path shows it as it is.
`detail` says more for the log (a status code, an exception's name) and never holds the
token or a request's headers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.errors import DomainError, InvalidInput, Number, Phrase


class InvalidRepo(InvalidInput):
    """What was typed is not a GitHub repository's owner/name (nor its address)."""


class InvalidLabel(InvalidInput):
    """What was typed can't be a GitHub label to filter issues by."""


class GitHubError(DomainError):
    """GitHub did not give what was asked. `detail` is for the log."""

    def __init__(self, template: str, /, detail: str = "", **values: object) -> None:
        super().__init__(template, **values)
        self.detail = detail or self.message


class RepoNotFound(GitHubError):
    """404: no such repository, or a private one the bot's token can't see."""

    def __init__(self, repo: str) -> None:
        super().__init__(
            Phrase(
                "GitHub has no repository {repo} that Peerboard can see. Check the name; "
                "if it is private, the bot needs a token that can read it."
            ),
            f"404 for {repo}",
            repo=repo,
        )
        self.repo = repo


class AccessDenied(GitHubError):
    """401 or a 403 that is not a rate limit: a bad token, or access refused."""

    def __init__(self, repo: str, status: int) -> None:
        if status == 401:
            message = Phrase(
                "GitHub refused the bot's token. Ask whoever runs Peerboard to check "
                "PEERBOARD_GITHUB_TOKEN."
            )
        else:
            message = Phrase("GitHub refused to show the issues of {repo} to Peerboard.")
        super().__init__(message, f"{status} for {repo}", repo=repo)
        self.repo = repo
        self.status = status


class RateLimited(GitHubError):
    """403 or 429 with no requests left (`x-ratelimit-remaining: 0`), or a secondary limit
    (`retry-after`). `reset_at` (aware, UTC) is when GitHub takes requests again."""

    def __init__(self, reset_at: datetime) -> None:
        at = reset_at.astimezone(UTC)
        super().__init__(
            Phrase(
                "GitHub is limiting Peerboard's requests for now. "
                "Try again after {time} UTC; nothing was changed."
            ),
            f"rate limited until {at.isoformat()}",
            time=f"{at:%H:%M}",
        )
        self.reset_at = at


class GitHubUnavailable(GitHubError):
    """5xx, a connection that failed or timed out, or an answer that makes no sense."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            Phrase(
                "GitHub could not be reached just now; nothing was changed. "
                "Try again in a few minutes."
            ),
            detail,
        )


class TooManyIssues(GitHubError):
    """More open issues with that label than one import takes."""

    def __init__(self, repo: str, label: str, limit: int) -> None:
        super().__init__(
            Phrase(
                "{repo} has more than {limit} open issues labelled “{label}”. "
                "Pick a narrower label."
            ),
            f"more than {limit} issues for {repo} / {label}",
            repo=repo,
            limit=Number(limit),
            label=label,
        )
        self.limit = limit


class IssuesDisabled(GitHubError):
    """410: the repository has its issues turned off."""

    def __init__(self, repo: str) -> None:
        super().__init__(
            Phrase("{repo} has its issues turned off on GitHub."), f"410 for {repo}", repo=repo
        )
        self.repo = repo
