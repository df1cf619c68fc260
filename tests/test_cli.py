"""The command line, run as a user runs it: a real process, real exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.settings import REPOSITORY_ROOT


def clean_environment(**settings: str) -> dict[str, str]:
    """This environment without fixbot's settings (nor make's mark), plus `settings`."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "FIXBOT_")) and k != "MAKELEVEL"
    }
    return {**environment, **settings}


def started(*args: str, data_dir: Path) -> subprocess.Popen[str]:
    """`python -m bot ARGS` running, its standard streams piped, its data in `data_dir`.

    Ctrl-C is what these tests send, so it is given back its default handling: a shell starts
    a background job (`make test &`, nohup) with SIGINT ignored, every child inherits that,
    and Python then never turns SIGINT into KeyboardInterrupt."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.PIPE,  # kept open: nobody presses Enter
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environment(FIXBOT_DATA_DIR=str(data_dir)),
        cwd=REPOSITORY_ROOT,
        preexec_fn=_ctrl_c_as_usual,
    )


def _ctrl_c_as_usual() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fixbot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = ""):
    environment = clean_environment(**(env or {}))
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


def test_run_without_a_token_fails_saying_how_to_get_one_and_how_to_try_without(
    tmp_path: Path,
) -> None:
    # As Docker or systemd would run it: a failure they can see, not a chat that ends at once.
    result = fixbot("run", env={"FIXBOT_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "@BotFather" in result.stderr
    assert "fixbot chat" in result.stderr
    assert result.stdout == ""


def test_make_runs_the_terminal_chat_when_there_is_no_token(tmp_path: Path) -> None:
    result = fixbot(
        "run",
        "--without-token",
        "chat",
        env={"FIXBOT_DATA_DIR": str(tmp_path), "MAKELEVEL": "1"},
        cwd=tmp_path,
        stdin="wifi won't connect\n",
    )
    assert result.returncode == 0, result.stderr
    assert "@BotFather" in result.stderr
    assert "Get onto Wi-Fi" in result.stdout
    # The way back, as it can be typed from here: this Python (outside the virtual
    # environment a bare `python -m bot` would not find fixbot), or `fixbot chat`.
    again = result.stdout.rsplit("run `", 1)[1].split("`", 1)[0]
    assert again == "fixbot chat" or again.endswith("python -m bot chat"), again
    assert again != "python -m bot chat"


def test_ctrl_c_leaves_the_terminal_chat_at_once(tmp_path: Path) -> None:
    chat = started("chat", data_dir=tmp_path)
    try:
        assert chat.stdout is not None
        while "Tell me in your own words" not in chat.stdout.readline():
            pass
        chat.send_signal(signal.SIGINT)
        assert chat.wait(timeout=10) == 130
    finally:
        chat.kill()
        chat.communicate()


def test_every_setting_has_bounds_and_a_wrong_one_says_its_value_why_and_what_is_allowed() -> None:
    wrong = {
        "FIXBOT_MAX_SENDS_PER_SECOND": ("0.5", "use 0 (leave pacing to Telegram"),
        "FIXBOT_LOG_LEVEL": ("LOUD", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        "FIXBOT_WEBHOOK_PORT": ("99999", "less than or equal to 65535"),
        "FIXBOT_HEALTH_PORT": ("0", "greater than or equal to 1"),
        "FIXBOT_MAX_CONCURRENT_UPDATES": ("0", "greater than or equal to 1"),
        "FIXBOT_LOG_FORMAT": ("xml", "'text' or 'json'"),
        "FIXBOT_CONFLICT_SECONDS": ("0", "greater than or equal to 1"),
        "FIXBOT_WEBHOOK_URL": ("http://bot.example.com/hook", "only to an https:// address"),
        "TELEGRAM_BASE_URL": ("127.0.0.1:8081/bot", "should match pattern"),  # no scheme
    }
    for name, (value, why) in wrong.items():
        result = fixbot("check", env={name: value})
        assert result.returncode == 1, name
        assert f"{name} (got {value!r}): " in result.stderr, result.stderr
        assert why in result.stderr, result.stderr
    fine = fixbot("check", env={"FIXBOT_LOG_LEVEL": "debug", "FIXBOT_MAX_SENDS_PER_SECOND": "0"})
    assert fine.returncode == 0, fine.stderr


def test_relative_folders_are_found_from_one_base_whatever_the_current_folder(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def data_dir(**settings: str) -> str:
        """Where fixbot, started in another folder, would keep its database."""
        return subprocess.run(
            [sys.executable, "-c", "from bot.settings import Settings; print(Settings().data_dir)"],
            capture_output=True,
            text=True,
            cwd=elsewhere,
            env=clean_environment(PYTHONPATH=str(REPOSITORY_ROOT), **settings),
            check=True,
        ).stdout.strip()

    assert data_dir(FIXBOT_HOME=str(home)) == str(home / "data")
    assert data_dir() == str(REPOSITORY_ROOT / "data")


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


def test_a_staff_language_the_content_does_not_speak_is_refused_by_check() -> None:
    refused = fixbot("check", env={"FIXBOT_STAFF_LANGUAGE": "klingon"})
    assert refused.returncode == 1
    assert "FIXBOT_STAFF_LANGUAGE=klingon: the content speaks en, de, es, pt, ru" in refused.stderr
    assert fixbot("check", env={"FIXBOT_STAFF_LANGUAGE": "pt-BR"}).returncode == 0


def test_play_serves_the_page_with_the_real_bot_behind_it(tmp_path: Path) -> None:
    """`fixbot play` prints the page's address; the page's own API then carries a complaint
    to the bot and the bot's walk back (the browser tests drive the page itself)."""
    play = started("play", "--port", "0", data_dir=tmp_path)
    try:
        assert play.stdout is not None
        line = play.stdout.readline()
        assert line.startswith("fixbot playground: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip()
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "<title>fixbot playground</title>" in page
        found = re.search(r'<meta name="playground-token" content="([^"]+)">', page)
        assert found is not None  # the run's token, given in the page only
        token = {"X-Playground-Token": found[1]}

        def ask(path: str, body: dict | None = None, timeout: float = 10) -> dict:
            headers = {**token, "Content-Type": "application/json"} if body else token
            data = json.dumps(body).encode() if body else None
            request = urllib.request.Request(f"{url}{path}", data=data, headers=headers)
            return json.loads(urllib.request.urlopen(request, timeout=timeout).read())

        state = ask("api/state?person=first")
        ana, private = state["me"]["id"], state["chats"][0]["id"]
        said = {"person": ana, "kind": "text", "chat": private, "text": "wifi won't connect"}
        state = ask("api/act", said)
        for _ in range(100):
            messages = state["chats"][0]["messages"]
            if any("Get onto Wi-Fi" in m["html"] for m in messages if m["from_bot"]):
                break
            state = ask(f"api/state?person={ana}&since={state['version']}", timeout=30)
        else:
            raise AssertionError(f"no walk in {messages}")
        assert (tmp_path / "playground" / "fixbot.sqlite3").is_file()
    finally:
        play.send_signal(signal.SIGINT)
        _, stderr = play.communicate(timeout=30)
    assert play.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_match_without_a_message_reads_one_a_line_and_explains_each() -> None:
    result = fixbot("match", stdin="wifi won't connect\n\nmy icloud storage is full\n")
    assert result.returncode == 0, result.stderr
    assert "wifi" in result.stdout and "storage_full" in result.stdout
