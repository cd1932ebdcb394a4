"""Search latency p50/p95: the seeds library and synthetic libraries of 1k/10k/100k chunks.

Synthetic libraries go through the ordinary ``Library.add_papers`` path with an embedder whose
*documents* get random unit vectors (so 100k chunks need no model time) while *queries* are
embedded by the real model, so the hybrid figure includes the query embedding a user waits for.
Texts are drawn from the seeds vocabulary (Zipf-like) so BM25 sees realistic term statistics.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from evals.bench_common import BenchContext, first_sentence, latency_stats, rate, timer
from paperqa_local.embedding import Embedder
from paperqa_local.records import Paper, Section

log = logging.getLogger(__name__)

CHUNKS_PER_PAPER = 10
WORDS_PER_CHUNK = 110  # ~150 cl100k tokens: below chunk_size, so one section is one chunk
WARMUP = 3
WARM_QUERIES = ["warm up the search path", "second warm-up query about models", "third warm-up about training"]


class SyntheticEmbedder(Embedder):
    """Random unit vectors for passages (fast, deterministic); the real model for queries."""

    def __init__(self, *args: Any, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rng = np.random.default_rng(seed)

    def embed(self, texts: list[str], progress: bool = False,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        vecs = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        if on_batch is not None:
            for start in range(0, len(texts), self.batch_size):
                on_batch(min(self.batch_size, len(texts) - start))
        return vecs

    def embed_query(self, text: str) -> np.ndarray:
        return Embedder.embed(self, [text])[0]


# ----------------------------------------------------------------- queries
def seeds_queries(ctx: BenchContext) -> list[tuple[str, str]]:
    """(query, paper_id): the first sentence of ``n_queries`` papers' first chunk, spread over the library."""
    cached = getattr(ctx, "_seeds_queries", None)
    if cached is not None:
        return cached
    first: dict[str, Any] = {}
    for chunk in ctx.seeds_qa("embedded").library.all_chunks():
        if chunk.index == 0:
            first[chunk.paper_id] = chunk
    ids = sorted(first)
    n = min(ctx.config.n_queries, len(ids))
    picks = [ids[int(i * len(ids) / n)] for i in range(n)] if n else []
    queries = [(first_sentence(first[pid].text), pid) for pid in picks]
    ctx._seeds_queries = queries  # type: ignore[attr-defined]
    return queries


def vocabulary(seeds: Path, limit: int = 20_000) -> tuple[list[str], np.ndarray]:
    """Words of the seeds texts by frequency, with Zipf weights (rank^-1)."""
    counts: Counter[str] = Counter()
    files = sorted(seeds.rglob("*")) if seeds.is_dir() else [seeds]
    for path in files:
        if path.is_file():
            counts.update(re.findall(r"[a-z]{3,}", path.read_text(encoding="utf-8", errors="ignore").lower()))
    words = [w for w, _ in counts.most_common(limit)] or ["alpha", "beta", "gamma"]
    weights = 1.0 / np.arange(1, len(words) + 1)
    return words, weights / weights.sum()


def synthetic_papers(start: int, count: int, words: list[str], probs: np.ndarray, seed: int) -> Iterator[Paper]:
    """``count`` papers (ids ``syn-<n>``) of ``CHUNKS_PER_PAPER`` one-chunk sections each."""
    rng = np.random.default_rng(seed)
    vocab = np.asarray(words, dtype=object)
    cdf = np.cumsum(probs)
    for i in range(start, start + count):
        picks = np.searchsorted(cdf, rng.random((CHUNKS_PER_PAPER + 1, WORDS_PER_CHUNK)) * cdf[-1])
        draws = vocab[np.minimum(picks, len(vocab) - 1)]
        title = "Synthetic " + " ".join(draws[0, :6])
        sections = [Section(" ".join(row) + ".", f"§ {j}") for j, row in enumerate(draws[1:], start=1)]
        yield Paper(id=f"syn-{i:07d}", title=title, source=f"synthetic://{i}", sections=sections)


