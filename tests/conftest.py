"""Shared fixtures: the shipped content, a way to write small content folders, and the local
Bot API on 127.0.0.1 with the bot running against it."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.catalog import Catalog, load_catalog
from bot.engine import Engine
from bot.localapi import LocalBotApi
from bot.settings import REPOSITORY_ROOT
from tests import postgres
from tests.running import Bot

ContentWriter = Callable[[dict[str, str]], Path]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The content shipped in the repository."""
    return load_catalog(REPOSITORY_ROOT)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the whole run (skipped, with the reason,
    where PostgreSQL is not installed, unless FIXBOT_POSTGRES_TESTS=required)."""
    why = postgres.unavailable()
    if why is not None:
        if postgres.REQUIRED:
            pytest.fail(f"FIXBOT_POSTGRES_TESTS=required, but {why}")
        pytest.skip(why)
    server = postgres.PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: postgres.PostgresServer) -> str:
    """A fresh, empty database on the test server."""
    return postgres_server.create_database()


@pytest.fixture
def write_content(tmp_path: Path) -> ContentWriter:
    """Write {relative path: YAML text} into a fresh content folder and return the folder."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "content"
        (root / "intents").mkdir(parents=True, exist_ok=True)
        (root / "fixes").mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return root

    return write


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    """A local Bot API server, stopped after the test."""
    async with LocalBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: LocalBotApi, engine: Engine, tmp_path: Path) -> AsyncIterator[Bot]:
    """fixbot running against `api`, with the test module's `engine`."""
    running = Bot(api, engine, tmp_path)
    await running.start()
    yield running
    await running.stop()
