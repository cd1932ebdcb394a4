"""Does the evidence talk about what the question asks? An IDF-weighted term coverage.

Dense similarity alone cannot tell "a passage about the same field" from "a passage that
answers": a question about Whisper on LibriSpeech still lands near speech papers. The
rare words of a question (names, datasets, the asked-for quantity) carry most of its IDF;
when no single evidence passage holds enough of that weight, the papers do not answer.
The threshold (``Settings.min_coverage``) was chosen on evals/seeds_qa.jsonl.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence

from paperqa_local.records import Context
from paperqa_local.text import content_words


class TermStats:
    """Document frequencies of content words over the library's chunks, rebuilt per generation."""

    def __init__(self, load: Callable[[], tuple[int, Sequence[str]]]) -> None:
        self._load = load  # -> (generation, chunk texts)
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._df: Counter[str] = Counter()
        self._n = 0

    def idf(self, generation: int) -> Callable[[str], float]:
        with self._lock:
            if generation != self._generation:
                gen, texts = self._load()
                df: Counter[str] = Counter()
                for text in texts:
                    df.update(content_words(text))
                self._df, self._n, self._generation = df, len(texts), gen
            df, n = self._df, self._n
        return lambda w: math.log((n + 1) / (df.get(w, 0) + 0.5))


def question_coverage(question: str, contexts: Sequence[Context], idf: Callable[[str], float]) -> float:
    """Largest share of the question's IDF weight found in one passage (title included), 0..1."""
    words = content_words(question)
    total = sum(idf(w) for w in words)
    if not words or total <= 0:
        return 1.0
    best = 0.0
    for ctx in contexts:
        pool = content_words(f"{ctx.chunk.title} {ctx.chunk.text}")
        best = max(best, sum(idf(w) for w in words & pool) / total)
    return best
