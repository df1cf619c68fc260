"""The README fits a screen or two and every page it links to is there: what a newcomer reads
first says what fixbot is, the two commands, what `make run` opens and how to connect."""

from __future__ import annotations

import re

from bot.settings import REPOSITORY_ROOT

README = REPOSITORY_ROOT / "README.md"
PAGES = sorted((REPOSITORY_ROOT / "docs").glob("*.md"))


def test_the_readme_is_short_and_says_the_first_things_first() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    first_screen = "\n".join(text.splitlines()[:60])
    for must in ("make run", "make test", "playground", "@fixbot_local_bot", "BotFather"):
        assert must in first_screen, must
    assert "docs/playground.png" in text


def test_every_link_between_the_readme_and_the_docs_leads_somewhere() -> None:
    for page in [README, *PAGES]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to a missing {target}"


def test_no_page_says_a_missing_token_starts_a_terminal_chat() -> None:
    for path in [README, REPOSITORY_ROOT / ".env.example", *PAGES]:
        text = path.read_text(encoding="utf-8").lower()
        assert "terminal chat instead" not in text, path.name
        assert "starts a chat in your terminal" not in text, path.name


def test_every_docs_page_is_linked_from_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for page in PAGES:
        assert f"docs/{page.name}" in text, page.name
