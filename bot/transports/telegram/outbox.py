"""The outbox on Telegram: what a turn asks of the Bot API, saved with the turn, done after.

A turn's messages and edits, and the staff desk's work it implies (open a case, relay a
message, refresh a card), are written as outbox rows in the transaction that saves the turn
and marks its update handled. They are carried out right after, in order, and each row is
deleted once Telegram has answered it. After a crash, the rows left are carried out at start
and the turn is never run again: a crash can repeat only the call in flight when it struck.

A row is JSON, and this module is the only one that writes or reads it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.conversations import Conversations
from bot.events import Reply
from bot.session import Outcome, SessionKey
from bot.store.base import Outbox, OutboxRow
from bot.transports.telegram import render

if TYPE_CHECKING:
    from bot.transports.telegram.desk import StaffDesk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Post:
    """Send a message (`text` in the content's markup); `case_id`: a message to the person of
    that case, whose case is marked unreachable if Telegram refuses it."""

    chat_id: int
    text: str
    markup: dict[str, Any] | None = None
    thread: int | None = None
    reply_to: int | None = None
    case_id: int | None = None


@dataclass(frozen=True)
class Edit:
    """Edit a message in place; sent anew when it can no longer be edited."""

    chat_id: int
    message_id: int
    text: str
    markup: dict[str, Any] | None = None
    thread: int | None = None


@dataclass(frozen=True)
class DeskWork:
    """Work for the staff desk: `action` names a `StaffDesk.do_<action>` method, `details` its
    arguments (plain JSON)."""

    action: str
    details: dict[str, Any] = field(default_factory=dict)


Delivery = Post | Edit | DeskWork
_KINDS: dict[str, type[Post] | type[Edit] | type[DeskWork]] = {
    "post": Post,
    "edit": Edit,
    "desk": DeskWork,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}


def encode(delivery: Delivery) -> str:
    return json.dumps({"kind": _NAMES[type(delivery)], **asdict(delivery)}, separators=(",", ":"))


def decode(data: str) -> Delivery | None:
    """A row's delivery; None for a row this version cannot read (logged, then dropped)."""
    try:
        fields = json.loads(data)
        kind = _KINDS[fields.pop("kind")]
        return kind(**fields)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def markup_data(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return markup.to_dict() if markup is not None else None


def post_of(
    chat_id: int,
    reply: Reply,
    owner: int = 0,
    thread: int | None = None,
    reply_to: int | None = None,
    case_id: int | None = None,
) -> Post:
    """A reply as a message to send, its buttons owned by `owner`."""
    markup = markup_data(render.keyboard(reply, owner))
    return Post(chat_id, reply.text, markup, thread, reply_to, case_id)


class Courier:
    """Carries out outbox rows, in order, and confirms each to the store."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations
        self.store: Outbox = conversations.store
        self.desk: StaffDesk | None = None
        """Set by the staff desk, when there is one (desk rows are dropped without)."""
        self.delivered = 0
        """Rows carried out since start (for tests and metrics)."""

    async def deliver(self, bot: Bot, rows: Iterable[OutboxRow]) -> None:
        """Carry out `rows` in order. If one fails unexpectedly, the rest are dropped too
        (they followed from it) and the error goes on to the error handler."""
        rows = list(rows)
        for n, row in enumerate(rows):
            try:
                await self._carry_out(bot, row)
            except asyncio.CancelledError:
                raise  # stopping: the row stays, to be carried out at the next start
            except Exception:
                await self.store.outbox_done([r.id for r in rows[n:]])
                raise
            await self.store.outbox_done([row.id])
            self.delivered += 1

    async def replay(self, bot: Bot, before: float | None = None) -> int:
        """At start: carry out what committed turns asked and a crash or a stop left undone;
        each conversation's rows in order, conversations side by side. How many rows.
        `before`: only rows written before then (replicas: what a dead one left, not what a
        live one is carrying out now)."""
        pending = await self.store.outbox_pending(before)
        by_key: defaultdict[SessionKey, list[OutboxRow]] = defaultdict(list)
        for row in pending:
            by_key[row.key].append(row)

        async def one_conversation(rows: Sequence[OutboxRow]) -> None:
            try:
                await self.deliver(bot, rows)
            except Exception:
                log.exception("a message left from before the restart could not be sent")

        if pending:
            log.info("sending %d message(s) a stop left unsent", len(pending))
        await asyncio.gather(*(one_conversation(rows) for rows in by_key.values()))
        return len(pending)

    async def _carry_out(self, bot: Bot, row: OutboxRow) -> None:
        delivery = decode(row.data)
        if isinstance(delivery, Post):
            await self.post(bot, row.key, delivery)
        elif isinstance(delivery, Edit):
            await self._edit(bot, row.key, delivery)
        elif isinstance(delivery, DeskWork):
            if self.desk is not None:
                await self.desk.do(bot, row.key, delivery)
        else:
            log.warning("outbox row %s cannot be read by this version; dropped", row.id)

    async def post(self, bot: Bot, key: SessionKey, post: Post) -> None:
        markup = InlineKeyboardMarkup.de_json(post.markup, bot) if post.markup else None
        replying = (
            ReplyParameters(post.reply_to, allow_sending_without_reply=True)
            if post.reply_to
            else None
        )

        async def send(text: str, mode: ParseMode | None) -> None:
            await bot.send_message(
                post.chat_id,
                text,
                parse_mode=mode,
                reply_markup=markup,
                message_thread_id=post.thread,
                reply_parameters=replying,
            )

        try:
            await render.html_or_plain(post.chat_id, post.text, send)
        except Forbidden as exc:
            # Blocked by the user, or a private chat they never started: nothing to answer,
            # but worth knowing about.
            log.warning("chat %s: cannot write there (%s)", post.chat_id, exc.message)
            await self.conversations.record(
                key, Outcome("undeliverable", value=exc.message[:200]), time.time()
            )
            if post.case_id is not None and self.desk is not None:
                await self.desk.person_not_told(bot, post.case_id)

    async def _edit(self, bot: Bot, key: SessionKey, edit: Edit) -> None:
        markup = InlineKeyboardMarkup.de_json(edit.markup, bot) if edit.markup else None

        async def change(text: str, mode: ParseMode | None) -> None:
            await bot.edit_message_text(
                text,
                chat_id=edit.chat_id,
                message_id=edit.message_id,
                parse_mode=mode,
                reply_markup=markup,
            )

        anew = Post(edit.chat_id, edit.text, edit.markup, edit.thread)
        try:
            await render.html_or_plain(edit.chat_id, edit.text, change)
        except BadRequest as exc:
            text = exc.message.lower()
            if "not modified" in text:
                return  # a doubled press: the message already shows this
            if "not found" in text or "can't be edited" in text:
                await self.post(bot, key, anew)
                return
            raise
        except TelegramError as exc:
            # The step is saved; the person must see it. A new message is the next best
            # thing to an edit (Telegram failing, or timing out, on the edit).
            log.warning("chat %s: could not edit (%s); sending the step anew", edit.chat_id, exc)
            await self.post(bot, key, anew)
