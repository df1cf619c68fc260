"""What the outcomes say, as a picture: a `Summary` in, PNG bytes out.

Two panels, drawn headless with matplotlib's Agg canvas (no display, no pyplot state, so
it is safe in a worker thread): per intent, how its walks ended as one stacked bar; and the
funnel of the most walked intent, from started through each fix it reached to resolved.
matplotlib is imported when a chart is drawn, not before: the bot that never draws one
never pays for it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Final

from bot.stats import IntentStats, Summary
from bot.wording import Wording

if TYPE_CHECKING:
    from matplotlib.axes import Axes

WIDTH: Final = 1200
HEIGHT: Final = 1000
"""The chart's size in pixels (Telegram shows photos up to 1280 on a side unscaled)."""
_DPI: Final = 100

ENDINGS: Final = (
    ("resolved", "#2e9d5b"),
    ("handed_over", "#3b7dd8"),
    ("exhausted", "#e8a33d"),
    ("abandoned", "#d9534f"),
    ("other", "#b8bec6"),
)
"""How a walk ended, in the order the bars stack, with a colour (the legend's words are the
wording's `chart_ending_<ending>`)."""
MOST_INTENTS: Final = 12


def endings(stats: IntentStats) -> dict[str, int]:
    """An intent's walks by how they ended; the counts add up to `started`."""
    counted = {
        "resolved": stats.resolved,
        "handed_over": stats.handed_over,
        "exhausted": stats.exhausted,
        "abandoned": stats.abandoned,
    }
    counted["other"] = stats.started - sum(counted.values())
    return counted


def funnel(
    stats: IntentStats, fixes: dict[str, str], words: Wording | None = None
) -> list[tuple[str, int, int]]:
    """(label, walks, resolved there) from started, through each fix reached (most reached
    first), to resolved."""
    words = words or Wording()
    stages = [(words.chart_started, stats.started, 0)]
    for fix, reached in sorted(stats.reached.items(), key=lambda kv: (-kv[1], kv[0])):
        stages.append((fixes.get(fix, fix), reached, stats.resolved_by_fix[fix]))
    stages.append((words.chart_resolved, stats.resolved, stats.resolved))
    return stages


def most_walked(walked: list[IntentStats]) -> IntentStats:
    """The intent the funnel shows: the most walked of those whose walks went through more
    than one fix (a one-fix funnel says nothing the bars do not), else the most walked."""
    return next((s for s in walked if len(s.reached) > 1), walked[0])


def outcomes_chart(
    summary: Summary,
    intents: dict[str, str],
    fixes: dict[str, str],
    period: str,
    words: Wording | None = None,
) -> bytes:
    """The chart as PNG bytes, WIDTH x HEIGHT pixels; `intents` and `fixes` name the ids,
    `words` says the rest (English when None)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    words = words or Wording()
    figure = Figure(figsize=(WIDTH / _DPI, HEIGHT / _DPI), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(words.chart_title.format(period=period), fontsize=15, fontweight="bold")
    walked = sorted(
        (s for s in summary.intents.values() if s.started),
        key=lambda s: (-s.started, s.topic),
    )
    if not walked:
        axes = figure.add_subplot()
        axes.axis("off")
        axes.text(0.5, 0.5, words.chart_no_walks, ha="center", va="center", fontsize=14)
    else:
        top, bottom = figure.subplots(2, 1, height_ratios=[3, 2])
        _endings_panel(top, walked[:MOST_INTENTS], intents, words)
        _funnel_panel(bottom, most_walked(walked), intents, fixes, words)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()


def _name(
    topic: str, intents: dict[str, str], words: Wording, fixes: dict[str, str] | None = None
) -> str:
    if topic.startswith("fix:"):
        fix = topic.removeprefix("fix:")
        return words.chart_one_fix.format(fix=(fixes or {}).get(fix, fix))
    return _short(intents.get(topic, topic))


def _short(label: str, most: int = 38) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def _endings_panel(
    axes: Axes, walked: list[IntentStats], intents: dict[str, str], words: Wording
) -> None:
    labels = [_name(s.topic, intents, words) for s in walked]
    counts = [endings(s) for s in walked]
    rows = range(len(walked))
    left = [0] * len(walked)
    for ending, colour in ENDINGS:
        widths = [c[ending] for c in counts]
        legend = getattr(words, f"chart_ending_{ending}")
        axes.barh(rows, widths, left=left, color=colour, label=legend, height=0.7)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for row, total in zip(rows, left, strict=True):
        axes.text(total, row, f" {total}", va="center", fontsize=10)
    axes.set_yticks(list(rows), labels)
    axes.invert_yaxis()
    axes.set_xlabel(words.chart_walks)
    axes.set_title(words.chart_endings_title, loc="left")
    axes.legend(loc="lower right", fontsize=9, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max(left) * 1.12 + 1)


def _funnel_panel(
    axes: Axes,
    stats: IntentStats,
    intents: dict[str, str],
    fixes: dict[str, str],
    words: Wording,
) -> None:
    stages = funnel(stats, fixes, words)
    rows = range(len(stages))
    walks = [n for _, n, _ in stages]
    here = [r for _, _, r in stages]
    axes.barh(rows, walks, color="#c9d6e8", height=0.7, label=words.chart_reached)
    axes.barh(rows, here, color="#2e9d5b", height=0.7, label=words.chart_resolved_here)
    for row, total in zip(rows, walks, strict=True):
        share = f" ({total / walks[0]:.0%})" if walks[0] else ""
        axes.text(total, row, f" {total}{share}", va="center", fontsize=10)
    axes.set_yticks(list(rows), [_short(label) for label, _, _ in stages])
    axes.invert_yaxis()
    axes.set_xlabel(words.chart_walks)
    most = _name(stats.topic, intents, words, fixes)
    axes.set_title(words.chart_funnel_title.format(topic=most), loc="left")
    axes.legend(loc="lower right", fontsize=9, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max(walks) * 1.2 + 1)
