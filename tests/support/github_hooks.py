"""GitHub's webhook deliveries for tests: GitHub's own example payloads
(`../shared/github-webhooks/`, through tests/support/fake_github.py's `payload`) moved to
a test's repository, issue numbers, labels, logins and bodies, serialised once, signed
with a known secret as GitHub signs them, and posted to the bot's real aiohttp server."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.support.fake_github import payload, payloads_dir

REPO = "Commons/Handbook"


def _user(login: str, uid: int) -> dict[str, Any]:
    return {"login": login, "id": uid, "type": "User", "site_admin": False}


def _move(data: dict[str, Any], repo: str) -> None:
    owner, name = repo.split("/")
    data["repository"]["full_name"] = repo
    data["repository"]["name"] = name
    data["repository"]["owner"]["login"] = owner
    data["repository"]["html_url"] = f"https://github.com/{repo}"


def ping(repo: str = REPO) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((payloads_dir() / "ping" / "payload.json").read_text())
    _move(data, repo)
    return data


def issue(
    action: str,
    number: int,
    *,
    repo: str = REPO,
    title: str = "Spelling error in the README file",
    body: str = "It looks like you accidently spelled 'commit' with two 't's.",
    labels: tuple[str, ...] = (),
    label: str | None = None,
) -> dict[str, Any]:
    """An `issues` delivery. `closed` is built from `reopened` (GitHub's examples have
    none), as the payloads' README says."""
    source = "reopened" if action == "closed" else action
    data = payload("issues", source)
    data["action"] = action
    _move(data, repo)
    item = data["issue"]
    template = dict(item["labels"][0]) if item["labels"] else {"id": 1, "color": "d73a4a"}
    item.update(
        number=number,
        title=title,
        body=body,
        html_url=f"https://github.com/{repo}/issues/{number}",
        labels=[{**template, "id": 100 + i, "name": n} for i, n in enumerate(labels)],
    )
    if action == "closed":
        item.update(state="closed", closed_at="2026-12-02T18:00:00Z")
    if label is not None:
        data["label"] = {**template, "name": label}
    return data


def pull(
    action: str,
    number: int,
    *,
    repo: str = REPO,
    author: str = "Codertocat",
    title: str = "Update the README with new information.",
    body: str = "This is a pretty simple change that we need to pull into main.",
    draft: bool = False,
    merged_by: str | None = None,
) -> dict[str, Any]:
    """A `pull_request` delivery; `closed` with `merged_by` is a merge (built from the
    close without merge, as the payloads' README says)."""
    data = payload("pull_request", action)
    _move(data, repo)
    pr = data["pull_request"]
    pr.update(
        number=number,
        title=title,
        body=body,
        draft=draft,
        html_url=f"https://github.com/{repo}/pull/{number}",
    )
    pr["user"] = {**pr["user"], "login": author}
    if merged_by is not None:
        pr.update(merged=True, merged_at="2026-12-02T18:30:00Z", merged_by=_user(merged_by, 77))
    return data


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str


async def post(
    http: aiohttp.ClientSession,
    base: str,
    guild_id: int,
    event: str,
    data: dict[str, Any] | bytes,
    secret: str | None,
    *,
    delivery: str | None = None,
    sign: str | None = None,
) -> Answer:
    """POST a delivery as GitHub does; `sign` overrides the signature header (a wrong
    one), `secret` None sends none."""
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "292430182",
    }
    if sign is not None:
        headers["X-Hub-Signature-256"] = sign
    elif secret is not None:
        headers["X-Hub-Signature-256"] = signature(secret, body)
    async with http.post(f"{base}/webhooks/github/{guild_id}", data=body, headers=headers) as r:
        answer = await r.json() if r.content_type == "application/json" else {"reason": ""}
        return Answer(r.status, str(answer.get("reason", "")))
