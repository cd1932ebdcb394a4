"""The ``extractive`` backend: no generative model, just the best evidence sentences, quoted with citations.

Always available, deterministic and fast; also the honest fallback a user can pick
explicitly when no local model is installed (we never switch to it silently).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from paperqa_local.results import Context
from paperqa_local.text_rules import blend, content_words, split_sentences


def extractive_answer(
    question: str,
    contexts: list[Context],
    embed: Callable[[list[str]], np.ndarray],
    query_vector: np.ndarray,
    max_sentences: int = 3,
    max_words: int = 120,
) -> str:
    """Quote up to ``max_sentences`` of the most question-like evidence sentences, each with its [n]."""
    pool: list[tuple[int, str]] = []
    for ctx in contexts:
        for sentence in split_sentences(ctx.text.replace("…", " ")):
            if len(sentence.split()) >= 4:
                pool.append((ctx.number, sentence))
    if not pool:
        return ""
    vecs = embed([s for _, s in pool])
    q_words = content_words(question)
    scores = blend(vecs @ query_vector, q_words, [s for _, s in pool])
    picked: list[int] = []
    words = 0
    for i in np.argsort(-scores, kind="stable"):
        n_words = len(pool[int(i)][1].split())
        if picked and (words + n_words > max_words or scores[i] < scores[picked[0]] * 0.75):
            continue
        picked.append(int(i))
        words += n_words
        if len(picked) >= max_sentences:
            break
    # keep the strongest sentence first, then the others in passage order for readability
    ordered = picked[:1] + sorted(picked[1:])
    return " ".join(_cite(pool[i][1], pool[i][0]) for i in ordered)


def _cite(sentence: str, number: int) -> str:
    body = sentence.rstrip()
    end = body[-1] if body[-1] in ".!?" else "."
    body = body[:-1] if body[-1] in ".!?" else body
    return f"{body} [{number}]{end}"
