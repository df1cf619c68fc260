"""fixbot running against the local Bot API, as the end-to-end tests start and restart it."""

from __future__ import annotations

import socket
import time
from contextlib import AsyncExitStack
from pathlib import Path

from bot.engine import Engine
from bot.localapi import LocalBotApi
from bot.store import SQLiteStore
from bot.transports.telegram import TelegramConfig, build_application, polling
from bot.transports.telegram.compose import compose
from bot.transports.telegram.desk import DeskConfig
from bot.transports.telegram.reports import ReportsConfig
from bot.wording import Wording

WORDING = Wording()


class Bot:
    """The running bot, which a test can restart."""

    def __init__(
        self,
        api: LocalBotApi,
        engine: Engine,
        data_dir: Path,
        desk: DeskConfig | None = None,
        reports: ReportsConfig | None = None,
        staff_language: str | None = None,
        **config,
    ) -> None:
        self.api, self.engine, self.data_dir, self.desk_config = api, engine, data_dir, desk
        self.reports = reports or ReportsConfig()
        self.staff_language = staff_language
        """The language the support team reads (FIXBOT_STAFF_LANGUAGE), when not the default."""
        self.config = {"max_retries": 5, **config}
        self.hours_later = 0.0
        """Moves the store's clock forward, so that sessions expire."""
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        self._stack = AsyncExitStack()
        store = await SQLiteStore.open(
            self.data_dir / "fixbot.sqlite3", clock=lambda: time.time() + self.hours_later * 3600
        )
        self._stack.push_async_callback(store.close)
        services = compose(self.engine, store, self.desk_config, self.reports, self.staff_language)
        self.application = build_application(
            TelegramConfig(self.api.token, self.api.base_url, **self.config), services
        )
        await self._stack.enter_async_context(polling(self.application, poll_timeout=1))

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
