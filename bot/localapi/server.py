"""The local Bot API server: Telegram's HTTP API on 127.0.0.1, with a user's side for tests.

What it does as Telegram does (for the methods a bot like fixbot uses): long-polling
`getUpdates` with `offset`, `limit`, `timeout` and `allowed_updates`; webhooks with the
secret-token header (and the 409 conflict between the two); `sendMessage`, `editMessageText`,
`editMessageReplyMarkup`, `answerCallbackQuery`, `deleteMessage`, `setMyCommands`,
`getMyCommands` (by scope, resolved for a user as clients do), `getChatMember` (the bot's own
rights too; admins who stay anonymous), `getChatAdministrators`, `getMe`, `copyMessage`,
`sendPhoto` (an upload is checked as a PNG or JPEG of sizes Telegram takes),
`createForumTopic`, `editForumTopic`, `closeForumTopic`, `reopenForumTopic`; HTML parse
mode; privacy mode in groups; forum topics; anonymous admins and channels posting in groups;
a second long poll ending the first with 409; and Telegram's errors: "message is not
modified", "query is too old", BUTTON_DATA_INVALID over 64 bytes, "message is too long" over
4,096 characters, "can't parse entities", "Forbidden: bot was blocked by the user",
"Forbidden: bot can't initiate conversation with a user", "bot is not a member", "the chat is
not a forum", "not enough rights to create a topic", TOPIC_CLOSED, TOPIC_NOT_MODIFIED,
"message can't be copied", and "Too Many Requests: retry after N". Latency and errors (429,
5xx) can be injected per method, and per chat.

The user's side is plain Python on the same event loop: `send` (also as a group or a
channel), `send_photo`, `send_document`, `send_sticker`, `press`, `topic`, `messages`,
`toasts`, `wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final

import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.web

log = logging.getLogger(__name__)

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
ANONYMOUS_ADMIN_ID: Final = 1087968824
"""GroupAnonymousBot: the sender Telegram shows for an admin posting as the group."""
CHANNEL_BOT_ID: Final = 136817688
"""Channel_Bot: the sender Telegram shows for a message posted as a channel."""
MAX_CALLBACK_DATA: Final = 64
CALLBACK_TIMEOUT: Final = 15.0
"""Seconds within which a callback query must be answered."""
MAX_LONG_POLL: Final = 50.0

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

_ALLOWED_TAGS: Final = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "span", "blockquote", "tg-emoji"}
)  # fmt: skip


class ApiError(Exception):
    """An error the Bot API answers with: code, description, and retry_after for 429."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


# --------------------------------------------------------------------------------------------
# The world: users, chats, messages


