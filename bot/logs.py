"""Log lines for machines: one JSON object a line (FIXBOT_LOG_FORMAT=json), carrying the
update and the conversation being handled, never the token and never what anyone wrote.

The transport sets `update_id` and `conversation` while it handles an update; every line
logged meanwhile, by fixbot or by the libraries under it, carries them.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

update_id: ContextVar[int | None] = ContextVar("update_id", default=None)
conversation: ContextVar[str | None] = ContextVar("conversation", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (update := update_id.get()) is not None:
            line["update_id"] = update
        if (key := conversation.get()) is not None:
            line["conversation"] = key
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)
