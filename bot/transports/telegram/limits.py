"""Telegram's flood limits, kept per chat.

python-telegram-bot's AIORateLimiter paces the bot across chats and retries after Telegram's
"Too Many Requests: retry after N", but it pauses *every* request for those N seconds, though
Telegram's limits are mostly per chat: one busy group would hold up every private chat. Here a
429 for a chat pauses that chat only; a 429 for a request tied to no chat pauses them all, as
before. Only the methods that post or edit go through a group's pace (Telegram's 20 messages a
minute in a group): a read, such as asking who is an admin, goes out at once, so that nobody
pressing someone else's button stalls the group. `paused_for(chat)` says how long a chat's next
message still waits, paced or paused, so that a person pressing a button in it can be told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

from bot.transports.telegram.health import Metrics

log = logging.getLogger(__name__)

_ALL = "all chats"
_POSTING = (
    "send",
    "edit",
    "copy",
    "forward",
    "delete",
    "pin",
    "unpin",
    "create",
    "close",
    "reopen",
)
"""How the Bot API methods that post or change messages (and topics) in a chat begin."""


def posts(endpoint: str) -> bool:
    """Whether the method posts or edits in a chat (and so counts against its pace)."""
    return endpoint.lower().startswith(_POSTING)


class PerChatRateLimiter(AIORateLimiter):
    def __init__(
        self, overall_max_rate: float, max_retries: int, metrics: Metrics | None = None
    ) -> None:
        super().__init__(overall_max_rate=overall_max_rate, max_retries=max_retries)
        self.retries = max_retries
        self.metrics = metrics
        self._paused_until: dict[object, float] = {}

    def paused_for(self, chat_id: int) -> float:
        """Seconds until a message for `chat_id` may go out (0: now): Telegram's pause after
        a 429, or the group's pace when the messages queued there fill it."""
        return max(self._paused(chat_id), self._paced_for(chat_id))

    def _paused(self, chat_id: int) -> float:
        now = time.monotonic()
        until = max(self._paused_until.get(chat_id, 0.0), self._paused_until.get(_ALL, 0.0))
        return max(until - now, 0.0)

    def _paced_for(self, chat_id: int) -> float:
        limiter = self._group_limiters.get(chat_id) if chat_id < 0 else None
        if limiter is None or limiter.max_rate <= 0:
            return 0.0
        queued = limiter._level + len(limiter._waiters) + 1  # this one too
        per_second = limiter.max_rate / limiter.time_period
        return max(queued - limiter.max_rate, 0.0) / per_second

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        paced = posts(endpoint)
        group: int | str | bool = (
            chat_id
            if paced and (isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0))
            else False
        )
        # A read is neither paced nor held by a chat's pause; a 429 on one pauses reads there.
        key = (chat_id if paced else ("read", chat_id)) if chat_id is not None else _ALL
        retries = rate_limit_args or self.retries
        attempt = 0
        while True:
            if chat_id is None:
                wait = self._wait_all()
            elif paced:
                wait = self._paused(chat_id)
            else:
                wait = max(self._paused_until.get(key, 0.0) - time.monotonic(), 0.0)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._run_request(
                    chat=chat_id is not None and paced,
                    group=group,
                    allow_paid_broadcast=bool(data.get("allow_paid_broadcast", False)),
                    callback=callback,
                    args=args,
                    kwargs=kwargs,
                )
            except RetryAfter as exc:
                if attempt == retries:
                    log.warning("%s: still rate limited after %d retries", endpoint, retries)
                    self._count_error(endpoint, exc)
                    raise
                if self.metrics is not None:
                    self.metrics.api_retries.labels(endpoint).inc()
                pause = exc.retry_after
                seconds = pause.total_seconds() if hasattr(pause, "total_seconds") else pause
                until = time.monotonic() + float(seconds) + 0.1
                self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)
                self._forget_old()
                log.info("%s: Telegram asks to wait %.0f s in %s", endpoint, seconds, key)
                attempt += 1

            except TelegramError as exc:
                self._count_error(endpoint, exc)
                raise

    def _count_error(self, endpoint: str, error: TelegramError) -> None:
        if self.metrics is not None:
            self.metrics.api_errors.labels(endpoint, type(error).__name__).inc()

    def _wait_all(self) -> float:
        return max(self._paused_until.get(_ALL, 0.0) - time.monotonic(), 0.0)

    def _forget_old(self) -> None:
        now = time.monotonic()
        if len(self._paused_until) > 1024:
            self._paused_until = {k: v for k, v in self._paused_until.items() if v > now}
