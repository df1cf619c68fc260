"""A map of each walk, for content authors: Mermaid flowchart text, which GitHub and most
Markdown viewers draw (`fixbot map`, `docs/maps.md`).

An intent's map is its fixes in the order walked; each fix is a box of its steps, joined as
the walk goes (a question's answers as labelled arrows), a caution and a link marked on
their step, and each fix's end asking "did that fix it?": yes ends the walk, no goes on to
the next fix, and after the last one a person (with a staff desk) or the support link. Pure: a catalog in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.catalog import END, Catalog, Fix, Intent

_UNSAFE = re.compile(r'["<>{}\[\]|#`]')


def _text(value: str, most: int = 60) -> str:
    """A label Mermaid reads as plain text: no quotes, brackets or markup, one line."""
    plain = _UNSAFE.sub("", " ".join(value.replace("**", "").split()))
    return plain if len(plain) <= most else plain[: most - 1] + "…"


def _node(fix: Fix, step_id: str) -> str:
    return f"{fix.id}__{step_id}"


def fix_lines(fix: Fix, done: str, indent: str = "  ") -> list[str]:
    """A fix's steps as a subgraph; every way out of its last steps leads to `done`."""
    lines = [f'{indent}subgraph fix_{fix.id}["{_text(fix.title)}"]']
    for step in fix.steps:
        marks = []
        if step.caution:
            marks.append("⚠️ ")
        if step.link:
            marks.append("🔗 ")
        label = "".join(marks) + _text(step.text)
        shape = ('{"', '"}') if step.is_question else ('["', '"]')
        lines.append(f"{indent}  {_node(fix, step.id)}{shape[0]}{label}{shape[1]}")
    lines.append(f"{indent}end")
    for step in fix.steps:
        here = _node(fix, step.id)
        if step.is_question:
            for choice in step.choices:
                there = done if choice.next == END else _node(fix, choice.next)
                lines.append(f'{indent}{here} -->|"{_text(choice.label, 40)}"| {there}')
            continue
        after = fix.step_after(step.id)
        lines.append(f"{indent}{here} --> {_node(fix, after) if after else done}")
    return lines


def intent_map(intent: Intent, catalog: Catalog, order: Iterable[str] | None = None) -> str:
    """The intent's walk as a Mermaid flowchart: its fixes in `order` (the authored one)."""
    plan = list(order or intent.fixes)
    lines = ["flowchart TD", f'  start(["{_text(intent.title)}"])']
    lines.append(f"  start --> {_node(catalog.fix(plan[0]), catalog.fix(plan[0]).first_step.id)}")
    for index, fix_id in enumerate(plan):
        fix = catalog.fix(fix_id)
        asked = f"asked_{index}"
        lines += fix_lines(fix, asked)
        lines.append(f'  {asked}{{"Did that fix it?"}}')
        lines.append(f'  {asked} -->|"yes"| fixed(["Fixed"])')
        if index + 1 < len(plan):
            following = catalog.fix(plan[index + 1])
            lines.append(f'  {asked} -->|"no"| {_node(following, following.first_step.id)}')
        else:
            lines.append(f'  {asked} -->|"no"| tried(["Every fix tried: a person, or support"])')
    return "\n".join(lines) + "\n"


def fix_map(fix: Fix) -> str:
    """One fix on its own (as `/fix <topic>` walks it)."""
    lines = ["flowchart TD", f"  start([Start]) --> {_node(fix, fix.first_step.id)}"]
    lines += fix_lines(fix, "asked")
    lines.append('  asked{"Did that fix it?"}')
    return "\n".join(lines) + "\n"


def content_maps(catalog: Catalog) -> str:
    """Every intent's map, as one Markdown page (`docs/maps.md`)."""
    parts = [
        "# Maps of the walks",
        "",
        "Written by `fixbot map --markdown`; a test writes it again from the content, so it",
        "never goes stale. ⚠️ marks a step with a caution, 🔗 one with a link.",
    ]
    for intent in catalog.intents.values():
        parts += ["", f"## {intent.title} (`{intent.id}`)", "", "```mermaid"]
        parts.append(intent_map(intent, catalog).rstrip("\n"))
        parts.append("```")
    return "\n".join(parts) + "\n"
