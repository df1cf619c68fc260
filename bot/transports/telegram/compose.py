"""The one composition root of the Telegram side: an engine and a store in, the `Services`
every handler uses out, with the staff desk and the reports set up the same way whoever
starts the bot (`fixbot run`, `fixbot play`, the tests' running bot)."""

from __future__ import annotations

from bot.conversations import Conversations
from bot.engine import Engine
from bot.store import Store
from bot.transports.telegram.desk import DeskConfig, StaffDesk
from bot.transports.telegram.handlers import Services
from bot.transports.telegram.reports import ReportsConfig


def compose(
    engine: Engine,
    store: Store,
    desk: DeskConfig | None = None,
    reports: ReportsConfig | None = None,
    staff_language: str | None = None,
) -> Services:
    """Everything the application needs: the conversations over `store`, the staff desk
    when `desk` names a staff chat, the reports; people are answered in their language and
    the support team reads `staff_language` (a code the content speaks; the default's when
    None)."""
    conversations = Conversations(engine, store)
    staff = engine.languages.pick(staff_language)
    words = staff.wording if staff_language else engine.wording
    staff_desk = StaffDesk(desk, conversations, staff.catalog, words) if desk is not None else None
    return Services(
        conversations,
        engine.wording,
        staff_desk,
        reports or ReportsConfig(),
        staff_wording=words if staff_language else None,
    )
