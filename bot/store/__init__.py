"""Where sessions and outcomes live: one interface, several backends.

`Store` is the interface every backend implements and the contract tests check; `open_store`
builds the default one (SQLite in the data directory).
"""

from bot.session import SessionKey
from bot.store.base import OutcomeRow, Store
from bot.store.memory import MemoryStore
from bot.store.sqlite import SQLiteStore, open_store

__all__ = ["MemoryStore", "OutcomeRow", "SQLiteStore", "SessionKey", "Store", "open_store"]
