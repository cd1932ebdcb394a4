"""Hybrid retrieval: dense (Chroma) and BM25 rankings fused, re-ranked by best sentence, capped per paper.

The default fusion is a weighted sum of min-max normalised scores: on SciFact (809 train
claims) it beats reciprocal rank fusion by about 0.015 nDCG@10 (``evals/configs/scifact_sweep.toml``);
reciprocal rank fusion, which needs no score calibration, is a setting away.
Chunk vectors dilute a one-sentence fact among the rest of the abstract, so the top fused
candidates get a third ranking, by the similarity of their single best sentence to the query;
the sentence vectors were stored at indexing time, so the query is the only text embedded.
With ``parallel_search`` the BM25 search runs on a worker thread while the query is embedded and
searched densely. Measured on 2 cores it is no faster (the keyword re-scoring holds the GIL and the
embedding model already uses both cores), so it is off by default; a machine with cores to spare may
differ, and ``make bench`` measures both.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from paperqa_local.records import Hit
from paperqa_local.sentence_vectors import SentenceVectors, chunk_sentences
from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.embedding import Embedder
    from paperqa_local.library import Library


#: Runs the BM25 half of hybrid searches (shared by all retrievers; a few, for concurrent UI sessions).
_KEYWORD_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


def rrf_fuse(rankings: Iterable[tuple[list[Hit], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of w / (k + rank) over the rankings (rank from 1)."""
    scores: dict[str, float] = {}
    for hits, weight in rankings:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + weight / (k + rank)
    return scores


def weighted_fuse(rankings: Iterable[tuple[list[Hit], list[float], float]]) -> dict[str, float]:
    """Min-max normalised scores, summed with weights."""
    scores: dict[str, float] = {}
    for hits, raw, weight in rankings:
        if not hits:
            continue
        lo, hi = min(raw), max(raw)
        span = (hi - lo) or 1.0
        for hit, value in zip(hits, raw, strict=True):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + weight * (value - lo) / span
    return scores


def cap_per_paper(hits: list[Hit], cap: int, k: int) -> list[Hit]:
    """Keep the ranking order but at most ``cap`` passages from any one paper."""
    kept: list[Hit] = []
    per_paper: dict[str, int] = {}
    for hit in hits:
        seen = per_paper.get(hit.chunk.paper_id, 0)
        if seen >= cap:
            continue
        per_paper[hit.chunk.paper_id] = seen + 1
        kept.append(hit)
        if len(kept) >= k:
            break
    return kept


class Retriever:
    """Runs the configured retrieval mode against one library."""

    def __init__(self, library: Library, embedder: Embedder, sentence_vectors: SentenceVectors | None = None) -> None:
        """``sentence_vectors``: the memo shared with evidence and checks; it is pointed at this library's
        stored sentence vectors unless it reads some already."""
        self.library = library
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors or SentenceVectors(embedder.embed)
        if self.sentence_vectors.stored is None:
            self.sentence_vectors.stored = library.sentence_vectors

    def retrieve(self, query: str, settings: Settings, k: int | None = None, mode: str | None = None) -> list[Hit]:
        k = k or settings.k
        mode = mode or settings.retrieval_mode
        dense, sparse = self.candidates(query, settings, k, mode)
        return self.rank(query, dense, sparse, settings, k, mode)

    def candidates(self, query: str, settings: Settings, k: int, mode: str) -> tuple[list[Hit], list[Hit]]:
        """The dense and BM25 candidate lists (each empty when ``mode`` does not use it), best first."""
        n = max(settings.candidates, k)
        dense: list[Hit] = []
        sparse: list[Hit] = []
        keyword = None
        if mode == "hybrid" and settings.parallel_search:  # both halves at once (module docstring)
            keyword = _KEYWORD_POOL.submit(self.library.bm25_search, query, n, budget=settings.keyword_budget)
        if mode in ("dense", "hybrid"):
            dense = self.library.dense_search(self.embedder.embed_query(query), n)
            for rank, hit in enumerate(dense, start=1):
                hit.rank_dense = rank
        if mode in ("bm25", "hybrid"):
            sparse = keyword.result() if keyword else self.library.bm25_search(query, n, budget=settings.keyword_budget)
            for rank, hit in enumerate(sparse, start=1):
                hit.rank_bm25 = rank
        return dense, sparse

    def rank(self, query: str, dense: list[Hit], sparse: list[Hit], settings: Settings, k: int,
             mode: str) -> list[Hit]:
        """Fuse, re-rank and cap the candidates; sets each hit's ``score``. Settings sweeps call this on
        cached candidates (copies: the hits are modified)."""
        if mode == "dense":
            fused = [_scored(h, h.dense or 0.0) for h in dense]
        elif mode == "bm25":
            fused = [_scored(h, h.bm25 or 0.0) for h in sparse]
        else:
            fused = self._fuse(dense, sparse, settings)
            if settings.rerank_depth:
                fused = self._rerank(query, fused, settings)
        return cap_per_paper(fused, settings.per_paper_cap, k)

    def _rerank(self, query: str, fused: list[Hit], settings: Settings) -> list[Hit]:
        """Re-score the top ``rerank_depth`` candidates: normalised fused score + weight x best-sentence cosine."""
        top = fused[: settings.rerank_depth]
        if not top:
            return fused
        groups = [chunk_sentences(h.chunk.text) for h in top]
        vectors = self.sentence_vectors.for_chunks([h.chunk for h in top], groups)
        query_vec = self.embedder.embed_query(query)
        ceiling = top[0].score or 1.0
        for hit, vecs in zip(top, vectors, strict=True):
            best = float((vecs @ query_vec).max())
            hit.score = hit.score / ceiling + settings.sentence_weight * best
        # candidates below the re-ranked depth keep their order, after the re-ranked ones
        rest = fused[settings.rerank_depth :]
        floor = min(h.score for h in top)
        for i, hit in enumerate(rest):
            hit.score = floor - (i + 1) * 1e-6
        return sorted(top, key=lambda h: (-h.score, h.chunk.id)) + rest

    @staticmethod
    def _fuse(dense: list[Hit], sparse: list[Hit], settings: Settings) -> list[Hit]:
        if settings.fusion == "weighted":
            scores = weighted_fuse([
                (dense, [h.dense or 0.0 for h in dense], settings.dense_weight),
                (sparse, [h.bm25 or 0.0 for h in sparse], settings.bm25_weight),
            ])
        else:
            scores = rrf_fuse([(dense, settings.dense_weight), (sparse, settings.bm25_weight)], settings.rrf_k)
        merged: dict[str, Hit] = {}
        for hit in dense + sparse:
            have = merged.get(hit.chunk.id)
            if have is None:
                merged[hit.chunk.id] = hit
                continue
            # the same chunk seen by both retrievers: keep both scores and ranks on one hit
            have.dense = have.dense if have.dense is not None else hit.dense
            have.bm25 = have.bm25 if have.bm25 is not None else hit.bm25
            have.rank_dense = have.rank_dense or hit.rank_dense
            have.rank_bm25 = have.rank_bm25 or hit.rank_bm25
        ranked = sorted(merged.values(), key=lambda h: (-scores[h.chunk.id], h.chunk.id))
        return [_scored(h, scores[h.chunk.id]) for h in ranked]


def _scored(hit: Hit, score: float) -> Hit:
    hit.score = float(score)
    return hit
