"""What the support team learns, end to end: the real bot over HTTP against the local Bot API,
/stats with its chart, /gaps, who may ask, and the weekly digest. Each test is a story."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest
from PIL import Image

from bot import charts
from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.engine import Engine
from bot.events import Action, ButtonPressed, TextReceived
from bot.hours import WeeklyTime
from bot.localapi import LocalBotApi
from bot.localapi.server import Chat, User
from bot.session import SessionKey, Stage
from bot.store import SQLiteStore
from bot.store.sqlite import DATABASE_FILE
from bot.transports.telegram.desk import DeskConfig
from bot.transports.telegram.reports import ReportsConfig
from tests.running import WORDING, Bot


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog, handover=True)


def staff_group(api: LocalBotApi, sam: User) -> Chat:
    return api.group("Support staff", {sam: "creator"}, bot_status="administrator")


async def a_walk_fixed_and_a_message_not_understood(api: LocalBotApi, kim: User) -> Chat:
    """Kim walks Wi-Fi to "Yes, it's fixed", then writes something the bot cannot place."""
    chat = api.private_chat(kim)
    await api.send(kim, chat, "/fix wifi")
    walk = await api.wait_for_bot_message(chat, 1)
    while "Yes, it's fixed" not in " ".join(walk.labels):
        await api.press_button(kim, walk, "Done")
        walk = await api.wait_for_edit(chat, walk.message_id, walk.text)
    await api.press_button(kim, walk, "Yes, it's fixed")
    await api.wait_for_edit(chat, walk.message_id, walk.text)
    await api.send(kim, chat, "who won the football last night")
    await api.wait_for_bot_message(chat, 2)
    return chat


def a_chart(image: bytes | None) -> Image.Image:
    assert image is not None, "no photo was uploaded"
    picture = Image.open(io.BytesIO(image))
    assert picture.format == "PNG"
    return picture


async def test_a_team_that_reads_spanish_gets_stats_in_spanish_split_by_language(
    api: LocalBotApi, tmp_path: Path
) -> None:
    """FIXBOT_STAFF_LANGUAGE=es: Kim walks Wi-Fi in English to "fixed", Lucía's phone speaks
    Spanish and the bot does not understand her; Sam's /stats comes in Spanish, with a line
    for each language."""
    from bot.languages import Languages
    from bot.settings import REPOSITORY_ROOT

    languages = Languages.load(REPOSITORY_ROOT)
    english = languages.default
    engine = Engine(
        english.catalog, english.matcher, english.wording, handover=True, languages=languages
    )
    sam, kim, lucia = api.user("Sam"), api.user("Kim"), api.user("Lucía", language="es-ES")
    staff = staff_group(api, sam)
    bot = Bot(api, engine, tmp_path, desk=DeskConfig(staff.id), staff_language="es")
    await bot.start()
    try:
        await a_walk_fixed_and_a_message_not_understood(api, kim)
        theirs = api.private_chat(lucia)
        await api.send(lucia, theirs, "quiero reservar una mesa para cenar el sábado")
        assert (await api.wait_for_bot_message(theirs, 1)).text.startswith("Perdona")

        await api.send(sam, staff, "/stats")
        brief = await api.wait_for_bot_message(staff, 1)
        assert "Los últimos 7 días" in brief.text
        assert "Guías: 1 · resueltas 1 (confirmado por la persona)" in brief.text
        assert "Por idioma:" in brief.text
        assert "• English: 1 guías, 1 resueltas · 0 preguntas · 1 sin entender" in brief.text
        assert "• Español: 0 guías, 0 resueltas · 0 preguntas · 1 sin entender" in brief.text
        photo = await api.wait_for_bot_message(staff, 2)
        assert photo.caption is not None and "últimos 7 días" in photo.caption
    finally:
        await bot.stop()


async def test_staff_ask_for_stats_and_get_the_chart_then_gaps_and_a_person_is_refused(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    sam, kim = api.user("Sam"), api.user("Kim")
    staff = staff_group(api, sam)
    bot = Bot(api, engine, tmp_path, desk=DeskConfig(staff.id))
    await bot.start()
    try:
        chat = await a_walk_fixed_and_a_message_not_understood(api, kim)

        await api.send(sam, staff, "/stats")
        brief = await api.wait_for_bot_message(staff, 1)
        assert "The last 7 days" in brief.text
        assert "Walks: 1 · resolved 1 (confirmed by the person)" in brief.text
        assert "First replies: 0 walks, 0 questions, 1 refusals" in brief.text
        photo = await api.wait_for_bot_message(staff, 2)
        assert photo.photo and photo.caption == WORDING.stats_chart_caption.format(days=7)
        assert a_chart(photo.image).size == (charts.WIDTH, charts.HEIGHT)

        await api.send(sam, staff, "/gaps")
        found = await api.wait_for_bot_message(staff, 3)
        assert "1 messages got a question or no answer" in found.text
        assert "who won the football last night" in found.text

        await api.send(kim, chat, "/stats")
        refused = await api.wait_for_bot_message(chat, 3)
        assert refused.text == WORDING.reports_for_staff
        await api.send(kim, chat, "/gaps")
        assert (await api.wait_for_bot_message(chat, 4)).text == WORDING.reports_for_staff
        assert len(api.bot_messages(staff)) == 3  # nothing of Kim's asking reached support
    finally:
        await bot.stop()


async def test_without_a_staff_chat_an_admin_listed_by_id_asks_in_private_and_nowhere_else(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    ada, kim = api.user("Ada"), api.user("Kim")
    bot = Bot(api, engine, tmp_path, reports=ReportsConfig(admin_ids=frozenset({ada.id})))
    await bot.start()
    try:
        kims_chat = await a_walk_fixed_and_a_message_not_understood(api, kim)
        await api.send(kim, kims_chat, "/stats")
        assert (await api.wait_for_bot_message(kims_chat, 3)).text == WORDING.reports_for_staff

        private = api.private_chat(ada)
        await api.send(ada, private, "/stats")
        brief = await api.wait_for_bot_message(private, 1)
        assert "Walks: 1 · resolved 1 (confirmed by the person)" in brief.text
        photo = await api.wait_for_bot_message(private, 2)
        assert a_chart(photo.image).size == (charts.WIDTH, charts.HEIGHT)

        group = api.group("Help group", [ada, kim])
        await api.send(ada, group, "/stats")
        assert (await api.wait_for_bot_message(group, 1)).text == WORDING.reports_not_here
        await api.send(kim, group, "/stats")
        assert (await api.wait_for_bot_message(group, 2)).text == WORDING.reports_for_staff
        assert not any(m.photo for m in api.bot_messages(group))
    finally:
        await bot.stop()


async def test_with_no_walks_yet_stats_says_so_and_sends_no_empty_chart(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    sam = api.user("Sam")
    staff = staff_group(api, sam)
    bot = Bot(api, engine, tmp_path, desk=DeskConfig(staff.id))
    await bot.start()
    try:
        await api.send(sam, staff, "/stats")
        brief = await api.wait_for_bot_message(staff, 1)
        assert "Walks: 0" in brief.text
        await api.send(sam, staff, "/gaps")
        assert (await api.wait_for_bot_message(staff, 2)).text == "No unanswered messages kept."
        assert not any(m.photo for m in api.bot_messages(staff))
    finally:
        await bot.stop()


async def last_week(engine: Engine, data_dir: Path, due: float) -> None:
    """Two days before the digest is due: Lee's backup walk fails at its first step and the
    next fix fixes it; someone writes what the bot cannot place. After it: one more walk,
    which belongs to next week's digest."""
    lee, at = SessionKey(7, 7), due - 2 * 86400
    async with await SQLiteStore.open(data_dir / DATABASE_FILE, clock=lambda: at) as store:
        conversations = Conversations(engine, store)
        turn = await conversations.handle(lee, TextReceived("my iphone backup is stuck", at))

        async def press(*actions: Action) -> None:
            """The first button offered of these actions, in the order given."""
            nonlocal turn, at
            offered = [b.press for row in turn.replies[-1].buttons for b in row]
            chosen = next(p for a in actions for p in offered if p and p.action is a)
            at += 30
            turn = await conversations.handle(lee, ButtonPressed(chosen, at))

        await press(Action.FAILED)  # the first fix's first step: on to the next fix
        for _ in range(30):
            if turn.session.stage is Stage.DID_IT_HELP:
                break
            await press(Action.DONE, Action.CONFIRM, Action.CHOOSE)
        await press(Action.FIXED)
        await conversations.handle(SessionKey(8, 8), TextReceived("best pizza in town?", at))
        await conversations.handle(SessionKey(9, 9), TextReceived("wifi won't connect", due + 60))


