"""Whose conversation an update belongs to: the one place that turns an update into a key.

The update processor orders updates by this key and the handlers load and save the session
under it, so the two can never disagree about whose turn it is.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.session import SessionKey


def conversation_key(update: object) -> SessionKey | None:
    """(chat, person, forum topic) of a message or button press; None for anything else."""
    if not isinstance(update, Update) or update.effective_chat is None:
        return None
    user = update.effective_user
    return SessionKey(
        update.effective_chat.id, user.id if user else 0, thread(update.effective_message)
    )


def thread(message: Message | None) -> int | None:
    """The forum topic a message is in; None outside forums (and in a forum's General)."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id
