"""The Telegram layer's small parts: the callback-data codec and the HTML rendering."""

from __future__ import annotations

import pytest

from bot.events import Action, Button, Press, Reply, Target
from bot.localapi.server import render_html
from bot.transports.telegram import callback_data, render


def test_a_press_and_its_owner_survive_the_round_trip() -> None:
    press = Press(Action.PICK, 12345, Target("backup_stuck"))
    data = callback_data.encode(press, owner=987654321012)
    assert len(data.encode()) <= 64
    decoded = callback_data.decode(data)
    assert decoded is not None
    assert decoded.press == press
    assert decoded.owner == 987654321012


def test_the_longest_button_the_content_allows_still_fits_64_bytes() -> None:
    # A revision from the clock's milliseconds, and a channel posting as the owner.
    press = Press(Action.PICK, 99 * 10**11, Target("x" * 24, is_fix=True))
    assert len(callback_data.encode(press, owner=-1009999999999).encode()) <= 64


def test_a_button_that_would_not_fit_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="cannot travel"):
        callback_data.encode(Press(Action.PICK, 1, Target("x" * 40)), owner=1)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "garbage",
        "f1|d|1||",
        "f0|d|1||5",
        "f1|zz|1||5",
        "f1|d|-1||5",
        "f1|d|1|UPPER|5",
        "f1|d|1||5|extra",
        "f1|c|1|abc|5",
        "f1|d|1|wifi|5",
        "f1|p|1||5",
        "f1|d|one||5",
        "x" * 65,
    ],
)
def test_anything_that_is_not_our_button_decodes_to_nothing(data: str | None) -> None:
    assert callback_data.decode(data) is None


def test_content_markup_becomes_escaped_telegram_html() -> None:
    html = render.to_html("Open **Settings** & tap <b>here</b> or **Wi-Fi**")
    assert html == "Open <b>Settings</b> &amp; tap &lt;b&gt;here&lt;/b&gt; or <b>Wi-Fi</b>"
    assert render_html(html) == "Open Settings & tap <b>here</b> or Wi-Fi"
    assert render.to_plain("Open **Settings**") == "Open Settings"


def test_text_longer_than_telegram_allows_is_cut_with_an_ellipsis() -> None:
    html = render.to_html("a" * 5000)
    assert len(html) == 4096
    assert html.endswith("…")


def test_buttons_become_an_inline_keyboard_with_links_and_owners() -> None:
    reply = Reply(
        "Pick",
        ((Button("Done", Press(Action.DONE, 3)), Button("Status", url="https://example.com")),),
    )
    markup = render.keyboard(reply, owner=42)
    assert markup is not None
    done, link = markup.inline_keyboard[0]
    decoded = callback_data.decode(done.callback_data)
    assert decoded is not None
    assert decoded.owner == 42
    assert link.url == "https://example.com"
    assert render.keyboard(Reply("no buttons"), owner=42) is None


async def test_html_that_telegram_refuses_is_sent_again_as_plain_text() -> None:
    from telegram.constants import ParseMode
    from telegram.error import BadRequest

    from bot.transports.telegram.render import html_or_plain

    sent: list[tuple[str, ParseMode | None]] = []

    async def deliver(text: str, mode: ParseMode | None) -> None:
        sent.append((text, mode))
        if mode is ParseMode.HTML:
            raise BadRequest("Can't parse entities: unsupported start tag")

    await html_or_plain(1, "Open **Settings**", deliver)
    assert sent == [("Open <b>Settings</b>", ParseMode.HTML), ("Open Settings", None)]


async def test_other_refusals_are_not_hidden_by_the_plain_text_fallback() -> None:
    from telegram.error import BadRequest

    from bot.transports.telegram.render import html_or_plain

    async def deliver(text: str, mode: object) -> None:
        raise BadRequest("Message is not modified")

    with pytest.raises(BadRequest, match="not modified"):
        await html_or_plain(1, "x", deliver)
