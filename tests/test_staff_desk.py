"""The staff desk, end to end: the real bot over HTTP against the local Bot API, a person
asking for help, and a support team in a staff group. Each test is a story."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.engine import Engine
from bot.localapi import LocalBotApi
from bot.localapi.server import Chat, MessageView, User
from bot.transports.telegram.desk import DeskConfig
from tests.running import WORDING, Bot


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog, handover=True)


class Desk:
    """A support team's group: Sam works there; with `topics`, each case is a forum topic."""

    def __init__(self, api: LocalBotApi, topics: bool = True, bot_status: str = "administrator"):
        self.api = api
        self.sam = api.user("Sam")
        self.chat = api.group(
            "Support staff",
            {self.sam: "creator"},
            forum=topics,
            bot_status=bot_status,
            bot_can_manage_topics=topics,
        )

    def config(self, remind_after: float = 3600) -> DeskConfig:
        return DeskConfig(self.chat.id, remind_after)

    def topic(self, number: int = 0) -> int:
        return self.api.topics(self.chat)[number].thread_id

    def card(self, thread: int | None = None) -> MessageView:
        return self.api.bot_messages(self.chat, thread)[0]


async def start(api: LocalBotApi, engine: Engine, tmp_path: Path, desk: Desk, **kw) -> Bot:
    bot = Bot(api, engine, tmp_path, desk=desk.config(**kw))
    await bot.start()
    return bot


async def a_person_asks(api: LocalBotApi, name: str) -> tuple[User, Chat, MessageView]:
    """Someone new writes /human in private; they, their chat, and the bot's first answer."""
    person = api.user(name)
    chat = api.private_chat(person)
    await api.send(person, chat, "/human")
    return person, chat, await api.wait_for_bot_message(chat, 1)


async def ask_for_a_person_after_every_fix_failed(api: LocalBotApi, alice: User, chat: Chat):
    await api.send(alice, chat, "my icloud backup is turned off and won't turn on")
    walk = await api.wait_for_bot_message(chat, 1)
    for _ in range(3):
        await api.press_button(alice, walk, "Skip this fix")
        walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    assert "We've tried everything" in walk.text
    await api.press_button(alice, walk, "Talk to a person")
    return await api.wait_for_bot_message(chat, 2)


