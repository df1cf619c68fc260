"""`fixbot run` as a real process against the local Bot API: it serves users, stops cleanly
on SIGTERM, comes back where it left off, and never writes its token to a log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.localapi import LocalBotApi
from bot.session import Outcome, SessionKey
from bot.settings import REPOSITORY_ROOT
from bot.store import SQLiteStore
from tests.running import free_port


async def start_bot(api: LocalBotApi, data_dir: Path, **extra: str) -> asyncio.subprocess.Process:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FIXBOT_"))
    }
    environment.update(
        {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_BASE_URL": api.base_url,
            "FIXBOT_DATA_DIR": str(data_dir),
            "FIXBOT_LOG_LEVEL": "DEBUG",
            **extra,
        }
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=data_dir,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_the_bot_process_restarts_mid_walk_and_the_buttons_still_work(
    tmp_path: Path,
) -> None:
    async with LocalBotApi() as api:
        lena = api.user("Lena")
        chat = api.private_chat(lena)
        bot = await start_bot(api, tmp_path)
        try:
            await api.send(lena, chat, "wifi won't connect")
            walk = await api.wait_for_bot_message(chat, 1, timeout=60)
            await api.press_button(lena, walk, "Done")
            walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
            assert "Step 2 of 4" in walk.text
        finally:
            first_log = await stop_bot(bot)
        assert "fixbot is running (long polling)" in first_log
        assert "fixbot stopped" in first_log

        bot = await start_bot(api, tmp_path)
        try:
            await api.press_button(lena, walk, "Done")
            walk = await api.wait_for_edit(chat, walk.message_id, walk.text, timeout=60)
            assert "Step 3 of 4" in walk.text
        finally:
            second_log = await stop_bot(bot)
        secret = api.token.split(":")[1]
        assert secret not in first_log
        assert secret not in second_log


async def test_a_webhook_without_a_secret_is_refused(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_WEBHOOK_URL="https://example.invalid/hook")
        _, stderr = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 1
    text = stderr.decode()
    assert "FIXBOT_WEBHOOK_SECRET" in text
    assert "Traceback" not in text


async def test_a_wrong_token_says_so_without_showing_it(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, TELEGRAM_BOT_TOKEN="999:not-the-right-secret")
        _, stderr = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 1
    text = stderr.decode()
    assert "Telegram refused the token" in text
    assert "not-the-right-secret" not in text
    assert "Traceback" not in text


def test_repository_root_is_where_the_content_is() -> None:
    assert (REPOSITORY_ROOT / "intents").is_dir()


# -- one bot per data folder and per token; start-up failures are one clear line ----------------


async def refused(api: LocalBotApi, data_dir: Path, **extra: str) -> str:
    """Start `fixbot run`, expect it to refuse with exit code 1; return what it said."""
    bot = await start_bot(api, data_dir, **extra)
    _, stderr = await asyncio.wait_for(bot.communicate(), 60)
    text = stderr.decode()
    assert bot.returncode == 1, text
    assert "Traceback" not in text
    return text


async def test_a_second_bot_on_the_same_data_folder_refuses_to_start(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        first = await start_bot(api, tmp_path)
        try:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            text = await refused(api, tmp_path)
            assert "already using the data folder" in text
            assert str(first.pid) in text
        finally:
            await stop_bot(first)


async def test_a_stray_second_deploy_gives_way_and_the_serving_bot_keeps_serving(
    tmp_path: Path,
) -> None:
    """Two programs on one token cannot both work (each update reaches one of them at
    random). The one that was serving goes on; the newcomer backs off and, as the conflict
    lasts, stops with one clear line and a non-zero exit."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    async with LocalBotApi() as api:
        first = await start_bot(api, tmp_path / "one")
        try:
            kim = api.user("Kim")
            chat = api.private_chat(kim)
            await api.send(kim, chat, "/fix wifi")
            await api.wait_for_bot_message(chat, 1, timeout=60)
            second = await start_bot(api, tmp_path / "two", FIXBOT_CONFLICT_SECONDS="6")
            _, stderr = await asyncio.wait_for(second.communicate(), 90)
            text = stderr.decode()
            assert second.returncode == 1, text
            assert "another program was already receiving this bot's updates" in text
            assert "Traceback" not in text
            assert first.returncode is None  # still serving
            await api.send(kim, chat, "wifi won't connect")
            await api.wait_for_bot_message(chat, 2, timeout=30)
        finally:
            log = await stop_bot(first)
    assert "this one was serving first and keeps serving" in log


