"""Telegram triggers: the secret token Telegram sends back, and `setWebhook` done for the author on deploy."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from django.db import transaction

from flomation.launch.chat.clients import ChatApiError, TelegramClient
from flomation.launch.models import Trigger, TriggerKind
from flomation.launch.pollers import egress_policy_for
from flomation.launch.selectors import trigger_url
from flomation.launch.services.secrets import scrub, trigger_secrets

logger = logging.getLogger(__name__)


def telegram_secret_token(*, trigger: Trigger, secrets: dict[str, Any]) -> str:
    """The `secret_token` given to setWebhook, which Telegram sends in X-Telegram-Bot-Api-Secret-Token.

    The author's own `secret_token` when set; otherwise one derived from the bot token and the trigger's
    address, so nothing more needs configuring and a new bot token changes it. "" without a bot token.
    """
    own = str(secrets.get("secret_token") or "")
    if own:
        return own
    bot_token = str(secrets.get("bot_token") or "")
    if not bot_token:
        return ""
    return hmac.new(bot_token.encode(), f"telegram:{trigger.public_id}".encode(), hashlib.sha256).hexdigest()


def telegram_webhook_register(*, trigger: Trigger) -> bool:
    """Points the bot's webhook at this trigger (setWebhook); returns True on success. A failure is kept in
    the trigger's `last_error` (shown with the trigger) with the token scrubbed, and logged."""
    secrets = trigger_secrets(trigger)
    bot_token = str(secrets.get("bot_token") or "")
    url = trigger_url(trigger)
    error = ""
    if not bot_token:
        error = "the Telegram trigger has no bot token, so its webhook was not set"
    elif not url.startswith("https://") and not url.startswith("http://"):
        error = "LAUNCH_URL is not set, so Telegram cannot be told where to send updates"
    else:
        client = TelegramClient(
            token=bot_token,
            policy=egress_policy_for(trigger),
            base_url=str(trigger.config.get("api_url") or ""),
        )
        try:
            client.set_webhook(url=url, secret_token=telegram_secret_token(trigger=trigger, secrets=secrets))
        except ChatApiError as failure:
            error = scrub(str(failure), secrets)
    if error:
        logger.warning(
            "Telegram setWebhook for trigger %s of organisation %s: %s", trigger.public_id,
            trigger.organisation_id, error,
        )  # fmt: skip
    Trigger.objects.filter(id=trigger.id).update(last_error=error)
    return not error


def telegram_webhooks_register_on_commit(triggers: list[Trigger]) -> None:
    """After the deployment commits (never inside its transaction: the call may take seconds), sets the
    webhook of each of its active Telegram triggers."""
    ids = [t.id for t in triggers if t.kind == TriggerKind.TELEGRAM and t.active]
    if not ids:
        return

    def register() -> None:
        for trigger in Trigger.objects.filter(id__in=ids):
            telegram_webhook_register(trigger=trigger)

    transaction.on_commit(register)
