"""The staff desk on Telegram: cases as forum topics (or card threads) in the staff chat, and
the relay between a person and whoever from support has their case.

The engine decides when a person asks for help, what they are told and when the bot stays
quiet; the store keeps the cases. What lives here is what only Telegram has: topics, the
card message and its buttons, copying messages both ways, and Telegram's refusals (a person
who blocked the bot, a staff chat the bot cannot write in, a message that cannot be copied).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Final

from telegram import Bot, CallbackQuery, ChatMemberAdministrator, Message, ReplyParameters, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import views
from bot.cases import Case, CaseState, ClosedAs, Person
from bot.catalog import Catalog
from bot.conversations import Conversations
from bot.events import CaseAction, CaseChanged, CaseNews, CasePress, Reply, Turn
from bot.hours import BusinessHours
from bot.session import STAFF_MARK, Outcome, Session, SessionKey
from bot.transports.telegram import render
from bot.transports.telegram.keys import thread
from bot.wording import Wording

log = logging.getLogger(__name__)

DEFAULT_REMIND_AFTER: Final = 15 * 60.0
_SOURCE: Final = re.compile(r"^m?(\d{1,19})(?:-(\d{1,12}))?$")
"""human-<source> deep links name the group of a walk: m100123 is chat -100123, -7 a topic."""


@dataclass(frozen=True)
class DeskConfig:
    chat_id: int
    """The supergroup where support works (FIXBOT_STAFF_CHAT_ID)."""
    remind_after: float = DEFAULT_REMIND_AFTER
    """Seconds a case may wait for a first answer before the staff chat is reminded."""
    hours: BusinessHours | None = None


def source_of(key: SessionKey) -> str:
    """The deep-link form of a group conversation, for `/start human-<source>`."""
    chat = f"m{-key.chat_id}" if key.chat_id < 0 else str(key.chat_id)
    return chat if key.topic_id is None else f"{chat}-{key.topic_id}"


def person_of(user: User) -> Person:
    return Person(user.id, user.full_name[:64], user.username, user.language_code)


class StaffDesk:
    """Opens, relays and closes cases. One per application; it keeps no case in memory."""

    def __init__(
        self,
        config: DeskConfig,
        conversations: Conversations,
        catalog: Catalog,
        wording: Wording,
    ) -> None:
        self.config = config
        self.conversations = conversations
        self.store = conversations.store
        self.catalog = catalog
        self.wording = wording
        self.topics = True
        """Whether cases get forum topics; learned at start and whenever Telegram refuses."""
        self._reminders: asyncio.Task[None] | None = None

    @property
    def chat_id(self) -> int:
        return self.config.chat_id

    @property
    def zone(self) -> tzinfo | None:
        return self.config.hours.zone if self.config.hours else None

    # -- start and stop ----------------------------------------------------------------------

    async def check(self, bot: Bot) -> None:
        """Say at start, in one line, how cases will reach the staff chat, or why they can't."""
        chat = self.chat_id
        try:
            member = await bot.get_chat_member(chat, bot.id)
            forum = bool((await bot.get_chat(chat)).is_forum)
        except TelegramError as exc:
            log.error(
                "staff chat %s: the bot cannot reach it (%s); add the bot to that group, or "
                "fix FIXBOT_STAFF_CHAT_ID. Until then, asking for a person fails politely.",
                chat,
                exc.message,
            )
            return
        if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            log.error("staff chat %s: the bot is not a member; add it to the group", chat)
            return
        rights = isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
        self.topics = forum and rights
        if self.topics:
            log.info("staff chat %s: each case gets its own forum topic", chat)
        elif forum:
            log.warning(
                "staff chat %s has topics, but the bot may not create them (make it an admin "
                "with 'Manage topics'); each case is a card message, replies to it its thread",
                chat,
            )
        else:
            log.info("staff chat %s: no topics; each case is a card, replies form its thread", chat)

    def start_reminders(self, bot: Bot, every: float | None = None) -> None:
        """Remind the staff chat of cases nobody answered, until `stop`."""
        period = every if every is not None else min(60.0, max(self.config.remind_after / 4, 0.2))
        self._reminders = asyncio.create_task(self._remind_forever(bot, period))

    async def stop(self) -> None:
        if self._reminders is not None:
            self._reminders.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reminders
            self._reminders = None

    # -- a person asks -----------------------------------------------------------------------

    async def open(self, bot: Bot, key: SessionKey, user: User, source: str | None) -> Turn:
        """Open the person's case (or find it open, on a replay) and tell their conversation;
        the returned turn holds what to say to them."""
        walk_key = self._walk_key(key, source)
        walk = await self.conversations.session(walk_key)
        case = await self.store.case_of(key)
        if case is None:
            try:
                case = await self._create(bot, key, person_of(user), walk_key, walk)
            except TelegramError as exc:
                log.warning("staff chat %s: cannot open a case (%s)", self.chat_id, exc.message)
                return await self._tell(key, CaseNews.UNAVAILABLE)
        elsewhere = walk if walk_key != key else None
        opened = CaseChanged(CaseNews.OPENED, time.time(), elsewhere)
        return await self.conversations.handle(key, opened)

    def _walk_key(self, key: SessionKey, source: str | None) -> SessionKey:
        found = _SOURCE.match(source or "")
        if found is None:
            return key
        chat = int(found[1]) * (-1 if (source or "").startswith("m") else 1)
        topic = int(found[2]) if found[2] else None
        return SessionKey(chat, key.user_id, topic)  # only ever the person's own walk

    async def _create(
        self, bot: Bot, key: SessionKey, person: Person, walk_key: SessionKey, session: Session
    ) -> Case:
        """Store a case about the walk `session` (under `walk_key`), give it a topic when
        the staff chat allows, and post its card."""
        case = await self.store.case_open(
            Case(
                0,
                key,
                person,
                time.time(),
                self.chat_id,
                walk_key=walk_key,
                intent=session.intent,
                complaint=session.complaint,
                confidence=session.confidence,
            )
        )
        if self.topics:
            title = views.case_title(case, self.catalog, self.wording)
            try:
                topic = await bot.create_forum_topic(self.chat_id, title)
                case = replace(case, thread_id=topic.message_thread_id)
            except BadRequest as exc:
                self.topics = False
                log.warning(
                    "staff chat %s: cannot create a topic (%s); cases become card threads",
                    self.chat_id,
                    exc.message,
                )
        try:
            card = await self._send(bot, case, self._card(case, await self._history(case)))
        except TelegramError:
            await self.store.case_save(self._closed(case, ClosedAs.CANCELLED))
            raise
        case = replace(case, card_message_id=card.message_id)
        await self.store.case_save(case)
        await self.store.case_link(case.id, self.chat_id, card.message_id)
        return case

    # -- the relay ---------------------------------------------------------------------------

    async def from_person(self, bot: Bot, key: SessionKey, message: Message) -> str | None:
        """Copy what the person sent into their case; what to tell them when it can't be."""
        case = await self.store.case_of(key)
        if case is None and message.from_user is not None:
            # Their session says support has the case, but it was never stored (a crash
            # between the two): open it now rather than lose the message.
            try:
                session = await self.conversations.session(key)
                case = await self._create(bot, key, person_of(message.from_user), key, session)
            except TelegramError:
                return self.wording.staff_unavailable
        if case is None:
            return self.wording.staff_unavailable
        card = case.card_message_id
        reply = (
            ReplyParameters(card, allow_sending_without_reply=True)
            if card is not None and case.thread_id is None
            else None
        )
        try:
            copy = await bot.copy_message(
                self.chat_id,
                message.chat_id,
                message.message_id,
                message_thread_id=case.thread_id,
                reply_parameters=reply,
            )
        except BadRequest as exc:
            log.info("case #%s: a message could not be copied (%s)", case.id, exc.message)
            return self.wording.relay_refused
        except TelegramError as exc:
            log.warning("case #%s: the staff chat refused a message (%s)", case.id, exc.message)
            return self.wording.staff_unavailable
        await self.store.case_link(case.id, self.chat_id, copy.message_id)
        return None

    async def from_staff(self, bot: Bot, message: Message) -> None:
        """A message in the staff chat: in a case's topic, or a reply to its card or to a
        copy of the person's message, it goes to the person; anything else is staff talk."""
        sender = message.from_user
        if sender is None:
            return
        replied = message.reply_to_message
        replied_id = replied.message_id if replied is not None else None
        case = await self.store.case_in(self.chat_id, thread(message), replied_id)
        if case is None:
            return
        if not case.is_open:
            text = self.wording.staff_case_closed.format(name=case.person.name)
            await self._say(bot, case, text, reply_to=message.message_id)
            return
        try:
            await bot.copy_message(case.key.chat_id, self.chat_id, message.message_id)
        except Forbidden:
            await self._unreachable(bot, case)
            return
        except BadRequest as exc:
            text = self.wording.staff_not_delivered.format(
                name=case.person.name, reason=exc.message
            )
            await self._say(bot, case, text, reply_to=message.message_id)
            return
        if case.state is CaseState.OPEN:
            case = replace(
                case,
                state=CaseState.WITH_STAFF,
                answered_by=sender.first_name,
                answered_at=time.time(),
            )
            await self.store.case_save(case)
            await self._refresh_card(bot, case)

    # -- closing -----------------------------------------------------------------------------

    async def on_card_button(self, bot: Bot, query: CallbackQuery, press: CasePress) -> str:
        """Solved or Back to fixbot on a case card; the toast for whoever pressed it."""
        case = await self.store.case(press.case_id)
        message = query.message
        if case is None or message is None or message.chat.id != self.chat_id:
            return self.wording.dead_button
        if not case.is_open:
            return self.wording.staff_case_closed.format(name=case.person.name)
        staff = query.from_user.first_name
        solved = press.action is CaseAction.SOLVED
        case = self._closed(
            replace(case, answered_by=case.answered_by or staff),
            ClosedAs.SOLVED if solved else ClosedAs.RETURNED,
            by=staff,
        )
        # The conversation first: until it has left WITH_STAFF, what the person writes is
        # still relayed into this case rather than opening a new one.
        turn = await self._tell(case.key, CaseNews.SOLVED if solved else CaseNews.RETURNED)
        await self.store.case_save(case)
        if not await self._to_person(bot, case, turn):
            case = replace(case, closed_as=ClosedAs.UNREACHABLE)
            await self.store.case_save(case)
        await self._refresh_card(bot, case)
        await self._close_topic(bot, case)
        return f"#{case.id}: {self.wording.card_solved if solved else self.wording.card_return}"

    async def closed_by_person(self, bot: Bot, key: SessionKey) -> None:
        """The person sent /cancel (or pressed Close my case)."""
        case = await self.store.case_of(key)
        if case is None:
            return
        case = self._closed(case, ClosedAs.CANCELLED)
        await self.store.case_save(case)
        await self._refresh_card(bot, case)
        await self._say(bot, case, self.wording.staff_cancelled.format(name=case.person.name))
        await self._close_topic(bot, case)

    async def after_turn(self, bot: Bot, key: SessionKey, outcomes: tuple[Outcome, ...]) -> None:
        """Tell the staff how the person took a solved case: their rating, or "still broken"."""
        for outcome in outcomes:
            words = self.wording
            if outcome.result == "rated_staff" and outcome.value and outcome.value.isdigit():
                stars = words.stars(int(outcome.value))
                text = words.staff_rated
            elif outcome.result == "not_resolved" and outcome.value == STAFF_MARK:
                stars, text = "", words.staff_still_broken
            else:
                continue
            case = await self.store.case_of(key, open_only=False)
            if case is not None:
                await self._say(bot, case, text.format(name=case.person.name, stars=stars))

    def _closed(self, case: Case, how: ClosedAs, by: str | None = None) -> Case:
        return replace(
            case,
            state=CaseState.CLOSED,
            closed_as=how,
            closed_at=time.time(),
            answered_by=by or case.answered_by,
        )

    async def _unreachable(self, bot: Bot, case: Case) -> None:
        # The person's conversation must not wait for support forever; it leaves WITH_STAFF
        # before the case closes, so nothing they write opens a new case in between.
        await self._tell(case.key, CaseNews.RETURNED)
        case = self._closed(case, ClosedAs.UNREACHABLE)
        await self.store.case_save(case)
        await self._refresh_card(bot, case)
        await self._say(bot, case, self.wording.staff_unreachable.format(name=case.person.name))
        await self._close_topic(bot, case)

    async def _tell(self, key: SessionKey, news: CaseNews) -> Turn:
        return await self.conversations.handle(key, CaseChanged(news, time.time()))

    async def _to_person(self, bot: Bot, case: Case, turn: Turn) -> bool:
        """Send the turn's replies to the person's private chat; False when they can't be
        reached."""
        for reply in turn.replies:
            try:
                await render.post(bot, case.key.chat_id, reply, case.key.user_id)
            except Forbidden:
                return False
        return True

    # -- reminders ---------------------------------------------------------------------------

    async def _remind_forever(self, bot: Bot, every: float) -> None:
        while True:
            try:
                await self.remind(bot)
            except TelegramError as exc:
                log.warning("staff chat %s: reminders failed (%s)", self.chat_id, exc.message)
            await asyncio.sleep(every)

    async def remind(self, bot: Bot) -> int:
        """Remind the staff chat, once, of each case unanswered for too long (counting from
        the opening of business hours when it opened outside them); how many."""
        now = time.time()
        hours = self.config.hours
        if hours is not None and not hours.is_open(now):
            return 0
        due = await self.store.cases_waiting(now - self.config.remind_after)
        reminded = 0
        for case in due:
            start = hours.next_opening(case.opened_at).timestamp() if hours else case.opened_at
            if now - start < self.config.remind_after:
                continue
            minutes = max(1, round((now - case.opened_at) / 60))
            text = self.wording.staff_reminder.format(
                id=case.id, name=case.person.name, minutes=minutes
            )
            await self._say(bot, case, text)
            await self.store.case_save(replace(case, reminded=True))
            reminded += 1
        return reminded

    # -- the staff chat ----------------------------------------------------------------------

    def _card(self, case: Case, history: list[tuple[float, Outcome]]) -> Reply:
        return views.case_card(case, history, self.catalog, self.wording, self.zone)

    async def _history(self, case: Case) -> list[tuple[float, Outcome]]:
        """The outcomes of the walk the case is about: from its last start on."""
        rows = await self.store.outcomes(case.walk_key or case.key)
        starts = [n for n, row in enumerate(rows) if row.outcome.result == "started"]
        rows = rows[starts[-1] :] if starts else []
        return [(row.at, row.outcome) for row in rows]

    async def _send(self, bot: Bot, case: Case, reply: Reply) -> Message:
        return await render.post(bot, self.chat_id, reply, 0, message_thread_id=case.thread_id)

    async def _refresh_card(self, bot: Bot, case: Case) -> None:
        card = case.card_message_id
        if card is None:
            return
        reply = self._card(case, await self._history(case))

        async def deliver(text: str, mode: ParseMode | None) -> None:
            markup = render.keyboard(reply, 0)
            await bot.edit_message_text(
                text, chat_id=self.chat_id, message_id=card, parse_mode=mode, reply_markup=markup
            )

        try:
            await render.html_or_plain(self.chat_id, reply.text, deliver)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("case #%s: could not update its card (%s)", case.id, exc.message)

    async def _say(self, bot: Bot, case: Case, text: str, reply_to: int | None = None) -> None:
        """A line in the case's topic, or in reply to its card (or to `reply_to`)."""
        anchor = reply_to or (None if case.thread_id else case.card_message_id)
        replying = ReplyParameters(anchor, allow_sending_without_reply=True) if anchor else None
        try:
            await render.post(
                bot,
                self.chat_id,
                Reply(text),
                0,
                message_thread_id=case.thread_id,
                reply_parameters=replying,
            )
        except TelegramError as exc:
            log.warning("case #%s: could not write in the staff chat (%s)", case.id, exc.message)

    async def _close_topic(self, bot: Bot, case: Case) -> None:
        if case.thread_id is None:
            return
        try:
            await bot.close_forum_topic(self.chat_id, case.thread_id)
        except TelegramError as exc:
            if "not_modified" not in exc.message.lower().replace(" ", "_"):
                log.warning("case #%s: could not close its topic (%s)", case.id, exc.message)
