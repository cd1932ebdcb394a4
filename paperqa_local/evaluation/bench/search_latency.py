"""Search latency p50/p95: the seeds library and synthetic libraries of 1k/10k/100k chunks.

Synthetic libraries go through the ordinary ``PaperQA.add_papers`` path with an embedder whose
*documents* get random unit vectors (so 100k chunks need no model time) while *queries* are
embedded by the real model, so the hybrid figure includes the query embedding a user waits for.
Chunk texts are real abstract sentences (SciFact and PubMedQA, ``../shared/datasets``) drawn at random,
several per chunk, so the best-sentence re-rank and BM25 work on real text; the queries are real
sentences too. Without the datasets, texts are drawn word by word from the seeds vocabulary (Zipf-like).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from paperqa_local.chunking import count_tokens
from paperqa_local.embedding import Embedder
from paperqa_local.evaluation.bench.context import BenchContext
from paperqa_local.evaluation.bench.measure import latency_stats, rate, timer
from paperqa_local.records import Paper, Section
from paperqa_local.text_rules import split_sentences

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

log = logging.getLogger(__name__)

CHUNKS_PER_PAPER = 10
WORDS_PER_CHUNK = 110  # ~150 cl100k tokens: below chunk_size, so one section is one chunk
MAX_TOKENS_PER_CHUNK = 240  # the last sentence drawn may not take a section past chunk_size (256)
MAX_DRAWS = 200  # sentences drawn for one chunk at most (a pool of long sentences cannot loop forever)
WARM_QUERIES = ["warm up the search path", "second warm-up query about models", "third warm-up about training"]


class SyntheticEmbedder(Embedder):
    """Random unit vectors for passages (fast, deterministic); the real model for queries, cached as
    ``Embedder.embed_query`` caches them (so a dense-only search after the hybrid one finds its vector)."""

    def __init__(self, *args: Any, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rng = np.random.default_rng(seed)
        self._queries: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str], progress: bool = False,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        vecs = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        if on_batch is not None:
            for start in range(0, len(texts), self.batch_size):
                on_batch(min(self.batch_size, len(texts) - start))
        return vecs

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = Embedder.embed(self, [text])[0]
        return self._queries[text]

    def forget_queries(self) -> None:
        """Each library size is measured as new questions: the hybrid figure embeds every query again."""
        self._queries.clear()


# ----------------------------------------------------------------- queries
def first_sentence(text: str, max_words: int = 30) -> str:
    """The first sentence of a passage, at most ``max_words`` words (a query that paraphrases a paper)."""
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.{30,}?[.!?])\s", text + " ")
    sentence = match.group(1) if match else text
    words = sentence.split()
    return " ".join(words[:max_words])


def seeds_queries(ctx: BenchContext) -> list[tuple[str, str]]:
    """(query, paper_id): the first sentence of ``n_queries`` papers' first chunk, spread over the library."""
    if "seeds_queries" in ctx.memo:
        return ctx.memo["seeds_queries"]
    first: dict[str, Any] = {}
    for chunk in ctx.seeds_qa("embedded").all_chunks():
        if chunk.index == 0:
            first[chunk.paper_id] = chunk
    ids = sorted(first)
    n = min(ctx.config.n_queries, len(ids))
    picks = [ids[int(i * len(ids) / n)] for i in range(n)] if n else []
    queries = [(first_sentence(first[pid].text), pid) for pid in picks]
    ctx.memo["seeds_queries"] = queries
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


