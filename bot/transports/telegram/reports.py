"""What the support team learns, on Telegram: /stats (a few lines and the chart as a photo),
/gaps (what the bot did not understand), and the weekly digest in the staff chat.

Who may ask: anyone in the staff chat (FIXBOT_STAFF_CHAT_ID: a chat of the support team),
and, in a private chat with the bot, the people listed in FIXBOT_ADMIN_IDS. Everyone else
gets one polite line and nothing of the figures; in an ordinary group not even an admin's
/stats is answered there, since the group would read it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot import charts, stats
from bot.catalog import Catalog
from bot.events import Reply
from bot.hours import WeeklyTime
from bot.store.base import Reporting
from bot.transports.telegram import render
from bot.transports.telegram.keys import thread
from bot.wording import Wording

log = logging.getLogger(__name__)

REPORT_COMMANDS: Final = frozenset({"stats", "gaps"})
STATS_DAYS: Final = 7
"""The period /stats looks back on."""
DIGEST_RETRY: Final = 600.0
"""Seconds before a digest Telegram refused is tried again."""


@dataclass(frozen=True)
class ReportsConfig:
    staff_chat_id: int | None = None
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    """People who may ask in a private chat (FIXBOT_ADMIN_IDS)."""
    digest: WeeklyTime | None = None
    """When the weekly digest is due in the staff chat (FIXBOT_STAFF_DIGEST); None: never."""


class Reports:
    def __init__(
        self,
        config: ReportsConfig,
        store: Reporting,
        catalog: Catalog,
        wording: Wording,
        languages: Mapping[str, str] | None = None,
    ) -> None:
        """`catalog` and `wording` in the staff's language; `languages` names each language
        the figures are split by."""
        self.config, self.store, self.catalog, self.wording = config, store, catalog, wording
        self.languages = dict(languages or {})
        self.intents, self.fixes = catalog.titles()
        self._digests: asyncio.Task[None] | None = None

    # -- /stats and /gaps --------------------------------------------------------------------

    def refusal(self, message: Message) -> str | None:
        """Why this message may not have a report (one polite line), or None: it may."""
        staff = self.config.staff_chat_id
        if staff is not None and message.chat.id == staff:
            return None
        admin = message.from_user is not None and message.from_user.id in self.config.admin_ids
        if message.chat.type == ChatType.PRIVATE:
            return None if admin else self.wording.reports_for_staff
        return self.wording.reports_not_here if admin else self.wording.reports_for_staff

    async def command(self, bot: Bot, message: Message, command: str) -> None:
        """/stats or /gaps, answered for those who may ask and refused for the others."""
        refusal = self.refusal(message)
        if refusal is not None:
            await self._post(bot, message, Reply(refusal))
            return
        now = time.time()
        if command == "gaps":
            kept = await self.store.unanswered()
            await self._post(
                bot,
                message,
                Reply(stats.brief_gaps(stats.gaps(kept), self.intents, len(kept), self.wording)),
            )
            return
        rows = await self.store.outcomes(since=now - STATS_DAYS * 86400)
        summary = stats.summarise(rows, now, now - STATS_DAYS * 86400)
        brief = stats.brief(summary, self.intents, STATS_DAYS, self.wording, self.languages)
        await self._post(bot, message, Reply(brief))
        if any(s.started for s in summary.intents.values()):
            await self._send_chart(bot, message, summary)

    async def _send_chart(self, bot: Bot, message: Message, summary: stats.Summary) -> None:
        period = self.wording.stats_period_days.format(days=STATS_DAYS)
        # Drawing takes a second of CPU: in a thread, so that other chats are not kept waiting.
        png = await asyncio.to_thread(
            charts.outcomes_chart, summary, self.intents, self.fixes, period, self.wording
        )
        try:
            await bot.send_photo(
                message.chat.id,
                png,
                caption=self.wording.stats_chart_caption.format(days=STATS_DAYS),
                filename="fixbot-stats.png",
                message_thread_id=thread(message),
                reply_parameters=ReplyParameters(
                    message.message_id, allow_sending_without_reply=True
                ),
            )
        except TelegramError as exc:
            log.warning("the stats chart was not delivered: %s", exc)

    async def _post(self, bot: Bot, message: Message, reply: Reply) -> None:
        """In the chat (and topic) of `message`, as a reply to it."""
        await render.post(bot, message.chat.id, reply, answering=message)

    # -- the weekly digest -------------------------------------------------------------------

    def start_digest(self, bot: Bot) -> None:
        """Post the weekly digest to the staff chat when it is due, until `stop`."""
        if self.config.digest is not None and self.config.staff_chat_id is not None:
            self._digests = asyncio.create_task(self._digest_forever(bot, self.config.digest))

    async def stop(self) -> None:
        if self._digests is not None:
            self._digests.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._digests
            self._digests = None

    async def _digest_forever(self, bot: Bot, when: WeeklyTime) -> None:
        while True:
            try:
                sent = await self.send_digest(bot, when.last(time.time()))
                wait = max(when.next(time.time()).timestamp() - time.time(), 1.0)
                wait = min(wait, 3600.0) if sent is not False else DIGEST_RETRY
            except Exception:
                log.exception("the weekly digest failed; trying again in 10 minutes")
                wait = DIGEST_RETRY
            await asyncio.sleep(wait)

    async def send_digest(self, bot: Bot, due: datetime) -> bool | None:
        """The digest of the week up to `due`, posted once whatever restarts come between:
        True when posted now, None when it was posted before (or had nothing to say), False
        when Telegram refused it (the claim is given back, to try again)."""
        staff = self.config.staff_chat_id
        name = f"digest:{due:%Y-%m-%d}"
        if staff is None or not await self.store.claim(name, time.time()):
            return None
        until = due.timestamp()
        since = until - 7 * 86400
        rows = await self.store.outcomes(since=since)
        summary = stats.summarise([r for r in rows if r.at < until], until, since)
        unanswered = [r for r in await self.store.unanswered() if since <= r.at < until]
        if not summary.intents and not unanswered:
            log.info("weekly digest of %s: nothing happened that week, nothing posted", due.date())
            return None
        steps = stats.step_names(self.catalog, self.wording)
        text = stats.digest(summary, unanswered, self.intents, steps, self.wording, self.languages)
        try:
            await render.post(bot, staff, Reply(text))
        except TelegramError as exc:
            log.warning("the weekly digest was not delivered (%s); trying again later", exc)
            await self.store.unclaim(name)
            return False
        log.info("weekly digest of %s posted to the staff chat", due.date())
        return True
