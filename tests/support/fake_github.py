"""A local stand-in for GitHub's REST API on 127.0.0.1 (aiohttp): the issue list of a
repository, `GET /repos/{owner}/{repo}/issues` (and `/repositories/{id}/issues`, where
GitHub's own page links point), with `state`, `labels`, `per_page` and `page` as GitHub
reads them, its Link header, its rate-limit headers and its error answers.

Its issue objects are GitHub's own example (`../shared/github-webhooks/issues/`, the
`issue` of `opened.payload.json`) with the number, title, body, labels and author a test
gives; a pull request is the same object with the `pull_request` key the issues API adds.
Every request is recorded with the headers a test checks (Authorization among them)."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

JSON: Final = "application/json; charset=utf-8"
RATE_LIMIT: Final = 5000
DOCS: Final = "https://docs.github.com/rest/issues/issues#list-repository-issues"


def payloads_dir() -> Path:
    """`shared/github-webhooks`, found from this file upwards (../shared from a worktree)."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "github-webhooks"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("shared/github-webhooks is not beside this checkout")


@cache
def _payload(event: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((payloads_dir() / event / name).read_text("utf-8"))
    return data


def payload(event: str, action: str) -> dict[str, Any]:
    """A fresh copy of GitHub's example payload, e.g. payload("issues", "labeled")."""
    return copy.deepcopy(_payload(event, f"{action}.payload.json"))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    user_agent: str | None
    accept: str | None
    api_version: str | None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class FakeGitHub:
    """The repositories it knows, by lower-case full name; the requests it got; and the
    answers it is told to give instead (a rate limit, a failure, a hang)."""

    repos: dict[str, Repo] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    # Answer 403 with x-ratelimit-remaining: 0 and this reset (epoch seconds).
    rate_limited_until: int | None = None
    # Answer 403 with `retry-after` (a secondary rate limit), in seconds.
    retry_after: int | None = None
    # Answer this status (a 5xx) to requests for page `fail_page` (None: every page).
    fail_status: int | None = None
    fail_page: int | None = None
    # Put next-page links on this origin instead of the fake's own.
    links_origin: str | None = None
    # Old lower-case full name -> the repository it was renamed to (GitHub answers 301).
    renamed: dict[str, str] = field(default_factory=dict)
    # Answer nothing until the block of `serving` ends (a client's timeout runs out first).
    hang: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 1296269

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_repo(self, full: str) -> Repo:
        owner, name = full.split("/")
        self._ids += 1
        repo = Repo(self._ids, owner, name)
        self.repos[full.lower()] = repo
        return repo

    def add_issue(
        self,
        full: str,
        number: int,
        title: str = "Spelling error in the README file",
        *,
        body: str | None = "It looks like you accidently spelled 'commit' with two 't's.",
        labels: tuple[str, ...] = (),
        author: str = "Codertocat",
        state: str = "open",
        pull_request: bool = False,
    ) -> dict[str, Any]:
        """An issue (or, with `pull_request`, a pull request as the issues API lists it)
        built from GitHub's example issue."""
        repo = self.repos[full.lower()]
        item = payload("issues", "opened")["issue"]
        label = item["labels"][0]
        kind = "pull" if pull_request else "issues"
        api = f"https://api.github.com/repos/{repo.full}"
        item.update(
            url=f"{api}/issues/{number}",
            repository_url=api,
            html_url=f"https://github.com/{repo.full}/{kind}/{number}",
            id=444500000 + number,
            number=number,
            title=title,
            body=body,
            state=state,
            labels=[
                {**label, "id": 1362934389 + i, "name": name, "url": f"{api}/labels/{name}"}
                for i, name in enumerate(labels)
            ],
        )
        item["user"] = {**item["user"], "login": author}
        if pull_request:
            item["pull_request"] = {
                "url": f"{api}/pulls/{number}",
                "html_url": f"https://github.com/{repo.full}/pull/{number}",
                "diff_url": f"https://github.com/{repo.full}/pull/{number}.diff",
                "patch_url": f"https://github.com/{repo.full}/pull/{number}.patch",
                "merged_at": None,
            }
        repo.items.append(item)
        return item

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/repos/{owner}/{repo}/issues", self._by_name)
        app.router.add_get("/repositories/{id}/issues", self._by_id)
        return app

    # -- handlers --------------------------------------------------------------------------

    def _record(self, request: web.Request) -> None:
        h = request.headers
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                h.get("Authorization"),
                h.get("User-Agent"),
                h.get("Accept"),
                h.get("X-GitHub-Api-Version"),
            )
        )

    async def _by_name(self, request: web.Request) -> web.Response:
        self._record(request)
        full = f"{request.match_info['owner']}/{request.match_info['repo']}".lower()
        if full in self.renamed:
            target = self.repos[self.renamed[full].lower()]
            query = f"?{request.query_string}" if request.query_string else ""
            location = f"{self.base}/repositories/{target.id}/issues{query}"
            return self._json(
                {"message": "Moved Permanently", "url": location, "documentation_url": DOCS},
                status=301,
                headers={"Location": location},
            )
        return await self._issues(request, self.repos.get(full))

    async def _by_id(self, request: web.Request) -> web.Response:
        self._record(request)
        found = [r for r in self.repos.values() if str(r.id) == request.match_info["id"]]
        return await self._issues(request, found[0] if found else None)

    async def _issues(self, request: web.Request, repo: Repo | None) -> web.Response:
        if self.hang:
            await self.released.wait()
        q = request.query
        page = max(int(q.get("page", "1")), 1)
        refused = self._refusal(page)
        if refused is not None:
            return refused
        if repo is None:
            return self._json({"message": "Not Found", "documentation_url": DOCS}, status=404)
        state = q.get("state", "open")
        wanted = {w.strip().lower() for w in q.get("labels", "").split(",") if w.strip()}
        per_page = min(int(q.get("per_page", "30")), 100)
        chosen = [
            item
            for item in sorted(repo.items, key=lambda i: i["number"], reverse=True)
            if state in ("all", item["state"])
            and wanted <= {label["name"].lower() for label in item["labels"]}
        ]
        last = max(1, -(-len(chosen) // per_page))
        shown = chosen[(page - 1) * per_page : page * per_page]
        links = self._links(repo, dict(q), page, last)
        return self._json(shown, headers={"Link": links} if links else {})

    def _refusal(self, page: int) -> web.Response | None:
        if self.rate_limited_until is not None:
            return self._json(
                {
                    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good "
                    "news: Authenticated requests get a higher rate limit.)",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                },
                status=403,
                remaining=0,
                reset=self.rate_limited_until,
            )
        if self.retry_after is not None:
            return self._json(
                {
                    "message": "You have exceeded a secondary rate limit. Please wait a few "
                    "minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                },
                status=403,
                headers={"retry-after": str(self.retry_after)},
            )
        if self.fail_status is not None and self.fail_page in (None, page):
            return web.Response(status=self.fail_status, text="Unicorn!", content_type="text/html")
        return None

    def _links(self, repo: Repo, query: dict[str, str], page: int, last: int) -> str:
        """GitHub's Link header: next and last, then prev and first, on the
        /repositories/{id} form of the address."""
        origin = self.links_origin or self.base

        def at(n: int) -> str:
            return f"<{origin}/repositories/{repo.id}/issues?{urlencode({**query, 'page': n})}>"

        rels: list[str] = []
        if page < last:
            rels += [f'{at(page + 1)}; rel="next"', f'{at(last)}; rel="last"']
        if page > 1:
            rels += [f'{at(page - 1)}; rel="prev"', f'{at(1)}; rel="first"']
        return ", ".join(rels)

    def _json(
        self,
        data: object,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        remaining: int = RATE_LIMIT - 1,
        reset: int | None = None,
    ) -> web.Response:
        limits = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(reset if reset is not None else int(time.time()) + 3600),
            "x-ratelimit-used": str(RATE_LIMIT - remaining),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        }
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": JSON, **limits, **(headers or {})},
        )


@asynccontextmanager
async def serving(fake: FakeGitHub) -> AsyncIterator[FakeGitHub]:
    """The stand-in listening on a free loopback port (`fake.base`) until the block ends."""
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        fake.released.set()  # a held answer would keep the server's cleanup waiting
        await runner.cleanup()
