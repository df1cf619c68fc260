"""The direction of dependencies: the core knows nothing of Telegram, and the local Bot API
knows nothing of fixbot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.settings import REPOSITORY_ROOT


def modules_after_importing(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    "module",
    [
        "bot.catalog",
        "bot.matcher",
        "bot.session",
        "bot.cases",
        "bot.casework",
        "bot.groups",
        "bot.events",
        "bot.views",
        "bot.engine",
        "bot.hours",
        "bot.store",
        "bot.conversations",
    ],
)
def test_the_core_never_imports_telegram(module: str) -> None:
    loaded = modules_after_importing(module)
    assert "telegram" not in loaded
    assert not any(m.startswith("bot.transports") for m in loaded)


@pytest.mark.parametrize("module", ["bot.localapi", "bot.localapi.playground"])
def test_the_local_bot_api_and_its_playground_know_nothing_of_fixbot(module: str) -> None:
    loaded = modules_after_importing(module)
    fixbot = {m for m in loaded if m.startswith("bot.") and not m.startswith("bot.localapi")}
    assert fixbot == set()


@pytest.mark.parametrize(
    "module", ["bot.store", "bot.session", "bot.cases", "bot.events", "bot.views"]
)
def test_what_is_stored_and_said_knows_nothing_of_the_engine(module: str) -> None:
    loaded = modules_after_importing(module)
    assert "bot.engine" not in loaded
    assert "telegram" not in loaded


def test_a_session_is_plain_data_that_imports_nothing_of_fixbot() -> None:
    loaded = modules_after_importing("bot.session")
    assert {m for m in loaded if m.startswith("bot.")} == {"bot.session"}


def test_the_events_import_only_the_session() -> None:
    loaded = modules_after_importing("bot.events")
    assert {m for m in loaded if m.startswith("bot.")} == {"bot.events", "bot.session"}


def test_cases_are_plain_data_beside_the_session_and_the_store_holds_only_those() -> None:
    assert {m for m in modules_after_importing("bot.cases") if m.startswith("bot.")} == {
        "bot.cases",
        "bot.session",
    }
    stored = {m for m in modules_after_importing("bot.store") if m.startswith("bot.")}
    own = {
        "bot.store",
        "bot.store.base",
        "bot.store.factory",
        "bot.store.memory",
        "bot.store.sqlite",
    }
    assert stored - own == {
        "bot.cases",
        "bot.errors",
        "bot.groups",
        "bot.session",
    }
    # PostgreSQL's driver is imported when a PostgreSQL store opens, never by a bot on SQLite.
    assert not {m for m in modules_after_importing("bot.store") if m.startswith("psycopg")}


def test_the_case_workflow_is_pure_rules_over_plain_data() -> None:
    loaded = {m for m in modules_after_importing("bot.casework") if m.startswith("bot.")}
    assert loaded == {"bot.casework", "bot.cases", "bot.events", "bot.hours", "bot.session"}


def test_group_settings_are_plain_data_that_import_nothing_of_fixbot() -> None:
    assert {m for m in modules_after_importing("bot.groups") if m.startswith("bot.")} == {
        "bot.groups"
    }


@pytest.mark.parametrize("module", ["bot.charts", "bot.stats", "bot.cli"])
def test_matplotlib_is_loaded_only_when_a_chart_is_drawn(module: str) -> None:
    loaded = modules_after_importing(module)
    assert not any(m == "matplotlib" or m.startswith("matplotlib.") for m in loaded)
