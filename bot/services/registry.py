"""The services an adapter may call, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.cards import CardService
from bot.services.clock import Clock
from bot.services.config import ConfigService
from bot.services.digest import DigestService
from bot.services.export import ExportService
from bot.services.github import GitHubService, WebhookService
from bot.services.health import HealthService
from bot.services.languages import LanguageService
from bot.services.recognition import RecognitionService
from bot.services.reminders import ReminderService
from bot.services.tasks import TaskService


@dataclass(frozen=True, slots=True)
class Services:
    tasks: TaskService
    config: ConfigService
    reminders: ReminderService
    recognition: RecognitionService
    digest: DigestService
    clock: Clock
    health: HealthService

    export: ExportService
    cards: CardService
    github: GitHubService
    webhooks: WebhookService
    languages: LanguageService
