"""GitHub issues through the board's own import: read by the REST client from a local
stand-in for GitHub, mapped by `task_draft`, inserted by `TaskService.import_tasks` (all or
none), on a real database of each backend."""

from __future__ import annotations

import pytest

from bot.db.uow import Database
from bot.domain.errors import PermissionDenied
from bot.github.issues import task_draft
from bot.github.rest import GitHubClient
from bot.services.tasks import TaskService
from tests.services.conftest import history_count
from tests.services.helpers import GUILD, maint, member
from tests.support.fake_github import FakeGitHub, serving

REPO = "octo-org/Hello-World"
LABEL = "peerboard"


async def test_labelled_open_issues_become_tasks(tasks: TaskService, database: Database) -> None:
    async with serving(FakeGitHub()) as github:
        github.add_repo(REPO)
        for n in range(1, 131):
            github.add_issue(
                REPO, n, f"Issue {n}", body=f"Body of **{n}**", labels=(LABEL, f"points:{n % 4}")
            )
        github.add_issue(REPO, 131, "A pull request", labels=(LABEL,), pull_request=True)
        github.add_issue(REPO, 132, "@everyone " + "long " * 40, labels=(LABEL, "Points: 13"))
        async with GitHubClient(github.base, "ghp_test") as client:
            issues = await client.open_issues(REPO, LABEL)

    rows = [task_draft(issue).row() for issue in reversed(issues)]  # oldest first
    with pytest.raises(PermissionDenied):
        await tasks.import_tasks(member(7), rows)
    assert await history_count(database, GUILD) == 0

    views = await tasks.import_tasks(maint(), rows)

    assert len(views) == 131 and [v.number for v in views] == list(range(1, 132))
    first, last = views[0], views[-1]
    assert (first.title, first.description, first.points) == ("Issue 1", "Body of **1**", 1)
    assert [v.points for v in views[:4]] == [1, 2, 3, 1]  # points:1, :2, :3, :0 (not a size)
    assert last.points == 13 and len(last.title) == 100 and "@everyone" not in last.title
    assert await history_count(database, GUILD) == 131
