"""Several `fixbot run` processes on one PostgreSQL, as an operator runs replicas: real
processes against the local Bot API and a real PostgreSQL server the tests start."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from bot.localapi import LocalBotApi
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


async def until_role(port: int, role: str, within: float = 60.0) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await health(port)
        if found.get("role") == role:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {role} on :{port} within {within:.0f} s (last: {found})")


async def test_two_polling_replicas_one_polls_and_the_other_takes_over_when_it_is_killed(
    tmp_path: Path, postgres_url: str
) -> None:
    async with LocalBotApi() as api:
        ports = free_port(), free_port()
        shared = {"FIXBOT_DATABASE_URL": postgres_url}
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
            assert standing["status"] == "standing by"

            people = [api.user(f"P{n}") for n in range(20)]
            chats = [api.private_chat(p) for p in people]
            for person, chat in zip(people, chats, strict=True):
                await api.send(person, chat, "/fix wifi")
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=60)
            assert [len(api.bot_messages(c)) for c in chats] == [1] * 20  # answered once each

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
                assert "stands by to take over" in log
                assert "this replica polls Telegram (elected)" in log
                assert "not-a-secret" not in log  # the URL's password


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    return folder