async def test_start_up_failures_are_one_clear_line(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        a_file = tmp_path / "not-a-folder"
        a_file.write_text("x")
        text = await refused(api, tmp_path, FIXBOT_DATA_DIR=str(a_file))
        assert "is a file" in text

        damaged = tmp_path / "damaged"
        damaged.mkdir()
        (damaged / "fixbot.sqlite3").write_bytes(b"this is not a database" * 100)
        text = await refused(api, damaged)
        assert "not a SQLite database, or it is damaged" in text
        assert "fixbot.sqlite3" in text

        text = await refused(
            api,
            tmp_path,
            FIXBOT_WEBHOOK_URL="https://example.invalid/hook",
            FIXBOT_WEBHOOK_SECRET="short",
        )
        assert "FIXBOT_WEBHOOK_SECRET is 5 characters long, under 16" in text

        text = await refused(
            api,
            tmp_path,
            FIXBOT_WEBHOOK_URL="https://example.invalid/hook",
            FIXBOT_WEBHOOK_SECRET="long-enough-but-has a space",
        )
        assert "holds 2 character(s) Telegram does not allow" in text
        assert "has a space" not in text


async def test_the_data_is_private_and_messages_stay_out_of_debug_logs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_DATA_DIR=str(data))
        try:
            nina = api.user("Nina")
            chat = api.private_chat(nina)
            await api.send(nina, chat, "my secret wifi complaint xyzzy")
            await api.wait_for_bot_message(chat, 1, timeout=60)
        finally:
            log = await stop_bot(bot)
    assert (data.stat().st_mode & 0o777) == 0o700
    assert (data / "fixbot.sqlite3").stat().st_mode & 0o777 == 0o600
    assert "xyzzy" not in log  # the log level is DEBUG (see start_bot)
    assert "Nina" not in log


async def test_an_older_open_data_folder_is_tightened_and_handled_updates_keep_no_words(
    tmp_path: Path,
) -> None:
    """A data folder an older fixbot left readable by everyone (0755, a 0644 database) is
    made its owner's only at start; once handled, an update keeps its id alone."""
    import sqlite3

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    store = await SQLiteStore.open(data / "fixbot.sqlite3")
    await store.close()
    (data / "fixbot.sqlite3").chmod(0o644)
    data.chmod(0o755)
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_DATA_DIR=str(data))
        try:
            olga = api.user("Olga")
            chat = api.private_chat(olga)
            await api.send(olga, chat, "my private words plugh")
            await api.wait_for_bot_message(chat, 1, timeout=60)
            await api.settle()
        finally:
            log = await stop_bot(bot)
    assert (data.stat().st_mode & 0o777) == 0o700
    assert (data / "fixbot.sqlite3").stat().st_mode & 0o777 == 0o600
    assert "was readable by others" in log
    with sqlite3.connect(data / "fixbot.sqlite3") as db:
        rows = db.execute("SELECT handled, data FROM inbox").fetchall()
    assert rows and all(handled == 1 and text == "" for handled, text in rows)


async def test_old_outcomes_are_purged_at_start(tmp_path: Path) -> None:
    long_ago = 1_000_000.0
    store = await SQLiteStore.open(tmp_path / "fixbot.sqlite3", clock=lambda: long_ago)
    await store.record(SessionKey(1, 1), [Outcome("started", intent="wifi")], long_ago)
    await store.close()
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_KEEP_OUTCOMES_DAYS="30")
        try:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
        finally:
            log = await stop_bot(bot)
    assert "purged" in log
    reader = await SQLiteStore.open(tmp_path / "fixbot.sqlite3", read_only=True)
    assert await reader.outcomes() == []
    await reader.close()


