"""A yes/no question whose scored verdict stands but whose prose fails the checks: the verdict, quoted.

The 1.5B model often answers "Yes, X improves Y [1]": the question restated as a claim, which
the passage supports only in other words, so the sentence check fails and the answer would
become "not answered" although the evidence passed the answerability decision and the verdict
was scored from the model's probabilities (``verdicts.py``). The answer is then the verdict
followed by the evidence sentences that bear most on the question, verbatim with their markers:
nothing in it is the model's wording, so nothing in it can be misattributed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from paperqa_local.claim_verification import evidence_sentences
from paperqa_local.denial import denying_sentence
from paperqa_local.evidence import Evidence
from paperqa_local.results import Answer, Reference, SentenceCheck

_VERDICT_OPENING = re.compile(r"^\W*(?:yes|no|maybe)\b", re.IGNORECASE)


def opens_with_verdict(raw: str) -> bool:
    """The model itself answered yes, no or maybe ("Does X pair A or B?" is a choice, answered otherwise)."""
    return bool(_VERDICT_OPENING.match(raw))


def verdict_answer(question: str, evidence: Evidence, embed: Callable[[list[str]], np.ndarray],
                   **fields: Any) -> Answer | None:
    """"Yes: <best sentence> [n]. <next> [m]." from the scored verdict in ``fields["verdict"]`` (the answer's
    other fields come along); None without a verdict or a sentence to quote."""
    verdict = fields.get("verdict") or {}
    quotes = evidence_sentences(question, evidence, embed)
    if not quotes or not verdict.get("label"):
        return None
    checks = []
    for i, q in enumerate(quotes):
        body = q.sentence.strip().rstrip(".")
        text = f"{verdict['label'].capitalize()}: {body} [{q.number}]." if i == 0 else f"{body} [{q.number}]."
        checks.append(SentenceCheck(text=text, citations=[q.number], support=1.0, supported=True, quoted=True))
    by_number = {c.number: c for c in evidence.contexts}
    numbers = list(dict.fromkeys(q.number for q in quotes))
    return Answer(question=question, text=" ".join(c.text for c in checks), contexts=evidence.contexts,
                  references=[Reference.of(by_number[n]) for n in numbers], sentences=checks, **fields)


def denial_answer(question: str, evidence: Evidence, embed: Callable[[list[str]], np.ndarray],
                  **fields: Any) -> Answer | None:
    """"No: <the sentence that states an asked term as not so> [n]." (``denial.py``), the verdict in
    ``fields`` set to "no" and marked as read from that sentence; None when no top evidence sentence denies."""
    found = denying_sentence(question, evidence, embed)
    if found is None:
        return None
    quote, terms = found
    scored = fields.get("verdict") or {}  # the model's own verdict stays readable beside the rule's
    verdict = {**scored, "label": "no", "decided_by": "denial", "denied": terms, "scored_label": scored.get("label")}
    text = f"No: {quote.sentence.strip().rstrip('.')} [{quote.number}]."
    check = SentenceCheck(text=text, citations=[quote.number], support=1.0, supported=True, quoted=True)
    context = next(c for c in evidence.contexts if c.number == quote.number)
    return Answer(question=question, text=text, contexts=evidence.contexts, references=[Reference.of(context)],
                  sentences=[check], **{**fields, "verdict": verdict})
