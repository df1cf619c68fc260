"""Several `fixbot run` processes on one PostgreSQL, as an operator runs replicas: real
processes against the local Bot API and a real PostgreSQL server the tests start."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.localapi import LocalBotApi
from bot.store.postgres import PostgresStore
from tests.postgres import PostgresServer
from tests.running import free_port
from tests.test_run import start_bot, stop_bot


async def health(port: int) -> dict:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return dict(json.loads(await response.text()))
    except aiohttp.ClientError:
        return {}


async def updates_handled(port: int) -> int:
    """How many updates the replica behind `port` handled, from its /metrics."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("fixbot_updates_total{")
        )
    )


async def until_role(port: int, role: str, within: float = 60.0) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await health(port)
        if found.get("role") == role:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {role} on :{port} within {within:.0f} s (last: {found})")


async def test_two_polling_replicas_both_handle_one_polls_and_the_other_takes_over(
    tmp_path: Path, postgres_url: str
) -> None:
    async with LocalBotApi() as api:
        ports = free_port(), free_port()
        # Four at a time each, and a Bot API slow enough that twenty people are more than
        # one replica starts at once: the rest is the other's share.
        api.latency = 0.1
        shared = {"FIXBOT_DATABASE_URL": postgres_url, "FIXBOT_MAX_CONCURRENT_UPDATES": "4"}
        first = await start_bot(
            api, _folder(tmp_path, "a"), FIXBOT_HEALTH_PORT=str(ports[0]), **shared
        )
        second = None
        try:
            await until_role(ports[0], "poller")
            second = await start_bot(
                api, _folder(tmp_path, "b"), FIXBOT_HEALTH_PORT=str(ports[1]), **shared
            )
            standing = await until_role(ports[1], "standby")
            assert standing["status"] == "standing by"  # it handles, and does not poll

            people = [api.user(f"P{n}") for n in range(20)]
            chats = [api.private_chat(p) for p in people]
            for person, chat in zip(people, chats, strict=True):
                await api.send(person, chat, "/fix wifi")
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=60)
            assert [len(api.bot_messages(c)) for c in chats] == [1] * 20  # answered once each
            deadline = time.monotonic() + 10  # counted once each update's turn is done
            handled = [await updates_handled(port) for port in ports]
            while sum(handled) < 20 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                handled = [await updates_handled(port) for port in ports]
            assert sum(handled) == 20 and min(handled) > 0, handled  # both took their share

            first.kill()  # SIGKILL: its database connection, and the poller's lock, go with it
            await first.wait()
            killed_at = time.monotonic()
            await until_role(ports[1], "poller", within=20)
            lena = people[0]
            walk = api.bot_messages(chats[0])[-1]
            await api.press_button(lena, walk, "Done")
            moved = await api.wait_for_edit(chats[0], walk.message_id, walk.text, timeout=30)
            assert "Step 2 of" in moved.text  # her walk, kept in the shared store
            assert time.monotonic() - killed_at < 15 + 10  # taken over, and answered
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
            if second is not None:
                log = await stop_bot(second)
                assert "handles its share and stands by" in log
                assert "this replica polls Telegram (elected)" in log
                assert "not-a-secret" not in log  # the URL's password


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    return folder


class RoundRobin:
    """A load balancer in front of the replicas' webhooks: each request to the next one."""

    def __init__(self, ports: list[int]) -> None:
        self.ports, self.turn, self.port = ports, 0, free_port()
        self.sent = [0] * len(ports)

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        for _ in range(len(self.ports) * 20):  # a replica still starting: the next one
            index = self.turn % len(self.ports)
            self.turn += 1
            url = f"http://127.0.0.1:{self.ports[index]}{request.path}"
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(url, data=body, headers=dict(request.headers)) as answer,
                ):
                    self.sent[index] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        return web.Response(status=502)

    async def __aenter__(self) -> RoundRobin:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def start_replicas(
    api: LocalBotApi, root: Path, ports: list[int], settings: dict[str, str]
) -> list[asyncio.subprocess.Process]:
    """A `fixbot run` for each webhook port, each in its own data folder, with `settings`."""
    return [
        await start_bot(api, _folder(root, f"r{n}"), FIXBOT_WEBHOOK_PORT=str(port), **settings)
        for n, port in enumerate(ports)
    ]


def behind(balancer: RoundRobin, database: str) -> dict[str, str]:
    """The settings of a replica on `database` whose webhook is `balancer`'s public URL."""
    return {
        "FIXBOT_DATABASE_URL": database,
        "FIXBOT_WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}/hook",
        "FIXBOT_WEBHOOK_SECRET": "a-secret-long-enough-to-pass",
        "FIXBOT_WEBHOOK_PATH": "hook",
    }