async def test_the_weekly_digest_is_posted_once_whatever_restarts_come_between(
    api: LocalBotApi, engine: Engine, tmp_path: Path
) -> None:
    sam = api.user("Sam")
    staff = staff_group(api, sam)
    now = time.time()
    when = WeeklyTime.parse(time.strftime("%a %H:%M", time.gmtime(now - 3600)) + " UTC")
    due = when.last(now).timestamp()
    await last_week(engine, tmp_path, due)
    reports = ReportsConfig(digest=when)
    bot = Bot(api, engine, tmp_path, desk=DeskConfig(staff.id), reports=reports)
    await bot.start()
    try:
        digest = await api.wait_for_bot_message(staff, 1)
        assert digest.text.startswith("📬 Weekly digest")
        assert "Walks: 1 · resolved 1 (100%), confirmed by the person" in digest.text
        assert "Not understood (1 messages)" in digest.text
        assert "best pizza in town?" in digest.text
        assert "Steps that most often didn't work:" in digest.text
        assert "Turn on iCloud Backup, step 1: 1" in digest.text

        await bot.stop()
        await bot.start()  # a restart: the week's digest is not posted again
        await api.send(sam, staff, "/gaps")
        await api.wait_for_bot_message(staff, 2)
        await asyncio.sleep(0.5)
        digests = [m for m in api.bot_messages(staff) if m.text.startswith("📬 Weekly digest")]
        assert len(digests) == 1
    finally:
        await bot.stop()
