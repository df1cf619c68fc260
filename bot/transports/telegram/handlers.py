"""Handlers: Telegram updates in, engine events to the conversations loop, replies out.

They translate and nothing more: every decision about the walk is the engine's. What lives
here is what only Telegram has: who may press a button in a group, which messages in a
group are addressed to the bot, editing a message in place, and Telegram's own errors.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Final

from telegram import (
    Bot,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import links
from bot.conversations import Conversations, Plan
from bot.events import (
    Button,
    ButtonPressed,
    CaseRequest,
    CommandReceived,
    Event,
    OtherReceived,
    Reply,
    TextReceived,
    Turn,
)
from bot.languages import Languages
from bot.session import Session, SessionKey
from bot.transports.telegram import callback_data, outbox, render
from bot.transports.telegram.conflict import PollingConflict
from bot.transports.telegram.desk import StaffDesk, person_of
from bot.transports.telegram.groups import GroupControl
from bot.transports.telegram.health import Health, Metrics
from bot.transports.telegram.keys import conversation_key, thread
from bot.transports.telegram.limits import PerChatRateLimiter
from bot.transports.telegram.outbox import Courier, Delivery, Edit, Post, markup_data
from bot.transports.telegram.processor import PerConversationUpdateProcessor
from bot.transports.telegram.reports import REPORT_COMMANDS, Reports, ReportsConfig
from bot.wording import Wording

log = logging.getLogger(__name__)

SERVICES: Final = "fixbot"
"""The `bot_data` key under which the handlers find their `Services`."""

SLOW_NOTICE: Final = 3.0
"""Seconds of a chat's flood pause after which a press is told its step will take a while."""

_COMMAND: Final = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)


class RecentNames:
    """The first names of the last people who wrote to the bot, in memory only."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._names: OrderedDict[int, str] = OrderedDict()

    def saw(self, user: User | None) -> None:
        if user is None or user.is_bot:
            return
        self._names[user.id] = user.first_name
        self._names.move_to_end(user.id)
        if len(self._names) > self.size:
            self._names.popitem(last=False)

    def get(self, user_id: int) -> str | None:
        return self._names.get(user_id)


@dataclass
class Services:
    """What the handlers need, built once with the application."""

    conversations: Conversations
    wording: Wording
    desk: StaffDesk | None = None
    """The staff desk, when FIXBOT_STAFF_CHAT_ID names a staff chat."""
    reports_config: ReportsConfig = field(default_factory=ReportsConfig)
    """Who may ask for /stats and /gaps, and when the weekly digest is due."""
    metrics: Metrics = field(default_factory=Metrics)
    conflict: PollingConflict = field(default_factory=PollingConflict)
    """Whether another program polls the same token, and which of the two gives way."""
    names: RecentNames = field(default_factory=RecentNames)
    """First names of people who wrote lately, to name a button's owner without asking."""
    staff_wording: Wording | None = None
    """What the support team reads (FIXBOT_STAFF_LANGUAGE); `wording` when None."""
    takeover_after: float = 60.0
    """Replicas: what another left this long ago is taken over (TelegramConfig's)."""
    at_once: int = 64
    """Updates handled at once (TelegramConfig's): a replica's share of a shared inbox."""

    @property
    def languages(self) -> Languages:
        return self.conversations.engine.languages

    def words(self, language: str | None) -> Wording:
        """The wording of `language` (a code `language_for` gave), or the default's."""
        return self.languages.pick(language).wording

    async def language_for(self, update: Update) -> str:
        """The language to speak to the person behind `update`: their choice (/language),
        else Telegram's language_code, else the group's language, else the default."""
        user, chat = update.effective_user, update.effective_chat
        choice = await self.conversations.store.language_of(user.id) if user else None
        group = None
        if chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
            group = (await self.groups.settings(chat.id)).language
        return self.languages.pick(choice, user.language_code if user else None, group).code

    @cached_property
    def courier(self) -> Courier:
        """Carries out what turns asked of Telegram (the desk's, when there is one)."""
        return self.desk.courier if self.desk is not None else Courier(self.conversations)

    @cached_property
    def health(self) -> Health:
        """Whether the bot is live and its store answers (/healthz)."""
        return Health(self.conversations.store, self.metrics)

    @cached_property
    def groups(self) -> GroupControl:
        """Each group's settings panel, and offers to complaints the bot overhears there."""
        return GroupControl(self.conversations, self.wording, self.desk.zone if self.desk else None)

    @cached_property
    def reports(self) -> Reports:
        """/stats, /gaps and the digest; in the desk's staff chat, when there is one."""
        staff = self.desk.chat_id if self.desk else None
        config = replace(self.reports_config, staff_chat_id=staff)
        words = self.staff_wording or self.wording
        catalog = self.languages.pick(words.language).catalog
        names = {code: language.name for code, language in self.languages.items()}
        return Reports(config, self.conversations.store, catalog, words, names)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Services = context.bot_data[SERVICES]
    return found


