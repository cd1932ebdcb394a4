"""Metric functions: plain inputs (ranked ids, texts) in, floats out, so each is testable by hand.

Ranking metrics follow BEIR / trec_eval: nDCG with linear gain ``rel / log2(rank + 1)``,
recall = found relevant / all relevant, MRR = 1 / rank of the first relevant document
(0 when none is retrieved).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from paperqa_local.evaluation.datasets import LABELS
from paperqa_local.text_rules import MARKER_GROUP, SPELLED_NUMBERS, split_sentences

# ----------------------------------------------------------------------------- ranking


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first ``k`` ids."""
    dcg = sum(qrels.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted((r for r in qrels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(rank + 2) for rank, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant ids found in the first ``k``."""
    rel = set(relevant)
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str], k: int | None = None) -> float:
    """1 / rank of the first relevant id within the first ``k`` (all when ``None``)."""
    rel = set(relevant)
    for rank, doc in enumerate(ranked[:k] if k else ranked, start=1):
        if doc in rel:
            return 1.0 / rank
    return 0.0


def dedupe(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order (chunk hits -> one entry per paper)."""
    return list(dict.fromkeys(ids))


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default), 0.0 for no values."""
    if not values:
        return 0.0
    data = sorted(values)
    pos = (len(data) - 1) * p / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``; ``None`` when there are none."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


# ----------------------------------------------------------------------------- answers
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def normalize(text: str) -> str:
    """Lower case, accents and punctuation dropped, citation markers removed."""
    text = unicodedata.normalize("NFKD", MARKER_GROUP.sub(" ", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_TOKEN.findall(text.replace(",", "")))


def _stem(word: str) -> str:
    """Crude plural folding so "adapters" matches "adapter" (not a linguistic stemmer)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


#: Number words as digits; "hundred" and "thousand" scale a number instead (``_SCALE``).
_SPELLED = {w: d for w, d in SPELLED_NUMBERS.items() if w not in ("hundred", "thousand")}
_SCALE = re.compile(r"\b(\d+(?:\.\d+)?) ?(thousand|million|billion|trillion|k|m|b|t)\b")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)[kmbt]")


def _numbers_as_digits(text: str) -> str:
    """A normalised text with its numbers written one way: "eight" as "8", "400 million" as "400m" (how an
    answer wrote a key fact is not what the fact is)."""
    text = " ".join(_SPELLED.get(w, w) for w in text.split())
    return _SCALE.sub(lambda m: m.group(1) + m.group(2)[0], text)


def fact_present(fact: str, answer: str) -> bool:
    """Every word of ``fact`` (normalised, numbers as digits) occurs in ``answer``."""
    words = {_stem(w) for w in _numbers_as_digits(normalize(fact)).split()}
    have = {_stem(w) for w in _numbers_as_digits(normalize(answer)).split()}
    have |= {m.group(1) for w in have if (m := _SCALED.fullmatch(w))}  # "435 million" states 435
    return bool(words) and words <= have


def key_fact_score(facts: Sequence[str], answer: str) -> float | None:
    """Fraction of the key facts present in the answer (``None`` when the item has none)."""
    if not facts:
        return None
    return sum(fact_present(f, answer) for f in facts) / len(facts)


_LABEL_WORD = re.compile(r"\b(yes|no|maybe)\b", re.IGNORECASE)


def parse_label(text: str) -> str | None:
    """The yes/no/maybe an answer starts with (or states in its first sentence), else ``None``."""
    body = normalize(text)
    if not body:
        return None
    first = body.split()[0]
    if first in LABELS:
        return first
    if first in ("possibly", "perhaps", "unclear", "uncertain", "partially", "partly"):
        return "maybe"
    head = next(iter(split_sentences(MARKER_GROUP.sub("", text))), "")
    found = _LABEL_WORD.findall(head)
    return found[0].lower() if len(set(w.lower() for w in found)) == 1 else None


def citation_scores(cited: Sequence[str], gold: Sequence[str]) -> tuple[float | None, float | None]:
    """(recall, precision) of cited document keys against the gold ones; ``None`` where undefined."""
    cited_set, gold_set = set(cited), set(gold)
    recall = len(cited_set & gold_set) / len(gold_set) if gold_set else None
    precision = len(cited_set & gold_set) / len(cited_set) if cited_set else None
    return recall, precision


def title_key(title: str) -> str:
    """How gold titles are compared with cited ones: normalised words."""
    return normalize(title)
