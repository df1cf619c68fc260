"""The playground: a page in the browser that looks and behaves like a Telegram client, for the
people of a `LocalBotApi`. Whatever bot polls that server answers them for real.

Served on 127.0.0.1 by tornado (plain HTML, CSS and JavaScript from `static/`; nothing is
fetched from the internet). The page asks for the state of one person's chats, and waits
for the next change with a long poll (`/api/state?since=N`); it sends text, stickers and
photos, presses buttons, and follows deep links (`t.me/<bot>?start=...` opens the private
chat and sends /start with its payload), all through the local Bot API's user side.

Like the rest of `bot.localapi`, it knows nothing of fixbot.
"""

from __future__ import annotations

import hmac
import html
import json
import re
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.localapi.server import MAX_TEXT, Chat, LocalBotApi, MessageView, User, int_or

STATIC: Final = Path(__file__).parent / "static"
LONG_POLL: Final = 25.0
_ALLOWED_TAGS: Final = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "del", "code", "pre"})


@dataclass
class World:
    """Who is in the playground and where they talk."""

    people: list[User]
    groups: list[Chat] = field(default_factory=list)
    staff: Chat | None = None
    """The support team's chat, when the bot has a staff desk."""


def world(api: LocalBotApi, staff_chat_id: int | None = None) -> World:
    """Ana, Ben and Cy, whose phones speak English, and Lucía, whose phone speaks Spanish; a
    private chat each; "Help group", a forum with topics where Ana is the admin; and, given
    an id, the support team's chat, where Cy works."""
    ana, ben = api.user("Ana", "ana", "en"), api.user("Ben", "ben", "en-GB")
    cy, lucia = api.user("Cy", "cy", "en"), api.user("Lucía", "lucia", "es-ES")
    group = api.group(
        "Help group",
        {ana: "creator", ben: "member", cy: "member", lucia: "member"},
        forum=True,
        bot_status="administrator",
    )
    for name in ("Backups", "Wi-Fi"):
        api.topic(group, name, ana)
    found = World([ana, ben, cy, lucia], [group])
    if staff_chat_id is not None:
        found.staff = api.group(
            "Support staff",
            {cy: "creator"},
            forum=True,
            bot_status="administrator",
            bot_can_manage_topics=True,
            chat_id=staff_chat_id,
        )
    return found


LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_HEADER: Final = "X-Playground-Token"


