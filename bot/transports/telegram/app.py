"""The python-telegram-bot application, built in one place from settings and services."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
)
from telegram.error import BadRequest, Conflict, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    Updater,
    filters,
)

from bot.errors import ConfigError
from bot.transports.telegram import health
from bot.transports.telegram.conflict import PollingConflict
from bot.transports.telegram.desk import StaffDesk
from bot.transports.telegram.handlers import (
    SERVICES,
    Services,
    on_button,
    on_command,
    on_error,
    on_other,
    on_staff_message,
    on_text,
)
from bot.transports.telegram.inbox import DurableUpdateQueue
from bot.transports.telegram.kinds import ALLOWED_UPDATES
from bot.transports.telegram.limits import PerChatRateLimiter
from bot.transports.telegram.processor import PerConversationUpdateProcessor
from bot.transports.telegram.request import AiohttpRequest, GatedRequest
from bot.transports.telegram.webhook import server as webhook_server
from bot.wording import Wording

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's coming behaviour (time periods as timedelta), which also
# silences its deprecation warning on every "retry after N" the rate limiter handles.
os.environ.setdefault("PTB_TIMEDELTA", "1")


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    base_url: str = "https://api.telegram.org/bot"
    max_retries: int = 5
    """How often a call is retried after Telegram's "retry after N"."""
    max_sends_per_second: float = 30.0
    """The pace the bot keeps on its own across all chats (Telegram's published limit);
    0 leaves pacing to Telegram's 429 answers alone."""
    max_concurrent_updates: int = 64
    """Updates in progress at once; 1 handles them one at a time."""
    max_backlog: int = 1000
    """Updates fetched but not handled, at most (plus one fetch of up to 100): when Telegram's
    pace is the limit, the bot stops fetching rather than pile up work."""
    takeover_after: float = 60.0
    """Replicas: an update stored but not handled, or a message committed but not sent, this
    many seconds ago is taken to be what a dead replica left, and taken over."""


class FixbotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """python-telegram-bot's application, minus one leak: it notes every chat and user id it
    sees for its persistence to save, and only persistence ever empties those sets. fixbot
    keeps its state in its own store and runs without persistence, so nothing is noted."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


def build_application(
    config: TelegramConfig, services: Services
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The whole bot: handlers, the rate limiter with retries, per-conversation ordering,
    and the inbox that makes intake at-least-once."""
    inbox = DurableUpdateQueue(services.conversations.store, max_backlog=config.max_backlog)
    services.takeover_after = config.takeover_after
    services.at_once = config.max_concurrent_updates
    file_url = config.base_url.rstrip("/")
    file_url = (file_url[: -len("/bot")] if file_url.endswith("/bot") else file_url) + "/file/bot"
    application = (
        ApplicationBuilder()
        .application_class(FixbotApplication)
        .token(config.token)
        .base_url(config.base_url)
        .base_file_url(file_url)
        .rate_limiter(
            PerChatRateLimiter(config.max_sends_per_second, config.max_retries, services.metrics)
        )
        .concurrent_updates(
            PerConversationUpdateProcessor(config.max_concurrent_updates, inbox, services.metrics)
        )
        .update_queue(inbox)
        .request(AiohttpRequest(connection_pool_size=config.max_concurrent_updates + 8))
        .get_updates_request(
            GatedRequest(
                _gate(inbox, services.conflict),
                inbox.received,
                services.conflict.polled,
                connection_pool_size=1,
            )
        )
        .build()
    )
    application.bot_data[SERVICES] = services
    services.conversations.observers.append(services.metrics.count_outcomes)
    if services.desk is not None:
        # The staff chat is where support works, not a group to walk fixes in: everything
        # said there is for the desk, and goes no further.
        staff_chat = filters.Chat(chat_id=services.desk.chat_id) & ~filters.StatusUpdate.ALL
        application.add_handler(MessageHandler(staff_chat, on_staff_message))
    private_or_group = filters.ChatType.PRIVATE | filters.ChatType.GROUPS
    application.add_handler(MessageHandler(filters.COMMAND & private_or_group, on_command))
    application.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & private_or_group, on_text)
    )
    application.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private_or_group, on_other)
    )
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


def _gate(inbox: DurableUpdateQueue, conflict: PollingConflict) -> Callable[[], Awaitable[None]]:
    """What each getUpdates waits for: the inbox ready to acknowledge, and, for a newcomer in
    a conflict with another poller, a pause."""

    async def gate() -> None:
        await conflict.before_poll()
        await inbox.ready_to_acknowledge()

    return gate


async def register_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Tell Telegram the command lists, so clients offer them when someone types '/': the
    full list in private chats, the walk's commands in groups, and /settings besides for a
    group's admins (clients show each person the most specific list that applies)."""
    services: Services = application.bot_data[SERVICES]
    try:
        for language in services.languages.values():
            # The default language's lists serve everyone Telegram has no other list for.
            code = None if language is services.languages.default else language.code
            for commands, scope in _command_lists(language.wording, services.desk is not None):
                await application.bot.set_my_commands(commands, scope=scope, language_code=code)
    except (BadRequest, NetworkError) as exc:
        # A nicety: the bot works without the menu, so a server that refuses it is no reason
        # not to start.
        log.warning("could not register the command lists: %s", exc)


