"""Plain rapidfuzz `extractOne` over the content's example phrases, judged like fixbot.

    python benchmarks/baseline.py ../shared/eval/real_dev.yaml

The baseline a generic fuzzy matcher gives: the intent of the closest example phrase when its
score reaches the cut-off, else nothing (it never asks). Printed with the same report as
`fixbot eval`, for WRatio and token_set_ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rapidfuzz import fuzz, process, utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.catalog import load_catalog
from bot.evaluation import Outcome, Report, load_cases
from bot.matcher import Candidate, Decision, Match
from bot.settings import REPOSITORY_ROOT

CUTOFF = 70


def main() -> None:
    cases = load_cases(Path(sys.argv[1]))
    catalog = load_catalog(REPOSITORY_ROOT)
    phrases = [(i.id, text) for i in catalog.intents.values() for text in i.examples]
    texts = [text for _, text in phrases]
    for name, scorer in (("WRatio", fuzz.WRatio), ("token_set_ratio", fuzz.token_set_ratio)):
        outcomes = []
        for case in cases:
            found = process.extractOne(
                case.text,
                texts,
                scorer=scorer,
                processor=utils.default_process,
                score_cutoff=CUTOFF,
            )
            if found is None:
                match = Match(case.text, Decision.NONE, (), (), "under the cut-off")
            else:
                intent = phrases[found[2]][0]
                candidate = Candidate(intent, found[1] / 100, found[0], ())
                match = Match(case.text, Decision.MATCH, (candidate,), (), "", choices=(intent,))
            outcomes.append(Outcome(case, match))
        report = Report(outcomes)
        print(
            f"extractOne {name:<16} cut-off {CUTOFF}: helpful {report.helpful:.1%}, "
            f"off-topic rejected {report.off_topic_rejection:.1%}, "
            f"wrong walks {report.wrong_walks:.1%}"
        )


if __name__ == "__main__":
    main()
