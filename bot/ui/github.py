"""What members and maintainers read about GitHub (issue 16): /config github's setup
steps, logins, links, /task import-github, the card's GitHub field and the thread lines
of GitHub's events. Pure text, as `messages`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.github import RepoSetup
from bot.services.views import ActionResult, LinkView, TaskView
from bot.ui.text import plural, safe, user

EVENTS = ("Issues", "Pull requests", "Ping")
STATE_WORD = {"open": "open", "closed": "closed on GitHub", "merged": "merged"}


def repo_setup(setup: RepoSetup, public_url_set: bool) -> str:
    """/config github's answer. The secret is shown here once and never again."""
    repo = safe(setup.full_name, 140, markdown=False)
    if setup.removed:
        return (
            f"Disconnected **{repo}**: its deliveries are refused from now on. "
            "Delete the webhook on GitHub too (Settings → Webhooks)."
        )
    label = (
        f"Issues labeled `{safe(setup.label, 50, markdown=False)}` become tasks."
        if setup.label
        else "No label is set, so no issue becomes a task on its own: add one with `label:`."
    )
    head = f"Connected **{repo}**." if setup.created else f"Updated **{repo}**."
    if setup.secret is None:
        return (
            f"{head} {label}\nThe webhook secret stays as it was (it is shown only when made): "
            "use `rotate:True` for a new one."
        )
    url = setup.webhook_url
    where = (
        url
        if public_url_set
        else f"{url or '/webhooks/github/…'} (the bot's operator sets PEERBOARD_PUBLIC_URL, "
        "the address GitHub reaches the bot at)"
    )
    return "\n".join(
        [
            f"{head} {label}",
            f"On GitHub, open **{repo}** → Settings → Webhooks → Add webhook:",
            f"• Payload URL: `{where}`",
            "• Content type: `application/json`",
            f"• Secret: `{setup.secret}`",
            f"• Events: pick “Let me select individual events” and tick {', '.join(EVENTS)}.",
            "Copy the secret now: it is shown only this once (`rotate:True` makes a new one). "
            "GitHub sends a ping when you save; I'll say here when it arrives.",
        ]
    )


def hook_works(repo: str) -> str:
    return (
        f"✅ GitHub's webhook for **{safe(repo, 140, markdown=False)}** works: I received its ping."
    )


def repos_line(repos: Sequence[tuple[str, str]]) -> str | None:
    """/config show: the connected repositories."""
    if not repos:
        return None
    items = [
        f"{safe(repo, 140, markdown=False)} (label `{safe(label, 50, markdown=False)}`)"
        if label
        else f"{safe(repo, 140, markdown=False)} (no label)"
        for repo, label in repos
    ]
    return "GitHub: " + ", ".join(items)


def failed_deliveries(failed: Sequence[tuple[str, str, str]]) -> str | None:
    """/config show: GitHub deliveries that failed, with their ids (GitHub's Recent
    Deliveries shows the same ids, and can redeliver them)."""
    if not failed:
        return None
    lines = [
        f"• `{safe(delivery, 64, markdown=False)}` ({safe(event, 32)}): {safe(why, 200)}"
        for delivery, event, why in failed
    ]
    head = plural(len(failed), "GitHub delivery", "GitHub deliveries")
    return f"⚠️ {head} could not be handled:\n" + "\n".join(lines)


def login_set(login: str) -> str:
    return (
        f"Your GitHub account is @{safe(login, 39)}. Your pull requests to this server's "
        "connected repositories now submit the tasks you hold."
    )


def login_cleared(login: str, mine: bool) -> str:
    if mine:
        return f"Removed @{safe(login, 39)} as your GitHub account."
    return f"Cleared their GitHub account (@{safe(login, 39)})."


def login_remove_or_set() -> str:
    return "Give your GitHub `login`, or set `remove:True` to remove it."


def linked(result: ActionResult, url: str) -> str:
    return f"Linked #{result.task.number} to {safe(url, 300, markdown=False)}."


def unlinked(result: ActionResult, url: str | None) -> str:
    if url:
        return f"Unlinked {safe(url, 300, markdown=False)} from #{result.task.number}."
    return f"Removed #{result.task.number}'s GitHub links."


def imported(numbers: Sequence[int], skipped: int, posted: int, channel_id: int | None) -> str:
    already = (
        f" {plural(skipped, 'issue was', 'issues were')} already on the board." if skipped else ""
    )
    if not numbers:
        return f"No new issues to import.{already}"
    listed = ", ".join(f"#{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
    cards = (
        f" Their cards are in <#{channel_id}>."
        if channel_id and posted == len(numbers)
        else " Some cards could not be posted; `/task list` shows them."
        if channel_id
        else ""
    )
    return f"Imported {plural(len(numbers), 'task')} ({listed}) from GitHub.{already}{cards}"


CLOSED_UNMERGED = "pull request closed on GitHub without a merge"  # domain/forge.py's note


def closed_unmerged(result: ActionResult) -> bool:
    return result.note.startswith(CLOSED_UNMERGED)


def back_to_claimants(result: ActionResult) -> str:
    """The thread's line when the submitted pull request was closed without a merge:
    the claimants are pinged (publish.py pings them for this action)."""
    claimants = " ".join(user(m) for m in result.task.claimant_ids)
    url = safe(result.note.split(": ", 1)[-1], 300, markdown=False)
    return (
        f"{claimants} — the pull request {url} was closed on GitHub without a merge, so "
        "this task is back with you. Submit again when it's ready."
    )


def activity(result: ActionResult) -> str:
    """The thread's line for a note about GitHub links (history has the same words)."""
    return f"🔗 {safe(result.note, 1500, markdown=False)}"


def _link_line(link: LinkView) -> str:
    what = "Issue" if link.kind == "issue" else "PR"
    url = safe(link.url, 300, markdown=False)
    if link.origin == "mention":
        return f"{what} by @{safe(link.author, 39)} refers to this task: {url}"
    state = STATE_WORD.get(link.state, link.state)
    return f"{what}: {url}" + ("" if link.state == "open" else f" ({state})")


def links_field(task: TaskView, limit: int) -> str | None:
    """The card's GitHub field: each link, and the pull requests by non-claimants."""
    if not task.links:
        return None
    lines: list[str] = []
    for i, link in enumerate(task.links):
        line = _link_line(link)
        more = len(task.links) - i
        if len("\n".join([*lines, line])) > limit - 20:
            lines.append(f"+{more} more")
            break
        lines.append(line)
    return "\n".join(lines)
