"""Groups that admins control, end to end through the local Bot API: the /settings panel, and
complaints the bot overhears, answered once and politely. Each test is a story; the rules
underneath (`bot.groups`) are tested directly at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.engine import Engine
from bot.groups import (
    COOLDOWNS,
    GENERAL,
    PERSON_COOLDOWN,
    QUIET_HOURS,
    GroupSettings,
    LastOffers,
    Silence,
    in_quiet_hours,
    may_offer,
)
from bot.localapi import LocalBotApi
from bot.localapi.server import MessageView, User
from tests.running import WORDING, Bot

OFFER = "Looks like"


@pytest.fixture(scope="module")
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi(privacy=False) as server:
        yield server


class Group:
    """A support group: Ann runs it; Max and Liv are members."""

    def __init__(self, api: LocalBotApi, forum: bool = False, bot_status: str = "member"):
        self.api = api
        self.ann, self.max, self.liv = api.user("Ann"), api.user("Max"), api.user("Liv")
        self.chat = api.group(
            "Help group",
            {self.ann: "creator", self.max: "member", self.liv: "member"},
            forum=forum,
            bot_status=bot_status,
        )

    async def settings(self, who: User, thread: int | None = None) -> MessageView:
        before = len(self.api.bot_messages(self.chat, thread))
        await self.api.send(who, self.chat, "/settings", thread=thread)
        panel = await self.api.wait_for_bot_message(self.chat, before + 1, thread)
        assert "\n\n\n" not in panel.text  # one blank line between parts, never a gap
        return panel

    async def press(self, who: User, panel: MessageView, label: str) -> MessageView:
        """Press a panel button; the panel as it is once the press is answered."""
        before = len(self.api.toasts(who))
        await self.api.press_button(who, panel, label)
        await self.api.wait_for(lambda: len(self.api.toasts(who)) > before)
        return next(m for m in self.api.bot_messages(self.chat, panel.thread_id)
                    if m.message_id == panel.message_id)  # fmt: skip

    async def says(self, who: User, text: str, thread: int | None = None) -> MessageView | None:
        """`who` writes `text` to the group, not to the bot; the bot's offer, if it made one.
        A /help from the same person afterwards shows the message has been handled."""
        said = await self.api.send(who, self.chat, text, thread=thread)
        before = len(self.api.bot_messages(self.chat, thread))
        await self.api.send(who, self.chat, "/help", thread=thread)
        await self.api.wait_for(
            lambda: any("/fix" in m.text for m in self.api.bot_messages(self.chat, thread)[before:])
        )
        answers = [
            m for m in self.api.bot_messages(self.chat, thread) if m.reply_to == said.message_id
        ]
        return answers[0] if answers else None


async def overhearing_on(group: Group) -> MessageView:
    panel = await group.settings(group.ann)
    assert WORDING.button_overhear_off in panel.labels
    return await group.press(group.ann, panel, "Answer complaints")


async def test_an_admin_turns_overhearing_on_and_a_complaint_gets_one_offer_then_a_walk(
    api: LocalBotApi, bot: Bot
) -> None:
    group = Group(api)
    panel = await overhearing_on(group)
    assert WORDING.button_overhear_on in panel.labels
    assert "Answer complaints I see: on." in panel.text
    assert WORDING.settings_saved in api.toasts(group.ann)

    offer = await group.says(group.max, "my icloud is full")
    assert offer is not None and offer.text.startswith(OFFER)
    assert "Not enough iCloud storage" in offer.text
    assert offer.labels == [WORDING.walk_me_through]

    # Within the cooldown: the same person, another person, nothing.
    assert await group.says(group.max, "icloud storage still full, help") is None
    assert await group.says(group.liv, "my iphone won't back up to icloud") is None
    # Chatter is never answered.
    assert await group.says(group.liv, "hi all") is None
    assert await group.says(group.liv, "anyone watching the game") is None

    # The offer is Max's: Liv's press is refused with a toast; Max's starts his walk there.
    await api.press_button(group.liv, offer, "Walk me through it")
    await api.wait_for(lambda: any("belongs to Max" in t for t in api.toasts(group.liv)))
    await api.press_button(group.max, offer, "Walk me through it")
    walk = await api.wait_for_edit(group.chat, offer.message_id, offer.text)
    assert "Make room in iCloud" in walk.text and "Done" in " ".join(walk.labels)


async def test_without_overhearing_on_a_complaint_gets_nothing(api: LocalBotApi, bot: Bot) -> None:
    group = Group(api)
    assert await group.says(group.max, "my icloud is full") is None


async def test_a_non_admin_cannot_open_or_change_the_settings(api: LocalBotApi, bot: Bot) -> None:
    group = Group(api)
    refused = await group.settings(group.max)
    assert refused.text == WORDING.settings_admins_only and refused.labels == []

    panel = await group.settings(group.ann)
    after = await group.press(group.max, panel, "Answer complaints")
    assert WORDING.settings_admins_only in api.toasts(group.max)
    assert after.labels == panel.labels and after.text == panel.text
    assert await group.says(group.liv, "my icloud is full") is None  # still off


async def test_an_admin_posting_anonymously_as_the_group_gets_the_panel(
    api: LocalBotApi, bot: Bot
) -> None:
    group = Group(api)
    group.chat.anonymous_admins.add(group.ann.id)
    await api.send(group.ann, group.chat, "/settings", as_chat=group.chat)
    panel = await api.wait_for_bot_message(group.chat, 1)
    assert WORDING.button_overhear_off in panel.labels


async def test_in_private_settings_explain_they_are_for_groups(api: LocalBotApi, bot: Bot) -> None:
    kai = api.user("Kai")
    chat = api.private_chat(kai)
    await api.send(kai, chat, "/settings")
    assert (await api.wait_for_bot_message(chat, 1)).text == WORDING.settings_private


async def test_with_privacy_mode_on_the_panel_says_how_to_let_the_bot_read(
    engine: Engine, tmp_path: Path
) -> None:
    async with LocalBotApi(privacy=True) as api:
        bot = Bot(api, engine, tmp_path)
        await bot.start()
        try:
            group = Group(api)
            panel = await group.settings(group.ann)
            assert "can't read this group's messages" in panel.text
            assert "/setprivacy" in panel.text and "make me an admin" in panel.text
            assert WORDING.button_overhear_unavailable in panel.labels
            after = await group.press(group.ann, panel, "Answer complaints")
            assert WORDING.settings_unavailable in api.toasts(group.ann)
            assert WORDING.button_overhear_unavailable in after.labels

            # Made an admin, the bot reads everything: the toggle is there again.
            group.chat.bot_status = "administrator"
            panel = await group.settings(group.ann)
            assert "can't read" not in panel.text
            assert WORDING.button_overhear_off in panel.labels
        finally:
            await bot.stop()


async def test_settings_survive_a_restart(api: LocalBotApi, bot: Bot) -> None:
    group = Group(api)
    panel = await overhearing_on(group)
    await group.press(group.ann, panel, "Every 5 min")
    await bot.stop()
    await bot.start()
    panel = await group.settings(group.ann)
    assert WORDING.button_overhear_on in panel.labels
    assert "Every 15 min" in " ".join(panel.labels)
    assert await group.says(group.max, "my icloud is full") is not None


async def test_walks_in_private_make_the_offer_a_link_to_a_private_chat(
    api: LocalBotApi, bot: Bot
) -> None:
    group = Group(api)
    panel = await overhearing_on(group)
    panel = await group.press(group.ann, panel, "Walks: in the group")
    assert "🔒 Walks: in private" in panel.labels
    offer = await group.says(group.max, "my icloud is full")
    assert offer is not None
    link = offer.button("Walk me through it").url
    assert link == "https://t.me/fixbot_local_bot?start=fix_storage_full"


async def test_in_a_forum_an_admin_mutes_one_topic_and_the_others_still_get_offers(
    api: LocalBotApi, bot: Bot
) -> None:
    group = Group(api, forum=True)
    chatter = api.topic(group.chat, "Chatter")
    backups = api.topic(group.chat, "Backups")
    panel = await group.settings(group.ann, thread=chatter)
    panel = await group.press(group.ann, panel, "Answer complaints")
    panel = await group.press(group.ann, panel, "This topic: on")
    assert "🔇 This topic: off" in panel.labels
    assert await group.says(group.max, "my icloud is full", thread=chatter) is None
    assert await group.says(group.max, "my icloud is full", thread=backups) is not None


async def test_admins_see_settings_in_their_command_menu_and_members_do_not(
    api: LocalBotApi, bot: Bot
) -> None:
    group = Group(api)
    assert "settings" in api.visible_commands(group.chat, group.ann)
    assert "settings" not in api.visible_commands(group.chat, group.max)
    assert "fix" in api.visible_commands(group.chat, group.max)
    assert "start" in api.visible_commands(api.private_chat(group.max), group.max)


# -- the rules -------------------------------------------------------------------------------


NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
ON = GroupSettings(overhear=True)


def test_an_offer_is_made_only_when_nothing_says_otherwise() -> None:
    assert may_offer(ON, LastOffers(), NOON) is None
    assert may_offer(GroupSettings(), LastOffers(), NOON) == Silence.OFF
    assert may_offer(ON, LastOffers(), NOON, walking=True) == Silence.WALKING
    muted = GroupSettings(overhear=True, muted_topics=frozenset({7}))
    assert may_offer(muted, LastOffers(), NOON, topic=7) == Silence.TOPIC
    assert may_offer(muted, LastOffers(), NOON, topic=GENERAL) is None
    quiet = GroupSettings(overhear=True, quiet_hours="22:00-08:00")
    assert may_offer(quiet, LastOffers(), NOON) is None
    assert may_offer(quiet, LastOffers(), NOON + 11 * 3600) == Silence.QUIET  # 23:00


def test_the_group_and_each_person_wait_their_cooldowns() -> None:
    four_minutes_ago = LastOffers(group_at=NOON - 240)
    assert may_offer(ON, four_minutes_ago, NOON) == Silence.GROUP_COOLDOWN
    assert may_offer(ON, LastOffers(group_at=NOON - 301), NOON) is None
    every_minute = GroupSettings(overhear=True, cooldown_minutes=1)
    assert may_offer(every_minute, four_minutes_ago, NOON) is None
    this_person = LastOffers(group_at=NOON - 1800, person_at=NOON - 1800)
    assert may_offer(every_minute, this_person, NOON) == Silence.PERSON_COOLDOWN
    later = NOON - PERSON_COOLDOWN - 1
    assert may_offer(every_minute, LastOffers(later, later), NOON) is None


def test_quiet_hours_may_cross_midnight() -> None:
    def at(hour: int) -> float:
        return datetime(2026, 11, 20, hour, 30, tzinfo=UTC).timestamp()

    assert [h for h in range(24) if in_quiet_hours("22:00-08:00", at(h))] == [*range(8), 22, 23]
    assert [h for h in range(24) if in_quiet_hours("00:00-07:00", at(h))] == list(range(7))


def test_each_panel_button_cycles_its_setting_and_stored_settings_read_back() -> None:
    settings = GroupSettings()
    seen = [settings.cooldown_minutes]
    for _ in COOLDOWNS:
        settings = settings.toggled("cooldown")
        seen.append(settings.cooldown_minutes)
    assert seen == [5, 15, 60, 1, 5]
    assert [GroupSettings().toggled("quiet").quiet_hours] == [QUIET_HOURS[1]]
    assert GroupSettings().toggled("topic", 7).toggled("topic", 7).muted_topics == frozenset()
    chosen = GroupSettings(True, 15, frozenset({3}), True, "20:00-09:00")
    assert GroupSettings.from_dict(chosen.to_dict()) == chosen
    assert GroupSettings.from_dict({"schema": 99, "overhear": True}) == GroupSettings()
    assert GroupSettings.from_dict({"cooldown_minutes": "lots"}) == GroupSettings()
    assert GroupSettings.from_dict({"cooldown_minutes": 7}).cooldown_minutes == 5
    with pytest.raises(ValueError, match="no group setting"):
        GroupSettings().toggled("volume")
