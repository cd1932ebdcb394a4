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

#: The words that ask: a question word, "on which" …; clauses may also open with "after" or an auxiliary.
_ASK = r"(?:what|which|how|when|where|who|whom|whose|why)"
_WH_AND = rf"(?:{_ASK}|on which|in which|at which|for which)"
_WH = rf"(?:{_WH_AND}|after|does|do|is|are)"
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
    parts = [_as_question(p) for p in parts if len(p.split()) >= MIN_WORDS][:MAX_PARTS]
    return parts if len(parts) > 1 else []


#: Parts one question may ask at most (each costs a retrieval).
MAX_PARTS = 6
#: Words a clause that asks something opens with (an instruction counts: "Compare …; which …?").
_ASKING_OPENER = re.compile(r"(?:does|do|is|are|can|could|was|were|has|have|did|should|will|would|please|compare|describe|explain|"
                            r"list|name|give|summari[sz]e|tell|state|report)\b", re.IGNORECASE)
_WH_WORD = re.compile(rf"\b{_ASK}\b", re.IGNORECASE)


def _is_premise(clause: str, text: str) -> bool:
    """"TiC and ConvShareViT both bring convolution into ViT self-attention; what module …?": the first clause
    states what the question takes as given (it ends at ";", asks nothing: no question word anywhere, no asking
    opener), so it is no part. "In BERT, what is masked; how …?" asks something and stays a part."""
    closed = text.startswith(clause) and text[len(clause):].lstrip(" ,").startswith(";")
    return closed and not _WH_WORD.search(clause) and not _ASKING_OPENER.match(clause)


#: A wh-word opening a second question after a bare "and": "… introduce and what hardware does …".
_AND_WH = re.compile(rf"\s+and\s+(?={_WH_AND}\s+\w+\s+\w+)", re.IGNORECASE)
_AUX = r"(?:does|do|did|is|are|was|were|has|have|had|can|could|will|would)"
#: A first question with a verb of its own ("… does TiC introduce", "… were evaluated", "… one removes …");
#: "What learning rate schedule and how many epochs were used …?" asks both things of one verb, so it stays whole.
_VERB = re.compile(rf"\b{_AUX}\b|\b(?:one|it)\s+\w+s\b", re.IGNORECASE)
#: A second piece that is a question of its own ("how was it evaluated", "what dataset did it use"), not a
#: clause continuing the first one's head ("how they are sampled").
_OWN_QUESTION = re.compile(rf"^{_WH_AND}(?:\s+(?!(?:they|it|we|he|she|you|i|this|these|those)\b)[\w-]+){{0,2}}\s+{_AUX}\b",
                           re.IGNORECASE)
#: What leads the question before its first asking word ("For nucleus segmentation, ", "Among A and B, ").
_LEAD = re.compile(rf"^([^?;]{{3,120}}?,\s+)(?=(?:{_ASK}|on|in|at|for|by)\b)", re.IGNORECASE)


def _and_asks(clause: str) -> list[str]:
    """"… what module does TiC introduce and what hardware does ConvShareViT target" -> both questions;
    "… in how stitches are made and how they are sampled" -> "… in how stitches are made", "… in how they are
    sampled"; the lead ("For nucleus segmentation, ") goes with each. A piece too short to ask anything
    ("which metrics") keeps the clause whole."""
    pieces: list[str] = []
    rest = clause
    while len(pieces) < MAX_PARTS and (match := _AND_WH.search(rest)) and _VERB.search(rest[: match.start()]):
        first, second = rest[: match.start()], rest[match.end():]
        lead = _LEAD.match(first)
        head = lead.group(1) if lead and not _WH_WORD.match(lead.group(1)) else ""
        wh = second.split()[0].lower()
        earlier = first.lower().rfind(f" {wh} ", len(head))
        if earlier > 0 and not _OWN_QUESTION.match(second):  # "… in how X and how Y": Y repeats the head
            head = first[: earlier + 1]
        pieces.append(first)
        rest = head + second
    pieces.append(rest)
    return pieces if all(len(p.split()) >= MIN_WORDS for p in pieces) else [clause]


#: "… A and B both/each …": the two things a premise says something about.
_PAIR = re.compile(r"^(?:both\s+)?([^,]+?)\s+and\s+([^,]+?)\s+(?:both|each|all|are|were|have|do)\b", re.IGNORECASE)
#: "each" standing for the premise's sides: the subject after a verb ("what problem does each address?", "what does
#: each use for …") or "each one" / "each of them"; not "each layer" ("what does each layer change?" asks about layers).
_EACH = re.compile(rf"\b({_AUX})\s+each\b(?:\s+(?:one|of them|of the two)\b|(?=\s*\?|\s+\S+\s*(?:\?|$)|\s+\S+\s+"
                   r"(?:in|on|for|to|with|from|by|at|as|about|a|an|the|its|their)\b))|\beach\s+(?:one|of them|of the two)\b",
                   re.IGNORECASE)


def _each_of(part: str, premise: str) -> list[str]:
    """"what problem does each address?" after "A and B both study …" -> one part about A, one about B."""
    each = _EACH.search(part) if premise else None
    pair = _PAIR.match(premise[:300]) if each else None
    if not each or not pair or any(re.search(r"\band\b|\bthat\b", side) for side in pair.groups()):
        return [part]
    verb = f"{each.group(1)} " if each.group(1) else ""
    return [f"{part[: each.start()]}{verb}{side.strip(' ,')}{part[each.end():]}" for side in pair.groups()]


#: "How do A and B change …?" with named sides; comparing verbs ask one thing about both, so they stay whole.
_SIDES = re.compile(r"^(how|why|where|when|what)\s+(do|did)\s+((?:[\w.+*'-]+\s+){0,3}?[\w.+*'-]+)\s+and\s+"
                    r"((?:[\w.+*'-]+\s+){0,3}?[\w.+*'-]+)\s+((?-i:(?!and\b|or\b)[a-z]+))\b(.*)$", re.IGNORECASE)
_COMPARING = {"compare", "differ", "relate", "contrast", "compete", "interact", "agree", "disagree", "both", "each",
              "together", "jointly", "overlap", "vary", "trade", "share", "diverge", "stack", "combine", "match"}
#: "… have in common", "… differ from each other": one thing asked of both sides.
_TOGETHER = re.compile(r"\b(?:in common|each other|one another|together|between|jointly|apart|same|differen)",
                       re.IGNORECASE)


def _each_side(text: str) -> list[str]:
    """"How do CenterMask and MAYOR change the mask branch …?" -> "How does CenterMask change …?", "How does MAYOR
    change …?": each named side gets its passages and its answer. Each side must be a name: every word of it
    (but "the", "of", "a", "an") has a capital or a digit, and no side holds another "and"."""
    match = _SIDES.match(text)
    if not match or match.group(5) in _COMPARING or _TOGETHER.search(match.group(6)):
        return []
    wh, aux, a, b, verb, rest = match.groups()
    if not all(_named(side) for side in (a, b)):
        return []
    aux = "does" if aux.lower() == "do" else aux
    return [f"{wh} {aux} {side} {verb}{rest}" for side in (a, b)]


def _named(side: str) -> bool:
    words = [w for w in side.split() if w.lower() not in {"the", "of", "a", "an"}]
    return bool(words) and all(re.search(r"[A-Z0-9]", word) for word in words) and "and" not in side.split()


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
