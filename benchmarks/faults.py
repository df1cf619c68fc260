"""Fault figures: what a crash, a stray press or a half-made case does to people, measured.

    python benchmarks/faults.py            # all of it, about two minutes
    python benchmarks/faults.py --quick    # smaller bursts

A real `fixbot run` (FIXBOT_MAX_CONCURRENT_UPDATES=64, the default) against the local Bot API (its own process, killed with SIGKILL and
started again on the same data folder, as the crash tests in tests/test_crashes.py do):

- a burst of complaints, 50 ms a Bot API call and no self-imposed pace, killed once some are
  answered: how many people got a second message, and whether each walk was counted once;
- the same with unknown /fix topics: the no-match outcomes `fixbot stats` and /gaps count;
- people asking for a person while every call takes 300 ms, killed mid-way: cases left
  without their topic or card, people told twice, messages landing bare in General, and the
  empty topics left by a creation in flight at the kill;
- 40 presses by one member on another's walk in a group: how long the owner then waits for
  their own step, and how often the bot asked Telegram who someone is.

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bot.localapi import LocalBotApi
from bot.localapi.server import Chat
from bot.store import SQLiteStore
from bot.wording import Wording
from tests.test_run import start_bot, stop_bot

WORDING = Wording()
CONCURRENCY = 64
"""Updates handled at once (FIXBOT_MAX_CONCURRENT_UPDATES; 64 is the default): at most this
many calls are in flight at a kill (--concurrency)."""


async def counted(data_dir: Path) -> Counter[str]:
    reader = await SQLiteStore.open(data_dir / "fixbot.sqlite3", read_only=True)
    try:
        return Counter(row.outcome.result for row in await reader.outcomes())
    finally:
        await reader.close()


async def killed_burst(people: int, say: str, outcome: str) -> tuple[str, str, str]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        async with LocalBotApi() as api:
            api.latency = 0.05
            chats = [api.private_chat(api.user(f"P{n}")) for n in range(people)]
            settings = {
                "FIXBOT_MAX_CONCURRENT_UPDATES": str(CONCURRENCY),
                "FIXBOT_MAX_SENDS_PER_SECOND": "0",
            }
            bot = await start_bot(api, data, **settings)
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            for chat in chats:
                assert chat.user is not None
                await api.send(chat.user, chat, say)
            await api.wait_for(lambda: sum(bool(api.bot_messages(c)) for c in chats) >= 10, 60)
            bot.kill()
            await bot.wait()
            bot = await start_bot(api, data, **settings)
            await api.wait_for(lambda: all(api.bot_messages(c) for c in chats), timeout=300)
            await api.settle()
            await stop_bot(bot)
            twice = sum(len(api.bot_messages(c)) > 1 for c in chats)
            rerun = sum(len({m.text for m in api.bot_messages(c)}) > 1 for c in chats)
        found = (await counted(data))[outcome]
        answered = f"{twice} answered twice ({rerun} by a turn run again)"
    return f"{people} x {say!r}", answered, f"{found} {outcome} (of {people})"


async def killed_cases(people: int) -> tuple[str, str, str]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
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
            chats: list[Chat] = [api.private_chat(api.user(f"R{n}")) for n in range(people)]
            settings = {
                "FIXBOT_STAFF_CHAT_ID": str(staff.id),
                "FIXBOT_MAX_CONCURRENT_UPDATES": str(CONCURRENCY),
                "FIXBOT_MAX_SENDS_PER_SECOND": "0",
            }
            bot = await start_bot(api, data, **settings)
            await api.wait_for(lambda: api.calls["getupdates"] > 0, timeout=60)
            for chat in chats:
                assert chat.user is not None
                await api.send(chat.user, chat, "/human")
                await api.send(chat.user, chat, "my screen is cracked too")
            await api.wait_for(lambda: len(api.topics(staff)) >= 3, timeout=60)
            bot.kill()
            await bot.wait()
            bot = await start_bot(api, data, **settings)

            def told(chat: Chat) -> int:
                return sum(m.text.startswith(WORDING.with_staff) for m in api.bot_messages(chat))

            await api.wait_for(lambda: all(told(c) for c in chats), timeout=300)
            await api.wait_for(
                lambda: (
                    sum(len(api.messages(staff, t.thread_id)) >= 2 for t in api.topics(staff))
                    >= people
                ),
                timeout=120,
            )
            await api.settle()
            await stop_bot(bot)
            topics = [api.messages(staff, t.thread_id) for t in api.topics(staff)]
            with_card = sum(bool(m) and m[0].text.startswith("#") for m in topics)
            empty = sum(not m for m in topics)
            bare = sum(m.thread_id is None for m in api.messages(staff))
            twice = sum(told(c) > 1 for c in chats)
    return (
        f"{people} x /human, 300 ms a call",
        f"{people - with_card} cases without topic and card; {twice} told twice",
        f"{bare} messages bare in General; {empty} empty topics (in flight)",
    )


async def foreign_presses(presses: int) -> tuple[str, str, str]:
    with tempfile.TemporaryDirectory() as folder:
        async with LocalBotApi() as api:
            alice, bob = api.user("Alice"), api.user("Bob")
            group = api.group("Support", {alice: "member", bob: "member"})
            bot = await start_bot(api, Path(folder))
            await api.send(alice, group, "/fix wifi")
            walk = await api.wait_for_bot_message(group, 1, timeout=60)
            data = walk.button("Done").callback_data
            for _ in range(presses):
                await api.press(bob, walk, data)
            started = time.perf_counter()
            await api.press_button(alice, walk, "Done")
            await api.wait_for_edit(group, walk.message_id, walk.text, timeout=300)
            waited = time.perf_counter() - started
            asked = api.calls["getchatmember"]
            await stop_bot(bot)
    return (
        f"{presses} presses on another's walk",
        f"owner waited {waited:.2f} s",
        f"{asked} getChatMember",
    )


async def main(quick: bool) -> None:
    people = 40 if quick else 120
    runs = [
        ("burst of complaints", killed_burst(people, "wifi won't connect", "started")),
        ("burst of unknown topics", killed_burst(people, "/fix quantum-flux", "no_match")),
        ("people asking for a person", killed_cases(10)),
        ("presses on another's walk", foreign_presses(40)),
    ]
    print(f"{'fault':<36} {'people':<56} counted", flush=True)
    for name, run in runs:
        try:
            fault, people_line, count = await run
        except AssertionError as exc:  # a wait that never ended: the fault itself
            fault, people_line, count = name, "never completed", str(exc).split(" waiting")[0]
        print(f"{fault:<36} {people_line:<56} {count}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller bursts")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="updates at once")
    arguments = parser.parse_args()
    CONCURRENCY = arguments.concurrency
    asyncio.run(main(arguments.quick))
