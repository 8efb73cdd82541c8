"""The reminder sweep: enqueue what is due, then deliver pending notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.domain.shards import Shards
from bot.services.cards import CardOutcome, CardPublisher
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
    cards: dict[str, int] = field(default_factory=dict)  # card repair: outcome → how many


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
    shards: Shards | None = None,
) -> SweepReport:
    """Send what is pending in the guilds of `shards` (None: every guild). DMs are paced:
    at most `dm_budget` per sweep; the rest wait."""
    report = SweepReport()
    configs: dict[int, GuildConfig] = {}  # one read per guild and pass, not per notice
    for due in await services.reminders.pending(shards=shards):
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


async def repair_cards(
    services: Services, cards: CardPublisher, *, shards: Shards | None = None
) -> dict[str, int]:
    """Edit every card still owed an update (Discord refused the edit, or the sweep's own
    expiries changed it) from its task as it stands now: one edit per card, whatever
    number of changes it missed. A guild whose cards can't be updated (channel gone,
    permission missing) is told once; its other cards wait for the next try."""
    done: dict[str, int] = {}
    configs: dict[int, GuildConfig] = {}
    blocked: set[int] = set()  # guilds whose cards failed for good in this pass
    for task in await services.cards.due(shards=shards):
        config = configs.get(task.guild_id)
        if config is None:
            config = configs[task.guild_id] = await services.config.get(task.guild_id)
        if task.guild_id in blocked:
            outcome = CardOutcome.BLOCKED  # not another refused request to Discord
        else:
            outcome = await cards.repair(task, config)
        if outcome is CardOutcome.SHOWN:
            await services.cards.shown(task)
        else:
            attempts = await services.cards.failed(task)
            log.warning("the card of #%s is %s (%d tries)", task.number, outcome.value, attempts)
        if outcome is CardOutcome.BLOCKED and task.guild_id not in blocked:
            blocked.add(task.guild_id)
            told = await services.cards.problem_told(task.guild_id)
            if not told and await cards.tell_blocked(task, config):
                await services.cards.note_problem_told(task.guild_id)
        done[outcome.value] = done.get(outcome.value, 0) + 1
    stopped: set[int] = set()  # threads whose next line must wait: they keep their order
    for line in await services.cards.lines_due(shards=shards):
        if line.thread_id in stopped:
            continue
        if await cards.post_line(line) is CardOutcome.SHOWN:
            await services.cards.line_posted(line)
            done["lines"] = done.get("lines", 0) + 1
        else:
            stopped.add(line.thread_id)
            attempts = await services.cards.line_failed(line)
            log.warning("a line for thread %s was refused (%d tries)", line.thread_id, attempts)
    return done


async def sweep(
    services: Services,
    notifier: Notifier,
    *,
    bot_id: int,
    dm_budget: int,
    shards: Shards | None = None,
    cards: CardPublisher | None = None,
) -> SweepReport:
    """One sweep for the guilds of `shards` (None: every guild): what the process owns."""
    # Settings another process (the CLI, a process that owned a guild before) may have
    # written: re-read within one sweep.
    services.config.forget()
    work = await services.reminders.has_work(shards)
    report = SweepReport()
    if work.to_enqueue:  # only the phases with something to read
        await services.reminders.enqueue_due(bot_id, shards, work)
    if work.to_deliver:  # something due or waiting to be sent
        report = await deliver_pending(services, notifier, dm_budget=dm_budget, shards=shards)
    # After the deliveries, which bring some cards up to date; not when nothing at all was
    # found (the has-work check looks for owed cards and lines too): an idle sweep is one
    # unit of work, whatever the number of guilds.
    if cards is not None and work:
        report.cards = await repair_cards(services, cards, shards=shards)
    return report
