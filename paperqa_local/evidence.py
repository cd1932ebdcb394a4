"""Evidence selection: the sentences that bear on the question, fitted into a token budget.

On two CPU cores every prompt token costs ~16 ms of the local model's time, so instead of
pasting whole chunks we keep, per retrieved passage, the sentences most similar to the
question (plus neighbours while the budget allows), in their original order. Each piece
keeps its paper and page/section through its ``Chunk``. Given the pipeline's ``SentenceVectors``,
the sentence vectors stored at indexing time are used instead of embedding the sentences again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from paperqa_local.answerability import names_paper
from paperqa_local.records import Hit
from paperqa_local.results import Context
from paperqa_local.sentence_vectors import SentenceVectors
from paperqa_local.text_rules import blend, content_words, split_sentences

HEADER_TOKENS = 16  # "[n] Title (location)\n", roughly
GAP = " … "


@dataclass
class Evidence:
    """Numbered contexts ready for the prompt, plus how relevant the best one is."""

    contexts: list[Context] = field(default_factory=list)
    best_relevance: float = 0.0
    query_vector: np.ndarray | None = None  # the question's embedding, for backends that rank sentences


@dataclass
class _Candidate:
    hit: Hit
    sentences: list[str]
    scores: np.ndarray
    tokens: list[int]
    chosen: set[int] = field(default_factory=set)

    @property
    def relevance(self) -> float:
        return float(self.scores.max()) if len(self.scores) else 0.0

    def ranked(self) -> list[int]:
        return [int(i) for i in np.argsort(-self.scores, kind="stable")]

    def text(self) -> str:
        parts: list[str] = []
        last = -2
        for i in sorted(self.chosen):
            if parts and i != last + 1:
                parts.append(GAP)
            elif parts:
                parts.append(" ")
            parts.append(self.sentences[i])
            last = i
        return "".join(parts).strip()


def select_evidence(
    question: str,
    hits: list[Hit],
    embed: SentenceVectors | Callable[[list[str]], np.ndarray],
    query_vector: np.ndarray,
    count_tokens: Callable[[str], int],
    budget: int,
    min_share: float = 0.55,
    parts: Sequence[tuple[str, np.ndarray]] = (),
) -> Evidence:
    """Pick sentences from ``hits`` (in retrieval order) until ``budget`` tokens are used.

    ``min_share``: a passage whose best sentence scores below ``min_share`` of the best passage's is
    dropped, so weak passages do not eat the budget, unless the question names its paper by its title.
    ``parts``: (text, vector) of a multi-part question's parts; a sentence scores as well as it matches the
    question or any part, so the passage for a second part is not cut for being far from the whole question.
    ``best_relevance`` is always the whole question's.
    """
    if not hits:
        return Evidence(query_vector=query_vector)
    candidates = [_Candidate(h, s, np.zeros(len(s)), []) for h in hits if (s := split_sentences(h.chunk.text))]
    flat = [s for c in candidates for s in c.sentences]
    if not flat:
        return Evidence(query_vector=query_vector)
    if isinstance(embed, SentenceVectors):
        vectors = np.vstack(embed.for_chunks([c.hit.chunk for c in candidates], [c.sentences for c in candidates]))
    else:
        vectors = embed(flat)
    sims = vectors @ query_vector
    queries = [(sims, content_words(question))] + [(vectors @ v, content_words(text)) for text, v in parts]
    offset = 0
    for cand in candidates:
        n = len(cand.sentences)
        cand.scores = np.max([blend(s[offset : offset + n], words, cand.sentences) for s, words in queries], axis=0)
        cand.tokens = [count_tokens(s) + 1 for s in cand.sentences]
        offset += n
    best = max(c.relevance for c in candidates)
    # a paper the question names by its title is kept however its sentences score: its title says its topic
    kept = [c for c in candidates if c.relevance >= best * min_share or names_paper(question, c.hit.chunk.title)]

    used = 0
    queues = {id(c): c.ranked() for c in kept}
    progress = True
    first_round = True
    while progress:
        progress = False
        for cand in kept:
            queue = queues[id(cand)]
            while queue:
                i = queue[0]
                cost = cand.tokens[i] + (HEADER_TOKENS if not cand.chosen else 0)
                # after the first round only add sentences that are themselves relevant
                if not first_round and cand.scores[i] < best * min_share:
                    queue.clear()
                    break
                if used + cost > budget:
                    queue.pop(0)
                    continue
                cand.chosen.add(queue.pop(0))
                used += cost
                progress = True
                break
        first_round = False

    chosen = [c for c in kept if c.chosen]
    contexts = [
        Context(number=n, chunk=c.hit.chunk, text=c.text(), score=c.hit.score, relevance=c.relevance,
                tokens=sum(c.tokens[i] for i in c.chosen) + HEADER_TOKENS)
        for n, c in enumerate(chosen, start=1)
    ]
    dense_best = max((h.dense for h in hits if h.dense is not None), default=0.0)
    return Evidence(contexts=contexts, best_relevance=max(float(sims.max()), float(dense_best)),
                    query_vector=query_vector)