async def test_updates_fetched_before_a_kill_9_are_all_answered_after_a_restart(
    tmp_path: Path,
) -> None:
    """At-least-once intake: what Telegram was told arrived is in the store first."""
    async with LocalBotApi() as api:
        api.latency = 0.03  # slow enough that the kill lands mid-burst
        people = [api.user(f"P{n}") for n in range(120)]
        chats = [api.private_chat(p) for p in people]
        bot = await start_bot(api, tmp_path, FIXBOT_MAX_CONCURRENT_UPDATES="4")
        try:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            for person, chat in zip(people, chats, strict=True):
                await api.send(person, chat, "/fix wifi")
            await api.wait_for(lambda: sum(bool(api.bot_messages(c)) for c in chats) >= 10, 60)
        finally:
            bot.kill()  # SIGKILL: no chance to finish anything
            await bot.wait()
        answered = sum(bool(api.bot_messages(c)) for c in chats)
        assert answered < 120  # the kill did land mid-burst

        bot = await start_bot(api, tmp_path, FIXBOT_MAX_CONCURRENT_UPDATES="4")
        try:
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=120)
        finally:
            log = await stop_bot(bot)
    assert "replaying" in log
    replies = [len(api.bot_messages(c)) for c in chats]
    # Each walk was started once; only the few in flight at the kill may be answered twice.
    assert sum(n - 1 for n in replies) <= 4


# -- the operator's view: health, metrics, start-up, proxies, log lines --------------------------


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def until_healthy(url: str) -> dict:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            status, body = await get(url)
            if status == 200:
                return json.loads(body)
        assert asyncio.get_running_loop().time() < deadline, f"{url} never became healthy"
        await asyncio.sleep(0.2)


async def test_healthz_and_metrics_answer_in_polling_mode(tmp_path: Path) -> None:
    port = free_port()
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_HEALTH_PORT=str(port))
        try:
            health = await until_healthy(f"http://127.0.0.1:{port}/healthz")
            assert (health["status"], health["mode"]) == ("ok", "polling")
            mia = api.user("Mia")
            chat = api.private_chat(mia)
            await api.send(mia, chat, "wifi won't connect")
            walk = await api.wait_for_bot_message(chat, 1, timeout=60)
            await api.press_button(mia, walk, "Done")
            await api.wait_for_edit(chat, walk.message_id, walk.text)
            status, metrics = await get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            assert 'fixbot_updates_total{kind="message"} 1.0' in metrics
            assert 'fixbot_updates_total{kind="button"} 1.0' in metrics
            assert 'fixbot_first_replies_total{kind="walk"} 1.0' in metrics
            assert 'fixbot_walks_total{event="started"} 1.0' in metrics
            assert "fixbot_update_seconds_count 2.0" in metrics
            assert "fixbot_up 1.0" in metrics
            assert api.token.split(":")[1] not in metrics and "wifi" not in metrics
        finally:
            await stop_bot(bot)


async def test_a_self_hosted_bot_api_delivers_to_a_plain_http_webhook(tmp_path: Path) -> None:
    """Telegram's own telegram-bot-api server (--local) sends webhooks over http to any port;
    only Telegram's cloud insists on https. The local Bot API stands in for that server."""
    port = free_port()
    async with LocalBotApi() as api:
        bot = await start_bot(
            api,
            tmp_path,
            FIXBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            FIXBOT_WEBHOOK_SECRET="a-secret-long-enough-to-pass",
            FIXBOT_WEBHOOK_PORT=str(port),
            FIXBOT_WEBHOOK_PATH="hook",
        )
        try:
            uma = api.user("Uma")
            chat = api.private_chat(uma)
            await api.send(uma, chat, "wifi won't connect")
            walk = await api.wait_for_bot_message(chat, 1, timeout=60)
            assert "Wi-Fi" in walk.text
        finally:
            log = await stop_bot(bot)
    assert "the webhook is plain HTTP" in log


