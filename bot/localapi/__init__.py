"""A Bot API server on 127.0.0.1 that behaves as Telegram's does, for tests and benchmarks.

It knows nothing of fixbot: it serves any bot that speaks the Bot API over HTTP, and gives
tests a user's side of the world (send messages and commands, press buttons, read chats as
a user sees them). See `LocalBotApi`.
"""

from bot.localapi.server import ApiError, LocalBotApi, MessageView, User

__all__ = ["ApiError", "LocalBotApi", "MessageView", "User"]
