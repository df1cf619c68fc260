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
import time
from dataclasses import asdict, dataclass, replace
from datetime import tzinfo
from typing import Final

from telegram import Bot, CallbackQuery, ChatMemberAdministrator, Message, ReplyParameters, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import casework, links, views
from bot.cases import Case, Person
from bot.catalog import Catalog
from bot.conversations import Conversations, Plan
from bot.events import CaseAction, CaseChanged, CaseNews, CasePress, CaseRequest, Reply, Turn
from bot.hours import BusinessHours
from bot.session import Outcome, Session, SessionKey
from bot.store.base import TurnWrites
from bot.transports.telegram import render
from bot.transports.telegram.keys import thread
from bot.transports.telegram.outbox import Courier, Delivery, DeskWork, Post, encode, post_of
from bot.wording import Wording

log = logging.getLogger(__name__)

DEFAULT_REMIND_AFTER: Final = 15 * 60.0


@dataclass(frozen=True)
class DeskConfig:
    chat_id: int
    """The supergroup where support works (FIXBOT_STAFF_CHAT_ID)."""
    remind_after: float = DEFAULT_REMIND_AFTER
    """Seconds a case may wait for a first answer before the staff chat is reminded."""
    hours: BusinessHours | None = None


def person_of(user: User) -> Person:
    return Person(user.id, user.full_name[:64], user.username, user.language_code)


def _staff_chat_gone(error: TelegramError) -> bool:
    """Whether Telegram says the bot can no longer write in the staff chat at all (removed
    from it, the chat deleted or upgraded), rather than refusing one message."""
    if isinstance(error, Forbidden):
        return True
    text = error.message.lower()
    return isinstance(error, BadRequest) and (
        "chat not found" in text or "upgraded to a supergroup" in text or "not a member" in text
    )


