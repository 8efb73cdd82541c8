"""The reminder sweep: enqueue what is due, then deliver pending notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice, Notifier
from bot.services.registry import Services
from bot.services.reminders import Due
from bot.services.views import TaskView

log = logging.getLogger("peerboard.sweep")


@dataclass
class SweepReport:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    deferred: int = 0  # DMs left for the next sweep by the pacing budget
    dead: int = 0  # given up on: nobody can receive it, or out of attempts
    via: dict[str, int] = field(default_factory=dict)


def still_relevant(due: Due, task: TaskView | None) -> str | None:
    """A notice that no longer fits the task is skipped, not sent (why, or None)."""
    if task is None:
        return "task deleted"
    return due.kind.relevant(due.member_id, task)


async def deliver_pending(
    services: Services,
    notifier: Notifier,
    *,
    dm_budget: int,
    guild_ids: frozenset[int] | None = None,
) -> SweepReport:
    """Send what is pending. DMs are paced: at most `dm_budget` per sweep; the rest wait."""
    report = SweepReport()
    configs: dict[int, GuildConfig] = {}  # one read per guild and pass, not per notice
    for due in await services.reminders.pending(guild_ids=guild_ids):
        if due.to_member and report.via.get("dm", 0) + report.via.get("thread", 0) >= dm_budget:
            report.deferred += 1
            continue
        lease = await services.reminders.take(due)  # with the member's pause, if to a member
        if lease is None:
            continue  # another sweep has it
        task = await services.tasks.show_by_id(due.task_id)
        why = still_relevant(due, task)
        if why is None and due.to_member:
            why = lease.paused
        if why is not None or task is None:
            await services.reminders.mark_skipped(due, why or "gone")
            report.skipped += 1
            continue
        config = configs.get(due.guild_id)
        if config is None:
            config = configs[due.guild_id] = await services.config.get(due.guild_id)
        notice = Notice(due.kind, task, due.member_id, due.due_at, delivery_id=due.id)
        try:
            via = await notifier.deliver(notice, config)
        except DeliveryFailed as err:
            log.warning("%s for #%s failed (%s)", due.kind.name, task.number, err)
            if err.transient:
                await _retry(services, due, str(err), report)
            else:
                await services.reminders.give_up(due, str(err))
                report.dead += 1
            continue
        except Exception as err:  # one delivery's fault never stops the others
            log.exception("%s for #%s failed unexpectedly", due.kind.name, task.number)
            await _retry(services, due, f"{type(err).__name__}: {err}", report)
            continue
        await services.reminders.mark_sent(due, via)
        report.sent += 1
        report.via[via] = report.via.get(via, 0) + 1
    return report


async def _retry(services: Services, due: Due, error: str, report: SweepReport) -> None:
    if await services.reminders.retry_later(due, error):
        report.retried += 1
    else:
        report.dead += 1


async def sweep(
    services: Services,
    notifier: Notifier,
    *,
    bot_id: int,
    dm_budget: int,
    guild_ids: frozenset[int] | None = None,
) -> SweepReport:
    work = await services.reminders.has_work()
    if not work:
        return SweepReport()  # nothing due, nothing waiting to be sent
    if work.to_enqueue:  # only the phases with something to read
        await services.reminders.enqueue_due(bot_id, guild_ids, work)
    return await deliver_pending(services, notifier, dm_budget=dm_budget, guild_ids=guild_ids)
