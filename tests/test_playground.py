"""The playground in a real browser: headless Chromium (Debian's, driven by Playwright) on the
page, the real bot polling the local Bot API behind it. Each test is a person's story.

Chromium comes from the system (`FIXBOT_CHROMIUM`, else /usr/bin/chromium): Playwright's own
browser download does not work here. Without it these tests are skipped and say why, unless
FIXBOT_BROWSER_TESTS=required (what `.ci/run` sets), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.engine import Engine
from bot.localapi import LocalBotApi
from bot.localapi.playground import Playground, World, safe_html, world
from bot.transports.telegram.desk import DeskConfig
from tests.running import WORDING, Bot

CHROMIUM = os.environ.get("FIXBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = os.environ.get("FIXBOT_BROWSER_TESTS") == "required"
SCREENSHOT = os.environ.get("FIXBOT_SCREENSHOT")
"""Where to save the README's picture of the page (`make screenshot`); unset: nowhere."""

try:
    from playwright.async_api import Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None

if not REQUIRED and (async_playwright is None or not Path(CHROMIUM).exists()):
    pytest.skip(
        f"no Chromium at {CHROMIUM} (or no Playwright): browser tests skipped; "
        "install Debian's chromium, or set FIXBOT_CHROMIUM",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


@asynccontextmanager
async def in_the_browser(api: LocalBotApi, people: World, bot: Bot) -> AsyncIterator[Page]:
    """The playground page for `people`, open in headless Chromium, with `bot` behind it."""
    playground = Playground(api, people)
    await bot.start()
    port = await playground.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"]
            )
            try:
                tab = await browser.new_page(viewport={"width": 1200, "height": 760})
                failed: list[str] = []
                tab.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
                await tab.goto(f"http://127.0.0.1:{port}/")
                await expect(tab.locator("#people button.active")).to_have_text("Ana EN")
                yield tab
                assert failed == []  # nothing the page asked for was missing (a favicon, say)
            finally:
                await browser.close()
    finally:
        await playground.stop()
        await bot.stop()


@pytest.fixture
async def page(engine: Engine, tmp_path: Path) -> AsyncIterator[Page]:
    """The playground as `fixbot play` opens it."""
    async with (
        LocalBotApi() as api,
        in_the_browser(api, world(api), Bot(api, engine, tmp_path)) as tab,
    ):
        yield tab


@pytest.fixture
async def staffed_page(catalog: Catalog, tmp_path: Path) -> AsyncIterator[Page]:
    """The same, with a staff desk: Cy works in the support team's chat."""
    async with LocalBotApi() as api:
        people = world(api, staff_chat_id=-1001000000999)
        assert people.staff is not None
        bot = Bot(api, Engine(catalog, handover=True), tmp_path, desk=DeskConfig(people.staff.id))
        async with in_the_browser(api, people, bot) as tab:
            yield tab


@pytest.fixture
async def page_in_every_language(tmp_path: Path) -> AsyncIterator[Page]:
    """The playground with the content's every language behind it, as `make run` has it."""
    from bot.languages import Languages
    from bot.settings import REPOSITORY_ROOT

    languages = Languages.load(REPOSITORY_ROOT)
    english = languages.default
    engine = Engine(english.catalog, english.matcher, english.wording, languages=languages)
    async with (
        LocalBotApi() as api,
        in_the_browser(api, world(api), Bot(api, engine, tmp_path)) as tab,
    ):
        yield tab