# --------------------------------------------------------------------------------------------
# Handlers


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A slash command, for this bot: /start, /fix wifi, /FIX@OurBot wifi, /anything."""
    message = update.effective_message
    event = _command_for_us(message, context.bot)
    if event is not None and message is not None and event.command in REPORT_COMMANDS:
        await services(context).reports.command(context.bot, message, event.command)
    elif event is not None and message is not None and event.command == "settings":
        await services(context).groups.command(context.bot, message)
    elif event is not None:
        await _respond(update, context, event)


def _command_for_us(message: Message | None, bot: Bot) -> CommandReceived | None:
    """The command a message gives this bot; None for anything else (a command addressed to
    another bot in the same group, text that only starts with '/')."""
    found = _COMMAND.match(message.text.strip()) if message and message.text else None
    if found is None:
        return None
    command, addressee, argument = found.groups()
    if addressee and addressee.lower() != (bot.username or "").lower():
        return None
    return CommandReceived(command.lower(), (argument or "").strip(), time.time())


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message: in private, always ours; in a group, when it mentions or answers us (any
    other may get an offer, if the group's admins turned overhearing on)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = message.text
    if _in_group(message):
        if not _addressed_to_us(message, context.bot):
            key = conversation_key(update)
            if key is not None:
                await services(context).groups.overheard(context.bot, message, key)
            return
        text = re.sub(rf"@{re.escape(context.bot.username or '')}\b", " ", text, flags=re.I)
    await _respond(update, context, TextReceived(text, time.time()))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo, voice note or file: a polite word, where it was meant for us."""
    message = update.effective_message
    if message is None:
        return
    if _in_group(message) and not _addressed_to_us(message, context.bot):
        return
    kind = "sticker" if message.sticker else "photo" if message.photo else "other"
    await _respond(update, context, OtherReceived(kind, time.time()))


