"""Sentence embeddings for re-ranking, evidence selection and answer checking: stored first, then a memo.

Indexing stores the vectors of every chunk's sentences (``library/sentence_store.py``), so a
question normally embeds nothing but itself. Sentences without stored vectors (a library
indexed before they were stored, an answer's own sentences) are embedded on demand and kept
in an LRU memo: re-rank, evidence and checks of one question embed each sentence once.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from paperqa_local.records import Chunk
from paperqa_local.text_rules import split_sentences

#: chunk ids -> {chunk id: (checksum of its sentences, vectors)} for those with stored vectors
StoredLookup = Callable[[Sequence[str]], dict[str, tuple[int, np.ndarray]]]


def chunk_sentences(text: str) -> list[str]:
    """A chunk's sentences as the re-rank sees them (the whole text when it has no sentence break)."""
    return split_sentences(text) or [text]


def checksum(sentences: Sequence[str]) -> int:
    """Identifies the sentences a row of stored vectors was made from."""
    return zlib.crc32("\0".join(sentences).encode("utf-8", "surrogatepass"))


class SentenceVectors:
    """``__call__(texts) -> (n, dim)`` like ``Embedder.embed``, with an LRU memo of recent texts;
    ``for_chunks`` reads a chunk's stored sentence vectors first (``stored``, set by the retriever)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_items: int = 20000,
                 stored: StoredLookup | None = None) -> None:
        self._embed = embed
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self.max_items = max_items  # a settings sweep raises it to keep every candidate sentence
        self.stored = stored
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        fresh = dict(zip(missing, self._embed(missing), strict=True)) if missing else {}
        with self._lock:
            rows = [fresh[t] if t in fresh else self._memo[t] for t in texts]
            self._remember(texts, rows)
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def for_chunks(self, chunks: Sequence[Chunk], groups: Sequence[list[str]]) -> list[np.ndarray]:
        """Vectors of each chunk's ``groups[i]`` sentences: stored ones when they were made from exactly
        these sentences, else embedded (memoised). Stored vectors enter the memo, so the answer check
        of the same question finds them too."""
        found = self.stored([c.id for c in chunks]) if self.stored is not None and chunks else {}
        out: list[np.ndarray | None] = []
        for chunk, group in zip(chunks, groups, strict=True):
            row = found.get(chunk.id)
            out.append(row[1] if row is not None and len(row[1]) == len(group) and row[0] == checksum(group)
                       else None)
        with self._lock:
            for vecs, group in zip(out, groups, strict=True):
                if vecs is not None:
                    self._remember(group, list(vecs))
        missing = [s for vecs, group in zip(out, groups, strict=True) if vecs is None for s in group]
        if missing:
            embedded = self(missing)
            offset = 0
            for i, group in enumerate(groups):
                if out[i] is None:
                    out[i] = embedded[offset:offset + len(group)]
                    offset += len(group)
        return [v if v is not None else np.zeros((0, 0), np.float32) for v in out]

    def _remember(self, texts: Sequence[str], rows: Sequence[np.ndarray]) -> None:
        """Memo ``texts`` (most recent last) and trim it to ``max_items`` (lock held)."""
        for text, row in zip(texts, rows, strict=True):
            self._memo[text] = row
            self._memo.move_to_end(text)
        while len(self._memo) > self.max_items:
            self._memo.popitem(last=False)
