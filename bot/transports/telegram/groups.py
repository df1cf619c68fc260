"""Groups that admins control: the /settings panel, and the one short offer to someone whose
complaint the bot read without being addressed.

The rules are pure and live in `bot.groups` (`GroupSettings`, `may_offer`); the engine says
whether a message clearly names an intent. What lives here is what only Telegram has: who
is an admin (asked of Telegram with getChatMember; an admin posting anonymously, as the
group, counts), whether the bot can read the group at all (privacy mode, or admin rights),
the panel's message and its buttons, and the reply to the overheard message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import tzinfo

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError

from bot import groups, views
from bot.conversations import Conversations
from bot.events import Button, Reply
from bot.groups import GENERAL, GroupSettings
from bot.links import fix_link
from bot.locks import KeyedLocks
from bot.session import SessionKey
from bot.store.base import Groups
from bot.transports.telegram import render
from bot.transports.telegram.callback_data import PanelPress, encode_panel
from bot.transports.telegram.keys import thread
from bot.wording import Wording

log = logging.getLogger(__name__)

ADMINS = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


class GroupControl:
    """Each group's settings (cached, kept in the store) and what follows from them."""

    def __init__(
        self, conversations: Conversations, wording: Wording, zone: tzinfo | None = None
    ) -> None:
        self.conversations, self.wording, self.zone = conversations, wording, zone
        self.engine = conversations.engine
        self.store: Groups = conversations.store
        self._settings: dict[int, GroupSettings] = {}
        self._offering: KeyedLocks[int] = KeyedLocks()

    def words(self, settings: GroupSettings) -> Wording:
        """What the bot says to the group as a whole: in the group's language."""
        return self.engine.languages.pick(settings.language).wording

    async def settings(self, chat_id: int) -> GroupSettings:
        if chat_id not in self._settings:
            self._settings[chat_id] = await self.store.group_settings(chat_id)
        return self._settings[chat_id]

    # -- /settings ---------------------------------------------------------------------------

    async def command(self, bot: Bot, message: Message) -> None:
        """/settings: the panel for a group's admins; one line for anyone else."""
        words = self.words(await self.settings(message.chat.id))
        if message.chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            await self._say(bot, message, words.settings_private)
            return
        if not await self._from_admin(bot, message):
            await self._say(bot, message, words.settings_admins_only)
            return
        topic, readable = _topic_of(message), await _can_read(bot, message.chat.id)
        text, markup = await self._panel(message.chat, topic, readable)
        await bot.send_message(
            message.chat.id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            message_thread_id=thread(message),
            reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
        )

    async def on_panel_button(self, bot: Bot, query: CallbackQuery, press: PanelPress) -> str:
        """A press on the panel: an admin's changes the setting and redraws the panel in
        place; anyone else's changes nothing. The toast to show."""
        message = query.message
        if not isinstance(message, Message):
            return self.wording.dead_button
        chat = message.chat
        current = await self.settings(chat.id)
        if not await _is_admin(bot, chat.id, query.from_user.id):
            return self.words(current).settings_admins_only
        readable = await _can_read(bot, chat.id)
        if press.setting == "overhear" and not current.overhear and not readable:
            await self._redraw(message, press.topic, readable)
            return self.words(current).settings_unavailable
        changed = current.toggled(press.setting, press.topic, list(self.engine.languages))
        await self.store.group_settings_save(chat.id, changed, time.time())
        self._settings[chat.id] = changed
        await self._redraw(message, press.topic, readable)
        return self.words(changed).settings_saved

    async def _redraw(self, message: Message, topic: int, readable: bool) -> None:
        text, markup = await self._panel(message.chat, topic, readable)
        try:
            await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message:
                raise

    async def _panel(
        self, chat: Chat, topic: int, readable: bool
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The panel as it is now: what each setting is, and a button to change each;
        `readable`: whether Telegram gives the bot the group's every message."""
        settings, forum = await self.settings(chat.id), chat.is_forum
        words = self.words(settings)
        language = self.engine.languages.pick(settings.language)
        lines = [words.settings_title]
        lines.append(
            words.settings_overhear_on if settings.overhear else words.settings_overhear_off
        )
        if not readable:
            lines.append(words.settings_cannot_read)
        lines.append(words.settings_cooldown.format(minutes=settings.cooldown_minutes))
        lines.append(
            words.settings_walks_private if settings.walks_in_private else words.settings_walks_here
        )
        zone = getattr(self.zone, "key", None) or "UTC"
        if settings.quiet_hours:
            lines.append(words.settings_quiet.format(hours=settings.quiet_hours, zone=zone))
        else:
            lines.append(words.settings_quiet_none)
        muted = topic in settings.muted_topics
        if forum:
            lines.append(words.settings_topic_off if muted else words.settings_topic_on)
        if len(self.engine.languages) > 1:
            lines.append(words.settings_language.format(language=language.name))

        def button(label: str, setting: str) -> list[InlineKeyboardButton]:
            data = encode_panel(PanelPress(setting, topic))
            return [InlineKeyboardButton(label, callback_data=data)]

        if not readable and not settings.overhear:
            overhear = words.button_overhear_unavailable
        else:
            overhear = words.button_overhear_on if settings.overhear else words.button_overhear_off
        rows = [
            button(overhear, "overhear"),
            button(words.button_cooldown.format(minutes=settings.cooldown_minutes), "cooldown"),
            button(
                words.button_walks_private
                if settings.walks_in_private
                else words.button_walks_here,
                "private",
            ),
            button(words.button_quiet.format(hours=settings.quiet_hours or "none"), "quiet"),
        ]
        if forum:
            rows.append(button(words.button_topic_off if muted else words.button_topic_on, "topic"))
        if len(self.engine.languages) > 1:
            rows.append(button(words.button_language.format(language=language.name), "language"))
        return render.to_html("\n\n".join(lines)), InlineKeyboardMarkup(rows)

    # -- overhearing -------------------------------------------------------------------------

    async def overheard(self, bot: Bot, message: Message, key: SessionKey) -> bool:
        """A group message not said to the bot: when the group wants it, and the message
        clearly names an intent, and no cooldown, quiet hour or muted topic says otherwise,
        one short offer in reply. Whether it was made."""
        person = message.from_user
        if person is None or person.is_bot or message.sender_chat is not None or not message.text:
            return False  # a channel, an anonymous admin, another bot: nobody to walk
        settings = await self.settings(message.chat.id)
        if not settings.overhear:
            return False
        intent = self.engine.overheard(message.text, settings.language)
        if intent is None:
            return False
        walking = (await self.conversations.session(key)).walking
        async with self._offering.hold(message.chat.id):
            now = time.time()
            last = await self.store.last_offers(message.chat.id, person.id)
            silence = groups.may_offer(
                settings, last, now, topic=_topic_of(message), walking=walking, zone=self.zone
            )
            if silence is not None:
                log.debug("chat %s: no offer for %s (%s)", message.chat.id, intent.id, silence)
                return False
            await self.store.offer_made(message.chat.id, person.id, now)
        words = self.words(settings)
        offer = views.overheard(intent, words)
        if settings.walks_in_private and bot.username:
            url = f"https://t.me/{bot.username}?start={fix_link(intent.id)}"
            link = Button(words.walk_me_through_private, url=url)
            offer = replace(offer, buttons=((link,),))
        try:
            await render.post(bot, message.chat.id, offer, key.user_id, answering=message)
        except TelegramError as exc:
            log.warning("chat %s: the offer was not delivered: %s", message.chat.id, exc)
            return False
        return True

    async def _from_admin(self, bot: Bot, message: Message) -> bool:
        if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
            return True  # an admin posting anonymously, as the group itself
        return message.from_user is not None and await _is_admin(
            bot, message.chat.id, message.from_user.id
        )

    async def _say(self, bot: Bot, message: Message, text: str) -> None:
        await render.post(bot, message.chat.id, Reply(text), answering=message)


def _topic_of(message: Message) -> int:
    return thread(message) or GENERAL


async def _is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Asked of Telegram each time: admins come and go, and a cached answer would let a
    demoted admin keep the panel."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False  # the bot cannot see the chat's members: refuse rather than guess
    return member.status in ADMINS


async def _can_read(bot: Bot, chat_id: int) -> bool:
    """Whether Telegram gives the bot every message of the group: privacy mode off, or the
    bot is an admin there (privacy mode does not apply to admins)."""
    try:
        me = await bot.get_me()
        if me.can_read_all_group_messages:
            return True
        member = await bot.get_chat_member(chat_id, me.id)
    except TelegramError:
        return False
    return member.status in ADMINS
