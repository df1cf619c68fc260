"""Telegram throughput: the real application against the local Bot API with injected latency.

    python benchmarks/telegram.py                 # 1,000 chats, 50 ms a Bot API call
    python benchmarks/telegram.py --chats 200     # quicker
    python benchmarks/telegram.py --store postgres --replicas 2   # also: two replicas
                                                  # behind one webhook on PostgreSQL

Last, one chat floods (200 messages at once) and ten other chats each send /help: their reply
latency shows that a busy chat does not keep the others waiting.

Each chat sends two commands (/fix wifi, /fix storage) and then presses a button on the bot's
latest message: a mix of texts and presses, 3 updates a chat. The same bot (`fixbot run`, in
its own process against the local server in this one) runs twice: with fixbot's
per-conversation update processor, and handling updates one at a time
(FIXBOT_MAX_CONCURRENT_UPDATES=1, python-telegram-bot's default). The one-at-a-time run uses fewer chats, since at
~0.1 s an update it would take minutes; throughput is a rate, so the two compare. Per-chat
order is checked, not assumed: every chat's replies must come in the order it wrote.
With `--store postgres` (a real PostgreSQL started as the tests start it) the same load also
goes to `--replicas` processes on one database (one polls, every one handles its share; with
`--webhook`, behind one webhook, a round-robin balancer in this process), beside SQLite with
one process, in one run.
Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

# This file is named telegram.py; the script's own folder must not shadow the library.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bot.localapi import LocalBotApi


@dataclass
class Result:
    mode: str
    chats: int
    updates: int
    seconds: float
    latencies: list[float]
    order_kept: bool

    def row(self) -> list[str]:
        latencies = sorted(self.latencies)
        p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
        return [
            self.mode,
            f"{self.chats:,}",
            f"{self.updates:,}",
            f"{self.updates / self.seconds:.1f}",
            f"{statistics.median(latencies) * 1000:.0f}",
            f"{p99 * 1000:.0f}",
            "yes" if self.order_kept else "NO",
        ]


async def run(
    chats: int, concurrent: int, latency: float, database: str | None = None, replicas: int = 1
) -> Result:
    async with LocalBotApi() as api:
        api.latency = latency
        with tempfile.TemporaryDirectory() as data:
            async with serving(api, Path(data), concurrent, database, replicas):
                users = [api.user(f"user{n}") for n in range(chats)]
                rooms = [api.private_chat(u) for u in users]
                sent: dict[int, list[float]] = {room.id: [] for room in rooms}
                start = time.perf_counter()
                # Phase 1: every chat writes two commands at once.
                for user, room in zip(users, rooms, strict=True):
                    for command in ("/fix wifi", "/fix storage"):
                        sent[room.id].append(time.perf_counter())
                        await api.send(user, room, command)
                # Cheap checks: the predicate runs after every API call.
                times = api.reply_times
                await api.wait_for(
                    lambda: all(len(times.get(r.id, ())) >= 2 for r in rooms), timeout=3600
                )
                replied = {r.id: [m.message_id for m in api.bot_messages(r)] for r in rooms}
                # Phase 2: every chat presses Done on the bot's latest message.
                pressed_at = {}
                for user, room in zip(users, rooms, strict=True):
                    message = api.last_bot_message(room)
                    pressed_at[room.id] = time.perf_counter()
                    await api.press_button(user, message, "Done")
                await api.wait_for(
                    lambda: all(len(times.get(r.id, ())) >= 3 for r in rooms), timeout=3600
                )
                seconds = time.perf_counter() - start
                advanced = all("step 2 of" in api.last_bot_message(r).text.lower() for r in rooms)
        latencies: list[float] = []
        order_kept = True
        for room in rooms:
            replies = api.bot_messages(room)
            titles = [("Wi-Fi" in m.text, "Make room" in m.text) for m in replies]
            order_kept &= titles == [(True, False), (False, True)]
            order_kept &= [m.message_id for m in replies] == replied[room.id]
        order_kept &= advanced
        for room in rooms:
            answers = times.get(room.id, [])
            for asked, answered in zip(sent[room.id], answers[:2], strict=False):
                latencies.append(answered - asked)
            if len(answers) > 2:
                latencies.append(answers[-1] - pressed_at[room.id])
        mode = "per-conversation" if concurrent > 1 else "one at a time"
        if database is not None:
            how = "behind one webhook" if WEBHOOK else "polling (one polls, all handle)"
            mode = f"PostgreSQL, {replicas} replicas {how}"
        return Result(mode, chats, chats * 3, seconds, latencies, order_kept)


async def flood(latency: float, flood: int = 200, others: int = 10) -> list[float]:
    """One chat sends `flood` messages at once; then `others` chats each send /help.
    Returns the other chats' reply latencies (seconds)."""
    async with LocalBotApi() as api:
        api.latency = latency
        with tempfile.TemporaryDirectory() as data:
            async with bot_process(api, Path(data), 64):
                loud = api.user("loud")
                loud_chat = api.private_chat(loud)
                for n in range(flood):
                    await api.send(loud, loud_chat, f"hello {n}")
                quiet = [api.user(f"quiet{n}") for n in range(others)]
                rooms = [api.private_chat(user) for user in quiet]
                asked = {}
                for user, room in zip(quiet, rooms, strict=True):
                    asked[room.id] = time.perf_counter()
                    await api.send(user, room, "/help")
                times = api.reply_times
                await api.wait_for(lambda: all(times.get(r.id) for r in rooms), timeout=600)
                await api.wait_for(lambda: len(times.get(loud_chat.id, ())) >= flood, 3600)
                return [times[r.id][0] - asked[r.id] for r in rooms]


