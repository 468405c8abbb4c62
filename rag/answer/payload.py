"""An answer as JSON: the body of POST /v1/ask (api/ask.py) and of ``vraagbaak ask --json`` (rag/cli/ask.py).

Plain data only, no web framework, so the command line gives exactly what the API gives.
"""

from __future__ import annotations

import uuid
from typing import Any


def passage_dict(passage: Any) -> dict:
    return passage.to_dict() if hasattr(passage, "to_dict") else dict(passage)


def citations(passages, related: bool = False, date_labels: dict | None = None) -> list[dict]:
    """Numbered sources: item n is the passage the answer's [n] markers point to. ``related``: the
    answer abstained, so these are the closest passages, shown as related and not as the answer.
    ``date_labels``: source n → the date label its document has in the answer's text (rag/answer/dating.py)."""
    labels = date_labels or {}
    return [{"n": n, **passage_dict(p), "related": related, "date_label": labels.get(n)}
            for n, p in enumerate(passages or (), start=1)]


def personal_referral(answer) -> dict | None:
    """The own-case referral of an answer with the line to show (rag/answer/referral.personal_line), or None."""
    from rag.answer.referral import personal_line

    referral = getattr(answer, "personal_referral", None)
    if referral is None or answer.abstained:
        return None
    return {**referral.to_dict(), "text": personal_line(referral)}


def ask_payload(answer) -> dict:
    """The /v1/ask response for an engine Answer (rag.types.Answer), with a new answer_id."""
    return {
        "answer_id": uuid.uuid4().hex,
        "question": answer.question,
        "answer": answer.text,
        "as_of": getattr(answer, "as_of", None),
        "citations": citations(answer.passages, related=bool(answer.abstained),
                               date_labels=getattr(answer, "date_labels", None)),
        "mode_used": answer.mode_used,
        "abstained": bool(answer.abstained),
        "grounded": bool(answer.grounded),
        "unsupported_sentences": list(answer.unsupported_sentences or ()),
        "sentences": [{"text": s.text, "citations": list(s.citations), "supported": bool(s.supported),
                       "score": round(float(s.score), 4), "reasons": list(s.reasons),
                       "how": getattr(s, "how", None), "source": getattr(s, "source", None)}
                      for s in answer.sentences or ()],
        "fallback_reason": answer.fallback_reason,
        "language": answer.language,
        "referral": answer.referral.to_dict() if getattr(answer, "referral", None) else None,
        "personal_referral": personal_referral(answer),
        "llm": {"model": answer.llm_model, "error": answer.llm_error},
        "took_ms": round(float(answer.took_ms), 1),
    }
