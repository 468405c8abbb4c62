"""Abstention on yes/no questions, answered by the documents or not, from `python -m eval run` output.

    .venv/bin/python scripts/report_yesno.py reports/run-probe2 data/eval/probe2.jsonl [more RUN FILE pairs]

A question is yes/no when its file says so (``yesno``, as in probe2.jsonl) or, without that field, when its
last sentence opens with a finite verb or a question particle (nl/en verbs, "czy", "чи", "هل", Turkish
"mı/mi/mu/mü"): the rule is printed with the figures. Own-case questions (``own_case``) are counted too.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_VERB_FIRST = re.compile(
    r"^(is|zijn|ben|bent|mag|mogen|moet|moeten|kan|kun|kunnen|heeft|hebben|heb|krijg|krijgt|krijgen|wordt|worden|"
    r"word|gaat|gaan|komt|komen|bestaat|bestaan|blijft|blijven|geldt|gelden|klopt|weet|zal|zullen|wil|wilt|willen|"
    r"hoeft|hoeven|staat|staan|telt|tellen|are|am|can|could|do|does|did|will|would|should|must|has|have|had|was|"
    r"were|may|might|czy|чи)\b", re.I)
_PARTICLE = re.compile(r"\s(mı|mi|mu|mü)(\s|\?|$)|^هل|klopt\s+(dat|het)\??$", re.I)


def yes_no(question: str) -> bool:
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", question.strip()) if p.strip()]
    last = next((p for p in reversed(parts) if p.endswith("?")), parts[-1] if parts else "")
    return bool(_VERB_FIRST.match(last) or _PARTICLE.search(last))


def report(run: Path, questions: Path) -> dict:
    asked = {q["id"]: q for q in map(json.loads, filter(None, questions.read_text(encoding="utf-8").splitlines()))}
    records = [json.loads(line) for line in (run / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    groups: dict[str, list] = {}
    for r in records:
        q = asked[r["id"]]
        yn = q["yesno"] if "yesno" in q else yes_no(q["question"])
        name = ("yes/no" if yn else "other") + (", answerable" if q["answerable"] else ", not answered by the documents")
        groups.setdefault(name, []).append((q, r))
        if q.get("own_case"):
            groups.setdefault("own case" + (", answerable" if q["answerable"] else ", unanswerable"), []).append((q, r))
    out = {}
    for name, items in sorted(groups.items()):
        refused = [q["id"] for q, r in items if r["answer"]["abstained"]]
        out[name] = {"questions": len(items), "abstained": len(refused), "ids": refused}
    return out


def main() -> None:
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for run, questions in zip(args[::2], args[1::2]):
        print(f"{run} ({questions}):")
        for name, s in report(Path(run), Path(questions)).items():
            print(f"  {name}: {s['abstained']} of {s['questions']} abstained  {' '.join(s['ids'])}")


if __name__ == "__main__":
    main()
