"""A chat with the engine that reads like a transcript: say, press, read."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine import Engine
from bot.events import (
    Button,
    ButtonPressed,
    CommandReceived,
    OtherReceived,
    Press,
    Reply,
    TextReceived,
)
from bot.session import Outcome, Session


@dataclass
class Chat:
    engine: Engine
    session: Session = field(default_factory=Session)
    clock: float = 1_000_000.0
    replies: tuple[Reply, ...] = ()
    outcomes: list[Outcome] = field(default_factory=list)

    def _apply(self, event) -> Reply:
        turn = self.engine.handle(self.session, event)
        self.session = turn.session
        self.replies = turn.replies
        self.outcomes.extend(turn.outcomes)
        self.clock += 5
        assert turn.replies, f"no reply to {event}"
        return turn.replies[-1]

    def say(self, text: str) -> Reply:
        return self._apply(TextReceived(text, self.clock))

    def command(self, command: str, argument: str = "") -> Reply:
        return self._apply(CommandReceived(command, argument, self.clock))

    def send_sticker(self) -> Reply:
        return self._apply(OtherReceived("sticker", self.clock))

    def button(self, label: str, reply: Reply | None = None) -> Button:
        reply = reply or self.last
        for row in reply.buttons:
            for button in row:
                if label.lower() in button.label.lower():
                    return button
        raise AssertionError(f"no button {label!r} in {self.labels(reply)}")

    def press(self, label: str, reply: Reply | None = None) -> Reply:
        button = self.button(label, reply)
        assert button.press is not None, f"{label!r} is a link"
        return self.press_raw(button.press)

    def press_raw(self, press: Press) -> Reply:
        return self._apply(ButtonPressed(press, self.clock))

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