WEBHOOK = False
"""--webhook: the replicas sit behind one webhook instead of sharing what one polls."""


@asynccontextmanager
async def serving(
    api: LocalBotApi, data: Path, concurrent: int, database: str | None, replicas: int
) -> AsyncIterator[None]:
    """One `fixbot run` polling on SQLite; or, given a PostgreSQL `database`, `replicas` of
    them behind one webhook."""
    if database is None:
        async with bot_process(api, data, concurrent):
            yield
        return
    from tests.running import free_port
    from tests.test_replicas import RoundRobin, until_role

    ports = [free_port() for _ in range(replicas)]
    if not WEBHOOK:
        async with contextlib.AsyncExitStack() as stack:
            for n, port in enumerate(ports):
                folder = data / f"replica{n}"
                folder.mkdir()
                shared = {"FIXBOT_DATABASE_URL": database, "FIXBOT_HEALTH_PORT": str(port)}
                await stack.enter_async_context(bot_process(api, folder, concurrent, shared))
                await until_role(port, "poller" if n == 0 else "standby")
            yield
        return
    async with RoundRobin(ports) as balancer, contextlib.AsyncExitStack() as stack:
        for n, port in enumerate(ports):
            folder = data / f"replica{n}"
            folder.mkdir()
            hook = {
                "FIXBOT_DATABASE_URL": database,
                "FIXBOT_WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}/hook",
                "FIXBOT_WEBHOOK_SECRET": "a-benchmark-secret-long-enough",
                "FIXBOT_WEBHOOK_PATH": "hook",
                "FIXBOT_WEBHOOK_PORT": str(port),
            }
            await stack.enter_async_context(bot_process(api, folder, concurrent, hook))
        yield


@asynccontextmanager
async def bot_process(
    api: LocalBotApi, data: Path, concurrent: int, extra: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """`fixbot run` in its own process (and so on its own core), as it runs in production."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FIXBOT_"))
    }
    environment.update(
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_BASE_URL=api.base_url,
        FIXBOT_DATA_DIR=str(data),
        FIXBOT_LOG_LEVEL="WARNING",
        FIXBOT_MAX_SENDS_PER_SECOND="0",  # pace by Telegram's answers, not a fixed budget
        FIXBOT_MAX_CONCURRENT_UPDATES=str(concurrent),
        **(extra or {}),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=environment,
        cwd=data,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        if extra and "FIXBOT_WEBHOOK_URL" in extra:
            before = api.calls["setwebhook"]
            await api.wait_for(lambda: api.calls["setwebhook"] > before, timeout=120)
        else:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=120)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--baseline-chats", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--replicas", type=int, default=2, help="with --store postgres")
    parser.add_argument(
        "--webhook", action="store_true", help="replicas behind one webhook, not polling"
    )
    args = parser.parse_args()
    global WEBHOOK
    WEBHOOK = args.webhook
    fast = await run(args.chats, concurrent=64, latency=args.latency)
    slow = await run(args.baseline_chats, concurrent=1, latency=args.latency)
    results = [fast, slow]
    if args.store == "postgres":
        from tests.postgres import PostgresServer, unavailable

        if unavailable():
            raise SystemExit(f"--store postgres: {unavailable()}")
        server = PostgresServer.start()
        try:
            shared = await run(
                args.chats, 64, args.latency, server.create_database(), args.replicas
            )
        finally:
            server.stop()
        results.insert(1, shared)
    header = ["mode", "chats", "updates", "updates/s", "median ms", "p99 ms", "order kept"]
    print(f"Bot API latency {args.latency * 1000:.0f} ms a call; SQLite: one process, long polling")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for result in results:
        print("| " + " | ".join(result.row()) + " |")
    speedup = (fast.updates / fast.seconds) / (slow.updates / slow.seconds)
    print(f"\nThroughput: {speedup:.1f}x one-at-a-time.")
    waits = sorted(await flood(args.latency))
    print(
        f"While one chat sends 200 messages at once, another chat's /help is answered in "
        f"{statistics.median(waits) * 1000:.0f} ms (median of {len(waits)} chats; slowest "
        f"{waits[-1] * 1000:.0f} ms) at {args.latency * 1000:.0f} ms a Bot API call."
    )


if __name__ == "__main__":
    asyncio.run(main())
