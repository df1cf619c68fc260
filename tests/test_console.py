"""`fixbot chat`: the terminal transport, driven as a script through standard input."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import REPOSITORY_ROOT


def chat(lines: list[str], data_dir: Path) -> str:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FIXBOT_"))
    }
    environment["FIXBOT_DATA_DIR"] = str(data_dir)
    # As someone who installed fixbot runs it: `fixbot` on the PATH, not started by make.
    environment.pop("MAKELEVEL", None)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPOSITORY_ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_a_scripted_chat_walks_a_stuck_backup_through_three_fixes_to_fixed(
    tmp_path: Path,
) -> None:
    # Buttons on a step: 1 Done, 2 This didn't work, 3 Skip, 4 Back, 5 Stop.
    # After a fix: 1 Yes, 2 No, 3 Back.
    out = chat(
        [
            "my backup is stuck",
            *["1", "1", "1", "1", "2"],  # backup setting: four steps done, not fixed
            "2",  # Wi-Fi: this didn't work
            *["1", "1", "1", "1"],  # power: three steps done, fixed
            "5",  # five stars
        ],
        tmp_path,
    )
    assert "Let's fix this: iCloud backup fails or never finishes." in out
    assert "OK, on to the next fix: Get onto Wi-Fi." in out
    assert "OK, on to the next fix: Plug in to power." in out
    assert "Tried so far: Turn on iCloud Backup, Get onto Wi-Fi" in out
    assert "glad it's working again" in out
    assert "Thanks for the feedback!" in out
    assert (tmp_path / "fixbot.sqlite3").exists()


def test_a_second_chat_resumes_a_walk_left_half_way(tmp_path: Path) -> None:
    first = chat(["wifi won't connect", "1", "1", "/quit"], tmp_path)
    assert "Step 3 of 4" in first
    assert "Your place is saved" in first
    second = chat(["1"], tmp_path)
    assert "Welcome back! You were on Get onto Wi-Fi, step 3 of 4." in second
    assert second.rstrip().endswith(
        "Bye! Your place is saved; run `fixbot chat` again to continue."
    )
    assert "If your iPhone does not join a network" in second


def test_at_a_terminal_the_chat_prompts_and_wraps_whole_words() -> None:
    import io

    from bot.catalog import load_catalog
    from bot.conversations import Conversations
    from bot.engine import Engine
    from bot.settings import REPOSITORY_ROOT
    from bot.store import MemoryStore
    from bot.transports.console import ConsoleChat

    def transcript(interactive: bool) -> str:
        out = io.StringIO()
        engine = Engine(load_catalog(REPOSITORY_ROOT))
        said = io.StringIO("my icloud backup is stuck and never finishes\n")
        chat = ConsoleChat(Conversations(engine, MemoryStore()), said, out, interactive=interactive)
        asyncio.run(chat.run())
        return out.getvalue()

    wrapped, plain = transcript(True), transcript(False)
    assert wrapped.count("> ") >= 2  # before each line typed
    assert all(len(line) <= 100 for line in wrapped.splitlines())
    assert any(len(line) > 100 for line in plain.splitlines())  # there was wrapping to do
    # Only the spacing changed: every word is whole, in order.
    assert wrapped.replace("> ", "").split() == plain.split()


def test_bad_input_in_the_chat_gets_clear_answers(tmp_path: Path) -> None:
    out = chat(
        ["", "🙂", "x" * 5000, "/frobnicate", "wifi", "42", "/fix storage", "/cancel"], tmp_path
    )
    assert "Tell me in a few words what's wrong" in out
    assert "I don't know the command /frobnicate" in out
    assert "Please type a number from 1 to 4" in out  # Done, didn't work, Skip, Stop
    assert "Make room in iCloud" in out
    assert "Stopped." in out