def loopback_host(host: str) -> bool:
    """Whether an HTTP Host header names this machine's loopback (a DNS-rebinding page
    arrives with its own name, evil.example, while it talks to 127.0.0.1)."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    return name.lower() in LOOPBACK


class Playground:
    def __init__(self, api: LocalBotApi, people: World, token: str | None = None) -> None:
        self.api, self.world = api, people
        self.token = token or secrets.token_urlsafe(24)
        """Asked of every call to /api/: given in the page only, which other sites cannot
        read."""

    # -- what a person sees ------------------------------------------------------------------

    def person(self, user_id: Any) -> User:
        """One of the people, by id ("first": the first of them)."""
        if user_id == "first":
            return self.world.people[0]
        for user in self.world.people:
            if str(user.id) == str(user_id):
                return user
        raise tornado.web.HTTPError(404, reason="no such person")

    def chats_of(self, user: User) -> list[Chat]:
        private = self.api.private_chat(user)
        groups = [g for g in self.world.groups if user.id in g.members]
        staff = self.world.staff
        return [private, *groups, *([staff] if staff and user.id in staff.members else [])]

    def chat(self, user: User, chat_id: Any) -> Chat:
        for chat in self.chats_of(user):
            if str(chat.id) == str(chat_id):
                return chat
        raise tornado.web.HTTPError(404, reason="not one of this person's chats")

    def state(self, user: User) -> dict[str, Any]:
        chats = []
        for chat in self.chats_of(user):
            kind = "private" if chat.type == "private" else "group"
            if chat is self.world.staff:
                kind = "staff"
            members = self.api.member_names(chat)
            chats.append(
                {
                    "id": chat.id,
                    "title": "fixbot" if kind == "private" else chat.title,
                    "kind": kind,
                    "topics": [{"id": t.thread_id, "name": t.name} for t in chat.topics.values()],
                    "admin": chat.members.get(user.id) in ("creator", "administrator"),
                    "members": [] if kind == "private" else [*members, f"@{self.api.username}"],
                    "commands": [
                        {"command": c.get("command", ""), "description": c.get("description", "")}
                        for c in self.api.command_menu(chat, user)
                    ],
                    "messages": [_message(m, kind == "private") for m in self.api.messages(chat)],
                }
            )
        return {
            "version": self.api.version,
            "bot": self.api.username,
            "me": {"id": user.id, "name": user.first_name},
            "people": [
                {"id": p.id, "name": p.first_name, "language": p.language_code}
                for p in self.world.people
            ],
            "chats": chats,
            "toasts": self.api.toasts(user),
        }

    # -- what a person does ------------------------------------------------------------------

    async def act(self, user: User, action: dict[str, Any]) -> None:
        kind = action.get("kind")
        chat = self.chat(user, action.get("chat"))
        topic = int_or(action.get("thread"), 0)
        thread = topic if topic in chat.topics else None
        if kind == "text":
            text = str(action.get("text", ""))[:MAX_TEXT]
            replied = int_or(action.get("reply_to"), 0)
            reply_to = replied if _find(self.api.messages(chat), replied) else None
            if text.strip():
                await self.api.send(user, chat, text, thread=thread, reply_to=reply_to)
        elif kind == "sticker":
            await self.api.send_sticker(user, chat, thread=thread)
        elif kind == "photo":
            await self.api.send_photo(
                user, chat, caption=action.get("caption") or None, thread=thread
            )
        elif kind == "press":
            message = _find(self.api.messages(chat), int_or(action.get("message"), 0))
            data = str(action.get("data", ""))
            if message is None or not any(
                b.callback_data == data for r in message.buttons for b in r
            ):
                raise tornado.web.HTTPError(400, reason="no such button")
            await self.api.press(user, message, data)
        elif kind == "start":
            payload = re.sub(r"[^A-Za-z0-9_-]", "", str(action.get("payload", "")))[:64]
            private = self.api.private_chat(user)
            await self.api.send(user, private, f"/start {payload}".strip())
        else:
            raise tornado.web.HTTPError(400, reason="unknown action")
        await self.api.announce()  # every page waiting for news gets it

    # -- the server --------------------------------------------------------------------------

    def application(self) -> tornado.web.Application:
        return tornado.web.Application(
            [
                (r"/", _Page, {"playground": self}),
                (r"/api/state", _State, {"playground": self}),
                (r"/api/act", _Act, {"playground": self}),
                (r"/static/(.*)", _Static, {"path": str(STATIC)}),
            ],
            log_function=lambda handler: None,
        )

    async def start(self, port: int = 0, address: str = "127.0.0.1") -> int:
        """Serve the page on `address` (127.0.0.1 unless told otherwise); the port."""
        sockets = tornado.netutil.bind_sockets(port, address=address)
        self._server = tornado.httpserver.HTTPServer(self.application())
        self._server.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


class _Guarded(tornado.web.RequestHandler):
    """Only this machine's own pages: a loopback Host (against DNS rebinding), the run's
    token on every call, and, on a call that changes something, JSON from the page's own
    origin (a cross-site form or text/plain POST is refused)."""

    def initialize(self, playground: Playground) -> None:
        self.playground = playground

    def prepare(self) -> None:
        if not loopback_host(self.request.host):
            raise tornado.web.HTTPError(403, reason="not a loopback host")
        if self.request.method not in ("GET", "HEAD"):
            origin = self.request.headers.get("Origin")
            if origin is not None and origin != f"{self.request.protocol}://{self.request.host}":
                raise tornado.web.HTTPError(403, reason="another site's page")
            kind = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                raise tornado.web.HTTPError(415, reason="JSON only")
        if self.request.path.startswith("/api/"):
            given = self.request.headers.get(TOKEN_HEADER, "").encode()
            if not hmac.compare_digest(given, self.playground.token.encode()):
                raise tornado.web.HTTPError(403, reason="no playground token")


class _Page(_Guarded):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        token = html.escape(self.playground.token, quote=True)
        meta = f'<meta name="playground-token" content="{token}">\n</head>'
        self.finish(page.replace("</head>", meta, 1))


class _Static(tornado.web.StaticFileHandler):
    def prepare(self) -> None:
        if not loopback_host(self.request.host):
            raise tornado.web.HTTPError(403, reason="not a loopback host")


class _State(_Guarded):
    async def get(self) -> None:
        user = self.playground.person(self.get_argument("person"))
        since = int_or(self.get_argument("since", None), -1)
        if since == self.playground.api.version:
            await self.playground.api.wait_for_change(since, LONG_POLL)
        self.set_header("Cache-Control", "no-store")
        self.finish(self.playground.state(user))


class _Act(_Guarded):
    async def post(self) -> None:
        try:
            action = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, reason="not JSON") from None
        if not isinstance(action, dict):
            raise tornado.web.HTTPError(400, reason="not an action")
        user = self.playground.person(action.get("person"))
        await self.playground.act(user, action)
        self.finish(self.playground.state(user))


_DEEP_LINK_START: Final = re.compile(r"^/start\s+\S+$")


def _message(message: MessageView, private: bool = False) -> dict[str, Any]:
    text = message.text
    if private and not message.from_bot and _DEEP_LINK_START.match(text):
        text = "/start"  # a deep link's payload travels with /start, unseen, as in Telegram
    return {
        "id": message.message_id,
        "thread": message.thread_id,
        "from_bot": message.from_bot,
        "sender": message.sender,
        "html": safe_html(message.html) if message.html else html.escape(text),
        "caption": message.caption,
        "photo": message.photo,
        "sticker": message.sticker,
        "document": message.document,
        "edited": message.edited,
        "reply_to": message.reply_to,
        "buttons": [
            [{"text": b.text, "data": b.callback_data, "url": b.url} for b in row]
            for row in message.buttons
        ],
    }


def _find(messages: list[MessageView], message_id: int) -> MessageView | None:
    return next((m for m in messages if m.message_id == message_id), None)


class _Sanitiser(HTMLParser):
    """Telegram's HTML subset, made safe to put in a page: the formatting tags kept, links
    kept only to http(s) addresses, everything else escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ALLOWED_TAGS:
            self.out.append(f"<{tag}>")
            self.open.append(tag)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if re.match(r"^https?://", href):
                safe = html.escape(href, quote=True)
                self.out.append(f'<a href="{safe}" target="_blank" rel="noopener">')
                self.open.append("a")
            else:
                self.open.append("")
        elif tag == "br":
            self.out.append("<br>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open:
                closing = self.open.pop()
                if closing:
                    self.out.append(f"</{closing}>")
                if closing == tag:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def safe_html(text: str) -> str:
    sanitiser = _Sanitiser()
    sanitiser.feed(text)
    sanitiser.close()
    return "".join(sanitiser.out) + "".join(f"</{t}>" for t in reversed(sanitiser.open) if t)
