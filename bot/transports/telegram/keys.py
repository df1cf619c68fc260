"""Whose conversation an update belongs to: the one place that turns an update into a key.

The update processor orders updates by this key and the handlers load and save the session
under it, so the two can never disagree about whose turn it is.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.session import SessionKey
from bot.transports.telegram import callback_data


def conversation_key(update: object) -> SessionKey | None:
    """(chat, whose, forum topic) of a message or button press; None for anything else.

    Whose: the person who wrote, or the chat a message was posted as (an anonymous admin
    posts as the group, a channel as itself), so that those senders own their walks. A press
    acts on the conversation of the button's owner.
    """
    if not isinstance(update, Update) or update.effective_chat is None:
        return None
    message = update.effective_message
    query = update.callback_query
    pressed = callback_data.decode(query.data) if query is not None else None
    if pressed is not None:
        whose = pressed.owner
    elif message is not None and message.sender_chat is not None and query is None:
        whose = message.sender_chat.id
    else:
        whose = update.effective_user.id if update.effective_user else 0
    return SessionKey(update.effective_chat.id, whose, thread(message))


def thread(message: Message | None) -> int | None:
    """The forum topic a message is in; None outside forums (and in a forum's General)."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id