async def test_healthz_and_metrics_answer_on_the_webhook_server(tmp_path: Path) -> None:
    port = free_port()
    async with LocalBotApi() as api:
        bot = await start_bot(
            api,
            tmp_path,
            FIXBOT_WEBHOOK_URL="https://bot.example.invalid/hook",  # never called: no updates
            FIXBOT_WEBHOOK_SECRET="a-secret-long-enough-to-pass",
            FIXBOT_WEBHOOK_PORT=str(port),
        )
        try:
            health = await until_healthy(f"http://127.0.0.1:{port}/healthz")
            assert (health["status"], health["mode"]) == ("ok", "webhook")
            status, metrics = await get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200 and "fixbot_up 1.0" in metrics
        finally:
            await stop_bot(bot)


async def test_the_first_contact_is_retried_until_the_bot_api_answers(tmp_path: Path) -> None:
    port = free_port()
    api = LocalBotApi()
    bot = await start_bot(
        api, tmp_path, TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot", FIXBOT_START_RETRIES="5"
    )
    tried: list[str] = []
    try:
        assert bot.stderr is not None
        while not any("the Bot API did not answer" in line for line in tried):
            line = await asyncio.wait_for(bot.stderr.readline(), 60)
            assert line, "the bot stopped: " + "".join(tried)
            tried.append(line.decode())
        await api.start(port)  # the bot tried, failed and waits; now the Bot API comes up
        ivy = api.user("Ivy")
        chat = api.private_chat(ivy)
        await api.send(ivy, chat, "wifi won't connect")
        await api.wait_for_bot_message(chat, 1, timeout=60)
    finally:
        log = "".join(tried) + await stop_bot(bot)
        await api.stop()
    assert "trying again in" in log


async def test_a_start_up_that_cannot_reach_the_bot_api_fails_cleanly(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        text = await refused(
            api,
            tmp_path,
            TELEGRAM_BASE_URL=f"http://127.0.0.1:{free_port()}/bot",
            FIXBOT_START_RETRIES="1",
        )
    assert "cannot reach the Bot API" in text
    assert "Unclosed" not in text  # every HTTP session is closed on the way out


async def test_the_bot_api_is_reached_through_the_proxy_the_environment_names(
    tmp_path: Path,
) -> None:
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        seen.append(request.path)
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, str(request.url), data=await request.read(), headers=request.headers
            ) as response,
        ):
            return web.Response(
                status=response.status, body=await response.read(),
                content_type=response.content_type,
            )  # fmt: skip

    proxy = web.Server(forward)
    runner = web.ServerRunner(proxy)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with LocalBotApi() as api:
            bot = await start_bot(api, tmp_path, HTTP_PROXY=f"http://127.0.0.1:{port}")
            try:
                await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            finally:
                await stop_bot(bot)
    finally:
        await runner.cleanup()
    assert any(path.endswith("/getMe") for path in seen)


async def test_json_log_lines_name_the_update_and_conversation_never_the_words(
    tmp_path: Path,
) -> None:
    async with LocalBotApi() as api:
        bot = await start_bot(api, tmp_path, FIXBOT_LOG_FORMAT="json")
        try:
            noa = api.user("Noa")
            chat = api.private_chat(noa)
            await api.send(noa, chat, "my icloud storage is full")
            await api.wait_for_bot_message(chat, 1, timeout=60)
        finally:
            log = await stop_bot(bot)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    handled = [line for line in lines if line["message"].startswith("message update handled")]
    assert handled and handled[0]["conversation"] == str(SessionKey(chat.id, noa.id))
    assert any("update_id" in line for line in lines)
    assert "storage is full" not in log and api.token.split(":")[1] not in log
