"""What members and maintainers read about GitHub (issue 16): /config github's setup
steps, logins, links, /task import-github, the card's GitHub field and the thread lines
of GitHub's events. Pure text, as `messages`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from bot import i18n
from bot.domain.errors import InvalidInput
from bot.services.github import RepoSetup
from bot.services.views import ActionResult, LinkView, TaskView
from bot.ui.text import safe, user

# GitHub's own names for the webhook's events, as its settings page shows them.
EVENTS = ("Issues", "Pull requests", "Ping")


def repo_setup(tr: i18n.Texts, setup: RepoSetup, public_url_set: bool) -> str:
    """/config github's answer. The secret is shown here once and never again."""
    repo = safe(setup.full_name, 140, markdown=False)
    if setup.removed:
        return tr(
            "Disconnected **{repo}**: its deliveries are refused from now on. "
            "Delete the webhook on GitHub too (Settings → Webhooks).",
            repo=repo,
        )
    label = (
        tr(
            "Issues labeled `{label}` become tasks.",
            label=safe(setup.label, 50, markdown=False),
        )
        if setup.label
        else tr("No label is set, so no issue becomes a task on its own: add one with `label:`.")
    )
    head = (
        tr("Connected **{repo}**.", repo=repo)
        if setup.created
        else tr("Updated **{repo}**.", repo=repo)
    )
    if setup.secret is None:
        kept = tr(
            "The webhook secret stays as it was (it is shown only when made): "
            "use `rotate:True` for a new one."
        )
        return f"{head} {label}\n{kept}"
    url = setup.webhook_url
    where = (
        url
        if public_url_set
        else tr(
            "{url} (the bot's operator sets PEERBOARD_PUBLIC_URL, "
            "the address GitHub reaches the bot at)",
            url=url or "/webhooks/github/…",
        )
    )
    return "\n".join(
        [
            f"{head} {label}",
            tr("On GitHub, open **{repo}** → Settings → Webhooks → Add webhook:", repo=repo),
            tr("• Payload URL: `{url}`", url=where),
            tr("• Content type: `application/json`"),
            tr("• Secret: `{secret}`", secret=setup.secret),
            tr(
                "• Events: pick “Let me select individual events” and tick {events}.",
                events=", ".join(EVENTS),
            ),
            tr(
                "Copy the secret now: it is shown only this once (`rotate:True` makes a new one). "
                "GitHub sends a ping when you save; I'll say here when it arrives."
            ),
        ]
    )


def hook_works(tr: i18n.Texts, repo: str) -> str:
    return tr(
        "✅ GitHub's webhook for **{repo}** works: I received its ping.",
        repo=safe(repo, 140, markdown=False),
    )


def repos_line(tr: i18n.Texts, repos: Sequence[tuple[str, str]]) -> str | None:
    """/config show: the connected repositories."""
    if not repos:
        return None
    items = [
        tr(
            "{repo} (label `{label}`)",
            repo=safe(repo, 140, markdown=False),
            label=safe(label, 50, markdown=False),
        )
        if label
        else tr("{repo} (no label)", repo=safe(repo, 140, markdown=False))
        for repo, label in repos
    ]
    return tr("GitHub: {repositories}", repositories=", ".join(items))


def failed_deliveries(tr: i18n.Texts, failed: Sequence[tuple[str, str, str]]) -> str | None:
    """/config show: GitHub deliveries that failed, with their ids (GitHub's Recent
    Deliveries shows the same ids, and can redeliver them)."""
    if not failed:
        return None
    lines = [
        f"• `{safe(delivery, 64, markdown=False)}` ({safe(event, 32)}): {safe(why, 200)}"
        for delivery, event, why in failed
    ]
    head = tr.plural(
        "⚠️ {n} GitHub delivery could not be handled:",
        "⚠️ {n} GitHub deliveries could not be handled:",
        len(failed),
    )
    return head + "\n" + "\n".join(lines)


def login_set(tr: i18n.Texts, login: str) -> str:
    return tr(
        "Your GitHub account is @{login}. Your pull requests to this server's "
        "connected repositories now submit the tasks you hold.",
        login=safe(login, 39),
    )


def login_cleared(tr: i18n.Texts, login: str, mine: bool) -> str:
    if mine:
        return tr("Removed @{login} as your GitHub account.", login=safe(login, 39))
    return tr("Cleared their GitHub account (@{login}).", login=safe(login, 39))


def login_remove_or_set() -> InvalidInput:
    """/me github with both a login and remove, or neither: a refusal (translated where
    refusals are, bot/ui/errors.py)."""
    return InvalidInput("Give your GitHub `login`, or set `remove:True` to remove it.")


def linked(tr: i18n.Texts, result: ActionResult, url: str) -> str:
    return tr(
        "Linked #{number} to {url}.",
        number=result.task.number,
        url=safe(url, 300, markdown=False),
    )


def unlinked(tr: i18n.Texts, result: ActionResult, url: str | None) -> str:
    if url:
        return tr(
            "Unlinked {url} from #{number}.",
            url=safe(url, 300, markdown=False),
            number=result.task.number,
        )
    return tr("Removed #{number}'s GitHub links.", number=result.task.number)


