"""A chat in the terminal on the same engine and store: buttons are shown as numbers.

Works interactively and scripted: it reads standard input line by line, so a test (or a
pipe) can drive it. Type a number to press a button, /command for a command, anything
else is a message. /quit or end of input leaves; the walk is kept for next time.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Final

from bot.conversations import Conversations
from bot.events import (
    Button,
    ButtonPressed,
    CommandReceived,
    Event,
    Press,
    Reply,
    TextReceived,
)
from bot.session import SessionKey

CONSOLE_KEY: Final = SessionKey(chat_id=0, user_id=0)
"""The console's one conversation: a second `fixbot chat` resumes it."""

_BOLD: Final = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_COMMAND: Final = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
QUIT_COMMANDS: Final = frozenset({"quit", "exit"})


def _lines_of(stream: IO[str]) -> asyncio.Queue[str]:
    """The stream's lines, read by a daemon thread ("" at the end): a Ctrl-C ends the chat at
    once, where a worker thread stuck in readline would hold the exit until Enter."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                line = stream.readline()
            except (OSError, ValueError):
                line = ""
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            except RuntimeError:
                return  # the chat is over and its loop closed
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return lines


class ConsoleChat:
    def __init__(
        self,
        conversations: Conversations,
        stdin: IO[str],
        stdout: IO[str],
        key: SessionKey = CONSOLE_KEY,
        clock: Callable[[], float] = time.time,
        color: bool = False,
        again: str = "fixbot chat",
        interactive: bool = False,
        language: str | None = None,
    ) -> None:
        self.conversations = conversations
        self.language = language
        """The language asked for (--language); a choice made with /language comes first."""
        self.stdin = stdin
        self.stdout = stdout
        self.key = key
        self.clock = clock
        self.color = color
        self.again = again
        """The command that continues this chat, as the person started it."""
        self.interactive = interactive
        """A person at a terminal: a prompt before each line, text wrapped at its width."""
        self.choices: list[Press] = []

    async def run(self) -> None:
        """Chat until /quit or the end of input."""
        self.write("fixbot, in your terminal. Type a number to press a button, /quit to leave.")
        await self.send(CommandReceived("start", "", self.clock()))
        lines = _lines_of(self.stdin)
        while True:
            self.prompt()
            line = await lines.get()
            if not line:
                break
            line = line.rstrip("\r\n")
            event = self.event_for(line)
            if event is None:
                break
            if isinstance(event, str):
                self.write(event)
                continue
            await self.send(event)
        self.write(f"Bye! Your place is saved; run `{self.again}` again to continue.")

    def event_for(self, line: str) -> Event | str | None:
        """What a typed line means: an event, a message to show, or None to quit."""
        now = self.clock()
        text = line.strip()
        if text.isdigit() and self.choices:
            number = int(text)
            if 1 <= number <= len(self.choices):
                return ButtonPressed(self.choices[number - 1], now)
            return f"Please type a number from 1 to {len(self.choices)}, or write a message."
        command = _COMMAND.match(text)
        if command:
            name = command.group(1).lower()
            if name in QUIT_COMMANDS:
                return None
            return CommandReceived(name, command.group(2) or "", now)
        return TextReceived(line, now)

    async def send(self, event: Event) -> None:
        chosen = await self.conversations.store.language_of(self.key.user_id)
        turn = await self.conversations.handle(
            self.key, replace(event, language=chosen or self.language)
        )
        self.choices = []
        for reply in turn.replies:
            self.show(reply)

    def show(self, reply: Reply) -> None:
        if reply.notice:
            self.write(f"({reply.notice})")
        self.write(self.render(reply.text))
        links: list[Button] = []
        for row in reply.buttons:
            for button in row:
                if isinstance(button.press, Press):
                    self.choices.append(button.press)
                    self.write(f"  {len(self.choices)}) {button.label}")
                elif button.url:
                    links.append(button)
        for link in links:
            self.write(f"  🔗 {link.label}: {link.url}")
        self.write("")

    def render(self, text: str) -> str:
        if self.interactive:
            # Wrapped before the bold marks turn into escape codes, which have no width.
            width = max(40, min(shutil.get_terminal_size().columns, 100) - 1)
            text = "\n".join(
                textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False)
                if line
                else ""
                for line in text.split("\n")
            )
        return _BOLD.sub(r"\033[1m\1\033[0m" if self.color else r"\1", text)

    def prompt(self) -> None:
        if self.interactive:
            self.stdout.write("> ")
            self.stdout.flush()

    def write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()
