"""``PaperQA.verify``: is a claim supported, contradicted, or not addressed by the papers?

SciFact's pipeline shape (retrieve abstracts, select rationale sentences, label from the rationales):
evidence sentences are chosen verbatim from the passages by their similarity to the claim
(``text_rules.blend``), and the label is a scored decision (``verdicts.py``) read from the model's
first-token probabilities of SUPPORT / CONTRADICT / NEI given *those sentences* (with their [n] and
paper), not the whole evidence: a 1.5B model judges a few rationale sentences better than 1,200
tokens of passages, and the prompt is a fifth as long. The calibration fitted on SciFact's tuning
part combines those probabilities with the features of ``claim_features`` that cross-validation on
that part keeps (``verdicts.decide``; ``evaluation/calibrate.py``).
Backends without token probabilities decide by that similarity alone: NEI below a calibrated
threshold, SUPPORT above it (they cannot tell support from contradiction).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from paperqa_local.evidence import GAP, Evidence
from paperqa_local.llms.backends import Backend
from paperqa_local.results import EvidenceSentence, Verdict
from paperqa_local.text_rules import blend, content_words, lexical_overlap, negated, split_sentences, stated_numbers
from paperqa_local.verdicts import Decision, calibration

NEI = "NOT_ENOUGH_INFO"
#: Evidence sentences shown with a verdict: the best, and others within this share of its score.
SENTENCE_SHARE = 0.9
MAX_SENTENCES = 3
#: Sentences the model reads to decide the label (SciFact rationales are one to three sentences).
RATIONALE_SENTENCES = 4
#: Similarity above which the unscored fallback says SUPPORT (overridden by calibration.json).
FALLBACK_THRESHOLD = 0.6


def ranked_sentences(claim: str, evidence: Evidence,
                     embed: Callable[[list[str]], np.ndarray]) -> list[EvidenceSentence]:
    """Every passage sentence, verbatim with its [n], best match to the claim first."""
    pool = [(ctx, i, s) for ctx in evidence.contexts for i, s in enumerate(_sentences(ctx.text))]
    if not pool or evidence.query_vector is None:
        return []
    sentences = [s for _, _, s in pool]
    scores = blend(embed(sentences) @ evidence.query_vector, content_words(claim), sentences)
    return [EvidenceSentence(number=ctx.number, paper_id=ctx.chunk.paper_id, title=ctx.chunk.title,
                             sentence=sentence, index=i, location=ctx.chunk.location, score=float(scores[j]))
            for j in np.argsort(-scores, kind="stable") for ctx, i, sentence in [pool[int(j)]]]


def evidence_sentences(claim: str, evidence: Evidence, embed: Callable[[list[str]], np.ndarray],
                       share: float = SENTENCE_SHARE, limit: int = MAX_SENTENCES) -> list[EvidenceSentence]:
    """The passage sentences that bear most on the claim, best first, verbatim with their [n]."""
    return _top(ranked_sentences(claim, evidence, embed), share, limit)


def rationale_evidence(evidence: Evidence, ranked: list[EvidenceSentence],
                       limit: int = RATIONALE_SENTENCES) -> Evidence:
    """``evidence`` cut to its ``limit`` best sentences, each passage keeping its number and its sentences
    in their order (gaps marked), for the label prompt."""
    chosen: dict[int, list[EvidenceSentence]] = {}
    for e in ranked[:limit]:
        chosen.setdefault(e.number, []).append(e)
    contexts = []
    for ctx in evidence.contexts:
        if ctx.number in chosen:
            cut = copy.copy(ctx)
            picked = sorted(chosen[ctx.number], key=lambda e: e.index)
            cut.text = "".join((GAP if k and e.index != picked[k - 1].index + 1 else " " if k else "") + e.sentence
                               for k, e in enumerate(picked))
            contexts.append(cut)
    return Evidence(contexts=contexts, best_relevance=evidence.best_relevance, query_vector=evidence.query_vector)


def verify_claim(claim: str, evidence: Evidence, backend: Backend,
                 embed: Callable[[list[str]], np.ndarray]) -> Verdict:
    """Label the claim against ``evidence`` and pick the sentences behind the label."""
    ranked = ranked_sentences(claim, evidence, embed)
    sentences = _top(ranked, SENTENCE_SHARE, MAX_SENTENCES)
    features = claim_features(claim, evidence, ranked)
    decision = None
    if evidence.contexts and ranked:
        decision = backend.decide("verify", claim, rationale_evidence(evidence, ranked), features)
    if decision is None:
        decision = _by_similarity(sentences, backend.label)
    return Verdict(claim=claim, label=decision.label, probabilities=decision.probabilities,
                   evidence=[] if decision.label == NEI else sentences, contexts=evidence.contexts,
                   scored=decision.scored, logprobs=decision.logprobs, features=features,
                   backend=backend.name, model=backend.label)


def claim_features(claim: str, evidence: Evidence, ranked: list[EvidenceSentence],
                   limit: int = RATIONALE_SENTENCES) -> dict[str, float]:
    """What a calibration may read beside the label probabilities (``verdicts.decide``), all from the
    retrieval and the rationale sentences, no model call:

    - ``similarity``: the best sentence's score against the claim;
    - ``relevance``: the best passage's relevance to the claim;
    - ``coverage``: the share of the claim's content words the rationale sentences hold (NEI claims
      often name what no sentence mentions);
    - ``numbers_missing``: the share of the claim's numbers the rationale sentences never state
      ("1 in 5 million", "90% of deaths": a number the abstract does not give is no support);
    - ``negation_mismatch``: 1 when exactly one of claim and best sentence is negated (a flipped claim).
    """
    rationale = " ".join(e.sentence for e in ranked[:limit])
    claim_numbers = stated_numbers(claim)
    best = ranked[0].sentence if ranked else ""
    return {
        "similarity": ranked[0].score if ranked else 0.0,
        "relevance": float(evidence.best_relevance),
        "coverage": lexical_overlap(content_words(claim), rationale),
        "numbers_missing": len(claim_numbers - stated_numbers(rationale)) / len(claim_numbers) if claim_numbers else 0.0,
        "negation_mismatch": float(negated(claim) != negated(best)),
    }


def _top(ranked: list[EvidenceSentence], share: float, limit: int) -> list[EvidenceSentence]:
    if not ranked:
        return []
    best = ranked[0].score
    out = [ranked[0]]
    for e in ranked[1:limit]:
        if e.score < best * share:
            break
        out.append(e)
    return out


def _by_similarity(sentences: list[EvidenceSentence], label: str) -> Decision:
    threshold = calibration("verify", label).get("threshold", FALLBACK_THRESHOLD)
    best = sentences[0].score if sentences else 0.0
    return Decision("SUPPORT" if best >= threshold else NEI, {"similarity": best}, scored=False)


def _sentences(text: str) -> list[str]:
    """A passage's sentences; the evidence gap mark (" … ") always ends one."""
    return [s for part in text.split(GAP.strip()) for s in split_sentences(part)]
