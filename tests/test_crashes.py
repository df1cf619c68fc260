"""A real `fixbot run` killed with SIGKILL in the middle of a burst, and started again on the
same data folder: nobody is answered twice but for a call in flight at the kill, every
outcome is counted once, and no staff case is left half-made."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.localapi import LocalBotApi
from bot.localapi.server import Chat
from bot.store import SQLiteStore
from tests.running import WORDING
from tests.test_run import start_bot, stop_bot

CONCURRENCY = 4
"""Updates in progress at once in these runs: at most this many calls are in flight at a
kill, so at most this many people may see a message twice."""


async def outcomes(data_dir: Path) -> Counter[str]:
    reader = await SQLiteStore.open(data_dir / "fixbot.sqlite3", read_only=True)
    try:
        return Counter(row.outcome.result for row in await reader.outcomes())
    finally:
        await reader.close()


async def burst_killed_and_restarted(
    api: LocalBotApi, data_dir: Path, chats: list[Chat], say: str, **extra: str
) -> str:
    """Everyone in `chats` says `say`; the bot is killed once some have their answer, and
    started again until everyone has; the second run's log."""
    settings = {
        "FIXBOT_MAX_CONCURRENT_UPDATES": str(CONCURRENCY),
        "FIXBOT_MAX_SENDS_PER_SECOND": "0",
        **extra,
    }
    bot = await start_bot(api, data_dir, **settings)
    try:
        await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
        for chat in chats:
            assert chat.user is not None
            await api.send(chat.user, chat, say)
        await api.wait_for(lambda: sum(bool(api.bot_messages(c)) for c in chats) >= 10, 60)
    finally:
        bot.kill()  # SIGKILL: no chance to finish anything
        await bot.wait()
    assert sum(bool(api.bot_messages(c)) for c in chats) < len(chats)  # it landed mid-burst

    bot = await start_bot(api, data_dir, **settings)
    try:
        await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=120)
        await api.settle()
    finally:
        log = await stop_bot(bot)
    return log


async def test_a_kill_mid_burst_answers_nobody_twice_and_counts_every_walk_once(
    tmp_path: Path,
) -> None:
    async with LocalBotApi() as api:
        api.latency = 0.05
        chats = [api.private_chat(api.user(f"P{n}")) for n in range(120)]
        await burst_killed_and_restarted(api, tmp_path, chats, "wifi won't connect")
        answers = [len(api.bot_messages(c)) for c in chats]
        # Only a call in flight at the instant of the kill can be made again: the same
        # message twice, never the turn run again ("We're already working on that").
        assert sum(n - 1 for n in answers) <= CONCURRENCY, answers
        for chat in chats:
            assert len({m.text for m in api.bot_messages(chat)}) == 1
        assert not any(WORDING.already_on_it in m.text for c in chats for m in api.bot_messages(c))
    counted = await outcomes(tmp_path)
    assert counted["started"] == 120


async def test_a_kill_mid_burst_of_unknown_topics_counts_each_no_match_once(
    tmp_path: Path,
) -> None:
    async with LocalBotApi() as api:
        api.latency = 0.05
        chats = [api.private_chat(api.user(f"Q{n}")) for n in range(120)]
        await burst_killed_and_restarted(api, tmp_path, chats, "/fix quantum-flux")
        answers = [len(api.bot_messages(c)) for c in chats]
        assert sum(n - 1 for n in answers) <= CONCURRENCY, answers
    counted = await outcomes(tmp_path)
    assert counted["no_match"] == 120  # what `fixbot stats` and /gaps count


async def test_a_kill_while_people_ask_for_a_person_leaves_no_case_half_made(
    tmp_path: Path,
) -> None:
    async with LocalBotApi() as api:
        sam = api.user("Sam")
        staff = api.group(
            "Support staff",
            {sam: "creator"},
            forum=True,
            bot_status="administrator",
            bot_can_manage_topics=True,
        )
        api.latency = 0.3
        chats = [api.private_chat(api.user(f"R{n}")) for n in range(10)]
        bot = await start_bot(
            api,
            tmp_path,
            FIXBOT_STAFF_CHAT_ID=str(staff.id),
            FIXBOT_MAX_CONCURRENT_UPDATES=str(CONCURRENCY),
            FIXBOT_MAX_SENDS_PER_SECOND="0",
        )
        try:
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            for chat in chats:
                assert chat.user is not None
                await api.send(chat.user, chat, "/human")
                await api.send(chat.user, chat, "my screen is cracked too")
            await api.wait_for(lambda: len(api.topics(staff)) >= 3, timeout=60)
        finally:
            bot.kill()
            await bot.wait()

        bot = await start_bot(api, tmp_path, FIXBOT_STAFF_CHAT_ID=str(staff.id))
        try:
            await api.wait_for(
                lambda: all(
                    any(m.text.startswith(WORDING.with_staff) for m in api.bot_messages(c))
                    for c in chats
                ),
                timeout=120,
            )
            await api.wait_for(  # each case: its card, then what the person wrote
                lambda: (
                    sum(len(api.messages(staff, t.thread_id)) >= 2 for t in api.topics(staff)) >= 10
                ),
                timeout=60,
            )
            await api.settle()
        finally:
            await stop_bot(bot)

        cases = [api.messages(staff, t.thread_id) for t in api.topics(staff)]
        cases = [messages for messages in cases if messages]
        # A topic whose creation was in flight at the kill is made again (Telegram has no
        # way to ask for it twice and get one): it stays empty, and there are few.
        assert len(api.topics(staff)) - len(cases) <= CONCURRENCY
        assert len(cases) == 10  # every case has its topic ...
        cards = sorted(messages[0].text.split(" ")[0] for messages in cases)
        assert cards == sorted(f"#{n}" for n in range(1, 11))  # ... and its card, once
        # After its card, a topic holds what the person wrote; a card or a copy whose call
        # was in flight at the kill may be there twice, and only those.
        later = Counter(m.text.split(" ")[0] for c in cases for m in c[1:])
        assert later["my"] >= 10
        assert later.total() - 10 <= CONCURRENCY, later
        bare = [m for m in api.messages(staff) if m.thread_id is None]
        assert bare == []  # nothing the people wrote landed in General
        for chat in chats:
            told = [m for m in api.bot_messages(chat) if m.text.startswith(WORDING.with_staff)]
            assert len(told) == 1
