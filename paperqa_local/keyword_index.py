"""BM25 keyword index (bm25s) kept beside the vectors.

bm25s indexes are static, so the library rebuilds this one from the manifest's chunk
texts after each change (seconds even for tens of thousands of chunks). The saved copy
carries the manifest generation it was built from; a copy from another generation (a
run that crashed between steps) is never trusted, it is rebuilt.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def _quiet_bm25s() -> None:
    """bm25s sets its own logger to DEBUG on import: keep its chatter out of user output."""
    logging.getLogger("bm25s").setLevel(logging.WARNING)

TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
META = "meta.json"
STEM = True  # Porter stemming: +nDCG@10 on SciFact (see the library helper's report)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    if not STEM:
        return None
    try:
        from nltk.stem.porter import PorterStemmer
    except ImportError:  # pragma: no cover
        return None
    stem = lru_cache(maxsize=200_000)(PorterStemmer().stem)
    return stem


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens, English stopwords dropped, Porter-stemmed."""
    stop = _stopwords()
    stem = _stemmer()
    words = [w for w in TOKEN_RE.findall(text.lower()) if w not in stop]
    return [stem(w) for w in words] if stem else words


class KeywordIndex:
    """An in-memory BM25 index over chunk ids, saved under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generation: int | None = None
        self.ids: list[str] = []
        self._bm25 = None

    def __len__(self) -> int:
        return len(self.ids)

    def build(self, ids: Sequence[str], texts: Sequence[str], generation: int) -> None:
        """Index ``texts`` (one per chunk id) and save them tagged with ``generation``."""
        import bm25s

        _quiet_bm25s()

        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index([tokenize(t) for t in texts], show_progress=False)
        # swapped in together, generation last: a reader never sees a new generation with an old or no index
        self.ids, self._bm25 = list(ids), bm25
        self.generation = generation
        self._save()

    def _save(self) -> None:
        """Write to a temporary folder, then swap it in: a crash leaves no half-written index."""
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(tmp), show_progress=False)
        (tmp / META).write_text(json.dumps({"generation": self.generation, "ids": self.ids}), encoding="utf-8")
        shutil.rmtree(self.folder, ignore_errors=True)
        tmp.rename(self.folder)

    def load(self, generation: int) -> bool:
        """Load the saved index if it was built for ``generation``; False when it must be rebuilt."""
        import bm25s

        _quiet_bm25s()

        try:
            meta = json.loads((self.folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if meta.get("generation") != generation:
            log.info("keyword index is from generation %s, manifest is at %s: rebuilding", meta.get("generation"), generation)
            return False
        ids = meta.get("ids") or []
        bm25 = None
        if ids:
            try:
                bm25 = bm25s.BM25.load(str(self.folder), show_progress=False)
            except Exception as err:  # noqa: BLE001  (any damage means: rebuild)
                log.warning("keyword index at %s is unreadable (%s): rebuilding", self.folder, err)
                return False
        self.ids, self.generation, self._bm25 = ids, generation, bm25
        return True

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Top ``n`` (chunk id, BM25 score) with a positive score, best first."""
        if self._bm25 is None or not self.ids or n <= 0:
            return []
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return []
        k = min(n, len(self.ids))
        docs, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        out = []
        for doc, score in zip(np.asarray(docs[0]).tolist(), np.asarray(scores[0]).tolist(), strict=True):
            if score > 0:
                out.append((self.ids[int(doc)], float(score)))
        return out