async def test_a_person_gets_a_topic_staff_answer_and_solve_and_the_person_rates(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        alice = api.user("Alice", "alice_k", language="de")
        chat = api.private_chat(alice)
        notice = await ask_for_a_person_after_every_fix_failed(api, alice, chat)
        assert notice.text == WORDING.with_staff
        assert notice.labels == [WORDING.close_case]

        [topic] = api.topics(desk.chat)
        assert topic.name == "#1 · iCloud Backup is turned off · Alice"
        card = desk.card(topic.thread_id)
        for expected in (
            "🟡 Waiting for someone from support",
            "👤 Alice · @alice_k · id",
            "language de",
            "💬 “my icloud backup is turned off and won't turn on”",
            "🎯 iCloud Backup is turned off (matcher",
            "What was tried",
            "Turn on iCloud Backup",
            "⏭ skipped at:",
            "⛔ every fix tried",
        ):
            assert expected in card.text, expected
        assert card.labels == [WORDING.card_solved, WORDING.card_return]

        await api.send(
            desk.sam, desk.chat, "Hi Alice, which iOS version are you on?", topic.thread_id
        )
        answer = await api.wait_for_bot_message(chat, 3)
        assert answer.text == "Hi Alice, which iOS version are you on?"
        card = await api.wait_for_edit(desk.chat, card.message_id, card.text)
        assert "🟢 With Sam since" in card.text

        await api.send(alice, chat, "iOS 17.5, and here is the screen")
        await api.send_photo(alice, chat, caption="Settings > iCloud")
        await api.wait_for(lambda: len(api.bot_messages(desk.chat, topic.thread_id)) >= 3)
        relayed = api.bot_messages(desk.chat, topic.thread_id)[1:]
        assert relayed[0].text == "iOS 17.5, and here is the screen"
        assert relayed[1].photo and relayed[1].caption == "Settings > iCloud"
        assert len(api.bot_messages(chat)) == 3  # the bot said nothing over support

        await api.press_button(desk.sam, card, "Solved")
        question = await api.wait_for_bot_message(chat, 4)
        assert question.text == WORDING.staff_solved
        await api.wait_for(lambda: api.topics(desk.chat)[0].closed)
        card = api.bot_messages(desk.chat, topic.thread_id)[0]
        assert "✅ Solved by Sam" in card.text and card.labels == []
        await api.wait_for(lambda: any("#1" in toast for toast in api.toasts(desk.sam)))

        await api.press_button(alice, question, "Yes, it's fixed")
        question = await api.wait_for_edit(chat, question.message_id, question.text)
        assert "How helpful was our support" in question.text
        await api.press_button(alice, question, "5⭐")
        await api.wait_for(
            lambda: any("rated the help 5⭐" in m.text for m in api.bot_messages(desk.chat))
        )
        await api.settle()
        assert api.pending_callbacks() == 0
    finally:
        await bot.stop()


async def test_a_restart_in_the_middle_of_a_case_loses_nothing(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    alice = api.user("Alice")
    chat = api.private_chat(alice)
    try:
        await api.send(alice, chat, "/human")
        await api.wait_for_bot_message(chat, 1)
        thread = desk.topic()
        await bot.stop()
        await api.send(alice, chat, "are you there? it still fails")
        await api.send(desk.sam, desk.chat, "Yes! Try signing out and in again.", thread)
        await bot.start()
        await api.wait_for(lambda: len(api.bot_messages(desk.chat, thread)) >= 2)
        assert api.bot_messages(desk.chat, thread)[1].text == "are you there? it still fails"
        answer = await api.wait_for_bot_message(chat, 2)
        assert answer.text == "Yes! Try signing out and in again."
        await api.press_button(desk.sam, desk.card(thread), "Solved")
        question = await api.wait_for_bot_message(chat, 3)
        assert question.text == WORDING.staff_solved
    finally:
        await bot.stop()


async def test_back_to_fixbot_offers_to_continue_the_walk(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        bob = api.user("Bob")
        chat = api.private_chat(bob)
        await api.send(bob, chat, "/fix wifi")
        walk = await api.wait_for_bot_message(chat, 1)
        while "Did that fix it?" not in walk.text and "Talk to a person" not in walk.labels:
            await api.press_button(bob, walk, "Done")
            walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
        await api.press_button(bob, walk, "Talk to a person")
        await api.wait_for_bot_message(chat, 2)
        thread = desk.topic()
        await api.press_button(desk.sam, desk.card(thread), "Back to fixbot")
        back = await api.wait_for_bot_message(chat, 3)
        assert back.text.startswith(WORDING.returned_to_bot)
        assert "You were on Get onto Wi-Fi" in back.text
        await api.press_button(bob, back, "Continue where I left off")
        walk = await api.wait_for_edit(chat, back.message_id, back.text)
        assert "Yes, it's fixed" in " ".join(walk.labels)
        await api.wait_for(
            lambda: "↩️ Handed back to fixbot by Sam" in desk.card(thread).text, timeout=10
        )
        await api.wait_for(lambda: api.topics(desk.chat)[0].closed)
    finally:
        await bot.stop()


async def test_a_group_members_case_moves_to_private_and_nothing_of_it_stays_in_the_group(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        carol = api.user("Carol")
        group = api.group("Help group", [api.user("Owner"), carol])
        await api.send(carol, group, f"@{api.username} my iphone storage is full, backup fails")
        walk = await api.wait_for_bot_message(group, 1)
        await api.send(carol, group, "/human")
        link = await api.wait_for_bot_message(group, 2)
        assert link.text == WORDING.human_in_private
        url = link.button("Talk to a person in private").url
        assert url is not None and "?start=human-m" in url
        assert api.topics(desk.chat) == []  # nothing opened until Carol follows the link

        private = api.private_chat(carol)
        await api.send(carol, private, "/start " + url.split("start=")[1])
        notice = await api.wait_for_bot_message(private, 1)
        assert notice.text == WORDING.with_staff
        card = desk.card(desk.topic())
        assert "my iphone storage is full, backup fails" in card.text
        assert len(api.bot_messages(group)) == 2  # the walk and the link, nothing more
        assert walk.text in api.bot_messages(group)[0].text
    finally:
        await bot.stop()


async def test_without_topics_the_card_is_a_thread_that_replies_follow(
    api: LocalBotApi, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(api, topics=False)
    with caplog.at_level(logging.INFO, "bot.transports.telegram.desk"):
        bot = await start(api, engine, tmp_path, desk)
    assert any("no topics" in r.message for r in caplog.records)
    try:
        dave = api.user("Dave")
        chat = api.private_chat(dave)
        await api.send(dave, chat, "wifi keeps dropping")
        await api.wait_for_bot_message(chat, 1)
        await api.send(dave, chat, "/human")
        await api.wait_for_bot_message(chat, 2)
        card = await api.wait_for_bot_message(desk.chat, 1)
        assert card.text.startswith("#1 · Wi-Fi problems · Dave")

        await api.send(desk.sam, desk.chat, "Morning all, coffee's on")  # staff talk
        await api.send(desk.sam, desk.chat, "Dave, is it every network?", reply_to=card.message_id)
        answer = await api.wait_for_bot_message(chat, 3)
        assert answer.text == "Dave, is it every network?"
        await api.send(dave, chat, "only at home")
        copy = await api.wait_for_bot_message(desk.chat, 2)
        assert copy.text == "only at home"
        await api.send(desk.sam, desk.chat, "Restart the router", reply_to=copy.message_id)
        answer = await api.wait_for_bot_message(chat, 4)
        assert answer.text == "Restart the router"
        assert all("coffee" not in m.text for m in api.bot_messages(chat))
    finally:
        await bot.stop()


async def test_the_person_cancels_and_the_staff_see_the_case_closed(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        erin, chat, _ = await a_person_asks(api, "Erin")
        await api.send(erin, chat, "/cancel")
        closed = await api.wait_for_bot_message(chat, 2)
        assert closed.text == WORDING.case_cancelled
        thread = desk.topic()
        await api.wait_for(lambda: api.topics(desk.chat)[0].closed)
        await api.wait_for(lambda: "✖️ Closed by the person" in desk.card(thread).text, timeout=10)
        assert any("closed the case with /cancel" in m.text for m in api.bot_messages(desk.chat))

        await api.send(desk.sam, desk.chat, "Still there?", thread)
        await api.wait_for(
            lambda: any("This case is closed" in m.text for m in api.bot_messages(desk.chat))
        )
        assert len(api.bot_messages(chat)) == 2
        await api.send(erin, chat, "wifi won't connect")  # back with the bot
        walk = await api.wait_for_bot_message(chat, 3)
        assert "Get onto Wi-Fi" in walk.text
    finally:
        await bot.stop()


async def test_a_person_who_blocked_the_bot_closes_the_case_with_a_note(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        frank, _, _ = await a_person_asks(api, "Frank")
        thread = desk.topic()
        api.block(frank)
        await api.send(desk.sam, desk.chat, "Hello Frank", thread)
        await api.wait_for(lambda: api.topics(desk.chat)[0].closed)
        await api.wait_for(lambda: "can't be reached" in desk.card(thread).text, timeout=10)
        assert any("blocked the bot" in m.text for m in api.bot_messages(desk.chat, thread))
    finally:
        await bot.stop()


async def test_a_message_telegram_refuses_to_copy_is_told_to_its_sender(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        gina, chat, _ = await a_person_asks(api, "Gina")
        thread = desk.topic()
        api.fail("copyMessage", 400, description="Bad Request: message can't be copied")
        await api.send(gina, chat, "a poll, say")
        refused = await api.wait_for_bot_message(chat, 2)
        assert refused.text == WORDING.relay_refused
        api.fail("copyMessage", 400, description="Bad Request: message can't be copied")
        await api.send(desk.sam, desk.chat, "a message Telegram won't copy", thread)
        await api.wait_for(
            lambda: any("refused to deliver" in m.text for m in api.bot_messages(desk.chat))
        )
    finally:
        await bot.stop()


async def test_a_case_nobody_answers_gets_one_reminder(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk, remind_after=0.3)
    try:
        await a_person_asks(api, "Hana")
        thread = desk.topic()

        def reminders() -> list[MessageView]:
            return [m for m in api.bot_messages(desk.chat, thread) if "⏰" in m.text]

        await api.wait_for(reminders)
        assert "Case #1 (Hana) has waited" in reminders()[0].text
        await bot.stop()
        await bot.start()  # a restart does not remind again
        await api.settle()
        assert len(reminders()) == 1
    finally:
        await bot.stop()


async def test_a_staff_chat_the_bot_is_not_in_is_reported_and_the_person_told(
    api: LocalBotApi, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(api, bot_status="left")
    with caplog.at_level(logging.INFO, "bot.transports.telegram.desk"):
        bot = await start(api, engine, tmp_path, desk)
    assert any("cannot reach it" in r.message for r in caplog.records)
    try:
        ivan, chat, sorry = await a_person_asks(api, "Ivan")
        assert sorry.text == WORDING.staff_unavailable
        await api.send(ivan, chat, "wifi won't connect")  # the bot still walks
        walk = await api.wait_for_bot_message(chat, 2)
        assert "Get onto Wi-Fi" in walk.text
    finally:
        await bot.stop()


async def test_a_staff_chat_gone_while_a_case_is_open_gives_the_person_their_walk_back(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    """The bot removed from the staff chat mid-case: "try again later" on every message would
    keep the person waiting for nobody. They are told once, and walk with the bot again."""
    desk = Desk(api)
    bot = await start(api, engine, tmp_path, desk)
    try:
        jo = api.user("Jo")
        chat = api.private_chat(jo)
        await api.send(jo, chat, "/fix wifi")
        walk = await api.wait_for_bot_message(chat, 1)
        await api.press_button(jo, walk, "Done")
        walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
        await api.send(jo, chat, "/human")
        await api.wait_for_bot_message(chat, 2)
        desk.chat.bot_status = "left"  # an admin removed the bot from the staff chat
        await api.send(jo, chat, "hello? anyone?")
        told = await api.wait_for_bot_message(chat, 3)
        assert told.text.startswith(WORDING.staff_gone)
        assert "Continue where I left off" in " ".join(told.labels)
        await api.send(jo, chat, "still there?")  # not relayed, not "try again later"
        again = await api.wait_for_bot_message(chat, 4)
        assert WORDING.staff_gone not in again.text
        assert WORDING.staff_unavailable not in again.text
        await api.press_button(jo, told, "Continue where I left off")
        walk = await api.wait_for_edit(chat, told.message_id, told.text)
        assert "Step 2 of 4" in walk.text
    finally:
        await bot.stop()


async def test_a_forum_with_no_rights_for_the_bot_falls_back_to_threads(
    api: LocalBotApi, engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(api)
    desk.chat.bot_can_manage_topics = False
    with caplog.at_level(logging.INFO, "bot.transports.telegram.desk"):
        bot = await start(api, engine, tmp_path, desk)
    assert any("may not create them" in r.message for r in caplog.records)
    try:
        await a_person_asks(api, "Judy")
        card = await api.wait_for_bot_message(desk.chat, 1)
        assert card.thread_id is None and card.text.startswith("#1 · Help · Judy")
        assert api.topics(desk.chat) == []
    finally:
        await bot.stop()