def synthetic_queries(words: list[str], n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    top = words[: min(3000, len(words))]
    return [" ".join(rng.choice(top, size=int(rng.integers(5, 11)))) for _ in range(n)]


# ----------------------------------------------------------------- measuring
def _measure(fn: Callable[[Any], Any], items: list[Any], warm: list[Any], desc: str,
             progress: bool) -> tuple[dict[str, float], list[Any]]:
    """Latency stats of ``fn`` over ``items`` (after untimed calls on ``warm``) and its results."""
    for item in warm:
        fn(item)
    seconds, results = [], []
    for item in tqdm(items, desc=desc, unit="q", leave=False, disable=not progress):
        with timer() as t:
            results.append(fn(item))
        seconds.append(t["s"])
    return latency_stats(seconds), results


def _search_figures(library: Any, search: Callable[[str], Any], queries: list[str], vectors: np.ndarray, n: int,
                    label: str, progress: bool) -> tuple[dict[str, Any], list[Any]]:
    """Hybrid first (each query embedded once, uncached, as a user's new question), then its parts alone."""
    figs: dict[str, Any] = {}
    figs["hybrid"], found = _measure(search, queries, WARM_QUERIES, f"{label} hybrid", progress)
    figs["dense"], _ = _measure(lambda i: library.dense_search(vectors[i], n), list(range(len(queries))),
                                list(range(min(WARMUP, len(queries)))), f"{label} dense", progress)
    figs["bm25"], _ = _measure(lambda q: library.bm25_search(q, n), queries, WARM_QUERIES, f"{label} bm25", progress)
    embedder = library.embedder
    figs["embed_query"], _ = _measure(lambda q: Embedder.embed(embedder, [q]), queries, WARM_QUERIES,
                                      f"{label} query embedding", progress)
    return figs, found


def run_seeds(ctx: BenchContext, store: str) -> dict[str, Any]:
    """qa.search (hybrid) and dense-only / BM25-only store queries over ~50 paper-paraphrasing queries."""
    qa = ctx.seeds_qa(store)
    queries = seeds_queries(ctx)
    texts = [q for q, _ in queries]
    vectors = qa.embedder.embed(texts)
    figs, found = _search_figures(qa.library, qa.search, texts, vectors, qa.settings.candidates, f"seeds {store}",
                                  ctx.config.progress)
    hits = sum(any(h.chunk.paper_id == pid for h in hits) for (_, pid), hits in zip(queries, found, strict=True))
    figs["hit_at_k"] = round(hits / len(queries), 3) if queries else None
    figs["k"] = qa.settings.k
    figs["chunks"] = qa.library.count_chunks()
    return figs


def run_synthetic(ctx: BenchContext, store: str) -> list[dict[str, Any]]:
    """Grow one synthetic library through ``config.sizes`` and measure at each size."""
    from paperqa_local.library import Library
    from paperqa_local.retrieval import Retriever

    cfg = ctx.config
    url = ctx.server("synthetic") if store == "server" else None
    settings = ctx.settings(f"synthetic-{store}", chroma_url=url)
    embedder = SyntheticEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)
    library = Library(settings, embedder)
    retriever = Retriever(library, embedder)
    words, probs = vocabulary(cfg.seeds)
    queries = synthetic_queries(words, cfg.n_synthetic_queries)
    vectors = Embedder.embed(embedder, queries)
    rows: list[dict[str, Any]] = []
    papers_done = 0
    try:
        for size in sorted(cfg.sizes):
            target = max(1, size // CHUNKS_PER_PAPER)
            # One add_papers call per step: the library batches its writes, and rebuilds BM25 once per call.
            papers = list(synthetic_papers(papers_done, target - papers_done, words, probs, seed=size))
            log.info("%s: inserting %d synthetic papers (%d chunks)", store, len(papers), len(papers) * CHUNKS_PER_PAPER)
            with timer() as t:
                report = library.add_papers(papers, progress=cfg.progress)
            insert_s, added_chunks = t["s"], report.chunks
            papers_done = target
            del papers
            chunks = library.count_chunks()
            row: dict[str, Any] = {"store": store, "size": size, "chunks": chunks, "insert_s": round(insert_s, 3),
                                   "insert_chunks_per_s": rate(added_chunks, insert_s)}
            figs, _ = _search_figures(library, lambda q: retriever.retrieve(q, settings), queries, vectors,
                                      settings.candidates, f"{store} {size:,}", cfg.progress)
            row.update(figs)
            rows.append(row)
            log.info("%s %d chunks: dense p50 %.1f ms, hybrid p50 %.1f ms", store, chunks,
                     row["dense"]["p50_ms"], row["hybrid"]["p50_ms"])
    finally:
        library.close()
        if url:
            ctx.stop_server("synthetic")
    return rows


def run(ctx: BenchContext) -> dict[str, Any]:
    stores = ["embedded"] + (["server"] if ctx.config.server else [])
    return {
        "seeds": {store: run_seeds(ctx, store) for store in stores},
        "synthetic": [row for store in stores for row in run_synthetic(ctx, store)],
    }
