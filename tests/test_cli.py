"""The command line, run as a user runs it: a real process, real exit codes, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.settings import REPOSITORY_ROOT


def fixbot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = ""):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "FIXBOT_"))
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=environment,
        cwd=cwd or REPOSITORY_ROOT,
        timeout=60,
        check=False,
    )


def test_check_passes_on_the_shipped_content_and_prints_a_summary() -> None:
    result = fixbot("check")
    assert result.returncode == 0, result.stderr
    assert "10 intents, 9 fixes" in result.stdout
    assert "backup_stuck" in result.stdout


def test_check_lists_every_problem_and_exits_1_without_a_traceback(write_content) -> None:
    root = write_content(
        {
            "intents/wifi.yaml": "id: wifi\ntitel: Wi-Fi\nexamples: [wifi]\nfixes: [nope]\n",
            "fixes/broken.yaml": "id: [\n",
        }
    )
    result = fixbot("check", env={"FIXBOT_CONTENT_DIR": str(root)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "intents/wifi.yaml:2: titel: unknown key 'titel' (did you mean 'title'?)" in result.stderr
    )
    assert "fixes/broken.yaml" in result.stderr


def test_run_without_a_token_says_what_is_missing_and_chats_in_the_terminal(
    tmp_path: Path,
) -> None:
    result = fixbot(
        "run", env={"FIXBOT_DATA_DIR": str(tmp_path)}, cwd=tmp_path, stdin="wifi won't connect\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "@BotFather" in result.stderr
    assert "Get onto Wi-Fi" in result.stdout


def test_no_command_prints_help() -> None:
    result = fixbot()
    assert result.returncode == 2
    assert "check" in result.stdout


def test_a_wrong_staff_desk_setting_says_which_value_and_why() -> None:
    result = fixbot(
        "check",
        env={"FIXBOT_STAFF_CHAT_ID": "12345", "FIXBOT_STAFF_HOURS": "Mon-Fri 9am-5pm Berlin"},
    )
    assert result.returncode == 1
    assert "FIXBOT_STAFF_CHAT_ID (got '12345'): that is a person's id" in result.stderr
    assert "FIXBOT_STAFF_HOURS (got 'Mon-Fri 9am-5pm Berlin')" in result.stderr
    assert "is not of the form 'Mon-Fri 09:00-17:00 Europe/Berlin'" in result.stderr
