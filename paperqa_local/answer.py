"""From the model's raw text to a checked ``Answer``: the product's core guarantees live here.

- Citation markers are parsed in the forms small models write ([1], [1, 2], [1-3], [1][2])
  and rewritten as [1][2]; markers that point at no context are removed, never kept.
- Each sentence is scored against the passages it cites (embedding similarity blended with
  word overlap, with a penalty for numbers the passages do not contain) and flagged when
  the score is below ``support_threshold``. An uncited sentence that one passage clearly
  supports gets that passage's marker; otherwise it stays uncited and flagged.
- The cannot-answer sentinel, or an answer none of whose sentences is supported, becomes the
  plain "not answered by the indexed papers" response with the closest papers listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from paperqa_local.prompts import CANNOT_ANSWER
from paperqa_local.records import Answer, Context, Reference, SentenceCheck
from paperqa_local.text import content_words, numbers, split_sentences

NOT_ANSWERED_TEXT = "The indexed papers do not answer this question."
_VERDICT = re.compile(r"^\W*(?:yes|no|maybe)\b", re.IGNORECASE)
_VERDICT_WORDS = frozenset({"yes", "no", "maybe"})
_MARKER = re.compile(r"\s*\[(\s*\d+(?:\s*(?:,|;|-|–|and)\s*\d+)*\s*)\]")
_SENTINEL = re.compile(
    re.escape(CANNOT_ANSWER).replace(r"\ ", r"[\s_]*")
    + r"|\b(?:the )?(?:passages|context|papers) (?:do(?:es)? not|don't) (?:answer|contain|provide|mention)",
    re.IGNORECASE,
)


def parse_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Canonicalise markers to [n][m]; drop numbers not in ``valid``. Returns (text, cited in order)."""
    cited: list[int] = []

    def repl(m: re.Match[str]) -> str:
        nums: list[int] = []
        for part in re.split(r"\s*(?:,|;|and)\s*", m.group(1).strip()):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                lo, hi = int(bounds[0]), int(bounds[1])
                nums.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else [lo, hi])
            elif part.isdigit():
                nums.append(int(part))
        good = [n for n in dict.fromkeys(nums) if n in valid]
        cited.extend(n for n in good if n not in cited)
        return "".join(f"[{n}]" for n in good)

    out = _MARKER.sub(lambda m: (" " + repl(m)) if repl(m) else "", text)
    out = re.sub(r"\s+([.,;:!?])", r"\1", out)
    out = re.sub(r"(\])\s+(\[)", r"\1\2", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip(), cited


def is_cannot_answer(text: str) -> bool:
    """True when the model wrote the sentinel (or a plain paraphrase of it) instead of an answer."""
    head = text.strip()[:160]
    return bool(_SENTINEL.search(head)) or not head


def support_score(sentence: str, passages: list[str], sentence_vec: np.ndarray, passage_vecs: np.ndarray,
                  question_words: frozenset[str] = frozenset()) -> float:
    """How well the cited passages back the sentence, 0..1.

    Only what the sentence adds to the question counts for the word overlap: a small model
    asked about something the papers lack tends to restate the question and cite a passage,
    and those words match the passage without being supported by it. A yes/no/maybe verdict
    that restates a yes/no question is the exception: it asserts the question's claim, so all
    of its words must be found in the passages.
    """
    if not passages:
        return 0.0
    cos = float(np.max(passage_vecs @ sentence_vec)) if len(passage_vecs) else 0.0
    pool = set().union(*(content_words(p) for p in passages))
    words = content_words(sentence)
    verdict = bool(_VERDICT.match(sentence))
    if verdict:
        words -= _VERDICT_WORDS  # "yes" is what the sentence decides, not a fact to find in a passage
    novel = words - question_words
    if not novel:
        if not (verdict and words):  # nothing beyond the question itself: not an answer
            return round(0.5 * min(max(cos, 0.0), 1.0) * 0.5, 4)
        # "Yes, <the question's claim>" answers a yes/no question: the passages must hold the whole claim
        novel = words
    lexical = len(novel & pool) / len(novel)
    score = 0.5 * max(cos, 0.0) + 0.5 * lexical
    missing_numbers = numbers(sentence) - set().union(*(numbers(p) for p in passages))
    if missing_numbers:
        score *= 0.5
    return round(min(score, 1.0), 4)


def build_answer(
    question: str,
    raw: str,
    contexts: list[Context],
    embed: Callable[[list[str]], np.ndarray],
    support_threshold: float,
    **fields: object,
) -> Answer:
    """Turn raw model text into an ``Answer`` with checked sentences and references."""
    if not contexts or is_cannot_answer(raw):
        return not_answered(question, contexts, **fields)
    by_number = {c.number: c for c in contexts}
    text, _ = parse_markers(raw, set(by_number))
    sentences = [s for s in split_sentences(text) if _MARKER.sub("", s).strip(" .")]
    if not sentences:
        return not_answered(question, contexts, **fields)

    bare = [_MARKER.sub("", s).strip() for s in sentences]
    context_sents = [split_sentences(c.text) or [c.text] for c in contexts]
    flat = [s for group in context_sents for s in group]
    vecs = embed(bare + flat)
    sent_vecs, flat_vecs = vecs[: len(bare)], vecs[len(bare) :]
    spans: dict[int, tuple[int, int]] = {}
    offset = 0
    for ctx, group in zip(contexts, context_sents, strict=True):
        spans[ctx.number] = (offset, offset + len(group))
        offset += len(group)

    question_words = frozenset(content_words(question))

    def score(i: int, nums: list[int]) -> float:
        rows = np.concatenate([np.arange(*spans[n]) for n in nums]) if nums else np.array([], dtype=int)
        passages = [f"{by_number[n].chunk.title}. {by_number[n].text}" for n in nums]
        return support_score(bare[i], passages, sent_vecs[i], flat_vecs[rows], question_words)

    checks: list[SentenceCheck] = []
    rebuilt: list[str] = []
    for i, sentence in enumerate(sentences):
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        support = score(i, cited) if cited else 0.0
        if support < support_threshold:
            # the model may have cited the wrong passage or none: attach the one that clearly supports it
            best_n, best_s = max(((n, score(i, [n])) for n in by_number), key=lambda t: t[1])
            if best_s >= support_threshold and best_s > support + 0.1:
                sentence = _with_marker(sentence, best_n)
                cited, support = [best_n], best_s
        checks.append(SentenceCheck(text=sentence, citations=cited, support=support, supported=support >= support_threshold))
        rebuilt.append(sentence)

    if not any(c.supported for c in checks):
        return not_answered(question, contexts, **fields)
    order = list(dict.fromkeys(n for c in checks for n in c.citations))
    return Answer(
        question=question,
        text=" ".join(rebuilt),
        contexts=contexts,
        references=[_reference(by_number[n]) for n in order],
        sentences=checks,
        **fields,  # type: ignore[arg-type]
    )


def not_answered(question: str, contexts: list[Context], **fields: object) -> Answer:
    """The plain response when the evidence does not answer: say so, list the closest papers."""
    closest = list(dict.fromkeys(c.chunk.title for c in sorted(contexts, key=lambda c: -c.relevance)))[:3]
    text = NOT_ANSWERED_TEXT
    if closest:
        text += " The closest papers are: " + "; ".join(f'"{t}"' for t in closest) + "."
    return Answer(question=question, text=text, contexts=contexts, cannot_answer=True, closest_papers=closest,
                  **fields)  # type: ignore[arg-type]


def _with_marker(sentence: str, number: int) -> str:
    body = re.sub(r"\s*\[\d+\]", "", sentence).rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    body = body[:-1] if end else body
    return f"{body} [{number}]{end}"


def _reference(ctx: Context) -> Reference:
    c = ctx.chunk
    return Reference(number=ctx.number, paper_id=c.paper_id, title=c.title, location=c.location, source=c.source,
                     authors=c.authors, date=c.date, url=c.url, passage=ctx.text)