def real_sentences(datasets: Path | None, limit: int = 200_000) -> list[str]:
    """Sentences of the shared real abstracts (SciFact, PubMedQA corpora), for real-text synthetic chunks.

    Empty when the datasets are absent (then chunks are drawn word by word from the seeds vocabulary).
    """
    out: list[str] = []
    for corpus in sorted(Path(datasets).glob("*/corpus.jsonl")) if datasets else []:
        with corpus.open(encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                out.extend(s for s in split_sentences(str(doc.get("text", ""))) if 40 <= len(s) <= 400)
                if len(out) >= limit:
                    return out
    return out


def synthetic_papers(start: int, count: int, words: list[str], probs: np.ndarray, seed: int,
                     sentences: list[str] | None = None) -> Iterator[Paper]:
    """``count`` papers (ids ``syn-<n>``) of ``CHUNKS_PER_PAPER`` one-chunk sections each.

    With ``sentences`` (real abstract sentences), each chunk is ~``WORDS_PER_CHUNK`` words of them drawn at
    random, so the re-rank sees real sentences (several per chunk) and BM25 real term statistics.
    """
    rng = np.random.default_rng(seed)
    vocab = np.asarray(words, dtype=object)
    cdf = np.cumsum(probs)
    for i in range(start, start + count):
        picks = np.searchsorted(cdf, rng.random((CHUNKS_PER_PAPER + 1, WORDS_PER_CHUNK)) * cdf[-1])
        draws = vocab[np.minimum(picks, len(vocab) - 1)]
        title = "Synthetic " + " ".join(draws[0, :6])
        if sentences:
            texts = [_real_chunk(sentences, rng) for _ in range(CHUNKS_PER_PAPER)]
        else:
            texts = [" ".join(row) + "." for row in draws[1:]]
        sections = [Section(text, f"§ {j}") for j, text in enumerate(texts, start=1)]
        yield Paper(id=f"syn-{i:07d}", title=title, source=f"synthetic://{i}", sections=sections)


def _real_chunk(sentences: list[str], rng: np.random.Generator) -> str:
    """~``WORDS_PER_CHUNK`` words of random sentences, never past ``MAX_TOKENS_PER_CHUNK`` (one section, one chunk:
    a sentence dense in numbers takes two tokens a word). A bounded number of draws, whatever the pool."""
    picked: list[str] = []
    words = tokens = 0
    for _ in range(MAX_DRAWS):
        if words >= WORDS_PER_CHUNK:
            break
        sentence = sentences[int(rng.integers(len(sentences)))]
        n = _tokens(sentence)
        if tokens + n <= MAX_TOKENS_PER_CHUNK:
            picked.append(sentence)
            words += sentence.count(" ") + 1
            tokens += n
    return " ".join(picked)


@functools.cache
def _tokens(sentence: str) -> int:
    """Tokens a sentence adds to a chunk (each real sentence is drawn many times at 10^6 chunks: counted once)."""
    return count_tokens(sentence) + 1


def synthetic_queries(words: list[str], n: int, seed: int = 1) -> list[str]:
    """``n`` queries of 5-10 words drawn from the 3,000 most frequent."""
    rng = np.random.default_rng(seed)
    top = words[: min(3000, len(words))]
    return [" ".join(rng.choice(top, size=int(rng.integers(5, 11)))) for _ in range(n)]


# ----------------------------------------------------------------- measuring
def rss_mb() -> float | None:
    """This process's resident memory now (Linux /proc), MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def disk_bytes(folder: Path) -> int:
    """Bytes under ``folder`` (the library home: manifest, keywords, vectors)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


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


def _search_figures(qa: PaperQA, queries: list[str], label: str, progress: bool,
                    budgets: tuple[int, ...] = ()) -> tuple[dict[str, Any], list[Any]]:
    """Hybrid first (each query embedded once, uncached, as a user's new question); then, the query vector
    cached, hybrid with its halves side by side and one after the other (``parallel_search``), dense-only
    and BM25-only over ``candidates`` hits, BM25 and hybrid at each keyword ``budgets`` value
    (``budget_<n>``); then the query embedding alone."""
    n = qa.settings.candidates
    figs: dict[str, Any] = {}
    figs["hybrid"], found = _measure(qa.search, queries, WARM_QUERIES, f"{label} hybrid", progress)
    # the query vector now cached: the keyword half beside the dense one, and after it (``parallel_search``)
    for name, parallel in (("hybrid_parallel", True), ("hybrid_sequential", False)):
        chosen = qa.settings.with_overrides(parallel_search=parallel)
        figs[name], _ = _measure(lambda q, st=chosen: qa.retriever.retrieve(q, st), queries, WARM_QUERIES,
                                 f"{label} {name}", progress)
    figs["dense"], _ = _measure(lambda q: qa.search(q, k=n, mode="dense"), queries, WARM_QUERIES,
                                f"{label} dense", progress)
    figs["bm25"], _ = _measure(lambda q: qa.search(q, k=n, mode="bm25"), queries, WARM_QUERIES, f"{label} bm25",
                               progress)
    for budget in budgets:
        chosen = qa.settings.with_overrides(keyword_budget=budget)
        figs[f"bm25_budget_{budget}"], _ = _measure(lambda q, st=chosen: qa.retriever.retrieve(q, st, k=n, mode="bm25"),
                                                    queries, WARM_QUERIES, f"{label} bm25 budget {budget}", progress)
        figs[f"hybrid_budget_{budget}"], _ = _measure(lambda q, st=chosen: qa.retriever.retrieve(q, st), queries,
                                                      WARM_QUERIES, f"{label} hybrid budget {budget}", progress)
    # the model itself, past the query cache and a synthetic embedder's random vectors
    figs["embed_query"], _ = _measure(lambda q: Embedder.embed(qa.embedder, [q]), queries, WARM_QUERIES,
                                      f"{label} query embedding", progress)
    return figs, found


def run_seeds(ctx: BenchContext, store: str) -> dict[str, Any]:
    """qa.search (hybrid) and dense-only / BM25-only searches over ~50 paper-paraphrasing queries."""
    qa = ctx.seeds_qa(store)
    queries = seeds_queries(ctx)
    figs, found = _search_figures(qa, [q for q, _ in queries], f"seeds {store}", ctx.config.progress)
    hits = sum(any(h.chunk.paper_id == pid for h in hits) for (_, pid), hits in zip(queries, found, strict=True))
    figs["hit_at_k"] = round(hits / len(queries), 3) if queries else None
    figs["k"] = qa.settings.k
    figs["chunks"] = qa.stats()["chunks"]
    return figs


def run_synthetic(ctx: BenchContext, store: str) -> list[dict[str, Any]]:
    """Grow one synthetic library through ``config.sizes`` and measure at each size."""
    from paperqa_local.pipeline import PaperQA

    cfg = ctx.config
    url = ctx.server("synthetic") if store == "server" else None
    settings = ctx.settings(f"synthetic-{store}", chroma_url=url)
    embedder = SyntheticEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)
    qa = PaperQA(settings=settings, embedder=embedder)
    words, probs = vocabulary(cfg.seeds)
    sentences = real_sentences(cfg.real_text)
    queries = ([first_sentence(sentences[int(i * len(sentences) / cfg.n_synthetic_queries)])
                for i in range(cfg.n_synthetic_queries)] if sentences
               else synthetic_queries(words, cfg.n_synthetic_queries))
    rows: list[dict[str, Any]] = []
    papers_done = 0
    try:
        for size in sorted(cfg.sizes):
            target = max(1, size // CHUNKS_PER_PAPER)
            # One add_papers call per step: the library batches its writes, and rebuilds BM25 once per call.
            papers = list(synthetic_papers(papers_done, target - papers_done, words, probs, seed=size,
                                           sentences=sentences))
            log.info("%s: inserting %d synthetic papers (%d chunks)", store, len(papers), len(papers) * CHUNKS_PER_PAPER)
            with timer() as t:
                report = qa.add_papers(papers, progress=cfg.progress)
            insert_s, added_chunks = t["s"], report.chunks
            papers_done = target
            del papers
            # one more paper into a library of this size: what a user waits for beyond its own embedding
            extra = list(synthetic_papers(10_000_000 + size, 1, words, probs, seed=size + 1, sentences=sentences))
            with timer() as one:
                qa.add_papers(extra, progress=False)
            with timer() as gone:
                qa.remove(extra[0].id)  # and out again: each size is measured at its own size
            chunks = qa.stats()["chunks"]
            row: dict[str, Any] = {"store": store, "size": size, "chunks": chunks,
                                   "keyword_budget": qa.settings.keyword_budget,
                                   "text": "real" if sentences else "words", "insert_s": round(insert_s, 3),
                                   # a kept library (``keep_synthetic``) is measured again, not rebuilt
                                   "reused": added_chunks == 0,
                                   "insert_chunks_per_s": rate(added_chunks, insert_s) if added_chunks else None,
                                   "add_one_paper_s": round(one["s"], 3), "remove_one_paper_s": round(gone["s"], 3),
                                   "rss_mb": rss_mb(),
                                   "disk_mb": round(disk_bytes(settings.home) / 2**20, 1)}
            embedder.forget_queries()
            figs, _ = _search_figures(qa, queries, f"{store} {size:,}", cfg.progress, cfg.keyword_budgets)
            row.update(figs)
            rows.append(row)
            log.info("%s %d chunks: dense p50 %.1f ms, hybrid p50 %.1f ms", store, chunks,
                     row["dense"]["p50_ms"], row["hybrid"]["p50_ms"])
    finally:
        qa.close()
        if url:
            ctx.stop_server("synthetic")
    return rows


def run(ctx: BenchContext) -> dict[str, Any]:
    """Seeds library and synthetic libraries, in each store."""
    stores = ["embedded"] + (["server"] if ctx.config.server else [])
    return {
        "seeds": {store: run_seeds(ctx, store) for store in stores},
        "synthetic": [row for store in stores for row in run_synthetic(ctx, store)],
    }