def imported(
    tr: i18n.Texts, numbers: Sequence[int], skipped: int, posted: int, channel_id: int | None
) -> str:
    already = (
        " "
        + tr.plural(
            "{n} issue was already on the board.", "{n} issues were already on the board.", skipped
        )
        if skipped
        else ""
    )
    if not numbers:
        return tr("No new issues to import.") + already
    listed = ", ".join(f"#{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
    cards = (
        " " + tr("Their cards are in <#{channel}>.", channel=channel_id)
        if channel_id and posted == len(numbers)
        else " " + tr("Some cards could not be posted; `/task list` shows them.")
        if channel_id
        else ""
    )
    done = tr(
        "Imported {tasks} ({numbers}) from GitHub.",
        tasks=tr.plural("{n} task", "{n} tasks", len(numbers)),
        numbers=listed,
    )
    return f"{done}{already}{cards}"


CLOSED_UNMERGED = "pull request closed on GitHub without a merge"  # domain/forge.py's note


def closed_unmerged(result: ActionResult) -> bool:
    return result.note.startswith(CLOSED_UNMERGED)


def back_to_claimants(tr: i18n.Texts, result: ActionResult) -> str:
    """The thread's line when the submitted pull request was closed without a merge:
    the claimants are pinged (publish.py pings them for this action)."""
    claimants = " ".join(user(m) for m in result.task.claimant_ids)
    url = safe(result.note.split(": ", 1)[-1], 300, markdown=False)
    return tr(
        "{claimants} — the pull request {url} was closed on GitHub without a merge, so "
        "this task is back with you. Submit again when it's ready.",
        claimants=claimants,
        url=url,
    )


# The notes GitHub's events and /task link leave on a task (bot/services/github: its
# history keeps them in English), each as the thread's line in the guild's language.
_NOTES: Final[tuple[tuple[re.Pattern[str], Callable[[i18n.Texts, re.Match[str]], str]], ...]] = (
    (
        re.compile(r"a pull request by @(?P<login>\S+) refers to this task: (?P<url>\S+)"),
        lambda tr, m: tr(
            "🔗 a pull request by @{login} refers to this task: {url}",
            login=m["login"],
            url=m["url"],
        ),
    ),
    (
        re.compile(r"issue closed on GitHub: (?P<url>\S+)"),
        lambda tr, m: tr("🔗 issue closed on GitHub: {url}", url=m["url"]),
    ),
    (
        re.compile(r"issue reopened on GitHub: (?P<url>\S+)"),
        lambda tr, m: tr("🔗 issue reopened on GitHub: {url}", url=m["url"]),
    ),
    (
        re.compile(r"issue edited on GitHub: (?P<url>\S+)"),
        lambda tr, m: tr("🔗 issue edited on GitHub: {url}", url=m["url"]),
    ),
    (
        re.compile(r"linked (?P<url>\S+)"),
        lambda tr, m: tr("🔗 linked {url}", url=m["url"]),
    ),
    (
        re.compile(r"unlinked its GitHub links"),
        lambda tr, m: tr("🔗 unlinked its GitHub links"),
    ),
    (
        re.compile(r"unlinked (?P<url>\S+)"),
        lambda tr, m: tr("🔗 unlinked {url}", url=m["url"]),
    ),
)


def activity(tr: i18n.Texts, result: ActionResult) -> str:
    """The thread's line for a note about GitHub links (history has the same words, in
    English)."""
    note = safe(result.note, 1500, markdown=False)
    for pattern, line in _NOTES:
        found = pattern.fullmatch(note)
        if found is not None:
            return line(tr, found)
    return f"🔗 {note}"


def _link_line(tr: i18n.Texts, link: LinkView) -> str:
    url = safe(link.url, 300, markdown=False)
    issue = link.kind == "issue"
    if link.origin == "mention":
        login = safe(link.author, 39)
        if issue:
            return tr("Issue by @{login} refers to this task: {url}", login=login, url=url)
        return tr("PR by @{login} refers to this task: {url}", login=login, url=url)
    if link.state == "open":
        return tr("Issue: {url}", url=url) if issue else tr("PR: {url}", url=url)
    if link.state == "closed":
        if issue:
            return tr("Issue: {url} (closed on GitHub)", url=url)
        return tr("PR: {url} (closed on GitHub)", url=url)
    if link.state == "merged":
        return tr("Issue: {url} (merged)", url=url) if issue else tr("PR: {url} (merged)", url=url)
    state = safe(link.state, 40)
    if issue:
        return tr("Issue: {url} ({state})", url=url, state=state)
    return tr("PR: {url} ({state})", url=url, state=state)


def links_field(tr: i18n.Texts, task: TaskView, limit: int) -> str | None:
    """The card's GitHub field: each link, and the pull requests by non-claimants."""
    if not task.links:
        return None
    lines: list[str] = []
    for i, link in enumerate(task.links):
        line = _link_line(tr, link)
        more = len(task.links) - i
        if len("\n".join([*lines, line])) > limit - 20:
            lines.append(tr.plural("+{n} more", "+{n} more", more))
            break
        lines.append(line)
    return "\n".join(lines)
