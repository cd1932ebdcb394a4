"""Deterministic test doubles for unit tests of the pipeline logic (integration tests use the real parts)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from paperqa_local.records import Chunk, Hit
from paperqa_local.results import Context

DIM = 256


def embed(texts: list[str]) -> np.ndarray:
    """Hashed bag of words, L2-normalised: similar wording -> similar vectors."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        norm = np.linalg.norm(out[row])
        if norm:
            out[row] /= norm
    return out


def chunk(paper: str, text: str, index: int = 0, title: str | None = None) -> Chunk:
    return Chunk(id=f"{paper}:{index:04d}", paper_id=paper, index=index, text=text, location=f"entry {index + 1}",
                 title=title or f"Paper {paper}", source=f"/papers/{paper}.txt")


def hit(paper: str, text: str, score: float = 1.0, index: int = 0, dense: float | None = None) -> Hit:
    return Hit(chunk=chunk(paper, text, index), score=score, dense=dense)


def context(number: int, paper: str, text: str) -> Context:
    return Context(number=number, chunk=chunk(paper, text), text=text, score=1.0, relevance=0.5)