@dataclass(eq=False)
class User:
    """A person on Telegram; the same object is the same person."""

    id: int
    first_name: str
    username: str | None = None
    blocked_bot: bool = False
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)
    """user id -> status: creator, administrator, member."""
    user: User | None = None
    """The other side of a private chat."""
    started: bool = False
    """A private chat the user has written in: the bot may write there."""
    bot_status: str = "member"
    """The bot's own standing in a group: member, administrator, or left (not in it)."""
    bot_can_manage_topics: bool = False
    """An administrator bot's right to create, rename and close forum topics."""
    topics: dict[int, Topic] = field(default_factory=dict)
    """Forum topics by thread id."""
    anonymous_admins: set[int] = field(default_factory=set)
    """Admins who chose to remain anonymous: their messages are shown as the group's."""

    def to_api(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.username:
                data["username"] = self.user.username
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class Topic:
    """A forum topic: its thread id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int = 7322096
    closed: bool = False


@dataclass
class ButtonView:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class MessageView:
    """A message as a user sees it now: its text (HTML already rendered) and keyboard."""

    message_id: int
    chat_id: int
    thread_id: int | None
    from_bot: bool
    text: str
    buttons: list[list[ButtonView]]
    html: str | None = None
    photo: bool = False
    document: str | None = None
    """The file name of a document."""
    caption: str | None = None
    image: bytes | None = None
    """A photo the bot uploaded, as it arrived."""
    reply_to: int | None = None
    """The id of the message this one replies to."""
    sender: str | None = None
    """Who it is shown as: a person's first name, the group's title (an anonymous admin), or
    None for the bot."""
    edited: bool = False
    sticker: bool = False

    def button(self, label: str) -> ButtonView:
        for row in self.buttons:
            for button in row:
                if label.lower() in button.text.lower():
                    return button
        labels = [b.text for row in self.buttons for b in row]
        raise LookupError(f"no button {label!r} on message {self.message_id}: {labels}")

    @property
    def labels(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]


@dataclass
class _Message:
    message_id: int
    chat: Chat
    date: int
    sender: User | None  # None: the bot
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    reply_to: _Message | None = None
    sticker: bool = False
    photo: bool = False
    document: str | None = None
    caption: str | None = None
    edit_date: int | None = None
    sender_chat: Chat | None = None
    """Who the message is shown as: the group itself (an anonymous admin) or a channel."""
    topic_created: str | None = None
    """The name of the forum topic this service message created."""
    image: bytes | None = None
    image_size: tuple[int, int] | None = None

    def view(self) -> MessageView:
        rows = []
        for row in (self.reply_markup or {}).get("inline_keyboard", []):
            rows.append(
                [ButtonView(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row]
            )
        return MessageView(
            self.message_id,
            self.chat.id,
            self.thread_id,
            self.sender is None,
            self.text or "",
            rows,
            self.html,
            self.photo,
            self.document,
            self.caption,
            self.image,
            self.reply_to.message_id if self.reply_to is not None else None,
            self._shown_as(),
            self.edit_date is not None,
            self.sticker,
        )

    def _shown_as(self) -> str | None:
        if self.sender_chat is not None:
            return self.sender_chat.title
        return self.sender.first_name if self.sender is not None else None

    @property
    def copyable(self) -> bool:
        return self.text is not None or self.sticker or self.photo or self.document is not None


@dataclass
class _Callback:
    id: str
    user: User
    message: _Message
    data: str
    created: float
    answered: bool = False


@dataclass
class _Fault:
    method: str
    code: int
    count: int
    retry_after: int | None = None
    chat_id: int | None = None
    """Only calls for this chat fail (Telegram's flood limits are often per chat)."""
    description: str | None = None


# --------------------------------------------------------------------------------------------
# HTML parse mode


class _TelegramHtml(HTMLParser):
    """Telegram's HTML subset: renders to plain text, or raises ApiError like Telegram."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"'
            )
        if tag == "a" and not dict(attrs).get("href"):
            raise ApiError(400, "Bad Request: can't parse entities: empty URL in <a>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render_html(html: str) -> str:
    parser = _TelegramHtml()
    if re.search(r"<(?![a-zA-Z/])", html):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped '<'")
    parser.feed(html)
    parser.close()
    if parser.open:
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{parser.open[-1]}\"",
        )
    return "".join(parser.text)


# --------------------------------------------------------------------------------------------
# The server


def random_token(bot_id: int = 1234567) -> str:
    """A Bot API token nobody can guess, for one run."""
    return f"{bot_id}:{secrets.token_urlsafe(24)}"


class LocalBotApi:
    """One bot's Bot API on 127.0.0.1, and the users and chats around it."""

    def __init__(
        self,
        token: str = "1234567:local-test-token",
        # A fixed token suits tests; a run anyone's browser can reach (the playground)
        # passes `random_token()`, so that no page can guess it and make the bot send.
        username: str = "fixbot_local_bot",
        privacy: bool = True,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.username = username
        self.privacy = privacy
        self.port = 0
        self.latency = 0.0
        """Seconds each API call takes (getUpdates' own waiting aside)."""
        self.calls: Counter[str] = Counter()
        self.call_log: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, str]] = []
        """(method, description) of every error answered."""
        self.commands_by_scope: dict[str, list[dict[str, Any]]] = {}
        """setMyCommands' lists by scope: "default", "all_group_chats", "chat:<id>"..."""
        self.reply_times: dict[int, list[float]] = {}
        """chat id -> when (time.perf_counter) the bot sent or edited a message there."""
        self._busy = 0
        self._faults: list[_Fault] = []
        self._users: dict[int, User] = {}
        self._chats: dict[int, Chat] = {}
        self._messages: dict[int, dict[int, _Message]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callbacks: dict[str, _Callback] = {}
        self._toasts: dict[int, list[str]] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(max(1, first_update_id))
        """Update ids: a run on a kept bot's data continues past the ids it has seen."""
        self._new_update = asyncio.Event()
        self._poll_generation = 0
        self._changed = asyncio.Condition()
        self.version = 0
        """Counts every change anyone could see; `wait_for_change` waits for the next."""
        self._webhook: dict[str, Any] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._user_ids = itertools.count(1001)
        self._group_ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (a free port unless one is given)."""
        app = tornado.web.Application(
            [(r"/bot([^/]+)/(\w+)", _ApiHandler, {"api": self})],
            log_function=lambda handler: None,  # request lines would show the token
        )
        sockets = tornado.netutil.bind_sockets(port, address="127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
        self._new_update.set()  # wake any long poll so it can finish

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """python-telegram-bot's `base_url`: the token is appended."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- the world ---------------------------------------------------------------------------

    def user(
        self, first_name: str, username: str | None = None, language: str | None = None
    ) -> User:
        user = User(next(self._user_ids), first_name, username, language_code=language)
        self._users[user.id] = user
        return user

    def private_chat(self, user: User) -> Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = Chat(user.id, "private", user=user)
            self._add_chat(chat)
        return chat

    def channel(self, title: str, admins: list[User], bot_is_admin: bool = True) -> Chat:
        """A channel whose `admins` may post as it (in a group it is linked to, say). As
        Telegram does, it shows the bot its members only if the bot is one of its admins."""
        chat = Chat(
            -1_000_000_000_000 - next(self._group_ids),
            "channel",
            title=title,
            members={u.id: "administrator" for u in admins},
            bot_status="administrator" if bot_is_admin else "left",
        )
        self._add_chat(chat)
        return chat

    def group(
        self,
        title: str,
        members: dict[User, str] | list[User],
        forum: bool = False,
        bot_status: str = "member",
        bot_can_manage_topics: bool = False,
        chat_id: int | None = None,
    ) -> Chat:
        """A supergroup (a forum with `forum`); the bot's own standing is `bot_status` (member,
        administrator, or left: not in it) and, as an administrator, `bot_can_manage_topics`."""
        if isinstance(members, list):
            members = {u: ("creator" if n == 0 else "member") for n, u in enumerate(members)}
        chat = Chat(
            chat_id if chat_id is not None else -1_000_000_000_000 - next(self._group_ids),
            "supergroup",
            title=title,
            is_forum=forum,
            members={u.id: status for u, status in members.items()},
            bot_status=bot_status,
            bot_can_manage_topics=bot_can_manage_topics,
        )
        self._add_chat(chat)
        return chat

    def topic(self, chat: Chat, name: str, creator: User | None = None) -> int:
        """Open a forum topic; its id is the id of the service message that created it,
        sent by `creator` (a member, when not given; the bot, when it creates one)."""
        if creator is None:
            first = next(iter(chat.members), None)
            creator = self._users.get(first) if first is not None else None
        message = self._new_message(chat, creator, text=None, topic_created=name)
        message.thread_id = message.message_id
        chat.topics[message.message_id] = Topic(message.message_id, name)
        return message.message_id

    def _bot_topic(self, chat: Chat, name: str) -> int:
        message = self._new_message(chat, None, text=None, topic_created=name)
        message.thread_id = message.message_id
        chat.topics[message.message_id] = Topic(message.message_id, name)
        return message.message_id

    def member_names(self, chat: Chat) -> list[str]:
        """The first names of the people in `chat` (the bot aside)."""
        return [self._users[i].first_name for i in chat.members if i in self._users]

    def topics(self, chat: Chat) -> list[Topic]:
        return list(chat.topics.values())

    def block(self, user: User) -> None:
        user.blocked_bot = True

    def _add_chat(self, chat: Chat) -> None:
        self._chats[chat.id] = chat
        self._messages[chat.id] = {}
        self._message_ids[chat.id] = itertools.count(1)

    def _new_message(self, chat: Chat, sender: User | None, **fields: Any) -> _Message:
        message = _Message(
            next(self._message_ids[chat.id]), chat, int(time.time()), sender, **fields
        )
        self._messages[chat.id][message.message_id] = message
        return message

    # -- a user's actions ----------------------------------------------------------------------

    async def send(
        self,
        user: User,
        chat: Chat,
        text: str,
        thread: int | None = None,
        reply_to: int | None = None,
        as_chat: Chat | None = None,
    ) -> MessageView:
        """The user writes `text`; commands and @mentions get their entities, as Telegram does.

        `as_chat`: posted as the group itself (an anonymous admin) or as a channel; Telegram
        then names GroupAnonymousBot or Channel_Bot as the sender and the chat as sender_chat.
        """
        entities = []
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
        for mention in re.finditer(r"@[A-Za-z0-9_]{3,}", text):
            if not (command and mention.start() < command.end()):
                entities.append(
                    {"type": "mention", "offset": mention.start(), "length": len(mention.group())}
                )
        replied = self._messages[chat.id].get(reply_to) if reply_to else None
        return self._from_user(
            chat,
            user,
            text=text,
            entities=entities,
            thread_id=thread,
            reply_to=replied,
            sender_chat=as_chat,
        )

    async def send_sticker(self, user: User, chat: Chat, thread: int | None = None) -> None:
        self._from_user(chat, user, sticker=True, thread_id=thread)

    async def send_photo(
        self, user: User, chat: Chat, caption: str | None = None, thread: int | None = None
    ) -> MessageView:
        """The user sends a photo (a screenshot, say), with an optional caption."""
        return self._from_user(chat, user, thread_id=thread, photo=True, caption=caption)

    async def send_document(
        self,
        user: User,
        chat: Chat,
        file_name: str,
        caption: str | None = None,
        thread: int | None = None,
    ) -> MessageView:
        """The user sends a file."""
        return self._from_user(chat, user, thread_id=thread, document=file_name, caption=caption)

    def _from_user(self, chat: Chat, user: User, **fields: Any) -> MessageView:
        """A message the user wrote: it opens a private chat, and reaches the bot when the
        bot may see it."""
        thread = fields.get("thread_id")
        if fields.get("reply_to") is None and thread is not None and chat.is_forum:
            # In a topic, a message that answers nothing answers the topic's first message.
            fields["reply_to"] = self._messages[chat.id].get(thread)
        message = self._new_message(chat, user, **fields)
        if chat.type == "private":
            chat.started = True
        if self._bot_sees(message):
            self._enqueue({"message": self._message_api(message)})
        return message.view()

    async def edit(self, user: User, chat: Chat, message_id: int, text: str) -> None:
        message = self._messages[chat.id][message_id]
        message.text = text
        message.edit_date = int(time.time())
        if self._bot_sees(message):
            self._enqueue({"edited_message": self._message_api(message)})

    async def press(self, user: User, message: MessageView, data: str) -> str:
        """The user presses a button with `data` on `message` (any data: tests forge some)."""
        stored = self._messages[message.chat_id][message.message_id]
        callback = _Callback(str(next(self._update_ids) * 7919), user, stored, data, time.time())
        self._callbacks[callback.id] = callback
        self._enqueue(
            {
                "callback_query": {
                    "id": callback.id,
                    "from": user.to_api(),
                    "message": self._message_api(stored),
                    "chat_instance": str(stored.chat.id),
                    "data": data,
                }
            }
        )
        return callback.id

    async def press_button(self, user: User, message: MessageView, label: str) -> str:
        button = message.button(label)
        if button.callback_data is None:
            raise LookupError(f"{label!r} is a link button")
        return await self.press(user, message, button.callback_data)

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The command list for everyone (the default scope)."""
        return self.commands_by_scope.get("default", [])

    def visible_commands(self, chat: Chat, user: User) -> list[str]:
        """The commands a client shows `user` in `chat`: the most specific scope the bot set,
        as Telegram resolves them."""
        return [c["command"] for c in self.command_menu(chat, user)]

    def command_menu(self, chat: Chat, user: User) -> list[dict[str, Any]]:
        """The "/" menu a client shows `user` in `chat`: commands with their descriptions."""
        admin = chat.members.get(user.id) in ("creator", "administrator")
        if chat.type == "private":
            scopes = [f"chat:{chat.id}", "all_private_chats", "default"]
        else:
            scopes = [f"chat_member:{chat.id}:{user.id}"]
            scopes += [f"chat_administrators:{chat.id}"] if admin else []
            scopes += [f"chat:{chat.id}"]
            scopes += ["all_chat_administrators"] if admin else []
            scopes += ["all_group_chats", "default"]
        # In each scope, the list for the user's language first, then the one for all.
        language = f"|{user.language_code[:2].lower()}" if user.language_code else None
        for scope in scopes:
            for name in (f"{scope}{language}", scope) if language else (scope,):
                if name in self.commands_by_scope:
                    return list(self.commands_by_scope[name])
        return []

    def _bot_sees(self, message: _Message) -> bool:
        if message.chat.type == "private" or not self.privacy:
            return True
        if message.chat.bot_status == "administrator":
            return True  # privacy mode does not apply to a group's admins
        text = message.text or ""
        if text.startswith("/"):
            command = re.match(r"/\w+(@(\w+))?", text)
            return not (command and command.group(2) and command.group(2) != self.username)
        if f"@{self.username}".lower() in text.lower():
            return True
        return message.reply_to is not None and message.reply_to.sender is None

    # -- what a user sees --------------------------------------------------------------------

    def messages(self, chat: Chat, thread: int | None = None) -> list[MessageView]:
        return [
            m.view()
            for m in self._messages[chat.id].values()
            if m.copyable and (thread is None or m.thread_id == thread)
        ]

    def bot_messages(self, chat: Chat, thread: int | None = None) -> list[MessageView]:
        return [m for m in self.messages(chat, thread) if m.from_bot]

    def last_bot_message(self, chat: Chat, thread: int | None = None) -> MessageView:
        found = self.bot_messages(chat, thread)
        if not found:
            raise LookupError(f"the bot has written nothing in chat {chat.id}")
        return found[-1]

    def toasts(self, user: User) -> list[str]:
        return list(self._toasts.get(user.id, []))

    def pending_callbacks(self) -> int:
        return sum(1 for c in self._callbacks.values() if not c.answered)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every API call); return it."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {predicate}"
                ) from None

    async def wait_for_bot_message(
        self, chat: Chat, count: int, thread: int | None = None, timeout: float = 10.0
    ) -> MessageView:
        """Wait until the bot has `count` messages in the chat (or topic); return the last."""
        await self.wait_for(lambda: len(self.bot_messages(chat, thread)) >= count, timeout)
        return self.last_bot_message(chat, thread)

    async def wait_for_edit(
        self, chat: Chat, message_id: int, old_text: str, timeout: float = 10.0
    ) -> MessageView:
        """Wait until a message's text differs from `old_text`."""

        def changed() -> MessageView | None:
            view = self._messages[chat.id][message_id].view()
            return view if view.text != old_text else None

        result: MessageView = await self.wait_for(changed, timeout)
        return result

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched every update and answered every button press."""
        await self.wait_for(lambda: not self._updates and self.pending_callbacks() == 0, timeout)

    # -- faults ------------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        code: int = 429,
        count: int = 1,
        retry_after: int = 1,
        chat: Chat | None = None,
        description: str | None = None,
    ) -> None:
        """The next `count` calls of `method` (for `chat` only, if given) fail with `code`
        (429: with retry_after) and `description` (Telegram's words for the error)."""
        self._faults.append(
            _Fault(
                method.lower(),
                code,
                count,
                retry_after if code == 429 else None,
                chat.id if chat is not None else None,
                description,
            )
        )

    def _take_fault(self, method: str, params: dict[str, Any]) -> ApiError | None:
        for fault in self._faults:
            if fault.chat_id is not None and int_or(params.get("chat_id"), 0) != fault.chat_id:
                continue
            if fault.method == method and fault.count > 0:
                fault.count -= 1
                if fault.code == 429:
                    return ApiError(
                        429,
                        f"Too Many Requests: retry after {fault.retry_after}",
                        fault.retry_after,
                    )
                return ApiError(fault.code, fault.description or "Internal Server Error")
        return None

    # -- updates -----------------------------------------------------------------------------

    def _enqueue(self, update: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        self.version += 1

    async def _notify(self) -> None:
        self.version += 1
        async with self._changed:
            self._changed.notify_all()

    async def announce(self) -> None:
        """Tell everyone waiting for a change (`wait_for_change`) that there is one."""
        await self._notify()

    async def wait_for_change(self, version: int, timeout: float) -> int:
        """Wait until something changed since `version` (a message, an edit, a toast), or
        `timeout` seconds; the version now. For a page that shows the chats live."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                changed = self._changed.wait_for(lambda: self.version != version)
                await asyncio.wait_for(changed, timeout)
        return self.version

    # -- the HTTP side -----------------------------------------------------------------------

    async def call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        name = method.lower()
        self.calls[name] += 1
        self.call_log.append((name, params))
        if name != "getupdates":
            self._busy += 1
        handler = getattr(self, f"_api_{name}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        try:
            if name != "getupdates" and self.latency:
                await asyncio.sleep(self.latency)
            fault = self._take_fault(name, params)
            if fault is not None:
                raise fault
            return await handler(params)
        except ApiError as error:
            self.errors.append((name, error.description))
            raise
        finally:
            if name != "getupdates":
                self._busy -= 1
            await self._notify()

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "fixbot (local)",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_or(params.get("offset"), 0)
        limit = min(max(int_or(params.get("limit"), 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL)
        allowed = _json(params.get("allowed_updates"))
        # As Telegram does: a new long poll ends the one still waiting with 409, so two
        # programs polling one token keep cutting each other off.
        self._poll_generation += 1
        mine = self._poll_generation
        self._new_update.set()
        self._confirm(offset)
        deadline = time.monotonic() + timeout
        while True:
            if self._poll_generation != mine:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            ready = [u for u in self._updates if _allowed(u, allowed)][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), remaining)
            if self._server is None:
                return []

    def _confirm(self, offset: int) -> None:
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return await self._api_deletewebhook(params)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": _json(params.get("allowed_updates")),
        }
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if _bool(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _deliver_to_webhook(self) -> None:
        client = tornado.httpclient.AsyncHTTPClient()
        while self._webhook is not None:
            hook = self._webhook
            ready = [u for u in self._updates if _allowed(u, hook["allowed_updates"])]
            if not ready:
                self._updates.clear()
                self._new_update.clear()
                await self._new_update.wait()
                continue
            update = ready[0]
            headers = {"Content-Type": "application/json"}
            if hook["secret_token"]:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
            try:
                response = await client.fetch(
                    hook["url"],
                    method="POST",
                    headers=headers,
                    body=json.dumps(update),
                    raise_error=False,
                    request_timeout=10,
                )
                delivered = response.code == 200
            except OSError:
                delivered = False
            if delivered:
                self._confirm(update["update_id"] + 1)
                await self._notify()
            else:
                await asyncio.sleep(0.2)

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = _json(params.get("commands"))
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse BotCommand array")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands_by_scope[_scope(params) + _language(params)] = commands
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands_by_scope.get(_scope(params) + _language(params), [])

    async def _api_getchatadministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params)
        if chat.type == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        if chat.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        admins = [
            await self._api_getchatmember({"chat_id": chat.id, "user_id": user_id})
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._bot_member(chat))
        return admins

    async def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        if chat.type != "private" and chat.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}  # fmt: skip

    async def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = int_or(params.get("user_id"), 0)
        if user_id == self.bot_id and chat.type != "private":
            return self._bot_member(chat)
        user = self._users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        if chat.type == "channel" and chat.bot_status != "administrator":
            raise ApiError(400, "Bad Request: member list is inaccessible")
        status = "member" if chat.type == "private" else chat.members.get(user_id, "left")
        member: dict[str, Any] = {"status": status, "user": user.to_api()}
        if status in ("creator", "administrator"):
            member["is_anonymous"] = user_id in chat.anonymous_admins
        if status == "administrator":
            member.update(
                dict.fromkeys(
                    ("can_be_edited", "can_promote_members", "can_post_stories",
                     "can_edit_stories", "can_delete_stories"),
                    False,
                )
                | dict.fromkeys(
                    ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                     "can_restrict_members", "can_change_info", "can_invite_users"),
                    True,
                )
            )  # fmt: skip
        return member

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        thread = self._thread(chat, params)
        self._check_can_write(chat, thread)
        text, html = self._text(params)
        markup = self._markup(params)
        reply = _json(params.get("reply_parameters")) or {}
        reply_to_id = int_or(reply.get("message_id") or params.get("reply_to_message_id"), 0)
        replied = self._messages[chat.id].get(reply_to_id) if reply_to_id else None
        message = self._new_message(
            chat,
            None,
            text=text,
            html=html,
            reply_markup=markup,
            thread_id=thread,
            reply_to=replied,
        )
        self.reply_times.setdefault(chat.id, []).append(time.perf_counter())
        return self._message_api(message)

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo: uploaded (multipart, checked as Telegram checks it), or a file_id."""
        chat = self._chat(params)
        thread = self._thread(chat, params)
        self._check_can_write(chat, thread)
        photo = params.get("photo")
        image = size = None
        if isinstance(photo, Upload):
            image, size = photo.body, _image_size(photo.body)
        elif not isinstance(photo, str) or not photo.strip():
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption, caption_html = self._caption(params)
        reply = _json(params.get("reply_parameters")) or {}
        reply_to_id = int_or(reply.get("message_id") or params.get("reply_to_message_id"), 0)
        message = self._new_message(
            chat,
            None,
            photo=True,
            image=image,
            image_size=size,
            caption=caption,
            html=caption_html,
            reply_markup=self._markup(params),
            thread_id=thread,
            reply_to=self._messages[chat.id].get(reply_to_id) if reply_to_id else None,
        )
        self.reply_times.setdefault(chat.id, []).append(time.perf_counter())
        return self._message_api(message)

    async def _api_copymessage(self, params: dict[str, Any]) -> dict[str, int]:
        chat = self._chat(params)
        source_chat = self._chats.get(int_or(params.get("from_chat_id"), 0))
        if source_chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        source = self._messages[source_chat.id].get(int_or(params.get("message_id"), 0))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        if not source.copyable:
            raise ApiError(400, "Bad Request: message can't be copied")
        thread = self._thread(chat, params)
        self._check_can_write(chat, thread)
        caption = params.get("caption", source.caption)
        reply = _json(params.get("reply_parameters")) or {}
        replied = self._messages[chat.id].get(int_or(reply.get("message_id"), 0))
        copy = self._new_message(
            chat,
            None,
            text=source.text,
            html=source.html,
            sticker=source.sticker,
            photo=source.photo,
            document=source.document,
            caption=None if caption is None else str(caption),
            reply_markup=self._markup(params),
            thread_id=thread,
            reply_to=replied,
        )
        self.reply_times.setdefault(chat.id, []).append(time.perf_counter())
        return {"message_id": copy.message_id}

    async def _api_createforumtopic(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        self._check_manages_topics(chat)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_TITLE_EMPTY" if not name else
                           "Bad Request: TOPIC_TITLE_TOO_LONG")  # fmt: skip
        thread = self._bot_topic(chat, name)
        topic = chat.topics[thread]
        if params.get("icon_color") is not None:
            topic.icon_color = int_or(params.get("icon_color"), topic.icon_color)
        return {"message_thread_id": thread, "name": name, "icon_color": topic.icon_color}

    async def _api_editforumtopic(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        self._check_manages_topics(chat)
        topic = self._topic(chat, params)
        name = params.get("name")
        if name is None or str(name) == topic.name:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        if not 1 <= len(str(name)) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_TITLE_TOO_LONG")
        topic.name = str(name)
        return True

    async def _api_closeforumtopic(self, params: dict[str, Any]) -> bool:
        return self._set_closed(params, True)

    async def _api_reopenforumtopic(self, params: dict[str, Any]) -> bool:
        return self._set_closed(params, False)

    def _set_closed(self, params: dict[str, Any], closed: bool) -> bool:
        chat = self._chat(params)
        self._check_manages_topics(chat)
        topic = self._topic(chat, params)
        if topic.closed == closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = closed
        return True

    def _bot_member(self, chat: Chat) -> dict[str, Any]:
        """The bot's own ChatMember in a group, as getChatMember returns it."""
        me = {"id": self.bot_id, "is_bot": True, "first_name": "fixbot (local)",
              "username": self.username}  # fmt: skip
        if chat.bot_status != "administrator":
            return {"status": chat.bot_status, "user": me}
        rights = dict.fromkeys(
            ("can_be_edited", "can_promote_members", "can_post_stories", "can_edit_stories",
             "can_delete_stories", "can_restrict_members", "can_change_info",
             "can_manage_video_chats", "is_anonymous"),
            False,
        ) | dict.fromkeys(
            ("can_manage_chat", "can_delete_messages", "can_invite_users", "can_pin_messages"),
            True,
        )  # fmt: skip
        return {"status": "administrator", "user": me, **rights,
                "can_manage_topics": chat.bot_can_manage_topics}  # fmt: skip

    def _check_manages_topics(self, chat: Chat) -> None:
        if chat.type != "private" and chat.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        if chat.bot_status != "administrator" or not chat.bot_can_manage_topics:
            raise ApiError(400, "Bad Request: not enough rights to create a topic")

    def _topic(self, chat: Chat, params: dict[str, Any]) -> Topic:
        topic = chat.topics.get(int_or(params.get("message_thread_id"), 0))
        if topic is None:
            raise ApiError(400, "Bad Request: message thread not found")
        return topic

    def _thread(self, chat: Chat, params: dict[str, Any]) -> int | None:
        """The forum topic a message goes to: only in forums (elsewhere Telegram ignores it)."""
        thread = int_or(params.get("message_thread_id"), 0) or None
        if thread is None or not chat.is_forum:
            return None
        if thread not in chat.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        return thread

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._bot_message(params)
        text, html = self._text(params)
        markup = self._markup(params)
        if text == message.text and html == message.html and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.html, message.reply_markup = text, html, markup
        message.edit_date = int(time.time())
        self.reply_times.setdefault(message.chat.id, []).append(time.perf_counter())
        return self._message_api(message)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._bot_message(params)
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        return self._message_api(message)

    async def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        message_id = int_or(params.get("message_id"), 0)
        if self._messages[chat.id].pop(message_id, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        callback = self._callbacks.get(str(params.get("callback_query_id")))
        if (
            callback is None
            or callback.answered
            or time.time() - callback.created > CALLBACK_TIMEOUT
        ):
            if callback is not None:
                callback.answered = True
            raise ApiError(400, QUERY_TOO_OLD)
        callback.answered = True
        text = params.get("text")
        if text:
            self._toasts.setdefault(callback.user.id, []).append(str(text))
        return True

    # -- helpers -----------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> Chat:
        chat = self._chats.get(int_or(params.get("chat_id"), 0))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_can_write(self, chat: Chat, thread: int | None = None) -> None:
        if chat.type != "private":
            if chat.bot_status == "left":
                raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
            topic = chat.topics.get(thread) if thread is not None else None
            if topic is not None and topic.closed and not chat.bot_can_manage_topics:
                raise ApiError(400, "Bad Request: TOPIC_CLOSED")
            return
        if chat.user is None:
            return
        if chat.user.blocked_bot:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _bot_message(self, params: dict[str, Any]) -> _Message:
        chat = self._chat(params)
        message = self._messages[chat.id].get(int_or(params.get("message_id"), 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.sender is not None:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _text(self, params: dict[str, Any]) -> tuple[str, str | None]:
        raw = params.get("text")
        if not raw or not str(raw).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        raw = str(raw)
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            text, html = render_html(raw), raw
        elif mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} in this server")
        else:
            text, html = raw, None
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, html

    def _caption(self, params: dict[str, Any]) -> tuple[str | None, str | None]:
        raw = params.get("caption")
        if raw is None or not str(raw).strip():
            return None, None
        text, html = self._text({"text": raw, "parse_mode": params.get("parse_mode")})
        if len(text.encode("utf-16-le")) // 2 > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return text, html

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = _json(params.get("reply_markup"))
        if not markup:
            return None
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: can't parse inline keyboard markup")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not button.get("url"):
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
        if len(rows) > 100 or sum(len(r) for r in rows) > 100:
            raise ApiError(400, "Bad Request: reply markup is too long")
        return {"inline_keyboard": rows}

    def _message_api(self, message: _Message) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": message.chat.to_api(),
        }
        if message.sender is None:
            data["from"] = {
                "id": self.bot_id,
                "is_bot": True,
                "first_name": "fixbot (local)",
                "username": self.username,
            }
        elif message.sender_chat is not None:
            anonymous = message.sender_chat.id == message.chat.id
            data["from"] = {
                "id": ANONYMOUS_ADMIN_ID if anonymous else CHANNEL_BOT_ID,
                "is_bot": True,
                "first_name": "Group" if anonymous else "Channel",
                "username": "GroupAnonymousBot" if anonymous else "Channel_Bot",
            }
            data["sender_chat"] = message.sender_chat.to_api()
        else:
            data["from"] = message.sender.to_api()
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        data.update(self._media_api(message))
        if message.caption is not None:
            data["caption"] = message.caption
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.topic_created is not None:
            data["forum_topic_created"] = {"name": message.topic_created, "icon_color": 7322096}
        if message.thread_id is not None:
            data["message_thread_id"] = message.thread_id
            data["is_topic_message"] = True
        if message.reply_to is not None:
            data["reply_to_message"] = {
                k: v
                for k, v in self._message_api(message.reply_to).items()
                if k != "reply_to_message"
            }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        return data

    def _media_api(self, message: _Message) -> dict[str, Any]:
        """A message's sticker, photo or document, as the Bot API describes them."""
        data: dict[str, Any] = {}
        if message.sticker:
            data["sticker"] = {
                "file_id": "sticker-file",
                "file_unique_id": "sticker-unique",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        if message.image_size is not None:
            width, height = message.image_size
            data["photo"] = [
                {"file_id": f"photo-{message.message_id}-{n}", "file_unique_id": f"p{n}",
                 "width": round(width * scale), "height": round(height * scale)}
                for n, scale in enumerate((90 / max(width, height), 320 / max(width, height), 1.0))
            ]  # fmt: skip
        elif message.photo:
            data["photo"] = [
                {"file_id": f"photo-{message.message_id}-{size}", "file_unique_id": f"p{size}",
                 "width": size, "height": size}
                for size in (90, 320, 1280)
            ]  # fmt: skip
        if message.document is not None:
            data["document"] = {
                "file_id": f"document-{message.message_id}",
                "file_unique_id": f"d{message.message_id}",
                "file_name": message.document,
                "mime_type": "application/octet-stream",
            }
        return data


class _ApiHandler(tornado.web.RequestHandler):
    def initialize(self, api: LocalBotApi) -> None:
        self.api = api

    def prepare(self) -> None:
        # A web page reached through DNS rebinding names its own host: only loopback names
        # reach the bot's API (its token is in the URL; see `LocalBotApi(token=...)`).
        name = self.request.host.rsplit(":", 1)[0].strip("[]").lower()
        if name not in ("127.0.0.1", "localhost", "::1"):
            raise tornado.web.HTTPError(403, reason="not a loopback host")

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        params: dict[str, Any] = {k: self.get_argument(k) for k in self.request.arguments}
        for name, files in self.request.files.items():  # multipart uploads: sendPhoto
            params[name] = Upload(files[0].filename, files[0].body)
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            with contextlib.suppress(ValueError):
                body = json.loads(self.request.body or b"{}")
                if isinstance(body, dict):
                    params.update(body)
        try:
            result = await self.api.call(token, method, params)
            self.write({"ok": True, "result": result})
        except ApiError as error:
            self.set_status(error.code if error.code in (400, 401, 403, 404, 409, 429) else 500)
            self.write(error.to_api())

    def log_exception(self, *args: Any) -> None:
        log.exception("local Bot API: unexpected error")


@dataclass(frozen=True)
class Upload:
    """A file the bot sent in a multipart request."""

    filename: str
    body: bytes


_PNG: Final = b"\x89PNG\r\n\x1a\n"


def _image_size(body: bytes) -> tuple[int, int]:
    """(width, height) of a PNG or JPEG, checked as Telegram checks a photo."""
    if len(body) > MAX_PHOTO_BYTES:
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    if body.startswith(_PNG) and body[12:16] == b"IHDR":
        size = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
    elif body.startswith(b"\xff\xd8"):
        size = _jpeg_size(body)
    else:
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
    width, height = size
    if not width or not height or width + height > 10000 or max(size) / min(size) > 20:
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return size


def _jpeg_size(body: bytes) -> tuple[int, int]:
    at = 2
    while at + 9 < len(body) and body[at] == 0xFF:
        marker, length = body[at + 1], int.from_bytes(body[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xC3:
            height = int.from_bytes(body[at + 5 : at + 7], "big")
            return int.from_bytes(body[at + 7 : at + 9], "big"), height
        at += 2 + length
    raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")


def _language(params: dict[str, Any]) -> str:
    """setMyCommands' language_code as a key's suffix: "" for everyone, "|es"..."""
    code = str(params.get("language_code") or "")
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise ApiError(400, "Bad Request: invalid language code specified")
    return f"|{code}" if code else ""


def _scope(params: dict[str, Any]) -> str:
    """A BotCommandScope as a key: "default", "all_group_chats", "chat:-100123"..."""
    scope = _json(params.get("scope")) or {"type": "default"}
    kind = str(scope.get("type", "default"))
    known = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
    if kind in known:
        return kind
    if kind in ("chat", "chat_administrators"):
        return f"{kind}:{scope.get('chat_id')}"
    if kind == "chat_member":
        return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
    raise ApiError(400, "Bad Request: can't parse BotCommandScope")


def _allowed(update: dict[str, Any], allowed: Any) -> bool:
    if not allowed:
        return True
    return any(kind in update for kind in allowed)


def int_or(value: Any, default: int) -> int:
    """`value` as an int (as Telegram reads its parameters), or `default`."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
