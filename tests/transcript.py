"""A chat with the engine that reads like a transcript: say, press, read."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine import Engine
from bot.events import (
    Button,
    ButtonPressed,
    CaseChanged,
    CaseNews,
    CommandReceived,
    OtherReceived,
    Press,
    Reply,
    TextReceived,
    Turn,
)
from bot.session import Outcome, Session


@dataclass
class Chat:
    engine: Engine
    session: Session = field(default_factory=Session)
    clock: float = 1_000_000.0
    replies: tuple[Reply, ...] = ()
    outcomes: list[Outcome] = field(default_factory=list)
    turn: Turn | None = None
    """The last turn, with what it asked of the staff desk."""

    def _apply(self, event, expect_reply: bool = True) -> Reply | None:
        turn = self.turn = self.engine.handle(self.session, event)
        self.session = turn.session
        self.replies = turn.replies
        self.outcomes.extend(turn.outcomes)
        self.clock += 5
        if not expect_reply:
            return turn.replies[-1] if turn.replies else None
        assert turn.replies, f"no reply to {event}"
        return turn.replies[-1]

    def quietly(self, event_text: str | None = None, press: str | None = None) -> Turn:
        """Say `event_text` or press `press` where the bot may answer nothing (a message
        relayed to support, a request for a person); the turn."""
        if press is not None:
            button = self.button(press)
            assert isinstance(button.press, Press)
            self._apply(ButtonPressed(button.press, self.clock), expect_reply=False)
        else:
            self._apply(TextReceived(event_text or "", self.clock), expect_reply=False)
        assert self.turn is not None
        return self.turn

    def case_news(self, news: CaseNews, walk: Session | None = None) -> Reply | None:
        """The staff desk tells the conversation what happened to the case."""
        return self._apply(CaseChanged(news, self.clock, walk), expect_reply=False)

    def say(self, text: str) -> Reply:
        return self._replied(TextReceived(text, self.clock))

    def command(self, command: str, argument: str = "") -> Reply:
        return self._replied(CommandReceived(command, argument, self.clock))

    def send_sticker(self) -> Reply:
        return self._replied(OtherReceived("sticker", self.clock))

    def _replied(self, event) -> Reply:
        reply = self._apply(event)
        assert reply is not None
        return reply

    def button(self, label: str, reply: Reply | None = None) -> Button:
        reply = reply or self.last
        for row in reply.buttons:
            for button in row:
                if label.lower() in button.label.lower():
                    return button
        raise AssertionError(f"no button {label!r} in {self.labels(reply)}")

    def press(self, label: str, reply: Reply | None = None) -> Reply:
        button = self.button(label, reply)
        assert isinstance(button.press, Press), f"{label!r} is a link"
        return self.press_raw(button.press)

    def press_raw(self, press: Press) -> Reply:
        return self._replied(ButtonPressed(press, self.clock))

    def wait(self, seconds: float) -> None:
        self.clock += seconds

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def text(self) -> str:
        return self.last.text

    @staticmethod
    def labels(reply: Reply) -> list[str]:
        return [b.label for row in reply.buttons for b in row]

    def results(self) -> list[str]:
        return [o.result for o in self.outcomes]
