"""fixbot on Telegram: the python-telegram-bot application and its handlers.

`build_application` makes the application; `handlers` translate updates into engine events;
`render` turns replies into HTML and inline keyboards; `callback_data` is the one codec for
button data; `keys` names an update's conversation; `processor` orders updates per
conversation; `inbox` keeps every update until it is handled; `limits` keeps Telegram's
flood limits per chat; `webhook` is the webhook server; `request` the Bot API client;
`outbox` carries out what committed turns asked of Telegram; `conflict` decides which of two
programs polling one token gives way.
"""

from bot.transports.telegram.app import (
    TelegramConfig,
    build_application,
    polling,
    webhook,
)
from bot.transports.telegram.handlers import Services
from bot.transports.telegram.kinds import ALLOWED_UPDATES

__all__ = [
    "ALLOWED_UPDATES",
    "Services",
    "TelegramConfig",
    "build_application",
    "polling",
    "webhook",
]
