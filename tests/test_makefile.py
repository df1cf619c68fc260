"""`make` on a machine where a first try went wrong: a .venv without pip (python3-venv was
missing) is made again, or one line says what to install."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import REPOSITORY_ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="no make on this machine")


def make_venv(folder: Path, python: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(REPOSITORY_ROOT / "Makefile", folder / "Makefile")
    return subprocess.run(
        [str(MAKE), "--no-print-directory", "venv", f"PYTHON={python}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_venv_left_without_pip_is_made_again(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=tmp_path, check=True
    )
    done = make_venv(tmp_path, sys.executable)
    assert done.returncode == 0, done.stderr
    pip = subprocess.run(
        [str(tmp_path / ".venv/bin/python"), "-m", "pip", "--version"], check=False
    )
    assert pip.returncode == 0


def test_a_python_that_cannot_make_a_venv_with_pip_is_named_in_one_line(tmp_path: Path) -> None:
    # Debian's python3 without python3-venv: `-m venv` leaves a .venv with no pip in it.
    broken = tmp_path / "python3"
    broken.write_text(
        f'#!/bin/sh\nif [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        f'  exec {sys.executable} -m venv --without-pip "$3"\nfi\nexec {sys.executable} "$@"\n'
    )
    broken.chmod(0o755)
    done = make_venv(tmp_path, str(broken))
    assert done.returncode != 0
    assert "install python3-venv" in done.stderr
    assert not (tmp_path / ".venv").exists()
