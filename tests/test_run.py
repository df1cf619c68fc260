"""`fixbot run` as a real process against the local Bot API: it serves users, stops cleanly
on SIGTERM, comes back where it left off, and never writes its token to a log."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.localapi import LocalBotApi
from bot.settings import REPOSITORY_ROOT


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
