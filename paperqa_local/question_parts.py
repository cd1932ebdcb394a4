"""Multi-part questions: find the parts, so each part gets its own passages and its own answer.

A question that asks two things ("What X does A use, and how many Y does B report?") is retrieved
as one vector, which lands between the two papers; the passage for the second part then scores
below the evidence cut and is never shown to the model. Splitting the question (rules, not a model:
it costs nothing and cannot invent a part) lets retrieval and evidence selection look for each part,
while the whole question still decides whether the papers answer at all.

Besides ", and what …" clauses: a second question after a bare "and" with a verb of its own ("what module
does TiC introduce and what hardware does ConvShareViT target?"), the question's lead going with each part
("For nucleus segmentation, …"); a premise before ";" ("A and B both …; what problem does each address?") is
no part, but its two sides make one part each; and "How do A and B change …?" with named sides asks about
each (comparing verbs, "have in common", ask one thing of both and stay whole).
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
    premise = clauses.pop(0) if len(clauses) > 1 and _is_premise(clauses[0], text) else ""
    parts: list[str] = []
    for clause in clauses:
        for piece in _one_and_one(clause):
            for asked in _and_asks(piece):
                parts.extend(_same_preposition(asked))
    parts = [p for part in parts for p in _each_of(part, premise)]
    if len(parts) == 1:
        parts = _each_side(parts[0]) or parts
    parts = [_as_question(p) for p in parts if len(p.split()) >= MIN_WORDS]
    return parts if len(parts) > 1 else []


#: Words a clause that asks something opens with (an instruction counts: "Compare …; which …?").
_ASKING_OPENER = re.compile(rf"(?:{_WH}|can|could|was|were|has|have|did|should|will|would|compare|describe|explain|"
                            r"list|name|give|summari[sz]e|tell|state|report)\b", re.IGNORECASE)


def _is_premise(clause: str, text: str) -> bool:
    """"TiC and ConvShareViT both bring convolution into ViT self-attention; what module …?": the first clause
    states what the question takes as given (closed by ";" and opening with no asking word), so it is no part."""
    return text[len(clause):].lstrip().startswith(";") and not _ASKING_OPENER.match(clause)


#: A wh-word opening a second question after a bare "and": "… introduce and what hardware does …".
_AND_WH = re.compile(r"\s+and\s+(?=(?:what|which|how|when|where|who|why|on which|in which|at which|for which)\s+\w+\s+\w+)",
                     re.IGNORECASE)
#: A first question with a verb of its own ("… does TiC introduce", "… one removes …"); "What learning rate
#: schedule and how many epochs were used …?" asks both things of one verb, so it stays whole.
_VERB = re.compile(r"\b(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would|\w+ed)\b"
                   r"|\b(?:one|it|that|which)\s+\w+s\b", re.IGNORECASE)
#: What leads the question before its first asking word ("For nucleus segmentation, ", "Among A and B, ").
_LEAD = re.compile(r"^([^?;]{3,120}?,\s+)(?=(?:what|which|how|when|where|who|why|on|in|at|for|by)\b)", re.IGNORECASE)


def _and_asks(clause: str) -> list[str]:
    """"… what module does TiC introduce and what hardware does ConvShareViT target" -> both questions;
    "… in how stitches are made and how they are sampled" -> "… in how stitches are made", "… in how they are
    sampled"; the lead ("For nucleus segmentation, ") goes with each."""
    match = _AND_WH.search(clause)
    if not match or not _VERB.search(clause[: match.start()]):
        return [clause]
    first, second = clause[: match.start()], clause[match.end():]
    wh = second.split()[0].lower()
    lead = _LEAD.match(first)
    head = lead.group(1) if lead else ""
    earlier = first.lower().rfind(f" {wh} ", len(head))
    if earlier > 0:  # the same asking word inside the first clause: the second repeats its head
        head = first[: earlier + 1]
    return [first] + _and_asks(head + second)


#: "… A and B both/each …": the two things a premise says something about.
_PAIR = re.compile(r"^(?:both\s+)?(.+?)\s+and\s+(.+?)\s+(?:both|each|all|are|were|have|do)\b", re.IGNORECASE)
_EACH = re.compile(r"\beach(?:\s+(?:one|of them|of the two))?\b", re.IGNORECASE)


def _each_of(part: str, premise: str) -> list[str]:
    """"what problem does each address?" after "A and B both study …" -> one part about A, one about B."""
    pair = _PAIR.match(premise) if premise and _EACH.search(part) else None
    if not pair:
        return [part]
    return [_EACH.sub(side.strip(" ,"), part, count=1) for side in pair.groups()]


#: "How do A and B change …?" with named sides; comparing verbs ask one thing about both, so they stay whole.
_SIDES = re.compile(r"^(how|why|where|when|what)\s+(do|did)\s+((?:[\w.+*'-]+\s+){0,3}?[\w.+*'-]+)\s+and\s+"
                    r"((?:[\w.+*'-]+\s+){0,3}?[\w.+*'-]+)\s+((?-i:[a-z]+))\b(.*)$", re.IGNORECASE)
_COMPARING = {"compare", "differ", "relate", "contrast", "compete", "interact", "agree", "disagree", "both", "each",
              "together", "jointly", "overlap", "vary", "trade"}

#: "… have in common", "… differ from each other": one thing asked of both sides.
_TOGETHER = re.compile(r"\b(?:in common|each other|one another|together|between|jointly|apart|same|differen)", re.I)


def _each_side(text: str) -> list[str]:
    """"How do CenterMask and MAYOR change the mask branch …?" -> "How does CenterMask change …?", "How does MAYOR
    change …?": each named side gets its passages and its answer. Sides must be names (a capital or a digit)."""
    match = _SIDES.match(text)
    if not match or match.group(5).lower() in _COMPARING or _TOGETHER.search(match.group(6)):
        return []
    wh, aux, a, b, verb, rest = match.groups()
    if not all(_named(side) for side in (a, b)):
        return []
    aux = "does" if aux.lower() == "do" else aux
    return [f"{wh} {aux} {side} {verb}{rest}" for side in (a, b)]


def _named(side: str) -> bool:
    return all(re.search(r"[A-Z0-9]", word) for word in side.split() if word.lower() not in {"the", "of", "a"})


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
