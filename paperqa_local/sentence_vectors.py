"""Sentence embeddings with a memo: re-ranking, evidence selection and answer checking all
embed the same passage sentences for one question; each is embedded once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np


class SentenceVectors:
    """``__call__(texts) -> (n, dim)`` like ``Embedder.embed``, with an LRU memo of recent texts."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], max_items: int = 20000) -> None:
        self._embed = embed
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self.max_items = max_items  # a settings sweep raises it to keep every candidate sentence
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        fresh = dict(zip(missing, self._embed(missing), strict=True)) if missing else {}
        with self._lock:
            rows = [fresh[t] if t in fresh else self._memo[t] for t in texts]
            for text in texts:
                self._memo[text] = fresh.get(text, self._memo.get(text))
                self._memo.move_to_end(text)
            while len(self._memo) > self.max_items:
                self._memo.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