async def on_staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in the staff chat: a command for the desk (/stats, /gaps), or for the
    person whose case it is in, if any."""
    desk, message = services(context).desk, update.effective_message
    if message is None or desk is None:
        return
    if message.text and message.text.startswith("/"):
        command = _command_for_us(message, context.bot)
        if command is not None and command.command in REPORT_COMMANDS:
            await services(context).reports.command(context.bot, message, command.command)
        if command is not None or _COMMAND.match(message.text.strip()):
            return  # a command, to us or to another bot: not a word for the person
    await desk.from_staff(context.bot, message, update.update_id)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: owner checked, handed to the engine, the message edited in place."""
    query = update.callback_query
    if query is None:
        return
    case_press = callback_data.decode_case(query.data)
    if case_press is not None:
        desk = services(context).desk
        toast = (
            await desk.on_card_button(context.bot, query, case_press, update.update_id)
            if desk
            else None
        )
        await _answer(query, toast or services(context).wording.dead_button)
        return
    panel_press = callback_data.decode_panel(query.data)
    if panel_press is not None:
        await _answer(
            query, await services(context).groups.on_panel_button(context.bot, query, panel_press)
        )
        return
    language = await services(context).language_for(update)
    wording = services(context).words(language)
    data = callback_data.decode(query.data)
    key = conversation_key(update)
    if data is None or key is None or not isinstance(query.message, Message):
        await _answer(query, wording.dead_button)
        return
    message = query.message
    presser = query.from_user.id
    claimed = None
    if data.owner != presser:
        allowed, claimed = await _may_press(context, message, data.owner, presser, wording)
        if not allowed:
            name = _owner_name(context, message, data, wording)
            await _answer(query, wording.not_yours.format(name=name))
            return
    redraw = not _later_press_will_draw(context, key, message.message_id)

    async def plan(turn: Turn) -> Plan:
        first, *rest = turn.replies or (None,)
        deliveries: list[Delivery] = []
        if first is not None and redraw:
            markup = markup_data(_markup(context, message, first, turn.session, key.user_id))
            deliveries.append(
                Edit(message.chat_id, message.message_id, first.text, markup, thread(message))
            )
        deliveries.extend(_post(context, message, r, turn.session, key, None) for r in rest)
        return await _with_desk(context, update, message, key, turn, deliveries)

    committed = await services(context).conversations.take_turn(
        key, ButtonPressed(data.press, time.time(), language), update.update_id, plan
    )
    first = committed.turn.replies[0] if committed.turn.replies else None
    notice = claimed or (first.notice if first else None)
    limiter = context.bot.rate_limiter
    delay = limiter.paused_for(message.chat_id) if isinstance(limiter, PerChatRateLimiter) else 0
    if delay >= SLOW_NOTICE:
        # The toast goes out at once (it is tied to no chat); the step will take a while.
        notice = wording.slowed_down.format(seconds=math.ceil(delay))
    await _answer(query, notice)
    await services(context).courier.deliver(context.bot, committed.outbox)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the unexpected with its traceback; tell the person, politely, to try again."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    wording = services(context).wording
    if update.callback_query is not None:
        await _answer(update.callback_query, wording.error)
    elif update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                wording.error,
                message_thread_id=thread(update.effective_message),
            )
        except TelegramError as exc:
            log.warning("update %s: could not apologise: %s", update_id, exc)


# --------------------------------------------------------------------------------------------
# From an update to replies


