"""Engine replies as Telegram messages: HTML text and inline keyboards."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.events import CasePress, Reply
from bot.transports.telegram import callback_data
from bot.transports.telegram.keys import thread

log = logging.getLogger(__name__)

MAX_MESSAGE: Final = 4096
_BOLD: Final = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def to_html(text: str) -> str:
    """The content's markup (**bold**) as Telegram HTML; everything else escaped."""
    return _fit(_BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False)))


def to_plain(text: str) -> str:
    """The same text with no markup at all: the fallback when Telegram refuses the HTML."""
    return _fit(_BOLD.sub(r"\1", text))


def _fit(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def keyboard(
    reply: Reply, owner: int, extra: list[InlineKeyboardButton] | None = None
) -> InlineKeyboardMarkup | None:
    """The reply's buttons, each carrying its press and its owner; `extra` goes last."""
    rows: list[list[InlineKeyboardButton]] = []
    for row in reply.buttons:
        line = []
        for button in row:
            if button.url:
                line.append(InlineKeyboardButton(button.label, url=button.url))
            elif isinstance(button.press, CasePress):
                data = callback_data.encode_case(button.press)
                line.append(InlineKeyboardButton(button.label, callback_data=data))
            elif button.press is not None:
                data = callback_data.encode(button.press, owner)
                line.append(InlineKeyboardButton(button.label, callback_data=data))
        if line:
            rows.append(line)
    if extra:
        rows.append(extra)
    return InlineKeyboardMarkup(rows) if rows else None


async def html_or_plain(
    chat_id: int, text: str, deliver: Callable[[str, ParseMode | None], Awaitable[None]]
) -> None:
    """Deliver the text as HTML; if Telegram refuses the HTML, as plain text instead."""
    try:
        await deliver(to_html(text), ParseMode.HTML)
    except BadRequest as exc:
        if "parse entities" not in exc.message:
            raise
        log.warning("chat %s: Telegram refused the HTML (%s); sending plain text", chat_id, exc)
        await deliver(to_plain(text), None)


async def post(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    owner: int = 0,
    answering: Message | None = None,
    **where: Any,
) -> Message:
    """Send a reply, its buttons owned by `owner`, as HTML (plain text if Telegram refuses
    the HTML); `answering`: in that message's topic, as a reply to it (sent all the same if
    it is gone); `where` goes to sendMessage as it is. The message sent."""
    sent: list[Message] = []
    markup = keyboard(reply, owner)
    if answering is not None:
        where.setdefault("message_thread_id", thread(answering))
        where["reply_parameters"] = ReplyParameters(
            answering.message_id, allow_sending_without_reply=True
        )

    async def deliver(text: str, mode: ParseMode | None) -> None:
        sent.append(
            await bot.send_message(chat_id, text, parse_mode=mode, reply_markup=markup, **where)
        )

    await html_or_plain(chat_id, reply.text, deliver)
    return sent[-1]