async def test_two_replicas_behind_one_webhook_serve_twenty_people_in_order(
    tmp_path: Path, postgres_url: str
) -> None:
    """Each of 20 people sends /fix wifi and at once /fix power: the two updates of a person
    land on different replicas, and still the Wi-Fi walk comes first, then the charging one
    that replaces it. Every update is answered once."""
    replicas = [free_port(), free_port()]
    async with LocalBotApi() as api, RoundRobin(replicas) as balancer:
        hook = behind(balancer, postgres_url)
        bots = await start_replicas(api, tmp_path, replicas, hook)
        try:
            for port in replicas:
                await until_role(port, "webhook")
            people = [api.user(f"P{n}") for n in range(20)]
            chats = [api.private_chat(p) for p in people]
            for person, chat in zip(people, chats, strict=True):
                await api.send(person, chat, "/fix wifi")
                await api.send(person, chat, "/fix power")
            await api.wait_for(
                lambda: all(len(api.bot_messages(c)) >= 2 for c in chats), timeout=90
            )
            for chat in chats:
                first, second = api.bot_messages(chat)[:2]
                assert "Get onto Wi-Fi" in first.text, first.text
                assert "Plug in to power" in second.text, second.text  # in the order sent
            await asyncio.sleep(1)
            assert [len(api.bot_messages(c)) for c in chats] == [2] * 20  # once each
            assert min(balancer.sent) >= 10  # both replicas really served
        finally:
            for bot in bots:
                log = await stop_bot(bot)
                assert "not-a-secret" not in log


async def test_a_webhook_replica_killed_mid_burst_loses_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two replicas behind one webhook; 40 people start a walk at once and one replica is
    killed with SIGKILL mid-burst, never to come back. What it had received and not handled,
    or committed and not sent, the other takes over (FIXBOT_TAKEOVER_SECONDS later): every
    person gets their walk, and only a message that was under way at the kill is repeated."""
    replicas = [free_port(), free_port()]
    async with LocalBotApi() as api, RoundRobin(replicas) as balancer:
        api.latency = 0.2  # slow enough that the kill lands mid-burst
        hook = {
            **behind(balancer, postgres_url),
            "FIXBOT_TAKEOVER_SECONDS": "4",
            "FIXBOT_MAX_CONCURRENT_UPDATES": "1",
        }
        bots = await start_replicas(api, tmp_path, replicas, hook)
        try:
            for port in replicas:
                await until_role(port, "webhook")
            people = [api.user(f"P{n}") for n in range(40)]
            chats = [api.private_chat(p) for p in people]
            for person, chat in zip(people, chats, strict=True):
                await api.send(person, chat, "/fix wifi")
            await api.wait_for(lambda: sum(bool(api.bot_messages(c)) for c in chats) >= 4, 60)
            bots[0].kill()  # SIGKILL: no chance to finish anything
            await bots[0].wait()
            assert sum(bool(api.bot_messages(c)) for c in chats) < 40  # it landed mid-burst
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=90)
        finally:
            if bots[0].returncode is None:
                bots[0].kill()
                await bots[0].wait()
            log = await stop_bot(bots[1])
        replies = [len(api.bot_messages(c)) for c in chats]
        # Each walk was started once; only messages in flight at the kill may come twice.
        assert sum(n - 1 for n in replies) <= 4, replies
        store = await PostgresStore.open(postgres_url)
        try:
            started = [
                r.key.chat_id for r in await store.outcomes() if r.outcome.result == "started"
            ]
        finally:
            await store.close()
        assert sorted(started) == sorted(c.id for c in chats)  # every walk counted once
        assert "replaying" in log  # the survivor took over what the dead one had received
        assert "not-a-secret" not in log


async def test_postgresql_restarting_under_load_loses_nothing_and_logs_no_traceback_storm(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """PostgreSQL goes down and comes back while 30 people write: the bot says so in a line,
    waits, and answers every one of them once; no traceback per update."""
    url = postgres_server.create_database()
    async with LocalBotApi() as api:
        api.latency = 0.05
        bot = await start_bot(
            api, tmp_path, FIXBOT_DATABASE_URL=url, FIXBOT_HEALTH_PORT=str(free_port())
        )
        try:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            people = [api.user(f"P{n}") for n in range(30)]
            chats = [api.private_chat(p) for p in people]
            for person, chat in zip(people[:10], chats[:10], strict=True):
                await api.send(person, chat, "/fix wifi")
            await asyncio.to_thread(postgres_server.restart)  # as a crash would, then back
            for person, chat in zip(people[10:], chats[10:], strict=True):
                await api.send(person, chat, "/fix wifi")
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=120)
        finally:
            log = await stop_bot(bot)
    replies = [len(api.bot_messages(c)) for c in chats]
    assert sum(n - 1 for n in replies) <= 2, replies  # a message in flight at the crash, at most
    assert log.count("Traceback") <= 2, log[-3000:]
    assert log.count("does not answer") == 1 and "answers again" in log  # one line, then back
    assert "not-a-secret" not in log