def _command_lists(
    wording: Wording, desk: bool
) -> tuple[tuple[list[BotCommand], BotCommandScope], ...]:
    walk = [
        BotCommand("fix", wording.command_fix),
        BotCommand("topics", wording.command_topics),
        BotCommand("help", wording.command_help),
        BotCommand("cancel", wording.command_cancel),
        BotCommand("language", wording.command_language),
    ]
    if desk:
        walk.insert(3, BotCommand("human", wording.command_human))
    return (
        ([BotCommand("start", wording.command_start), *walk], BotCommandScopeDefault()),
        (walk, BotCommandScopeAllGroupChats()),
        (
            [*walk, BotCommand("settings", wording.command_settings)],
            BotCommandScopeAllChatAdministrators(),
        ),
    )


@asynccontextmanager
async def polling(
    application: Application[Any, Any, Any, Any, Any, Any],
    poll_timeout: float = 10,
    on_conflict: Callable[[], None] | None = None,
    start_retries: int = 0,
    health_at: tuple[str, int] | None = None,
) -> AsyncIterator[None]:
    """Run the application with long polling inside the current event loop.

    `on_conflict` is called when Telegram says another program is polling with the same token
    (409): retrying would only make the two cut each other off forever. `start_retries`: how
    often the first contact with the Bot API is tried again (with backoff) before giving up;
    `health_at`: where to serve /healthz and /metrics.
    """

    conflict = _services(application).conflict
    warned = False

    def polling_failed(error: TelegramError) -> None:
        nonlocal warned
        if isinstance(error, Conflict) and "getupdates" in error.message.lower():
            if conflict.giving_up:
                log.error(
                    "Telegram says another program has been receiving this bot's updates for "
                    "%.0f s (%s). Only one may: stop the other one, or give this bot its own "
                    "token.",
                    conflict.give_up_after,
                    error.message,
                )
                if on_conflict is not None:
                    on_conflict()
            elif not warned:
                warned = True
                if conflict.newcomer:
                    log.warning(
                        "another program is already receiving this bot's updates (409); "
                        "backing off, and stopping in %.0f s if it goes on",
                        conflict.give_up_after,
                    )
                else:
                    log.warning(
                        "another program started receiving this bot's updates (409); this "
                        "one was serving first and keeps serving"
                    )
            return
        log.warning("polling failed, retrying: %s", error)

    async def start_polling() -> None:
        await _updater(application).start_polling(
            poll_interval=0,
            timeout=int(poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            error_callback=polling_failed,
        )
        _services(application).health.mode = "polling"

    async with _opened(application, start_retries), _health_server(application, health_at):
        await _start(application)
        services = _services(application)
        side: list[asyncio.Task[None]] = []
        if services.conversations.store.shared:
            # Replicas: every one handles its share of what is in the store; the one elected
            # polls Telegram (a second poller would be refused with 409).
            inbox = _inbox(application)
            inbox.sharing = True
            replica = secrets.randbits(62)
            side.append(
                asyncio.create_task(
                    inbox.share(application.bot, replica, services.takeover_after, services.at_once)
                )
            )
            services.health.standby = True
            side.append(asyncio.create_task(_poll_once_elected(application, start_polling)))
        else:
            await start_polling()
        try:
            yield
        finally:
            for task in side:
                task.cancel()
            await asyncio.gather(*side, return_exceptions=True)
            services.health.mode = None
            await _stop_desk(application)
            await _inbox(application).stop()
            if _updater(application).running:
                await _updater(application).stop()
            await application.stop()


STANDBY_RETRY: Final = 5.0
"""How often a standby replica tries to become the poller: within 15 s of the poller's death
its lock is gone (PostgreSQL drops it with the connection) and the next try takes it."""


async def _poll_once_elected(
    application: Application[Any, Any, Any, Any, Any, Any],
    start_polling: Callable[[], Awaitable[None]],
) -> None:
    """Stand by (handling this replica's share meanwhile) until elected, then poll."""
    services = _services(application)
    store = services.conversations.store
    told = False
    while not await store.lead("poller"):
        if not told:
            log.info("another replica polls Telegram; this one handles its share and stands by")
            told = True
        await asyncio.sleep(STANDBY_RETRY)
    await start_polling()
    services.health.standby = False
    log.info("this replica polls Telegram (elected)")


@asynccontextmanager
async def webhook(
    application: Application[Any, Any, Any, Any, Any, Any],
    listen: str,
    port: int,
    url: str,
    secret: str,
    path: str = "telegram",
    start_retries: int = 0,
    health_at: tuple[str, int] | None = None,
) -> AsyncIterator[None]:
    """Run the application as a webhook inside the current event loop (see
    `bot.transports.telegram.webhook`): requests without `secret` in the
    X-Telegram-Bot-Api-Secret-Token header are refused with 403 before they are read. The
    same server answers /healthz and /metrics."""
    async with _opened(application, start_retries), _health_server(application, health_at):
        await _start(application)
        health = _services(application).health
        http = webhook_server(application.bot, _inbox(application), secret, path, health)
        try:
            http.listen(port, address=listen)
        except OSError as exc:
            raise ConfigError(
                f"the webhook server cannot listen on {listen}:{port} ({exc.strerror}); check "
                "FIXBOT_WEBHOOK_LISTEN and FIXBOT_WEBHOOK_PORT"
            ) from None
        try:
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
            health.mode = "webhook"
            yield
        finally:
            health.mode = None
            await _stop_desk(application)
            http.stop()
            await http.close_all_connections()
            await application.stop()


@asynccontextmanager
async def _opened(
    application: Application[Any, Any, Any, Any, Any, Any], retries: int
) -> AsyncIterator[None]:
    """The application initialised (its first contact with the Bot API: getMe), tried again
    with growing pauses when the Bot API cannot be reached (a network still coming up, a
    proxy starting beside the bot), and shut down after; its HTTP sessions are closed when
    it never starts (python-telegram-bot leaves them open then)."""
    delay = 1.0
    for attempt in range(retries + 1):
        try:
            await application.initialize()
            break
        except NetworkError as exc:  # TimedOut too; InvalidToken is no network's fault
            await application.bot.shutdown()
            if attempt == retries:
                raise
            log.warning(
                "the Bot API did not answer (%s); trying again in %.0f s (%d of %d)",
                exc.message,
                delay,
                attempt + 1,
                retries,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        except BaseException:
            await application.bot.shutdown()
            raise
    try:
        yield
    finally:
        await application.shutdown()


@asynccontextmanager
async def _health_server(
    application: Application[Any, Any, Any, Any, Any, Any], at: tuple[str, int] | None
) -> AsyncIterator[None]:
    """/healthz and /metrics on a port of their own, when one is given."""
    if at is None:
        yield
        return
    listen, port = at
    http = health.server(_services(application).health)
    try:
        http.listen(port, address=listen)
    except OSError as exc:
        raise ConfigError(
            f"the health server cannot listen on {listen}:{port} ({exc.strerror}); check "
            "FIXBOT_HEALTH_LISTEN and FIXBOT_HEALTH_PORT"
        ) from None
    log.info("health and metrics: http://%s:%d/healthz and /metrics", listen, port)
    try:
        yield
    finally:
        http.stop()
        await http.close_all_connections()


def _services(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    found: Services = application.bot_data[SERVICES]
    return found


async def _start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the commands, start handling updates, and first replay what a crash or a
    stop left unhandled."""
    await register_commands(application)
    desk: StaffDesk | None = application.bot_data[SERVICES].desk
    if desk is not None:
        await desk.check(application.bot)
    await application.start()
    # What committed turns asked and a crash left unsent goes first, before any update is
    # run again, so that each conversation's messages keep their order. Replicas sharing a
    # store take over only what was left a while ago: a live replica is carrying out the rest.
    services = _services(application)
    shared = services.conversations.store.shared
    left = time.time() - services.takeover_after if shared else None
    await services.courier.replay(application.bot, left)
    await _inbox(application).replay(application.bot, left)
    if shared:
        application.bot_data[SWEEP] = asyncio.create_task(_sweep(application))
    if desk is not None:
        desk.start_reminders(application.bot)
    application.bot_data[SERVICES].reports.start_digest(application.bot)


SWEEP_EVERY: Final = 15.0
SWEEP: Final = "fixbot.sweep"


async def _sweep(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Replicas: every 15 s (FIXBOT_TAKEOVER_SECONDS), the one elected for periodic work
    takes over what a replica
    killed mid-burst left (updates stored but not handled, messages committed but not sent),
    so nothing waits for that replica to come back."""
    services = _services(application)
    store = services.conversations.store
    every = min(SWEEP_EVERY, services.takeover_after / 2)
    while True:
        await asyncio.sleep(every)
        try:
            if await store.lead("periodic"):
                before = time.time() - services.takeover_after
                await services.courier.replay(application.bot, before)
                await _inbox(application).replay(application.bot, before)
        except Exception:  # the database away, say: the next sweep tries again
            log.warning("could not take over what other replicas left; trying again later")


async def _stop_desk(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop what runs beside the updates: the desk's reminders and the weekly digest."""
    services: Services = application.bot_data[SERVICES]
    sweep = application.bot_data.pop(SWEEP, None)
    if sweep is not None:
        sweep.cancel()
    if services.desk is not None:
        await services.desk.stop()
    await services.reports.stop()


def _inbox(application: Application[Any, Any, Any, Any, Any, Any]) -> DurableUpdateQueue:
    queue = application.update_queue
    if not isinstance(queue, DurableUpdateQueue):  # only without build_application
        raise TypeError("the application was not built with fixbot's inbox")
    return queue


def _updater(application: Application[Any, Any, Any, Any, Any, Any]) -> Updater:
    if application.updater is None:  # only when built with .updater(None), which we never do
        raise RuntimeError("the application has no updater")
    return application.updater
