"""SciFact claim-verification metrics (Wadden et al., EMNLP 2020), on plain rows so each is checkable by hand.

A row holds one claim's gold and prediction:

- ``gold``: ``{doc_id: {"label": SUPPORT|CONTRADICT, "rationales": [[sentence index, ...], ...]}}``
  (empty for NOT_ENOUGH_INFO claims); ``label_gold``;
- ``label_pred``; ``pred_docs``: the abstracts the verdict's evidence sentences come from (none for
  NOT_ENOUGH_INFO); ``pred_sentences``: ``{doc_id: [abstract sentence index, ...]}``, best first.

Levels, as in the paper:

- claim: label accuracy and macro-F1 over the three labels;
- abstract, label only: a predicted (doc, label) is right when the doc is a gold evidence abstract with
  that label; label + rationale: also one gold rationale lies wholly within the first three predicted
  sentences of that abstract;
- sentence, selection + label: a predicted (doc, sentence) is right when the sentence belongs to a gold
  rationale all of whose sentences were predicted, and the label is right (selection only: label
  ignored). With one-sentence rationales (most of SciFact's) this is plain (doc, index) matching.

Precision is over predictions, recall over gold; F1 is 0 where precision + recall is 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paperqa_local.text_rules import split_sentences

LABELS = ("SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO")
NEI = "NOT_ENOUGH_INFO"
MAX_ABSTRACT_SENTENCES = 3  # the paper's cap on rationale sentences for abstract-level credit

Row = Mapping[str, Any]


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0.0 where undefined)."""
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "correct": correct, "predicted": predicted, "gold": gold}


# ----------------------------------------------------------------------------- claim level
def confusion(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """gold label -> predicted label -> count, every label present on both sides."""
    table = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for gold, pred in pairs:
        table.setdefault(gold, dict.fromkeys(LABELS, 0))
        table[gold][pred] = table[gold].get(pred, 0) + 1
    return table


def claim_scores(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Label accuracy, per-label precision/recall/F1 and their macro mean over (gold, predicted) pairs."""
    per_label = {}
    for label in LABELS:
        correct = sum(g == p == label for g, p in pairs)
        per_label[label] = prf(correct, sum(p == label for _, p in pairs), sum(g == label for g, _ in pairs))
    return {"claims": len(pairs),
            "accuracy": round(sum(g == p for g, p in pairs) / len(pairs), 4) if pairs else None,
            "macro_f1": round(sum(v["f1"] for v in per_label.values()) / len(LABELS), 4) if pairs else None,
            "per_label": per_label, "confusion": confusion(pairs)}


# ----------------------------------------------------------------------------- abstract and sentence level
def _predicted(row: Row) -> tuple[list[str], dict[str, list[int]]]:
    if row.get("label_pred") in (None, NEI):
        return [], {}
    docs = list(dict.fromkeys(row.get("pred_docs") or []))
    return docs, {d: list(dict.fromkeys(row.get("pred_sentences", {}).get(d, []))) for d in docs}


def _rationale_found(groups: Iterable[Iterable[int]], predicted: Iterable[int]) -> bool:
    chosen = set(predicted)
    return any(set(g) <= chosen for g in groups if g)


def abstract_scores(rows: Iterable[Row]) -> dict[str, dict[str, float]]:
    """Abstract-level F1, label only and label + rationale."""
    n_pred = n_gold = label_only = label_rationale = 0
    for row in rows:
        gold = row.get("gold") or {}
        n_gold += len(gold)
        docs, sentences = _predicted(row)
        n_pred += len(docs)
        for doc in docs:
            if doc in gold and gold[doc]["label"] == row["label_pred"]:
                label_only += 1
                top = sentences[doc][:MAX_ABSTRACT_SENTENCES]
                label_rationale += _rationale_found(gold[doc]["rationales"], top)
    return {"label_only": prf(label_only, n_pred, n_gold), "label_rationale": prf(label_rationale, n_pred, n_gold)}


def sentence_scores(rows: Iterable[Row]) -> dict[str, dict[str, float]]:
    """Sentence-level F1, selection only and selection + label."""
    n_pred = n_gold = selected = labelled = 0
    for row in rows:
        gold = row.get("gold") or {}
        n_gold += sum(len({i for g in v["rationales"] for i in g}) for v in gold.values())
        docs, sentences = _predicted(row)
        for doc in docs:
            chosen = set(sentences[doc])
            n_pred += len(chosen)
            if doc not in gold:
                continue
            found = {i for g in gold[doc]["rationales"] if g and set(g) <= chosen for i in g}
            selected += len(found)
            if gold[doc]["label"] == row["label_pred"]:
                labelled += len(found)
    return {"selection": prf(selected, n_pred, n_gold), "selection_label": prf(labelled, n_pred, n_gold)}


# ----------------------------------------------------------------------------- sentence alignment
_GAP = re.compile(r"\s*…\s*")
MIN_FRAGMENT = 20  # characters: a shorter piece of a cut sentence could sit in many sentences


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentence_indices(sentence: str, abstract: Sequence[str]) -> list[int]:
    """Where a quoted evidence sentence sits in the abstract's sentence list (several when it spans a gap).

    The quote is text of a passage (whole sentences, or a piece where a chunk boundary cut one),
    possibly two runs joined by the evidence gap mark "…": each run is matched exactly, else to
    the sentence that contains it, else to the sentences it contains.
    """
    normed = [_norm(s) for s in abstract]
    out: list[int] = []
    for piece in (_norm(p) for p in _GAP.split(sentence)):
        if not piece:
            continue
        if piece in normed:
            out.append(normed.index(piece))
            continue
        inside = [i for i, s in enumerate(normed) if len(piece) >= MIN_FRAGMENT and piece in s]
        spans = [i for i, s in enumerate(normed) if len(s) >= MIN_FRAGMENT and s in piece]
        out.extend(inside[:1] or spans)
    return list(dict.fromkeys(out))


def abstract_sentences(text: str) -> list[str]:
    """The abstract's sentences as this project splits them (gold indices count the original ones)."""
    return split_sentences(text)


def reachable_gold(gold: Mapping[str, Mapping[str, Any]], sentence_counts: Mapping[str, int]) -> tuple[int, int]:
    """(reachable, all) gold (doc, sentence index) pairs of one claim under the project's sentence split.

    The original abstracts' sentence lists are not in the BEIR files (their text is those sentences
    joined), so an index beyond the split's length is certainly lost; one within it is reachable,
    though a split differing earlier in the abstract would shift it: the rate is an upper bound.
    """
    pairs = [(doc, i) for doc, v in gold.items() for i in {i for g in v["rationales"] for i in g}]
    return sum(i < sentence_counts.get(doc, 0) for doc, i in pairs), len(pairs)
