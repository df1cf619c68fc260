"""fixbot on Telegram: the python-telegram-bot application and its handlers.

`build_application` makes the application; `handlers` translate updates into engine events;
`render` turns replies into HTML and inline keyboards; `callback_data` is the one codec for
button data; `keys` names an update's conversation; `processor` orders updates per
conversation; `inbox` keeps every update until it is handled; `limits` keeps Telegram's
flood limits per chat; `webhook` is the webhook server; `request` the Bot API client.
"""

from bot.transports.telegram.app import (
    ALLOWED_UPDATES,
    TelegramConfig,
    build_application,
    polling,
    webhook,
)
from bot.transports.telegram.handlers import Services

__all__ = [
    "ALLOWED_UPDATES",
    "Services",
    "TelegramConfig",
    "build_application",
    "polling",
    "webhook",
]
