"""The GitHub connection (issue 16), by use:

- `setup`: `GitHubService` — repositories connected to a guild (and their webhook
  secrets), members' GitHub logins, task links, `/task import-github`;
- `webhooks`: `WebhookService` — a delivery checked, recorded and answered
  (`receive`), then handled (`handle`): issues become tasks and follow GitHub, a
  claimant's pull request submits its task, a merge approves it.
"""

from __future__ import annotations

from bot.services.github.events import Effect
from bot.services.github.setup import GitHubService, IssueSource, RepoSetup
from bot.services.github.webhooks import Receipt, WebhookService

__all__ = ["Effect", "GitHubService", "IssueSource", "Receipt", "RepoSetup", "WebhookService"]
