"""The kinds of update the bot asks Telegram for, in polling and webhook mode alike."""

from __future__ import annotations

from typing import Final

from telegram import Update

ALLOWED_UPDATES: Final = [Update.MESSAGE, Update.CALLBACK_QUERY]
"""Edited messages are not asked for: an edit is ignored, always."""