async def _respond(update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
    message = update.effective_message
    key = conversation_key(update)
    if message is None or key is None or update.effective_user is None:
        return
    services(context).names.saw(update.effective_user)
    reply_to = message.message_id if _in_group(message) else None
    event = replace(event, language=await services(context).language_for(update))

    async def plan(turn: Turn) -> Plan:
        deliveries: list[Delivery] = [
            _post(context, message, r, turn.session, key, reply_to) for r in turn.replies
        ]
        return await _with_desk(context, update, message, key, turn, deliveries)

    committed = await services(context).conversations.take_turn(key, event, update.update_id, plan)
    await services(context).courier.deliver(context.bot, committed.outbox)


async def _with_desk(
    context: ContextTypes.DEFAULT_TYPE,
    update: Update,
    message: Message,
    key: SessionKey,
    turn: Turn,
    deliveries: list[Delivery],
) -> Plan:
    """A turn's plan: its replies, then what it asks of the staff desk (relay the message,
    open or close the person's case), to be saved with the turn."""
    desk, user, case = services(context).desk, update.effective_user, None
    if turn.case_request is CaseRequest.OPEN and _in_group(message):
        deliveries.append(_private_case_offer(context, message, key, turn.session.language))
    elif desk is not None and user is not None:
        work, case = await desk.plan(turn, key, person_of(user), message)
        deliveries.extend(work)
    return Plan(tuple(outbox.encode(d) for d in deliveries), case)


def _private_case_offer(
    context: ContextTypes.DEFAULT_TYPE, message: Message, key: SessionKey, language: str | None
) -> Post:
    """In a group, a case is opened in private: a link that opens it there, and nothing of
    the case in the group."""
    wording = services(context).words(language)
    url = f"https://t.me/{context.bot.username}?start={links.human_link(key)}"
    link = Button(wording.human_in_private_button, url=url)
    offer = Reply(wording.human_in_private, ((link,),))
    return outbox.post_of(message.chat_id, offer, 0, thread(message), message.message_id)


def _in_group(message: Message) -> bool:
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def _addressed_to_us(message: Message, bot: Bot) -> bool:
    username = (bot.username or "").lower()
    text = (message.text or message.caption or "").lower()
    if username and f"@{username}" in text:
        return True
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        # In a forum topic every message is a reply to the topic's first message: a topic
        # the bot opened does not make everything said in it a word to the bot.
        return False
    return replied.from_user is not None and replied.from_user.id == bot.id


def _markup(
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    reply: Reply,
    session: Session,
    owner: int,
) -> InlineKeyboardMarkup | None:
    extra = None
    if _in_group(message) and session.walking and reply.buttons and context.bot.username:
        catalog = services(context).conversations.engine.catalog
        url = f"https://t.me/{context.bot.username}?start={links.walk_link(session, catalog)}"
        words = services(context).words(session.language)
        extra = [InlineKeyboardButton(words.continue_in_private, url=url)]
    return render.keyboard(reply, owner, extra)


def _post(
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    reply: Reply,
    session: Session,
    key: SessionKey,
    reply_to: int | None,
) -> Post:
    markup = markup_data(_markup(context, message, reply, session, key.user_id))
    return Post(message.chat_id, reply.text, markup, thread(message), reply_to)


def _later_press_will_draw(
    context: ContextTypes.DEFAULT_TYPE, key: SessionKey, message_id: int
) -> bool:
    """Whether another press on this message waits its turn behind this one: then only the
    last draws the message, with the latest state (one edit, not five, when Telegram's pace
    is the limit and someone keeps pressing)."""
    processor = context.application.update_processor
    if not isinstance(processor, PerConversationUpdateProcessor):
        return False
    return processor.presses_waiting(key, message_id) > 1


async def _answer(query: CallbackQuery, text: str | None) -> None:
    try:
        await query.answer(text[:200] if text else None)
    except BadRequest as exc:
        if (
            "query is too old" in exc.message.lower()
            or "query id is invalid" in exc.message.lower()
        ):
            return  # the spinner has long stopped on its own
        raise


def _owner_name(
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    data: callback_data.ButtonData,
    wording: Wording,
) -> str:
    """Who a button belongs to, as the presser would call them: from what the bot already
    has (the chat, the message the walk answers, the names it saw lately), never a call to
    Telegram, which in a busy group would queue behind the group's pace."""
    if data.owner == message.chat_id:
        return wording.owner_admins.format(group=message.chat.title or wording.owner_this_group)
    replied = message.reply_to_message
    if data.owner < 0:
        channel = replied.sender_chat if replied is not None else None
        if channel is not None and channel.id == data.owner and channel.title:
            return wording.owner_admins.format(group=channel.title)
        return wording.owner_channel
    if replied is not None and replied.from_user is not None and replied.from_user.id == data.owner:
        return replied.from_user.first_name
    return services(context).names.get(data.owner) or wording.owner_someone


async def _may_press(
    context: ContextTypes.DEFAULT_TYPE, message: Message, owner: int, presser: int, wording: Wording
) -> tuple[bool, str | None]:
    """Whether `presser` may press a button whose owner is a chat, and a toast to say why:
    an admin of the group (its anonymous admins post as the group) or of the channel the
    walk was started as. Telegram names the real person on a button press, so this is asked
    of Telegram; when Telegram won't show a channel's admins (it mostly won't), the first
    person who presses claims the walk, and it is theirs from then on."""
    if owner >= 0:
        return False, None  # a person's button is theirs alone
    try:
        member = await context.bot.get_chat_member(owner, presser)
    except TelegramError:
        if owner == message.chat_id:
            return False, None  # a group's own admins are always visible to the bot
        name = f"channel-walk:{message.chat_id}:{owner}:{message.message_id}"
        store = services(context).conversations.store
        holder, first = await store.claim_for(name, presser, time.time())
        return holder == presser, wording.walk_claimed if first else None
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER), None
