"""At-least-once intake: every update is in the store before Telegram hears it arrived.

python-telegram-bot puts each fetched update on its `update_queue` and acknowledges it with
its next `getUpdates`, which comes only after `put` returns; its webhook server answers
Telegram only after `put` too. So a queue whose `put` first writes the update to the store's
inbox makes every acknowledged update durable, in both modes. The update processor marks an
update handled once its handler has run; at start, whatever a crash (or a stop with updates
still queued) left unhandled is replayed. An update id seen before, a redelivery by Telegram
or a webhook retry, is dropped: it is handled once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from telegram import Bot, Update

from bot.store import Store

log = logging.getLogger(__name__)


class DurableUpdateQueue(asyncio.Queue[object]):
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.store = store
        self.clock = clock

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            data = json.dumps(item.to_dict(), separators=(",", ":"))
            if not await self.store.inbox_add(item.update_id, data, self.clock()):
                log.info("update %s arrived before; handled once already", item.update_id)
                return
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a crash or a stop left unhandled; return how many."""
        pending = await self.store.inbox_pending()
        for update_id, data in pending:
            try:
                update = Update.de_json(json.loads(data), bot)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("update %s in the inbox cannot be read (%s); dropped", update_id, exc)
                await self.store.inbox_done(update_id)
                continue
            await super().put(update)
        if pending:
            log.info("replaying %d update(s) received but not handled before", len(pending))
        return len(pending)

    async def handled(self, update: object) -> None:
        if isinstance(update, Update):
            await self.store.inbox_done(update.update_id)