class StaffDesk:
    """Opens, relays and closes cases. One per application; it keeps no case in memory."""

    def __init__(
        self,
        config: DeskConfig,
        conversations: Conversations,
        catalog: Catalog,
        wording: Wording,
        courier: Courier | None = None,
    ) -> None:
        self.config = config
        self.conversations = conversations
        self.courier = courier or Courier(conversations)
        self.courier.desk = self
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

    # -- what a person's turn asks of the desk --------------------------------------------

    async def plan(
        self, turn: Turn, key: SessionKey, person: Person, message: Message | None
    ) -> tuple[list[Delivery], Case | None]:
        """The desk's part of a person's turn, to be saved with it: relay their message,
        open their case (in private), close it, tell the staff how a solved case was taken.
        With it, the case as the turn leaves it (when the turn closes it)."""
        work: list[Delivery] = []
        changed: Case | None = None
        if turn.relay and message is not None:
            details = {"chat": message.chat_id, "message": message.message_id}
            work.append(DeskWork("relay", {**details, "person": asdict(person)}))
        if turn.case_request is CaseRequest.OPEN and key.chat_id > 0:
            work.append(DeskWork("open", {"person": asdict(person), "source": turn.case_source}))
        elif turn.case_request is CaseRequest.CLOSE:
            case = await self.store.case_of(key)
            if case is not None:
                move = casework.cancelled_by_person(case, time.time())
                changed = move.case
                work.extend(self._follow_up(move))
        for outcome in turn.outcomes:
            said = casework.after_outcome(outcome)
            if said is not None:
                case = await self.store.case_of(key, open_only=False)
                if case is not None:
                    note, stars = said
                    work.append(DeskWork("note", {"case": case.id, "note": note, "stars": stars}))
        return work, changed

    def _follow_up(self, move: casework.Move) -> list[Delivery]:
        """What a move asks of the staff chat, in order: the card, a note, the topic."""
        case, work = move.case, list[Delivery]()
        if move.refresh_card:
            work.append(DeskWork("card", {"case": case.id}))
        if move.note is not None:
            work.append(DeskWork("note", {"case": case.id, "note": move.note}))
        if move.close_topic:
            work.append(DeskWork("close_topic", {"case": case.id}))
        return work

    async def do(self, bot: Bot, key: SessionKey, work: DeskWork) -> None:
        """Carry out one row of desk work from the outbox (see `plan`)."""
        details = work.details
        if work.action == "open":
            await self._open(bot, key, Person(**details["person"]), details.get("source"))
        elif work.action == "relay":
            person = Person(**details["person"])
            await self._relay(bot, key, person, details["chat"], details["message"])
        elif work.action == "to_person":
            await self._to_person(bot, details["case"], details["message"], details["reply_to"])
        else:
            case = await self.store.case(details["case"])
            if case is None:
                return
            if work.action == "card":
                await self._refresh_card(bot, case)
            elif work.action == "note":
                await self._say(bot, case, self._note(case, details["note"], details.get("stars")))
            elif work.action == "close_topic":
                await self._close_topic(bot, case)

    # -- a person asks -----------------------------------------------------------------------

    async def _open(self, bot: Bot, key: SessionKey, person: Person, source: str | None) -> None:
        """Open the person's case, or finish opening it (a replay after a crash starts at
        what it lacks: its topic, its card, telling the person), and tell them, once."""
        walk_key = self._walk_key(key, source)
        walk = await self.conversations.session(walk_key)
        try:
            case = await self._complete(bot, key, person, walk_key)
        except TelegramError as exc:
            log.warning("staff chat %s: cannot open a case (%s)", self.chat_id, exc.message)
            half_made = await self.store.case_of(key)
            move = casework.staff_chat_gone(half_made, time.time()) if half_made else None
            await self._tell(bot, key, CaseNews.UNAVAILABLE, move.case if move else None)
            return
        if not case.told:
            elsewhere = walk if walk_key != key else None
            opened = CaseChanged(CaseNews.OPENED, time.time(), elsewhere)
            await self._tell(bot, key, opened, casework.told(case))

    def _walk_key(self, key: SessionKey, source: str | None) -> SessionKey:
        return links.human_from(source).walk_key(key)

    async def _complete(
        self, bot: Bot, key: SessionKey, person: Person, walk_key: SessionKey
    ) -> Case:
        """The person's open case with its topic (when the staff chat allows) and its card,
        each saved the moment it exists: stored first if there is none, finished if a
        crash left it half-made."""
        case = await self.store.case_of(key)
        if case is None:
            walk = await self.store.load(walk_key) or Session()
            case = await self.store.case_open(
                Case(
                    0,
                    key,
                    person,
                    time.time(),
                    self.chat_id,
                    walk_key=walk_key,
                    intent=walk.intent,
                    complaint=walk.complaint,
                    confidence=walk.confidence,
                )
            )
        while True:
            step = casework.next_opening(case, self.topics)
            if step is casework.Opening.TOPIC:
                title = views.case_title(case, self.catalog, self.wording)
                try:
                    topic = await bot.create_forum_topic(self.chat_id, title)
                    case = casework.topic_made(case, topic.message_thread_id)
                except BadRequest as exc:
                    self.topics = False
                    log.warning(
                        "staff chat %s: cannot create a topic (%s); cases become card threads",
                        self.chat_id,
                        exc.message,
                    )
                    case = casework.topic_made(case, None)
                await self.store.case_save(case)
            elif step is casework.Opening.CARD:
                card = await self._send(bot, case, self._card(case, await self._history(case)))
                case = replace(case, card_message_id=card.message_id)
                await self.store.case_save(case)
                await self.store.case_link(case.id, self.chat_id, card.message_id)
            else:
                return case

    # -- the relay ---------------------------------------------------------------------------

    async def _relay(
        self, bot: Bot, key: SessionKey, person: Person, chat_id: int, message_id: int
    ) -> None:
        """Copy what the person sent into their case (finishing the case first, if a crash
        left it without its topic or card); tell them when it can't be."""
        refused = None
        try:
            case = await self._complete(bot, key, person, key)
        except TelegramError as exc:
            case, refused = None, exc
        if case is not None:
            card = case.card_message_id
            replying = (
                ReplyParameters(card, allow_sending_without_reply=True)
                if card is not None and case.thread_id is None
                else None
            )
            try:
                copy = await bot.copy_message(
                    self.chat_id,
                    chat_id,
                    message_id,
                    message_thread_id=case.thread_id,
                    reply_parameters=replying,
                )
            except BadRequest as exc:
                if not _staff_chat_gone(exc):
                    log.info("case #%s: a message could not be copied (%s)", case.id, exc.message)
                    await self.courier.post(bot, key, Post(chat_id, self.wording.relay_refused))
                    return
                refused = exc
            except TelegramError as exc:
                refused = exc
            else:
                await self.store.case_link(case.id, self.chat_id, copy.message_id)
                return
        if refused is not None and _staff_chat_gone(refused):
            # Not a hiccup: the staff chat refuses the bot. Saying "try again later" on every
            # message would keep the person waiting for nobody: close the case, tell them once,
            # and give them their walk back.
            log.error(
                "staff chat %s refuses the bot (%s); the case of %s is closed",
                self.chat_id,
                refused.message,
                key,
            )
            case = await self.store.case_of(key)
            move = casework.staff_chat_gone(case, time.time()) if case else None
            news = CaseNews.STAFF_GONE
            await self._tell(bot, key, CaseChanged(news, time.time()), move.case if move else None)
            return
        if refused is not None:
            log.warning("staff chat %s refused a message (%s)", self.chat_id, refused.message)
        await self.courier.post(bot, key, Post(chat_id, self.wording.staff_unavailable))

    async def from_staff(self, bot: Bot, message: Message, update_id: int | None = None) -> None:
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
        move = casework.answered_by_staff(case, sender.first_name, time.time())
        copy = DeskWork(
            "to_person",
            {"case": case.id, "message": message.message_id, "reply_to": message.message_id},
        )
        work = [copy, *self._follow_up(move)]
        writes = TurnWrites(update_id, tuple(encode(w) for w in work), move.case)
        rows = await self.conversations.commit(case.key, writes, time.time())
        await self.courier.deliver(bot, rows)

    async def _to_person(self, bot: Bot, case_id: int, message_id: int, reply_to: int) -> None:
        case = await self.store.case(case_id)
        if case is None or not case.is_open:
            return
        try:
            await bot.copy_message(case.key.chat_id, self.chat_id, message_id)
        except Forbidden:
            move = casework.person_unreachable(case, time.time())
            await self._tell(bot, case.key, move.news or CaseNews.RETURNED, move.case, move, False)
        except BadRequest as exc:
            text = self.wording.staff_not_delivered.format(
                name=case.person.name, reason=exc.message
            )
            await self._say(bot, case, text, reply_to=reply_to)

    # -- closing -----------------------------------------------------------------------------

    async def on_card_button(
        self, bot: Bot, query: CallbackQuery, press: CasePress, update_id: int | None = None
    ) -> str:
        """Solved or Back to fixbot on a case card; the toast for whoever pressed it."""
        case = await self.store.case(press.case_id)
        message = query.message
        if case is None or message is None or message.chat.id != self.chat_id:
            return self.wording.dead_button
        if not case.is_open:
            return self.wording.staff_case_closed.format(name=case.person.name)
        solved = press.action is CaseAction.SOLVED
        move = casework.closed_by_staff(case, solved, query.from_user.first_name, time.time())
        await self._tell(
            bot, case.key, move.news or CaseNews.RETURNED, move.case, move, True, update_id
        )
        return f"#{case.id}: {self.wording.card_solved if solved else self.wording.card_return}"

    async def person_not_told(self, bot: Bot, case_id: int) -> None:
        """A message to the person of a closed case was refused: they can't be reached."""
        case = await self.store.case(case_id)
        if case is not None and not case.is_open:
            await self.store.case_save(casework.unreachable_after_close(case))

    async def _tell(
        self,
        bot: Bot,
        key: SessionKey,
        news: CaseNews | CaseChanged,
        case: Case | None = None,
        move: casework.Move | None = None,
        to_person: bool = True,
        update_id: int | None = None,
    ) -> None:
        """Tell the person's conversation news of their case, saved with the case as it is
        now and what follows in the staff chat; then carry it all out."""
        event = news if isinstance(news, CaseChanged) else CaseChanged(news, time.time())
        case_id = case.id if case is not None else None

        async def plan(turn: Turn) -> Plan:
            posts: list[Delivery] = []
            if to_person:
                posts = [
                    post_of(key.chat_id, r, key.user_id, case_id=case_id) for r in turn.replies
                ]
            work = self._follow_up(move) if move is not None else []
            return Plan(tuple(encode(d) for d in [*posts, *work]), case)

        committed = await self.conversations.take_turn(key, event, update_id, plan)
        await self.courier.deliver(bot, committed.outbox)

    # -- reminders ---------------------------------------------------------------------------

    async def _remind_forever(self, bot: Bot, every: float) -> None:
        while True:
            try:
                # Of replicas sharing a store, the one elected for periodic work reminds.
                if await self.store.lead("periodic"):
                    await self.remind(bot)
            except TelegramError as exc:
                log.warning("staff chat %s: reminders failed (%s)", self.chat_id, exc.message)
            await asyncio.sleep(every)

    async def remind(self, bot: Bot) -> int:
        """Remind the staff chat, once, of each case unanswered for too long (counting from
        the opening of business hours when it opened outside them); how many."""
        now = time.time()
        due = await self.store.cases_waiting(now - self.config.remind_after)
        reminded = 0
        for case in due:
            if not casework.reminder_due(case, now, self.config.remind_after, self.config.hours):
                continue
            move = casework.reminded(case)
            writes = TurnWrites(
                outbox=tuple(encode(w) for w in self._follow_up(move)), case=move.case
            )
            await self.courier.deliver(bot, await self.conversations.commit(case.key, writes, now))
            reminded += 1
        return reminded

    def _note(self, case: Case, note: str, stars: int | None = None) -> str:
        words, name = self.wording, case.person.name
        if note == casework.Note.REMINDER:
            minutes = max(1, round((time.time() - case.opened_at) / 60))
            return words.staff_reminder.format(id=case.id, name=name, minutes=minutes)
        text = {
            casework.Note.CANCELLED: words.staff_cancelled,
            casework.Note.UNREACHABLE: words.staff_unreachable,
            casework.Note.RATED: words.staff_rated,
            casework.Note.STILL_BROKEN: words.staff_still_broken,
        }[casework.Note(note)]
        return text.format(name=name, stars=words.stars(stars) if stars else "")

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
