"""GitHub's REST API, the little of it the board reads: a repository's open issues with a
label (`GET /repos/{owner}/{repo}/issues`), every page of them.

Each request carries GitHub's media type and API version, a User-Agent (GitHub refuses
requests without one) and, only when a token is given, `Authorization: Bearer <token>`.
The token is never logged and the client's repr does not show it; pages and redirects
are followed only on the API's own origin, so the token never goes anywhere else. Each
request has a total timeout of a few seconds. What goes wrong arrives as one of the
typed refusals of `bot.github.errors`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
from pydantic import SecretStr

from bot import __version__
from bot.github.errors import (
    AccessDenied,
    GitHubUnavailable,
    IssuesDisabled,
    RateLimited,
    RepoNotFound,
    TooManyIssues,
)
from bot.github.issues import GitHubIssue, is_pull_request
from bot.github.repos import RepoName, parse_label, parse_repo

log = logging.getLogger("peerboard.github")

DEFAULT_BASE: Final = "https://api.github.com"
API_VERSION: Final = "2022-11-28"
MEDIA_TYPE: Final = "application/vnd.github+json"
USER_AGENT: Final = f"Peerboard/{__version__} (Discord task board)"
PER_PAGE: Final = 100
TIMEOUT: Final = 5.0  # seconds, per request, connecting and reading included
MAX_PAGES: Final = 30  # 3,000 issues and pull requests: more is not one import
MAX_REDIRECTS: Final = 3
MAX_PAGE_BYTES: Final = 32 * 1024 * 1024  # 100 issues of GitHub's largest bodies fit
# GitHub's advice for a secondary limit that names no time: wait at least a minute.
DEFAULT_WAIT: Final = timedelta(minutes=1)
NETWORK_ERRORS: Final = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


def _system_now() -> datetime:
    return datetime.now(UTC)


class GitHubClient:
    """Reads GitHub's REST API at `base` (`https://api.github.com`, or a GitHub
    Enterprise `https://host/api/v3`), with `token` if given. Uses `session` if given
    (and leaves it open); otherwise opens its own, closed by `close()` or `async with`."""

    def __init__(
        self,
        base: str,
        token: str | SecretStr | None,
        session: aiohttp.ClientSession | None = None,
        *,
        timeout: float = TIMEOUT,
        max_pages: int = MAX_PAGES,
        clock: Callable[[], datetime] = _system_now,
    ) -> None:
        self._base = base.rstrip("/")
        self._origin = _origin(self._base)
        if self._origin is None:
            raise ValueError("The GitHub API base must be an http(s) address.")
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._token = SecretStr(secret) if secret else None
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_pages = max_pages
        self._now = clock

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"GitHubClient(base={self._base!r}, token={token})"

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def headers(self) -> dict[str, str]:
        """What every request sends."""
        headers = {
            "Accept": MEDIA_TYPE,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return headers

    async def open_issues(self, repo: str | RepoName, label: str) -> list[GitHubIssue]:
        """Every open issue of `repo` labelled `label` (pull requests left out), in
        GitHub's order (newest first), each once. Raises InvalidRepo or InvalidLabel for
        what can't be a repository or a label, and RepoNotFound, IssuesDisabled,
        AccessDenied, RateLimited, TooManyIssues or GitHubUnavailable."""
        name = repo if isinstance(repo, RepoName) else parse_repo(repo)
        wanted = parse_label(label)
        query = urlencode({"state": "open", "labels": wanted, "per_page": PER_PAGE})
        url: str | None = f"{self._base}/repos/{name.owner}/{name.name}/issues?{query}"
        issues: dict[int, GitHubIssue] = {}
        pages = 0
        while url is not None:
            if pages == self._max_pages:
                raise TooManyIssues(name.full, wanted, self._max_pages * PER_PAGE)
            pages += 1
            items, url = await self._page(url, name)
            for item in items:
                if is_pull_request(item):
                    continue
                try:
                    issue = GitHubIssue.from_api(item)
                except ValueError as err:
                    raise GitHubUnavailable(f"unexpected issue in the answer: {err}") from None
                issues.setdefault(issue.number, issue)
        return list(issues.values())

    async def _page(
        self, url: str, repo: RepoName
    ) -> tuple[list[Mapping[str, object]], str | None]:
        """One page's items and the next page's address (None on the last)."""
        session = self._session_()
        for _ in range(MAX_REDIRECTS + 1):
            self._check_origin(url)
            try:
                async with session.get(
                    url, headers=self.headers(), timeout=self._timeout, allow_redirects=False
                ) as resp:
                    log.debug("GET %s -> %d", url, resp.status)
                    if resp.status in (301, 302, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue  # a renamed or moved repository
                    body = await _read(resp, MAX_PAGE_BYTES + 1)
                    self._raise_for(resp, body, repo)
                    if len(body) > MAX_PAGE_BYTES:
                        raise GitHubUnavailable("an answer larger than the page limit")
                    nxt = resp.links.get("next")
                    next_url = str(nxt["url"]) if nxt is not None else None
            except NETWORK_ERRORS as err:
                raise GitHubUnavailable(f"{type(err).__name__}: {err}") from None
            return _items(body), (urljoin(url, next_url) if next_url is not None else None)
        raise GitHubUnavailable("too many redirects")

    def _session_(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _check_origin(self, url: str) -> None:
        """The token goes to the API's own origin only: a page or redirect elsewhere is
        not followed."""
        if _origin(url) != self._origin:
            raise GitHubUnavailable(f"an address outside the API: {urlsplit(url).hostname}")

    def _raise_for(self, resp: aiohttp.ClientResponse, body: bytes, repo: RepoName) -> None:
        status = resp.status
        if 200 <= status < 300:
            return
        if status in (403, 429):
            reset = self._rate_limit_reset(resp.headers, body, status)
            if reset is not None:
                raise RateLimited(reset)
        if status in (401, 403):
            raise AccessDenied(repo.full, status)
        if status == 404:
            raise RepoNotFound(repo.full)
        if status == 410:
            raise IssuesDisabled(repo.full)
        raise GitHubUnavailable(f"HTTP {status} from GitHub")

    def _rate_limit_reset(
        self, headers: Mapping[str, str], body: bytes, status: int
    ) -> datetime | None:
        """When GitHub takes requests again, if this 403 or 429 is a rate limit (primary:
        no requests left until `x-ratelimit-reset`; secondary: `retry-after` seconds, or
        a minute when it names no time)."""
        now = self._now()
        retry_after = _whole(headers.get("retry-after"))
        if retry_after is not None:
            return now + timedelta(seconds=retry_after)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _whole(headers.get("x-ratelimit-reset"))
            if reset is not None:
                return max(datetime.fromtimestamp(reset, UTC), now)
            return now + DEFAULT_WAIT
        if status == 429 or b"rate limit" in body[:2000].lower():
            return now + DEFAULT_WAIT
        return None


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) address; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _whole(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


async def _read(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or its first `limit` bytes when it is longer."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await resp.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _items(body: bytes) -> list[Mapping[str, object]]:
    try:
        data = json.loads(body)
    except ValueError:
        raise GitHubUnavailable("an answer that is not JSON") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise GitHubUnavailable("an answer that is not a list of issues")
    return data
