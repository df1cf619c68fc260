"""The local Bot API's forum topics, copied messages and media, as Telegram behaves: driven by
python-telegram-bot's own `Bot` over HTTP, the way fixbot's staff desk will use them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.localapi import LocalBotApi


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as telegram_bot:
        yield telegram_bot


async def test_a_bot_with_topic_rights_opens_renames_and_closes_a_case_topic(
    api: LocalBotApi, bot: Bot
) -> None:
    staff = api.user("Sam")
    desk = api.group(
        "Staff", [staff], forum=True, bot_status="administrator", bot_can_manage_topics=True
    )
    me = await bot.get_chat_member(desk.id, bot.id)
    assert me.status == "administrator" and me.can_manage_topics
    topic = await bot.create_forum_topic(desk.id, "#12 · Wi-Fi problems · Alice")
    card = await bot.send_message(
        desk.id, "the case card", message_thread_id=topic.message_thread_id
    )
    assert card.is_topic_message and card.message_thread_id == topic.message_thread_id
    await bot.edit_forum_topic(desk.id, topic.message_thread_id, name="#12 · solved · Alice")
    assert api.topics(desk)[0].name == "#12 · solved · Alice"
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(desk.id, topic.message_thread_id, name="#12 · solved · Alice")
    await bot.close_forum_topic(desk.id, topic.message_thread_id)
    assert api.topics(desk)[0].closed
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(desk.id, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)thread not found"):
        await bot.close_forum_topic(desk.id, 999_999)


async def test_topics_need_a_forum_and_the_right_to_manage_them(api: LocalBotApi, bot: Bot) -> None:
    staff = api.user("Sam")
    plain = api.group("Staff", [staff], bot_status="administrator", bot_can_manage_topics=True)
    with pytest.raises(BadRequest, match=r"(?i)not a forum"):
        await bot.create_forum_topic(plain.id, "case")
    member_only = api.group("Staff", [staff], forum=True)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.create_forum_topic(member_only.id, "case")
    assert (await bot.get_chat_member(member_only.id, bot.id)).status == "member"
    not_in_it = api.group("Staff", [staff], forum=True, bot_status="left")
    with pytest.raises(Forbidden, match=r"(?i)not a member"):
        await bot.send_message(not_in_it.id, "hello?")


async def test_a_closed_topic_takes_messages_only_from_those_who_manage_topics(
    api: LocalBotApi, bot: Bot
) -> None:
    staff = api.user("Sam")
    forum = api.group("Help", [staff], forum=True)
    thread = api.topic(forum, "old case")
    api.topics(forum)[0].closed = True
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(forum.id, "anyone?", message_thread_id=thread)


async def test_a_screenshot_and_a_file_are_copied_into_a_topic_and_back(
    api: LocalBotApi, bot: Bot
) -> None:
    alice, sam = api.user("Alice"), api.user("Sam")
    private = api.private_chat(alice)
    desk = api.group(
        "Staff", [sam], forum=True, bot_status="administrator", bot_can_manage_topics=True
    )
    topic = await bot.create_forum_topic(desk.id, "#1 · Alice")
    shot = await api.send_photo(alice, private, caption="this is what I see")
    log = await api.send_document(alice, private, "backup-log.txt")
    updates = await bot.get_updates()
    assert updates[0].message.photo and updates[0].message.caption == "this is what I see"
    assert updates[1].message.document.file_name == "backup-log.txt"
    for message_id in (shot.message_id, log.message_id):
        await bot.copy_message(
            desk.id, private.id, message_id, message_thread_id=topic.message_thread_id
        )
    copies = api.bot_messages(desk, thread=topic.message_thread_id)
    assert copies[0].photo and copies[0].caption == "this is what I see"
    assert copies[1].document == "backup-log.txt"
    # Staff answer in the topic; the bot copies the answer to Alice, as itself.
    answer = await api.send(
        sam, desk, "Try signing out and in again", thread=topic.message_thread_id
    )
    await bot.copy_message(private.id, desk.id, answer.message_id)
    assert api.last_bot_message(private).text == "Try signing out and in again"


async def test_what_cannot_be_copied_is_refused_as_telegram_does(
    api: LocalBotApi, bot: Bot
) -> None:
    alice, bob = api.user("Alice"), api.user("Bob")
    desk = api.group(
        "Staff", [alice], forum=True, bot_status="administrator", bot_can_manage_topics=True
    )
    topic = await bot.create_forum_topic(desk.id, "#2")
    with pytest.raises(BadRequest, match=r"(?i)can't be copied"):
        await bot.copy_message(desk.id, desk.id, topic.message_thread_id)  # the service message
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(desk.id, desk.id, 424242)
    note = await api.send(alice, desk, "for Bob", thread=topic.message_thread_id)
    with pytest.raises(Forbidden, match=r"(?i)initiate conversation"):
        await bot.copy_message(api.private_chat(bob).id, desk.id, note.message_id)


async def test_the_playground_and_the_local_bot_api_answer_only_this_machines_own_pages() -> None:
    """A cross-site page cannot post as a person (no token, no JSON, not its origin), a
    DNS-rebinding page (Host: evil.example) reads nothing, and the Bot API's token is new
    each run, so no page can make the bot send."""
    import aiohttp

    from bot.localapi.playground import TOKEN_HEADER, Playground, world
    from bot.localapi.server import random_token

    assert random_token() != random_token()
    async with LocalBotApi(random_token()) as api:
        people = world(api)
        playground = Playground(api, people)
        port = await playground.start()
        here = f"http://127.0.0.1:{port}"
        own = {TOKEN_HEADER: playground.token}
        action = {
            "person": "first",
            "kind": "text",
            "chat": api.private_chat(people.people[0]).id,
        }
        try:
            async with aiohttp.ClientSession() as http:

                async def status(method: str, url: str, **kw: object) -> int:
                    async with http.request(method, url, **kw) as response:  # type: ignore[arg-type]
                        return response.status

                assert await status("GET", f"{here}/") == 200
                assert await status("GET", f"{here}/", headers={"Host": "evil.example"}) == 403
                state = f"{here}/api/state?person=first"
                assert await status("GET", state) == 403  # no token
                assert await status("GET", state, headers={**own, "Host": "evil.example"}) == 403
                assert await status("GET", state, headers=own) == 200
                act = f"{here}/api/act"
                text = {**own, "Content-Type": "text/plain"}
                assert await status("POST", act, data='{"kind": "text"}', headers=text) == 415
                evil = {**own, "Origin": "http://evil.example"}
                assert await status("POST", act, json={**action, "text": "hi"}, headers=evil) == 403
                assert await status("POST", act, json={**action, "text": "hi"}) == 403  # no token
                mine = {**own, "Origin": here}
                assert await status("POST", act, json={**action, "text": "hi"}, headers=mine) == 200
                bot_api = f"{api.base_url}{api.token}/getMe"
                assert await status("GET", bot_api) == 200
                assert await status("GET", bot_api, headers={"Host": "evil.example"}) == 403
        finally:
            await playground.stop()
