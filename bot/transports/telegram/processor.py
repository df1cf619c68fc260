"""The order and concurrency of updates: one conversation at a time, many conversations at once.

python-telegram-bot hands every update to an update processor. This one runs updates of
different conversations concurrently and updates of the same conversation one after the
other, in the order they arrived; it also knows how many presses on a message are waiting,
and tells the inbox when an update has been handled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import logs
from bot.locks import KeyedLocks
from bot.session import SessionKey
from bot.transports.telegram import callback_data
from bot.transports.telegram.health import Metrics, update_kind
from bot.transports.telegram.inbox import DurableUpdateQueue
from bot.transports.telegram.keys import conversation_key

log = logging.getLogger(__name__)

_WIDE_OPEN: Final = 1_000_000
"""python-telegram-bot's own limit, set out of the way (see PerConversationUpdateProcessor)."""


class PerConversationUpdateProcessor(BaseUpdateProcessor):
    """Updates run concurrently, but two of the same (chat, user, topic) run one after the
    other, in the order they arrived: python-telegram-bot alone would either run everything
    one at a time or lose that order.

    An update first waits for its conversation, then for one of `max_concurrent_updates`
    slots. python-telegram-bot takes its slot before calling `do_process_update` (and that
    method is final), so with its limit in force one chat's queued updates would hold every
    slot while they wait for their own conversation, and every other chat would wait too.
    Its limit is therefore set wide open and the real one is kept here.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        inbox: DurableUpdateQueue | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(_WIDE_OPEN)
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be at least 1")
        self.inbox = inbox
        self.metrics = metrics
        self._depth: Counter[SessionKey | None] = Counter()
        """Updates per conversation being handled or waiting their turn."""
        if metrics is not None:
            metrics.waiting.set_function(lambda: sum(self._depth.values()))
            metrics.deepest.set_function(lambda: max(self._depth.values(), default=0))
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: KeyedLocks[SessionKey] = KeyedLocks()
        self._presses: Counter[tuple[SessionKey, int]] = Counter()

    def presses_waiting(self, key: SessionKey, message_id: int) -> int:
        """Presses on this message of this conversation being handled or waiting their turn."""
        return self._presses[(key, message_id)]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = conversation_key(update)
        press = _pressed_message(update)
        if key is not None and press is not None:
            self._presses[(key, press)] += 1
        self._depth[key] += 1
        started = time.perf_counter()
        # Every line logged while this update is handled names it (FIXBOT_LOG_FORMAT=json).
        logs.update_id.set(update.update_id if isinstance(update, Update) else None)
        logs.conversation.set(str(key) if key is not None else None)
        try:
            if key is None:
                async with self._slots:
                    await coroutine
            else:
                async with self._locks.hold(key), self._slots:
                    await coroutine
        finally:
            self._depth[key] -= 1
            if not self._depth[key]:
                del self._depth[key]
            seconds = time.perf_counter() - started
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s update handled in %.3f s", update_kind(update), seconds)
            if self.metrics is not None:
                self.metrics.count_update(update, seconds)
            if key is not None and press is not None:
                self._presses[(key, press)] -= 1
                if not self._presses[(key, press)]:
                    del self._presses[(key, press)]
        # python-telegram-bot hands a handler's errors to the error handler and returns: an
        # update that failed is handled too, and is not replayed forever.
        if self.inbox is not None:
            await self.inbox.handled(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _pressed_message(update: object) -> int | None:
    """The message a person pressed their own button on (a stranger's press, refused later,
    must never stand in for the owner's)."""
    if not isinstance(update, Update) or update.callback_query is None:
        return None
    query = update.callback_query
    data = callback_data.decode(query.data)
    if query.message is None or data is None or data.owner != query.from_user.id:
        return None
    return query.message.message_id
