"""The bot's own sentences are content: English in wording/en.yaml, a file per language beside
it, each text falling back to English alone, and `fixbot check` naming what is wrong."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bot.settings import REPOSITORY_ROOT
from bot.wording import Wording, check


def content_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for folder in ("intents", "fixes", "wording"):
        shutil.copytree(REPOSITORY_ROOT / folder, tmp_path / folder)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_english_has_every_text_and_python_holds_none() -> None:
    assert check(REPOSITORY_ROOT) == []
    english = Wording()
    assert english == Wording.load(REPOSITORY_ROOT)
    assert all(not getattr(english, key).startswith("[") for key in Wording.wording_keys())
    source = (REPOSITORY_ROOT / "bot" / "wording.py").read_text(encoding="utf-8")
    assert english.welcome.split(".")[0] not in source  # the sentence lives in the YAML


def test_a_translation_may_leave_a_text_to_english_and_check_lists_it(tmp_path: Path) -> None:
    root = content_with(tmp_path, {"wording/es.yaml": "done: ✅ Hecho\nback: ⬅️ Atrás\n"})
    spanish = Wording.load(root, "es")
    assert (spanish.done, spanish.back, spanish.language) == ("✅ Hecho", "⬅️ Atrás", "es")
    assert spanish.stop == Wording().stop  # not translated: English, for that text alone
    found = check(root)
    assert all(p.fallback and p.file == "wording/es.yaml" for p in found)
    assert "stop" in {p.key for p in found} and "done" not in {p.key for p in found}


def test_a_wrong_key_or_placeholder_is_named_with_file_and_line(tmp_path: Path) -> None:
    root = content_with(
        tmp_path,
        {
            "wording/de.yaml": (
                "done: ✅ Erledigt\nsotp: ✖️ Stopp\nnot_yours: Das gehört {wer}.\nwelcome: '**fett'\n"
            )
        },
    )
    errors = [p for p in check(root) if not p.fallback]
    by_key = {p.key: p for p in errors}
    assert by_key["sotp"].line == 2 and "did you mean 'stop'" in by_key["sotp"].message
    assert by_key["not_yours"].line == 3
    assert "{wer}, want {name}" in by_key["not_yours"].message
    assert by_key["welcome"].line == 4 and "no partner" in by_key["welcome"].message
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env={"FIXBOT_CONTENT_DIR": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert "wording/de.yaml:2: sotp: unknown key (did you mean 'stop'?)" in result.stderr


def test_no_sentence_in_python_names_the_product() -> None:
    """The product is content: a second one is a second content folder. Docstrings may name
    it; a string the bot could say may not."""
    import ast

    named = []
    for path in sorted((REPOSITORY_ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # A string standing alone as a statement documents (a module, a class, a function,
        # an attribute): nobody is ever shown it.
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                for product in ("iPhone", "iCloud", "iOS", "Apple"):
                    if product in node.value:
                        named.append(f"{path.relative_to(REPOSITORY_ROOT)}:{node.lineno}")
    assert named == []
