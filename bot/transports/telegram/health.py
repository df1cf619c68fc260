"""Health and metrics for whoever runs the bot: `/healthz` and Prometheus' `/metrics`.

`/healthz` answers 200 when the bot is live (long polling running, or the webhook set) and
its store answers, 503 with the reason otherwise: what a container's HEALTHCHECK or a
Kubernetes probe asks. `/metrics` gives what an operator graphs: updates by kind, how long
an update takes, first replies by kind, walks by how they ended, the Bot API's errors and
"retry after" retries, and how many updates wait for their conversation. Neither shows a
token, a name or a word anyone wrote.

Both are served by the webhook server in webhook mode, and by a small server of their own
on FIXBOT_HEALTH_PORT (in either mode).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Final

import tornado.httpserver
import tornado.web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from telegram import Update

from bot.session import Outcome, SessionKey
from bot.store.base import Upkeep

STORE_TIMEOUT: Final = 2.0
"""Seconds the store has to answer a health check."""
_PROBE: Final = SessionKey(0, -1)
"""A key no conversation has: loading it asks the store a real question."""
WALK_ENDS: Final = frozenset({"started", "resolved", "exhausted", "stopped", "handed_over"})
FIRST_REPLIES: Final = {"confirm": "question", "ambiguous": "question", "no_match": "refusal"}


class Metrics:
    """fixbot's Prometheus metrics, in a registry of their own (one per running bot)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("fixbot_updates", "Updates handled, by kind", ["kind"], registry=r)
        self.update_seconds = Histogram(
            "fixbot_update_seconds",
            "Seconds to handle one update: the turn and every Bot API call it makes",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.first_replies = Counter(
            "fixbot_first_replies",
            "First replies to a complaint: walk, question or refusal",
            ["kind"],
            registry=r,
        )
        self.walks = Counter(
            "fixbot_walks",
            "Walks started and how they ended (resolved: confirmed by the person)",
            ["event"],
            registry=r,
        )
        self.api_errors = Counter(
            "fixbot_bot_api_errors",
            "Bot API calls that failed, by method and error",
            ["method", "error"],
            registry=r,
        )
        self.api_retries = Counter(
            "fixbot_bot_api_retries",
            "Bot API calls retried after Telegram's 'retry after'",
            ["method"],
            registry=r,
        )
        self.waiting = Gauge(
            "fixbot_updates_waiting", "Updates received and not yet handled", registry=r
        )
        self.deepest = Gauge(
            "fixbot_conversation_queue_depth_max",
            "Updates of the busiest conversation, being handled or waiting their turn",
            registry=r,
        )
        self.up = Gauge("fixbot_up", "1 while the bot is live and its store answers", registry=r)
        self.store_connections = Gauge(
            "fixbot_store_connections",
            "The shared store's pool: connections open, idle, and requests waiting for one",
            ["state"],
            registry=r,
        )
        self.store_lock_waits = Gauge(
            "fixbot_store_lock_waits",
            "Turns that waited for another replica's turn of the same conversation",
            registry=r,
        )
        for kind in ("walk", "question", "refusal"):
            self.first_replies.labels(kind)
        for event in WALK_ENDS:
            self.walks.labels(event)

    def count_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """What a turn recorded, as counters (an observer of `Conversations`)."""
        for outcome in outcomes:
            result = outcome.result
            if result == "started" and outcome.value == "text":
                self.first_replies.labels("walk").inc()
            elif result in FIRST_REPLIES:
                self.first_replies.labels(FIRST_REPLIES[result]).inc()
            if result in WALK_ENDS and outcome.value != "staff":
                self.walks.labels(result).inc()

    def count_update(self, update: object, seconds: float) -> None:
        self.updates.labels(update_kind(update)).inc()
        self.update_seconds.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def update_kind(update: object) -> str:
    """command, message, button, other_message (a sticker, a photo), member or other."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is not None:
        if message.text is not None:
            return "command" if message.text.startswith("/") else "message"
        return "other_message"
    if update.my_chat_member is not None or update.chat_member is not None:
        return "member"
    return "other"


class Health:
    """Whether the bot is live and its store answers, and this replica's part."""

    def __init__(self, store: Upkeep, metrics: Metrics) -> None:
        self.store, self.metrics = store, metrics
        self.mode: str | None = None
        """"polling" or "webhook" once updates flow; None before and after."""
        self.standby = False
        """A replica waiting to take over polling from the one elected (a shared store)."""

    @property
    def role(self) -> str:
        """poller, standby or webhook on a shared store (replicas); single on one's own."""
        if self.standby:
            return "standby"
        if not self.store.shared:
            return "single"
        return "webhook" if self.mode == "webhook" else "poller"

    async def check(self) -> tuple[bool, dict[str, Any]]:
        detail: dict[str, Any] = {"mode": self.mode, "role": self.role}
        live = "standing by" if self.standby else "ok"
        if self.mode is None and not self.standby:
            detail["status"] = "not receiving updates"
        else:
            silent = await _silence(self.store)
            detail["status"] = live if silent is None else f"store not answering ({silent})"
        ok = detail["status"] == live
        self.metrics.up.set(1 if ok else 0)
        return ok, detail


async def _silence(store: Upkeep) -> str | None:
    """Why the store does not answer a real question (the error's name), or None: it does."""
    try:
        await asyncio.wait_for(store.load(_PROBE), STORE_TIMEOUT)
    except Exception as exc:  # any failure of the store is the answer, not a crash
        return type(exc).__name__
    return None


class HealthHandler(tornado.web.RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        started = time.perf_counter()
        ok, detail = await self.health.check()
        detail["seconds"] = round(time.perf_counter() - started, 4)
        self.set_status(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(detail))


class MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        await self.health.check()  # keeps fixbot_up current for each scrape
        store, metrics = self.health.store, self.health.metrics
        pool = getattr(store, "pool_stats", None)
        if pool is not None:
            for state, key in (("open", "pool_size"), ("idle", "pool_available")):
                metrics.store_connections.labels(state).set(pool.get(key, 0))
            metrics.store_connections.labels("waiting").set(pool.get("requests_waiting", 0))
            metrics.store_lock_waits.set(getattr(store, "lock_waits", 0))
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(self.health.metrics.exposition())


def routes(health: Health) -> list[Any]:
    return [
        (r"/healthz", HealthHandler, {"health": health}),
        (r"/metrics", MetricsHandler, {"health": health}),
    ]


def server(health: Health) -> tornado.httpserver.HTTPServer:
    """The small server of /healthz and /metrics alone (FIXBOT_HEALTH_PORT)."""
    app = tornado.web.Application(routes(health), log_function=lambda handler: None)
    return tornado.httpserver.HTTPServer(app, idle_connection_timeout=60)
