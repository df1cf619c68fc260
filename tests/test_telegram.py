"""fixbot on Telegram, end to end: the real application, over HTTP, against the local Bot
API server on 127.0.0.1. Each test is what people in a chat would do and see."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot import links
from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.engine import Engine
from bot.localapi import LocalBotApi
from bot.store import SQLiteStore
from bot.transports.telegram import (
    Services,
    TelegramConfig,
    build_application,
    webhook,
)
from bot.transports.telegram.callback_data import decode, encode
from tests.running import WORDING, Bot, free_port


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


# -- a private chat ------------------------------------------------------------------------------


async def test_a_private_walk_from_a_stuck_backup_to_fixed(api: LocalBotApi, bot: Bot) -> None:
    alice = api.user("Alice")
    chat = api.private_chat(alice)
    await api.send(alice, chat, "my backup is stuck")
    walk = await api.wait_for_bot_message(chat, 1)
    assert "Fix 1 of 9 · step 1 of 4" in walk.text
    assert "Turn on iCloud Backup" in walk.text
    assert "<b>Turn on iCloud Backup</b>" in (walk.html or "")
    assert walk.labels[:2] == ["✅ Done", "❌ This didn't work"]
    for expected in ("step 2 of 4", "step 3 of 4", "step 4 of 4"):
        await api.press_button(alice, walk, "Done")
        walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
        assert expected in walk.text
    await api.press_button(alice, walk, "Done")
    walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert "Is iCloud Backup switched on and backing up now?" in walk.text
    await api.press_button(alice, walk, "Yes, it's fixed")
    walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert "glad it's working again" in walk.text
    await api.press_button(alice, walk, "5⭐")
    walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert walk.text == "Thanks for the feedback!"
    assert len(api.bot_messages(chat)) == 1  # one message, edited in place
    await api.settle()
    assert api.calls["answercallbackquery"] == 6  # every press answered


async def test_fix_wifi_goes_straight_to_the_fix(api: LocalBotApi, bot: Bot) -> None:
    bob = api.user("Bob")
    chat = api.private_chat(bob)
    await api.send(bob, chat, "/fix wifi")
    walk = await api.wait_for_bot_message(chat, 1)
    assert "Get onto Wi-Fi" in walk.text
    assert "Step 1 of 4" in walk.text
    await api.send(bob, chat, "/FIX@fixbot_local_bot storage")
    walk = await api.wait_for_bot_message(chat, 2)
    assert "Make room in iCloud" in walk.text


async def test_a_deep_link_starts_a_fix(api: LocalBotApi, bot: Bot) -> None:
    carol = api.user("Carol")
    chat = api.private_chat(carol)
    await api.send(carol, chat, "/start fix_storage_full")
    walk = await api.wait_for_bot_message(chat, 1)
    assert "Make room in iCloud" in walk.text


async def test_start_welcomes_with_topic_buttons_and_commands_are_registered(
    api: LocalBotApi, bot: Bot
) -> None:
    dave = api.user("Dave")
    chat = api.private_chat(dave)
    await api.send(dave, chat, "/start")
    welcome = await api.wait_for_bot_message(chat, 1)
    assert "I'm fixbot" in welcome.text
    assert "Wi-Fi problems" in welcome.labels
    assert {c["command"] for c in api.commands} == {
        *("start", "fix", "topics", "help", "cancel", "language")
    }
    await api.press_button(dave, welcome, "Wi-Fi problems")
    walk = await api.wait_for_edit(chat, welcome.message_id, welcome.text)
    assert "Get onto Wi-Fi" in walk.text


async def test_a_sticker_and_a_long_message_get_polite_answers(api: LocalBotApi, bot: Bot) -> None:
    erin = api.user("Erin")
    chat = api.private_chat(erin)
    await api.send_sticker(erin, chat)
    answer = await api.wait_for_bot_message(chat, 1)
    assert "I can only read text" in answer.text
    await api.send(erin, chat, ("why " * 1000) + "my icloud backup failed")
    answer = await api.wait_for_bot_message(chat, 2)
    assert answer.text


# -- buttons that are stale, doubled or forged -------------------------------------------------


async def test_a_doubled_press_advances_once_and_the_spinner_always_stops(
    api: LocalBotApi, bot: Bot
) -> None:
    frank = api.user("Frank")
    chat = api.private_chat(frank)
    await api.send(frank, chat, "wifi won't connect")
    walk = await api.wait_for_bot_message(chat, 1)
    await api.press_button(frank, walk, "Done")
    await api.press_button(frank, walk, "Done")
    await api.settle()
    # The last press in line draws the message (after it answers its own callback).
    await api.wait_for(lambda: "Step 2" in api.last_bot_message(chat).text)
    now = api.last_bot_message(chat)
    assert "Step 2 of 4" in now.text
    assert WORDING.stale_button in api.toasts(frank)
    assert api.pending_callbacks() == 0


async def test_forged_button_data_is_refused_politely(api: LocalBotApi, bot: Bot) -> None:
    gina = api.user("Gina")
    other = api.user("Other")
    chat = api.private_chat(gina)
    await api.send(gina, chat, "wifi won't connect")
    walk = await api.wait_for_bot_message(chat, 1)
    before = walk.text
    real = decode(walk.button("Done").callback_data)
    assert real is not None
    forged = [
        "garbage",
        "f1|d|1|x|notanumber",
        "f1|z|1||" + str(gina.id),  # an action that does not exist
        encode(real.press, other.id),  # someone else's button
        "f1|c|" + str(real.press.revision) + "|99|" + str(gina.id),  # a step that does not exist
    ]
    for data in forged:
        await api.press(gina, walk, data)
    await api.settle()
    await api.wait_for(lambda: api.calls["editmessagetext"] >= 1)  # the stale notice re-shows
    now = api.last_bot_message(chat).text
    assert before.endswith(now)  # the same step, without the one-time "Let's go" line
    assert "Step 1 of 4" in now
    toasts = api.toasts(gina)
    assert toasts.count(WORDING.dead_button) == 3
    # Other never wrote here: the bot names nobody rather than ask Telegram who they are.
    assert WORDING.not_yours.format(name=WORDING.owner_someone) in toasts
    assert api.pending_callbacks() == 0


# -- groups --------------------------------------------------------------------------------------


async def test_two_members_walk_their_own_fixes_in_a_group_and_cannot_press_each_others(
    api: LocalBotApi, bot: Bot
) -> None:
    alice, bob = api.user("Alice"), api.user("Bob")
    group = api.group("Support", {alice: "administrator", bob: "member"})
    await api.send(alice, group, "/fix wifi")
    await api.send(bob, group, "/fix@fixbot_local_bot storage")
    await api.wait_for_bot_message(group, 2)
    messages = api.bot_messages(group)
    alices = next(m for m in messages if "Wi-Fi" in m.text)
    bobs = next(m for m in messages if "Make room" in m.text)
    assert "💬 Continue in private chat" in alices.labels
    link = alices.button("Continue in private chat").url
    assert link.startswith("https://t.me/fixbot_local_bot?start=")
    moved = links.read(link.split("start=")[1], bot.engine.catalog)
    assert isinstance(moved, links.WalkLink)
    assert (moved.plan, moved.step) == (("wifi",), "look_for_icon")

    await api.press_button(bob, alices, "Done")
    await api.settle()
    assert "This one belongs to Alice. Send /fix to start your own." in api.toasts(bob)
    untouched = {m.message_id: m for m in api.bot_messages(group)}[alices.message_id]
    assert "Step 1 of 4" in untouched.text

    await api.press_button(alice, alices, "Done")
    await api.press_button(bob, bobs, "Done")
    alices = await api.wait_for_edit(group, alices.message_id, alices.text)
    bobs = await api.wait_for_edit(group, bobs.message_id, bobs.text)
    assert "Step 2 of 4" in alices.text
    assert "Is your iCloud storage full" in bobs.text
    assert len(api.bot_messages(group)) == 2  # the group stays quiet: one message per walk


async def test_forty_presses_on_someone_elses_walk_do_not_hold_up_its_owner(
    api: LocalBotApi, bot: Bot
) -> None:
    """Each foreign press is refused from what the bot already knows (the walk answers its
    owner's message): no question to Telegram, so nothing queues behind the group's pace
    of 20 messages a minute."""
    alice, bob = api.user("Alice"), api.user("Bob")
    group = api.group("Support", {alice: "member", bob: "member"})
    await api.send(alice, group, "/fix wifi")
    walk = await api.wait_for_bot_message(group, 1)
    data = walk.button("Done").callback_data
    for _ in range(40):
        await api.press(bob, walk, data)
    await api.press_button(alice, walk, "Done")
    walk = await api.wait_for_edit(group, walk.message_id, walk.text, timeout=15)
    assert "Step 2 of 4" in walk.text
    await api.settle()
    assert api.toasts(bob).count(WORDING.not_yours.format(name="Alice")) == 40
    assert api.calls["getchatmember"] == 0


async def test_in_a_group_chatter_is_ignored_and_mentions_are_answered(
    api: LocalBotApi, bot: Bot
) -> None:
    alice, bob = api.user("Alice"), api.user("Bob")
    group = api.group("Support", [alice, bob])
    api.privacy = False  # even if the bot could read everything, chatter is not its business
    await api.send(alice, group, "my backup is stuck, anyone?")
    await api.send(bob, group, "@fixbot_local_bot my wifi won't connect")
    answer = await api.wait_for_bot_message(group, 1)
    assert "Get onto Wi-Fi" in answer.text
    await api.settle()
    assert len(api.bot_messages(group)) == 1


async def test_a_forum_topic_gets_its_replies_in_the_topic(api: LocalBotApi, bot: Bot) -> None:
    alice = api.user("Alice")
    forum = api.group("Help desk", [alice], forum=True)
    topic = api.topic(forum, "iPhone")
    await api.send(alice, forum, "/fix restart", thread=topic)
    walk = await api.wait_for_bot_message(forum, 1, thread=topic)
    assert walk.thread_id == topic
    assert "Face ID" in walk.text
    await api.press_button(alice, walk, "Face ID")
    walk = await api.wait_for_edit(forum, walk.message_id, walk.text)
    assert "Volume button" in walk.text


# -- Telegram's failures ---------------------------------------------------------------------------


async def test_a_429_storm_is_waited_out_and_nothing_is_lost(api: LocalBotApi, bot: Bot) -> None:
    helen = api.user("Helen")
    chat = api.private_chat(helen)
    api.fail("sendMessage", code=429, count=3, retry_after=1)
    await api.send(helen, chat, "wifi won't connect")
    walk = await api.wait_for_bot_message(chat, 1, timeout=20)
    assert "Get onto Wi-Fi" in walk.text
    assert [e for _, e in api.errors].count("Too Many Requests: retry after 1") == 3


async def test_a_blocked_user_is_recorded_not_crashed_on(api: LocalBotApi, bot: Bot) -> None:
    ivan = api.user("Ivan")
    chat = api.private_chat(ivan)
    api.block(ivan)
    await api.send(ivan, chat, "wifi won't connect")
    await api.settle()
    await api.wait_for(lambda: any("blocked" in e for _, e in api.errors))
    await api.settle()
    reader = await SQLiteStore.open(bot.data_dir / "fixbot.sqlite3", read_only=True)
    undeliverable = [r for r in await reader.outcomes() if r.outcome.result == "undeliverable"]
    await reader.close()
    assert undeliverable[0].key.user_id == ivan.id
    assert undeliverable[0].outcome.value == "Forbidden: bot was blocked by the user"
    ivan.blocked_bot = False
    await api.send(ivan, chat, "wifi won't connect")
    walk = await api.wait_for_bot_message(chat, 1)
    assert "Wi-Fi" in walk.text


# -- restarts and webhooks ---------------------------------------------------------------------


async def test_after_a_restart_mid_walk_the_old_buttons_still_work(
    api: LocalBotApi, bot: Bot
) -> None:
    judy = api.user("Judy")
    chat = api.private_chat(judy)
    await api.send(judy, chat, "wifi won't connect")
    walk = await api.wait_for_bot_message(chat, 1)
    await api.press_button(judy, walk, "Done")
    walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    await bot.stop()
    await bot.start()
    await api.press_button(judy, walk, "Done")
    walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert "Step 3 of 4" in walk.text


async def test_a_walk_through_a_webhook_with_the_secret_token(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    store = await SQLiteStore.open(tmp_path / "fixbot.sqlite3")
    services = Services(Conversations(engine, store), WORDING)
    application = build_application(TelegramConfig(api.token, api.base_url), services)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    try:
        async with webhook(application, "127.0.0.1", port, url, secret="s3cret-Token"):
            kate = api.user("Kate")
            chat = api.private_chat(kate)
            await api.send(kate, chat, "/fix wifi")
            walk = await api.wait_for_bot_message(chat, 1)
            await api.press_button(kate, walk, "Done")
            walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
            assert "Step 2 of 4" in walk.text
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    url,
                    json={"update_id": 999, "message": {}},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
            assert forged.status_code == 403
    finally:
        await store.close()


# -- long, noisy messages ------------------------------------------------------------------------

LONG_COMPLAINT = (
    "@AppleSupport ok so here is my morning. I was on the train, checked my iPhone 12 Pro "
    "(iOS 17.1.2) and something felt off. My iCloud backup has not finished in three days, "
    "it just sits there estimating the time left!!! I have tried nothing else yet, no idea "
    "what to do. #fail https://example.com/screenshot 😤"
)


async def walk_or_offer(api: LocalBotApi, person, chat, first, title: str, topic: str):
    """The first reply to a complaint: the walk itself, or a one-tap question whose button
    starts it. Returns the walk."""
    assert WORDING.no_match not in first.text, "a refusal is not a helpful first reply"
    if title in first.text:
        return first
    assert topic in first.labels or any("Yes" in label for label in first.labels), first.text
    label = topic if topic in first.labels else next(x for x in first.labels if "Yes" in x)
    await api.press_button(person, first, label)
    walk = await api.wait_for_edit(chat, first.message_id, first.text)
    assert title in walk.text
    return walk


async def test_a_long_noisy_message_in_private_gets_the_walk_or_a_one_tap_question(
    api: LocalBotApi, bot: Bot
) -> None:
    frank = api.user("Frank")
    chat = api.private_chat(frank)
    await api.send(frank, chat, LONG_COMPLAINT)
    first = await api.wait_for_bot_message(chat, 1)
    walk = await walk_or_offer(
        api, frank, chat, first, "Turn on iCloud Backup", "iCloud backup fails or never finishes"
    )
    assert "Fix 1 of 9" in walk.text


async def test_a_long_noisy_message_in_a_group_gets_the_walk_or_a_one_tap_question(
    api: LocalBotApi, bot: Bot
) -> None:
    grace, heidi = api.user("Grace"), api.user("Heidi")
    group = api.group("Support", [grace, heidi])
    await api.send(grace, group, "@fixbot_local_bot " + LONG_COMPLAINT)
    first = await api.wait_for_bot_message(group, 1)
    if "Turn on iCloud Backup" not in first.text:
        # Someone else's question is not theirs to answer.
        await api.press_button(heidi, first, first.labels[0])
        await api.settle()
        assert any("belongs to Grace" in toast for toast in api.toasts(heidi))
    walk = await walk_or_offer(
        api, grace, group, first, "Turn on iCloud Backup", "iCloud backup fails or never finishes"
    )
    assert "Fix 1 of 9" in walk.text


# -- one busy chat, many quiet ones ---------------------------------------------------------------


async def test_one_chat_flooding_does_not_keep_another_chat_waiting(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    busy = Bot(api, engine, tmp_path, max_concurrent_updates=4)
    await busy.start()
    try:
        api.latency = 0.02
        alice, bob = api.user("Alice"), api.user("Bob")
        alices, bobs = api.private_chat(alice), api.private_chat(bob)
        for n in range(40):
            await api.send(alice, alices, f"hello {n}")
        await api.send(bob, bobs, "/help")
        await api.wait_for_bot_message(bobs, 1, timeout=30)
        # Bob's turn came after one or two of Alice's, not after her whole backlog.
        assert len(api.bot_messages(alices)) < 10
        await api.wait_for_bot_message(alices, 40, timeout=30)
        texts = [m.text for m in api.bot_messages(alices)]
        assert len(texts) == 40  # and every one of Alice's messages was answered
    finally:
        await busy.stop()


async def test_a_day_old_button_does_not_move_a_new_walk(api: LocalBotApi, bot: Bot) -> None:
    alice = api.user("Alice")
    chat = api.private_chat(alice)
    await api.send(alice, chat, "/fix wifi")
    old = await api.wait_for_bot_message(chat, 1)
    bot.hours_later = 25  # the walk expires; a new one starts the next day
    await api.send(alice, chat, "/fix wifi")
    new = await api.wait_for_bot_message(chat, 2)
    bot.hours_later = 0  # (the test's clock jumps only across the expiry)
    await api.press_button(alice, old, "Done")
    await api.settle()
    assert any("earlier step" in toast for toast in api.toasts(alice))
    messages = {m.message_id: m for m in api.bot_messages(chat)}
    assert "Step 1 of 4" in messages[new.message_id].text  # the new walk did not move


async def test_a_press_whose_edit_fails_gets_the_step_as_a_new_message(
    api: LocalBotApi, bot: Bot
) -> None:
    ivan = api.user("Ivan")
    chat = api.private_chat(ivan)
    await api.send(ivan, chat, "/fix wifi")
    walk = await api.wait_for_bot_message(chat, 1)
    api.fail("editMessageText", code=500, count=10)  # Telegram has a bad minute
    await api.press_button(ivan, walk, "Done")
    step = await api.wait_for_bot_message(chat, 2)
    assert "Step 2 of 4" in step.text  # never silence: the step comes as a new message
    await api.settle()
    assert api.pending_callbacks() == 0


# -- anonymous admins and channels ---------------------------------------------------------------


async def test_an_anonymous_admin_walks_as_the_group_and_only_admins_press_for_it(
    api: LocalBotApi, bot: Bot
) -> None:
    olga, paul, rita = api.user("Olga"), api.user("Paul"), api.user("Rita")
    group = api.group("Support", {olga: "administrator", paul: "administrator", rita: "member"})
    await api.send(olga, group, "/fix wifi", as_chat=group)  # posted as the group
    walk = await api.wait_for_bot_message(group, 1)
    assert "Get onto Wi-Fi" in walk.text
    await api.press_button(rita, walk, "Done")  # a member is not the group's admin
    await api.settle()
    assert any("belongs to the admins of Support" in t for t in api.toasts(rita))
    await api.press_button(olga, walk, "Done")  # Telegram names the real admin on a press
    walk = await api.wait_for_edit(group, walk.message_id, walk.text)
    assert "Step 2 of 4" in walk.text
    # Another anonymous admin speaks for the group too, and it is the same walk.
    await api.send(paul, group, "@fixbot_local_bot my icloud storage is full", as_chat=group)
    switch = await api.wait_for_bot_message(group, 2)
    assert "We're in the middle of" in switch.text


async def test_people_posting_as_a_channel_own_their_walk_apart_from_the_group(
    api: LocalBotApi, bot: Bot
) -> None:
    sam, tess = api.user("Sam"), api.user("Tess")
    news = api.channel("News", admins=[sam])
    group = api.group("Support", [tess, sam])
    as_news = await api.send(sam, group, "/fix wifi", as_chat=news)
    await api.send(tess, group, "/fix wifi")
    await api.wait_for_bot_message(group, 2)
    # The two are answered concurrently: which walk is which, by what each answers.
    channels, tesss = sorted(
        api.bot_messages(group), key=lambda m: m.reply_to != as_news.message_id
    )
    await api.press_button(tess, channels, "Done")
    await api.settle()
    assert any("belongs to the admins of News" in t for t in api.toasts(tess))
    await api.press_button(sam, channels, "Done")
    channels = await api.wait_for_edit(group, channels.message_id, channels.text)
    assert "Step 2 of 4" in channels.text
    tesss = {m.message_id: m for m in api.bot_messages(group)}[tesss.message_id]
    assert "Step 1 of 4" in tesss.text  # separate walks


async def test_a_channel_walk_whose_admins_telegram_hides_is_claimed_by_its_first_presser(
    api: LocalBotApi, bot: Bot
) -> None:
    """Telegram shows a bot a channel's admins only when the bot is one of them: otherwise
    nobody could ever press a walk posted as that channel. The first to press takes it."""
    sam, tess = api.user("Sam"), api.user("Tess")
    news = api.channel("News", admins=[sam], bot_is_admin=False)
    group = api.group("Support", [tess, sam])
    await api.send(sam, group, "/fix wifi", as_chat=news)
    walk = await api.wait_for_bot_message(group, 1)
    await api.press_button(sam, walk, "Done")
    walk = await api.wait_for_edit(group, walk.message_id, walk.text)
    assert "Step 2 of 4" in walk.text
    assert WORDING.walk_claimed in api.toasts(sam)
    await api.press_button(tess, walk, "Done")
    await api.settle()
    assert any("belongs to the admins of News" in t for t in api.toasts(tess))
    await api.press_button(sam, walk, "Done")  # still theirs, with no toast about it
    walk = await api.wait_for_edit(group, walk.message_id, walk.text)
    assert "Step 3 of 4" in walk.text
    assert api.toasts(sam).count(WORDING.walk_claimed) == 1


async def test_a_bot_api_that_numbers_updates_from_1_again_is_heard_in_full(
    engine: Engine, tmp_path: Path
) -> None:
    """A local Bot API restarted (or Telegram after a quiet week) numbers updates afresh; the
    bot kept its data, and the ids it remembers. Nothing said after is taken for a repeat."""
    for run in range(2):
        async with LocalBotApi() as api:  # update ids from 1, each time
            bot = Bot(api, engine, tmp_path)
            await bot.start()
            try:
                people = [api.user(f"Run{run}-{n}") for n in range(10)]
                for person in people:
                    await api.send(person, api.private_chat(person), "/help")
                for person in people:
                    await api.wait_for_bot_message(api.private_chat(person), 1)
            finally:
                await bot.stop()


async def test_the_webhook_refuses_before_reading_and_handles_a_repeated_update_once(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    store = await SQLiteStore.open(tmp_path / "fixbot.sqlite3")
    services = Services(Conversations(engine, store), WORDING)
    application = build_application(TelegramConfig(api.token, api.base_url), services)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    secret = "a-long-enough-secret-token"
    try:
        async with webhook(application, "127.0.0.1", port, url, secret=secret):
            # 10 MB announced, nothing sent, no secret: answered at once, nothing read.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 10000000\r\n\r\n"
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            assert b" 403 " in status
            writer.close()
            async with httpx.AsyncClient() as client:
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                too_big = await client.post(url, content=b"x" * (2 * 1024 * 1024), headers=headers)
                assert too_big.status_code == 413
                malformed = await client.post(url, content=b"{not json", headers=headers)
                assert malformed.status_code == 400
                not_an_update = await client.post(url, content=b"[1, 2]", headers=headers)
                assert not_an_update.status_code == 400
                no_number = await client.post(url, json={"update_id": "x"}, headers=headers)
                assert no_number.status_code == 400
                deep = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
                too_deep = await client.post(url, content=deep, headers=headers)
                assert too_deep.status_code == 400
                # Telegram retrying an update it thinks failed: handled once.
                lucy = api.user("Lucy")
                chat = api.private_chat(lucy)
                chat.started = True  # as if she had written to the bot before
                update = {
                    "update_id": 424242,
                    "message": {
                        "message_id": 1,
                        "date": 1,
                        "chat": {"id": chat.id, "type": "private", "first_name": "Lucy"},
                        "from": {"id": lucy.id, "is_bot": False, "first_name": "Lucy"},
                        "text": "/help",
                    },
                }
                for _ in range(3):
                    answer = await client.post(url, json=update, headers=headers)
                    assert answer.status_code == 200
                # An edit is ignored, as polling (which never asks for edits) ignores it.
                edited = {"update_id": 424243, "edited_message": update["message"]}
                answer = await client.post(url, json=edited, headers=headers)
                assert answer.status_code == 200
            await api.wait_for_bot_message(chat, 1)
            await asyncio.sleep(0.3)
            assert len(api.bot_messages(chat)) == 1
    finally:
        await store.close()


async def test_many_chats_leave_nothing_behind_in_the_application(
    api: LocalBotApi, bot: Bot
) -> None:
    people = [api.user(f"U{n}") for n in range(50)]
    for person in people:
        await api.send(person, api.private_chat(person), "/help")
    for person in people:
        await api.wait_for_bot_message(api.private_chat(person), 1)
    # python-telegram-bot notes every chat and user for a persistence fixbot does not use;
    # without one, nothing would ever empty those notes.
    application = bot.application
    assert not application._chat_ids_to_be_updated_in_persistence
    assert not application._user_ids_to_be_updated_in_persistence
    assert not application.chat_data and not application.user_data


# -- Telegram's flood limits ---------------------------------------------------------------------


async def test_a_flood_limit_in_one_chat_delays_that_chat_only(api: LocalBotApi, bot: Bot) -> None:
    alice, bob = api.user("Alice"), api.user("Bob")
    alices, bobs = api.private_chat(alice), api.private_chat(bob)
    api.fail("sendMessage", code=429, retry_after=3, chat=alices)
    await api.send(alice, alices, "/help")
    await api.wait_for(lambda: any("Too Many Requests" in e for _, e in api.errors))
    await api.send(bob, bobs, "/help")
    await api.wait_for_bot_message(bobs, 1)
    assert api.bot_messages(alices) == []  # Alice still waits out her chat's limit...
    await api.wait_for_bot_message(alices, 1)  # ...and then gets her answer


async def test_a_press_in_a_group_that_must_wait_is_told_so(api: LocalBotApi, bot: Bot) -> None:
    alice, carl = api.user("Alice"), api.user("Carl")
    group = api.group("Support", [alice, carl])
    await api.send(carl, group, "/fix wifi")
    walk = await api.wait_for_bot_message(group, 1)
    # Alice's message hits the group's flood limit: the whole group must wait.
    api.fail("sendMessage", code=429, retry_after=6, chat=group)
    await api.send(alice, group, "/help")
    await api.wait_for(lambda: any("Too Many Requests" in e for _, e in api.errors))
    await api.press_button(carl, walk, "Done")
    await api.wait_for(lambda: any("slow down" in t for t in api.toasts(carl)))
    walk = await api.wait_for_edit(group, walk.message_id, walk.text, timeout=20)
    assert "Step 2 of 4" in walk.text


async def test_presses_piling_up_behind_a_slow_edit_end_in_one_edit_of_the_latest_step(
    api: LocalBotApi, bot: Bot
) -> None:
    dana = api.user("Dana")
    chat = api.private_chat(dana)
    await api.send(dana, chat, "/fix wifi")
    walk = await api.wait_for_bot_message(chat, 1)
    api.latency = 0.3  # Telegram is slow to take edits; Dana keeps pressing meanwhile
    edits_before = api.calls["editmessagetext"]
    for _ in range(4):
        await api.press(dana, walk, walk.button("Done").callback_data)
    await api.settle()
    await asyncio.sleep(1)
    edits = api.calls["editmessagetext"] - edits_before
    assert edits < 4  # the presses waiting behind another did not each redraw
    final = {m.message_id: m for m in api.bot_messages(chat)}[walk.message_id]
    assert "earlier step" in " ".join(api.toasts(dana))  # the doubled presses were stale
    assert "Step 2 of" in final.text  # and the message shows where she really is


async def test_the_backlog_stays_bounded_when_telegram_is_the_bottleneck(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    slow = Bot(api, engine, tmp_path, max_backlog=10, max_concurrent_updates=4)
    await slow.start()
    try:
        api.latency = 0.02
        people = [api.user(f"B{n}") for n in range(150)]
        for person in people:
            await api.send(person, api.private_chat(person), "/help")
        for person in people:
            await api.wait_for_bot_message(api.private_chat(person), 1, timeout=60)
        inbox = slow.application.update_queue
        assert inbox.most_backlog <= 10 + 100  # the limit, plus at most one fetch
        # The last reply can be seen a moment before its update is marked handled.
        for _ in range(100):
            if inbox.backlog == 0:
                break
            await asyncio.sleep(0.05)
        assert inbox.backlog == 0
    finally:
        await slow.stop()
