"""A real PostgreSQL server for the tests: Debian's `postgresql`, started with `initdb` and
`pg_ctl` in a temporary folder, on a free port of 127.0.0.1, stopped when the tests end.

PostgreSQL refuses to run as root; as root (a container, CI) the server runs as the
`postgres` user the Debian package creates. Without the package the tests that need it are
skipped with the reason, unless FIXBOT_POSTGRES_TESTS=required (CI), where they fail.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REQUIRED = os.environ.get("FIXBOT_POSTGRES_TESTS") == "required"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def unavailable() -> str | None:
    """Why no server can be started here, or None."""
    if _binaries() is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as another user"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    folder: Path
    port: int
    bin: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql://fixbot@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://fixbot:not-a-secret@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*as_user, *command], capture_output=True, text=True, check=True, timeout=120
        )

    @classmethod
    def start(cls) -> PostgresServer:
        binaries = _binaries()
        assert binaries is not None
        folder = Path(tempfile.mkdtemp(prefix="fixbot-pg-"))
        os.chmod(folder, 0o755)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        server = cls(folder, free_port(), binaries)
        data = folder / "data"
        server._run(
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "fixbot",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = (
            # fsync off: a test machine's power never fails mid-test, and a killed server
            # still recovers every committed turn from its WAL (synchronous_commit stays on).
            f"-p {server.port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        server._run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return server

    def create_database(self) -> str:
        """A fresh, empty database; its URL (with a password, which `trust` ignores, so
        that tests can check it never shows)."""
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")  # type: ignore[call-overload]
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.pg_ctl("stop", "-m", "fast")
        shutil.rmtree(self.folder, ignore_errors=True)

    def pg_ctl(self, *arguments: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-w", *arguments)

    def restart(self) -> None:
        """Stop (as a crash would) and start again on the same port."""
        self.pg_ctl("stop", "-m", "immediate")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c max_connections=200"
        )
        self.pg_ctl("-o", options, "-l", str(self.folder / "server.log"), "start")
