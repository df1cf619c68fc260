"""The webhook server: Telegram's updates over HTTPS (behind a proxy), checked before read.

python-telegram-bot's own server reads the whole body (up to 100 MB) before it looks at the
secret, compares the secret in non-constant time and answers malformed JSON with 500. This one
checks the secret header before a byte of the body is read (constant-time), refuses bodies
over `MAX_BODY` (Telegram's updates are a few KiB), answers 400 to anything that is not an
update, and hands updates to the same durable queue as polling, so a repeated update id is
handled once.
"""

from __future__ import annotations

import hmac
import json
import logging
from http import HTTPStatus
from typing import Any, Final

import tornado.httpserver
import tornado.web
from telegram import Bot, Update

from bot.transports.telegram.health import Health, routes
from bot.transports.telegram.inbox import DurableUpdateQueue
from bot.transports.telegram.kinds import ALLOWED_UPDATES

log = logging.getLogger(__name__)

MAX_BODY: Final = 1024 * 1024
"""Bytes an update may have. Telegram's are small; a message's text is at most 4,096 chars."""
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST an update; anything else, or without the secret, is refused before it is read."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: Bot, queue: DurableUpdateQueue, secret: str) -> None:
        self.bot = bot
        self.queue = queue
        self.secret = secret.encode()
        self.body = bytearray()

    def prepare(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        if self.request.connection is not None:
            self.request.connection.set_max_body_size(MAX_BODY)  # type: ignore[attr-defined]

    def data_received(self, chunk: bytes) -> None:
        self.body += chunk
        if len(self.body) > MAX_BODY:
            raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    async def post(self) -> None:
        try:
            data = json.loads(self.body)
            valid = isinstance(data, dict) and _an_update_id(data.get("update_id"))
            update = Update.de_json(data, self.bot) if valid else None
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            # RecursionError: JSON nested thousands deep, which json.loads gives up on.
            update = None
        if update is None:
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST, reason="not an update")
        if not any(getattr(update, kind) is not None for kind in ALLOWED_UPDATES):
            # What the bot never asks for (an edit, a reaction), as polling never fetches
            # it: acknowledged, so Telegram does not retry it, and ignored.
            self.set_status(HTTPStatus.OK)
            return
        await self.queue.room()  # a full backlog slows Telegram's deliveries down
        await self.queue.put(update)
        await self.queue.flush()  # Telegram hears 200 once the update is in the store
        self.set_status(HTTPStatus.OK)

    def log_exception(self, kind: Any, value: Any, traceback: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):
            log.warning("webhook: refused a request (%s)", value.status_code)
        else:
            super().log_exception(kind, value, traceback)


def _an_update_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def server(
    bot: Bot, queue: DurableUpdateQueue, secret: str, path: str, health: Health | None = None
) -> tornado.httpserver.HTTPServer:
    """Updates at /<path>; /healthz and /metrics beside them, when `health` is given."""
    handlers: list[Any] = [
        (rf"/{path.strip('/')}/?", UpdateHandler, {"bot": bot, "queue": queue, "secret": secret})
    ]
    if health is not None:
        handlers += routes(health)
    app = tornado.web.Application(handlers, log_function=lambda handler: None)
    return tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY, idle_connection_timeout=60)
