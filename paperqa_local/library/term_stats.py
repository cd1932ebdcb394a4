"""Document frequencies of content words over the library's chunks: the IDF behind the coverage check.

The counts live in the manifest's ``term_df`` table (``keywords.py``), updated in the same
transaction as the chunks, so a question costs one indexed lookup per word and no chunk text
is ever read again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from paperqa_local.library.keywords import KeywordIndex


class TermStats:
    """``idf()`` over the chunks indexed right now."""

    def __init__(self, keywords: KeywordIndex) -> None:
        self._keywords = keywords

    def idf(self) -> Callable[[str], float]:
        """``word -> log((N + 1) / (df + 0.5))``; N now, each word's df when first asked (then kept)."""
        n = self._keywords.frequencies(())[0]
        known: dict[str, int] = {}

        def idf(word: str) -> float:
            if word not in known:
                known[word] = self._keywords.frequencies([word])[1].get(word, 0)
            return math.log((n + 1) / (known[word] + 0.5))

        return idf
