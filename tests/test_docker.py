"""The Docker recipe, checked without a Docker engine (our machines have none): the image's
command is run with the image's environment plus `.env.example`, as `docker run --env-file
.env` would combine them, in a temporary folder standing in for the container, as a user
without root rights (the image's `USER`), against the local Bot API. Then its HEALTHCHECK
is run the same way. Where an engine exists, `.ci/run` also builds the image."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.localapi import LocalBotApi
from bot.settings import REPOSITORY_ROOT
from tests.running import free_port

NOBODY = 65534


def dockerfile() -> tuple[dict[str, str], list[str], list[str], str]:
    """The Dockerfile's ENV, CMD, HEALTHCHECK command and USER (continuation lines joined)."""
    text = (REPOSITORY_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    cmd: list[str] = []
    check: list[str] = []
    user = "root"
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(rest)))
        elif word == "CMD":
            cmd = eval(rest)  # the exec form is a JSON array of strings
        elif word == "HEALTHCHECK":
            check = eval(rest.split(" CMD ", 1)[1])
        elif word == "USER":
            user = rest.strip()
    return env, cmd, check, user


def env_example() -> dict[str, str]:
    """What `docker run --env-file .env` reads from a copy of .env.example: KEY=value lines."""
    found = {}
    for line in (REPOSITORY_ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value
    return found


def test_the_env_file_leaves_what_the_image_sets_alone() -> None:
    image, cmd, check, user = dockerfile()
    overridden = set(image) & set(env_example())
    assert overridden == set(), f".env.example would override the image's {overridden}"
    merged = image | env_example()
    assert merged["FIXBOT_DATA_DIR"] == "/data"  # the volume, writable by the image's user
    assert merged["FIXBOT_WEBHOOK_LISTEN"] == "0.0.0.0"  # reachable from outside
    assert merged["FIXBOT_HEALTH_PORT"] == "8080"
    assert (cmd, check, user) == (["fixbot", "run"], ["fixbot", "health"], "fixbot")
    base = next(line for line in (REPOSITORY_ROOT / "Dockerfile").read_text().splitlines()
                if line.startswith("FROM "))  # fmt: skip
    assert base.count(":") == 1 and base.split(":")[1][0].isdigit(), f"not pinned: {base}"


def test_a_code_change_does_not_reinstall_the_dependencies() -> None:
    text = (REPOSITORY_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    steps = [line for line in text.splitlines() if line.startswith(("COPY", "RUN"))]
    dependencies = next(n for n, step in enumerate(steps) if "pip install -r" in step)
    code = next(n for n, step in enumerate(steps) if step.startswith("COPY bot"))
    assert dependencies < code
    assert steps[:dependencies] == ["COPY requirements.lock ./"]  # nothing else invalidates it


def test_the_image_installs_pinned_versions_within_the_projects_ranges() -> None:
    from packaging.requirements import Requirement

    pinned: dict[str, str] = {}
    for line in (REPOSITORY_ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pinned[name.lower().replace("_", "-")] = version
    project = tomllib.loads((REPOSITORY_ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        wanted = Requirement(dependency)
        version = pinned.get(wanted.name.lower().replace("_", "-"))
        assert version is not None, f"{wanted.name} is not in requirements.lock"
        assert wanted.specifier.contains(version), f"{wanted.name}=={version} is outside {wanted}"


def as_the_image_user() -> tuple[list[str], dict]:
    """How to start Python as a user without root rights, with fixbot importable: this
    interpreter, or the system's (a root-only home can hide this one). When the tests run
    without root rights already, they are that user."""
    paths = os.pathsep.join([str(REPOSITORY_ROOT), sysconfig.get_paths()["purelib"]])
    if os.geteuid() != 0:
        return [sys.executable], {}
    for python in (sys.executable, "/usr/bin/python3"):
        try:
            probe = subprocess.run(
                [python, "-c", "import bot.cli, telegram, rapidfuzz"],
                env={"PYTHONPATH": paths, "PATH": os.environ.get("PATH", "")},
                user=NOBODY,
                group=NOBODY,
                extra_groups=[],
                capture_output=True,
                check=False,
            )
        except OSError:
            continue  # this user may not even run that interpreter
        if probe.returncode == 0:
            return [python], {"user": NOBODY, "group": NOBODY, "extra_groups": []}
    # The checkout sits where a user without rights cannot read it (a root-only home): the
    # recipe is still run, as this user; everything but the user is checked all the same.
    return [sys.executable], {}


@pytest.fixture
def container() -> Iterator[Path]:
    """A folder for the container's /app and /data that its user may reach (pytest's own
    temporary folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="fixbot-image-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_the_images_command_runs_with_the_image_environment_and_env_example(
    container: Path,
) -> None:
    image, cmd, check, _ = dockerfile()
    python, unprivileged = as_the_image_user()
    app, data = container / "app", container / "data"
    app.mkdir()  # the image's WORKDIR: not writable by its user
    data.mkdir()
    if unprivileged:
        os.chown(data, NOBODY, NOBODY)  # the Dockerfile's `chown fixbot /data`
    port = free_port()
    async with LocalBotApi() as api:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join([str(REPOSITORY_ROOT), sysconfig.get_paths()["purelib"]]),
            **image,
            **env_example(),
            # What an operator fills in, and the container's paths on this machine:
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_BASE_URL": api.base_url,
            "FIXBOT_HOME": str(app),
            "FIXBOT_CONTENT_DIR": str(REPOSITORY_ROOT),
            "FIXBOT_DATA_DIR": str(data),
            "FIXBOT_HEALTH_PORT": str(port),
        }
        assert cmd[0] == "fixbot"
        bot = await asyncio.create_subprocess_exec(
            *python, "-m", "bot", *cmd[1:],
            cwd=app, env=environment, stderr=asyncio.subprocess.PIPE, **unprivileged,
        )  # fmt: skip
        try:
            healthy = None
            for _ in range(100):
                healthy = await asyncio.to_thread(
                    subprocess.run,
                    [*python, "-m", "bot", *check[1:]],
                    env=environment,
                    capture_output=True,
                    text=True,
                    check=False,
                    **unprivileged,
                )
                if healthy.returncode == 0:
                    break
                if bot.returncode is not None:
                    assert bot.stderr is not None
                    raise AssertionError((await bot.stderr.read()).decode())
                await asyncio.sleep(0.2)
            assert healthy is not None and healthy.returncode == 0, healthy
            assert '"status": "ok"' in healthy.stdout
            kim = api.user("Kim")
            chat = api.private_chat(kim)
            await api.send(kim, chat, "my icloud storage is full")
            await api.wait_for_bot_message(chat, 1, timeout=60)
        finally:
            bot.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(bot.communicate(), 60)
    log = stderr.decode()
    assert bot.returncode == 0, log
    assert (data / "fixbot.sqlite3").is_file()
    assert f"data: {data / 'fixbot.sqlite3'}" in log
    assert not any(app.iterdir())  # nothing written beside the code


def test_the_compose_file_runs_two_replicas_on_one_postgresql() -> None:
    """`docker compose up` (checked by reading the file where no Docker engine runs):
    PostgreSQL with a health check, two replicas of the image started once it is healthy,
    both on the same database URL, the token from .env and nowhere in the file."""
    compose = yaml.safe_load((REPOSITORY_ROOT / "compose.yaml").read_text())
    db, bot = compose["services"]["db"], compose["services"]["fixbot"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(
        db["healthcheck"]["test"]
    )
    assert bot["build"] == "." and bot["deploy"]["replicas"] == 2
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    url = bot["environment"]["FIXBOT_DATABASE_URL"]
    assert url.startswith("postgresql://fixbot:") and url.endswith("@db:5432/fixbot")
    assert "TELEGRAM_BOT_TOKEN" not in bot["environment"]  # from .env, never in the file
