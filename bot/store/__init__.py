"""Where sessions and outcomes live: one interface, several backends.

`Store` is the interface every backend implements and the contract tests check; `open_store`
opens the one FIXBOT_DATABASE_URL names (PostgreSQL, shared by replicas), else SQLite in the
data directory.
"""

from bot.session import SessionKey
from bot.store.base import OutcomeRow, Store
from bot.store.factory import open_store, open_url
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore

__all__ = [
    "MemoryStore",
    "OutcomeRow",
    "SQLiteStore",
    "SessionKey",
    "Store",
    "open_store",
    "open_url",
]
