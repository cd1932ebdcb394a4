"""Multi-part questions: find the parts, so each part gets its own passages and its own answer.

A question that asks two things ("What X does A use, and how many Y does B report?") is retrieved
as one vector, which lands between the two papers; the passage for the second part then scores
below the evidence cut and is never shown to the model. Splitting the question (rules, not a model:
it costs nothing and cannot invent a part) lets retrieval and evidence selection look for each part,
while the whole question still decides whether the papers answer at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from paperqa_local.records import Hit

_WH = r"(?:what|which|how|when|where|who|whom|whose|why|after|on which|in which|at which|for which|does|do|is|are)"
#: ", and what …" / "; how …" / "? Which …": a new clause that asks something else
_CLAUSE = re.compile(rf"(?:,\s*(?:and|but)\s+|;\s*(?:and\s+)?|\?\s+(?:and\s+)?)(?={_WH}\b)", re.IGNORECASE)
#: "…, one with A and one with B": the two things the head asks about
_ONE = re.compile(r",?\s*\bone\s+((?:with|by|for|that|which|from|in|on|using|dropping|removing|reducing|"
                  r"introduced|proposed|based)\b.*?)\s*(?:,?\s*and\s+(?:the\s+)?(?:one|another|other)\s+)(.+)$",
                  re.IGNORECASE)
MIN_WORDS = 3


def question_parts(question: str) -> list[str]:
    """The parts a question asks, each a question of its own; ``[]`` when it asks one thing."""
    text = " ".join(question.split())
    clauses = [c.strip(" ,;") for c in _CLAUSE.split(text) if c and c.strip(" ,;?")]
    parts: list[str] = []
    for clause in clauses:
        for piece in _one_and_one(clause):
            parts.extend(_same_preposition(piece))
    parts = [_as_question(p) for p in parts if len(p.split()) >= MIN_WORDS]
    return parts if len(parts) > 1 else []


def _one_and_one(clause: str) -> list[str]:
    """"Which two methods do X, one with A and one with B" -> "... X with A", "... X with B"."""
    match = _ONE.search(clause)
    if not match:
        return [clause]
    head = clause[: match.start()].strip(" ,:")
    first, second = match.group(1).strip(" ,"), match.group(2).strip(" ,?")
    second_rest = second.split(", ", 1)
    tail = second_rest[1] if len(second_rest) > 1 else ""
    second = second_rest[0]
    out = [f"{head} {first}", f"{head} {second}"]
    if tail:
        out.append(tail)
    return out


_PREP = re.compile(r"\s+and\s+(with|of|in|on|for|from|by)\s+", re.IGNORECASE)


def _same_preposition(clause: str) -> list[str]:
    """"accuracy does it reach with A and with B" -> "... reach with A", "... reach with B"."""
    match = _PREP.search(clause)
    if not match:
        return [clause]
    prep = match.group(1).lower()
    start = clause.lower().rfind(f" {prep} ", 0, match.start())
    if start < 0:
        return [clause]
    head, first = clause[:start], clause[start + 1: match.start()]
    second = f"{prep} {clause[match.end():]}"
    return [f"{head} {first}", f"{head} {second}"]


def _as_question(part: str) -> str:
    part = part.strip(" ,;")
    return part if part.endswith("?") else f"{part}?"


def interleave(rankings: Sequence[Sequence[Hit]], limit: int) -> list[Hit]:
    """Hits from several rankings taken in turn (best of each first), each chunk once, at most ``limit``."""
    out: list[Hit] = []
    seen: set[str] = set()
    for rank in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank].chunk.id not in seen:
                seen.add(ranking[rank].chunk.id)
                out.append(ranking[rank])
                if len(out) >= limit:
                    return out
    return out