async def say(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


def bot_messages(page: Page):
    return page.locator('.message[data-from="bot"]')


async def test_a_complaint_gets_a_walk_and_done_edits_it_in_place(page: Page) -> None:
    await say(page, "my icloud storage is full")
    await expect(page.locator('.message[data-from="Ana"]')).to_contain_text("storage is full")
    walk = bot_messages(page).last
    await expect(walk).to_contain_text("Make room in iCloud")
    await expect(walk).to_contain_text("Step 1 of 4")
    before = await walk.get_attribute("data-message")
    await walk.get_by_role("button", name="Done").click()
    edited = page.locator(f'.message[data-message="{before}"]')
    await expect(edited).to_contain_text("Step 2 of 4")
    await expect(edited).to_contain_text("edited")
    await expect(bot_messages(page)).to_have_count(1)  # edited in place, not sent anew
    bold = edited.locator(".text b").first
    await expect(bold).to_have_text("Make room in iCloud")  # the bot's HTML, drawn


async def test_lucia_s_phone_speaks_spanish_and_in_the_group_each_walks_in_their_own(
    page_in_every_language: Page,
) -> None:
    page = page_in_every_language
    lucia = page.locator('#people button[data-person="Lucía"]')
    await expect(lucia).to_have_text("Lucía ES")
    await lucia.click()
    await say(page, "el wifi no se conecta")
    walk = bot_messages(page).last
    await expect(walk).to_contain_text("Conectarse al Wi-Fi")
    await expect(walk.get_by_role("button", name="Hecho")).to_be_visible()

    await page.locator('#people button[data-person="Ana"]').click()
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await say(page, "/fix wifi")
    await expect(bot_messages(page).last).to_contain_text("Get onto Wi-Fi")
    await page.locator('#people button[data-person="Lucía"]').click()
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await say(page, "/fix wifi")
    theirs = bot_messages(page).last
    await expect(theirs).to_contain_text("Conectarse al Wi-Fi")  # beside Ana's English walk
    await expect(bot_messages(page).filter(has_text="Get onto Wi-Fi")).to_have_count(1)


async def test_in_the_group_another_persons_press_gets_a_toast_and_changes_nothing(
    page: Page,
) -> None:
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await say(page, "/fix wifi")
    walk = bot_messages(page).last
    await expect(walk).to_contain_text("Get onto Wi-Fi")
    text = await walk.inner_text()

    await page.locator('#people button[data-person="Ben"]').click()
    await expect(page.locator("#people button.active")).to_have_text("Ben EN")
    await page.locator('.chat-item[data-chat="Help group"]').click()
    anas = bot_messages(page).last
    await anas.get_by_role("button", name="Done").click()
    toast = page.locator("#toast")
    await expect(toast).to_be_visible()
    await expect(toast).to_have_text(WORDING.not_yours.format(name="Ana"))
    assert await bot_messages(page).last.inner_text() == text


async def test_continue_in_private_carries_the_whole_walk_to_the_private_chat(page: Page) -> None:
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await say(page, "@fixbot_local_bot my backup is stuck")
    walk = bot_messages(page).last
    await walk.get_by_role("button", name="Done").click()
    await expect(walk).to_contain_text("Fix 1 of 9 · step 2 of 4")
    await walk.get_by_role("button", name="Continue in private chat").click()
    await expect(page.locator("#chat-title")).to_have_text("fixbot")
    resumed = bot_messages(page).last
    await expect(resumed).to_contain_text("Fix 1 of 9 · step 2 of 4")
    for step in (3, 4):
        await resumed.get_by_role("button", name="Done").click()
        await expect(resumed).to_contain_text(f"Fix 1 of 9 · step {step} of 4")
    await resumed.get_by_role("button", name="Done").click()
    await resumed.get_by_role("button", name="No, still broken").click()
    await expect(bot_messages(page).last).to_contain_text("Fix 2 of 9")


async def test_topics_a_sticker_and_a_photo(page: Page) -> None:
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await page.locator('#topics button[data-topic="Backups"]').click()
    await expect(page.locator("#chat-title")).to_have_text("Help group › Backups")
    await say(page, "@fixbot_local_bot my backup is stuck")
    await expect(bot_messages(page).last).to_contain_text("iCloud backup fails")
    await page.locator('#topics button[data-topic="General"]').click()
    await expect(bot_messages(page)).to_have_count(0)  # the walk stays in its topic

    await page.locator('.chat-item[data-chat="fixbot"]').click()
    await page.click("#send-sticker")
    await expect(page.locator(".message .sticker")).to_have_count(1)
    await expect(bot_messages(page).last).to_contain_text(WORDING.not_text.split(".")[0])
    await page.click("#send-photo")
    await expect(page.locator(".message .media")).to_have_count(1)
    if SCREENSHOT:
        await say(page, "wifi won't connect")
        await expect(bot_messages(page).last).to_contain_text("Get onto Wi-Fi")
        await page.screenshot(path=SCREENSHOT)


async def test_a_person_asks_for_help_and_support_answers_from_the_staff_chat(
    staffed_page: Page,
) -> None:
    page = staffed_page
    await say(page, "/human")
    await expect(bot_messages(page).last).to_contain_text("support")

    await page.locator('#people button[data-person="Cy"]').click()
    await page.locator('.chat-item[data-chat="Support staff"]').click()
    case = page.locator("#topics button", has_text="Ana")
    await expect(case).to_have_count(1)  # the case's forum topic, named after her
    await case.click()
    await say(page, "Hi Ana, I'm Cy from support. What do you see on the screen?")

    await page.locator('#people button[data-person="Ana"]').click()
    await page.locator('.chat-item[data-chat="fixbot"]').click()
    await expect(bot_messages(page).last).to_contain_text("I'm Cy from support")


def test_the_page_shows_the_bots_html_and_nothing_else() -> None:
    assert safe_html("<b>Bold</b> &amp; <i>it</i>") == "<b>Bold</b> &amp; <i>it</i>"
    assert safe_html('<a href="https://apple.com/x">status</a>') == (
        '<a href="https://apple.com/x" target="_blank" rel="noopener">status</a>'
    )
    assert safe_html('<a href="javascript:alert(1)">x</a>') == "x"
    assert safe_html("<script>alert(1)</script><img src=x onerror=y>") == "alert(1)"
    assert safe_html("<b>never closed") == "<b>never closed</b>"


async def test_the_page_names_the_bot_and_offers_its_commands_and_its_username(
    page: Page,
) -> None:
    """What a Telegram client shows: the bot's @username, the "/" menu the bot registered
    with setMyCommands, and @-completion of its name in a group."""
    await expect(page.locator("#chat-subtitle")).to_have_text("@fixbot_local_bot · bot")
    await page.fill("#text", "/")
    await page.locator("#text").dispatch_event("input")
    menu = page.locator("#suggestions")
    await expect(menu).to_be_visible()
    await expect(menu).to_contain_text("/fix")
    await expect(menu).to_contain_text("/topics")
    await page.fill("#text", "/fi")
    await page.locator("#text").dispatch_event("input")
    await menu.get_by_role("option").first.click()
    await expect(page.locator("#text")).to_have_value("/fix ")
    await page.type("#text", "wifi")
    await page.press("#text", "Enter")
    await expect(bot_messages(page).last).to_contain_text("Get onto Wi-Fi")

    await page.locator('.chat-item[data-chat="Help group"]').click()
    await expect(page.locator("#chat-subtitle")).to_contain_text("@fixbot_local_bot")
    await page.fill("#text", "@fix")
    await page.locator("#text").dispatch_event("input")
    await expect(menu).to_contain_text("@fixbot_local_bot")
    await page.press("#text", "Tab")
    await expect(page.locator("#text")).to_have_value("@fixbot_local_bot ")
    await page.type("#text", "wifi won't connect")
    await page.press("#text", "Enter")
    await expect(bot_messages(page).last).to_contain_text("Get onto Wi-Fi")


async def test_a_reply_to_the_bot_in_a_group_is_heard_and_a_deep_link_shows_start_only(
    page: Page,
) -> None:
    await page.locator('.chat-item[data-chat="Help group"]').click()
    await say(page, "/fix wifi")
    walk = bot_messages(page).last
    await expect(walk).to_contain_text("Get onto Wi-Fi")
    await walk.get_by_role("button", name="Reply").click()
    await expect(page.locator("#replying")).to_contain_text("Replying to fixbot")
    await say(page, "my icloud storage is full")  # no @mention: the reply addresses the bot
    mine = page.locator('.message[data-from="Ana"]').last
    await expect(mine.locator(".reply-quote")).to_contain_text("fixbot")
    await expect(bot_messages(page).last).to_contain_text("storage")
    await expect(page.locator("#replying")).to_be_hidden()

    await walk.get_by_role("button", name="Continue in private chat").click()
    await expect(page.locator("#chat-title")).to_have_text("fixbot")
    started = page.locator('.message[data-from="Ana"]').last
    await expect(started.locator(".text")).to_have_text("/start")  # the payload is not shown


async def test_on_a_phone_the_page_shows_the_chat_list_or_the_chat(page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 800})
    chats = page.locator("#sidebar")
    await expect(chats).to_be_visible()
    assert (await chats.bounding_box() or {}).get("width", 0) >= 380
    await expect(page.locator("#chat")).to_be_hidden()
    await page.locator('.chat-item[data-chat="fixbot"]').click()
    await expect(chats).to_be_hidden()
    assert (await page.locator("#messages").bounding_box() or {}).get("width", 0) >= 380
    await say(page, "wifi won't connect")
    walk = bot_messages(page).last
    await expect(walk).to_contain_text("Get onto Wi-Fi")
    assert (await walk.bounding_box() or {}).get("width", 0) >= 250  # not a word a line
    await page.locator("#back").click()
    await expect(chats).to_be_visible()
