"""``PaperQA.verify``: is a claim supported, contradicted, or not addressed by the papers?

The label is a scored decision (``verdicts.py``): the model's first-token probabilities of
SUPPORT / CONTRADICT / NEI given the evidence, with per-label offsets calibrated on the
tuning part of SciFact. Evidence sentences are chosen verbatim from the passages by their
similarity to the claim (``text_rules.blend``), so each is a quote with its citation.
Backends without token probabilities decide by that similarity alone: NEI below a
calibrated threshold, SUPPORT above it (they cannot tell support from contradiction).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from paperqa_local.evidence import GAP, Evidence
from paperqa_local.llms.backends import Backend
from paperqa_local.results import EvidenceSentence, Verdict
from paperqa_local.text_rules import blend, content_words, split_sentences
from paperqa_local.verdicts import Decision, calibration

NEI = "NOT_ENOUGH_INFO"
#: Evidence sentences kept for a verdict: the best, and others within this share of its score.
SENTENCE_SHARE = 0.9
MAX_SENTENCES = 3
#: Similarity above which the unscored fallback says SUPPORT (overridden by calibration.json).
FALLBACK_THRESHOLD = 0.6


def evidence_sentences(claim: str, evidence: Evidence, embed: Callable[[list[str]], np.ndarray],
                       share: float = SENTENCE_SHARE, limit: int = MAX_SENTENCES) -> list[EvidenceSentence]:
    """The passage sentences that bear most on the claim, best first, verbatim with their [n]."""
    pool = [(ctx, i, s) for ctx in evidence.contexts for i, s in enumerate(_sentences(ctx.text))]
    if not pool or evidence.query_vector is None:
        return []
    sentences = [s for _, _, s in pool]
    scores = blend(embed(sentences) @ evidence.query_vector, content_words(claim), sentences)
    best = float(scores.max())
    out = []
    for j in np.argsort(-scores, kind="stable")[:limit]:
        if scores[j] < best * share and out:
            break
        ctx, i, sentence = pool[int(j)]
        out.append(EvidenceSentence(number=ctx.number, paper_id=ctx.chunk.paper_id, title=ctx.chunk.title,
                                    sentence=sentence, index=i, location=ctx.chunk.location, score=float(scores[j])))
    return out


def verify_claim(claim: str, evidence: Evidence, backend: Backend,
                 embed: Callable[[list[str]], np.ndarray]) -> Verdict:
    """Label the claim against ``evidence`` and pick the sentences behind the label."""
    sentences = evidence_sentences(claim, evidence, embed)
    decision = backend.decide("verify", claim, evidence) if evidence.contexts else None
    if decision is None:
        decision = _by_similarity(sentences, backend.label)
    return Verdict(claim=claim, label=decision.label, probabilities=decision.probabilities,
                   evidence=[] if decision.label == NEI else sentences, contexts=evidence.contexts,
                   scored=decision.scored, logprobs=decision.logprobs, backend=backend.name, model=backend.label)


def _by_similarity(sentences: list[EvidenceSentence], label: str) -> Decision:
    threshold = calibration("verify", label).get("threshold", FALLBACK_THRESHOLD)
    best = sentences[0].score if sentences else 0.0
    return Decision("SUPPORT" if best >= threshold else NEI, {"similarity": best}, scored=False)


def _sentences(text: str) -> list[str]:
    """A passage's sentences; the evidence gap mark (" … ") always ends one."""
    return [s for part in text.split(GAP.strip()) for s in split_sentences(part)]
