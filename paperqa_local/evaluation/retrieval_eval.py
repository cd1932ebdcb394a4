"""Retrieval benchmark on a BEIR dataset: nDCG@10, Recall@10/100, MRR and latency per retrieval mode.

The corpus is indexed through the same ``PaperQA.add_papers`` users get (incremental, so a
second run only checks it) and queried through ``PaperQA.search``, mode by mode, so the
figures describe the product's retrieval, not a re-implementation of it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation import metrics
from paperqa_local.evaluation.datasets import corpus_papers, load_beir
from paperqa_local.evaluation.workspace import corpus_home, output_dir, settings_summary, write_json
from paperqa_local.records import Hit
from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

log = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid")
DEPTH = 100  # documents retrieved per query (Recall@100)
SWEEP_MEMO = 500_000  # sentence vectors kept across a sweep's variants (~0.8 GB at most with MiniLM)
METRIC_KEYS = ("ndcg@10", "recall@10", "recall@100", "mrr")


def run_retrieval_eval(
    beir_dir: str | Path,
    *,
    split: str = "train",
    modes: Sequence[str] = MODES,
    limit: int | None = None,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
    out: str | Path | None = None,
    index_home: str | Path | None = None,
    name: str | None = None,
    progress: bool = True,
    qa: PaperQA | None = None,
    candidates: dict[str, tuple[list[Hit], list[Hit]]] | None = None,
) -> dict[str, Any]:
    """Index the corpus (once), run every query in every mode, return (and write) the figures.

    ``overrides`` are Settings fields (fusion, rrf_k, chunk_size ...); ``out`` gets
    results.json, per_query.jsonl, report.md and charts; ``qa`` reuses an open ``PaperQA``
    over an already indexed corpus (for settings sweeps); ``candidates`` (query id -> dense and BM25
    candidates), shared by the variants of a sweep over one index, makes each query's retrieval run once
    and only fusion, re-ranking and capping run per variant (latency then times those alone).
    """
    from paperqa_local.pipeline import PaperQA

    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise PaperQAError(f"modes: {', '.join(bad) or 'none given'}: choose from {', '.join(MODES)}")
    data = load_beir(beir_dir, split)
    overrides = dict(overrides or {})
    if candidates is not None:  # a sweep: its variants re-rank the same candidates' sentences, memoised
        overrides["sentence_cache"] = max(int(overrides.get("sentence_cache") or 0), SWEEP_MEMO)
    base = (settings or Settings.load()).with_overrides(**overrides)
    own_qa = qa is None
    if qa is None:
        qa = PaperQA(settings=corpus_home(base, data.path, index_home))
    else:
        qa.update_settings(**overrides)
    # One passage per paper fills all 100 slots with distinct documents; the order of first
    # appearances (what doc-level metrics see) does not depend on the cap.
    qa.update_settings(per_paper_cap=1)
    try:
        papers, back = corpus_papers(data.name, data.corpus)
        report = qa.add_papers(papers, progress=progress)
        if not report.ok:
            raise PaperQAError(f"{data.path}: {len(report.failed)} documents failed to index: {report.failed[0]}")
        log.info("index: %s", report.summary())
        queries = list(data.queries.items())[: limit or None]
        rows, per_mode = _run_queries(qa, queries, data.qrels, back, modes, progress, candidates)
        result: dict[str, Any] = {
            "kind": "retrieval",
            "name": name or f"{data.name}-{split}",
            "dataset": data.name,
            "path": str(data.path),
            "split": split,
            "queries": len(queries),
            "documents": len(data.corpus),
            "depth": DEPTH,
            "settings": settings_summary(qa.settings),
            "index": {"home": str(qa.settings.home), "seconds": round(report.seconds, 1),
                      "papers": report.total_papers, "chunks": report.total_chunks,
                      "embedded_this_run": report.chunks},
            "modes": per_mode,
        }
    finally:
        if own_qa:
            qa.close()
    if out is not None:
        write_retrieval_outputs(result, rows, output_dir(out, result["name"]))
    return result


def _run_queries(qa: PaperQA, queries: list[tuple[str, str]], qrels: dict[str, dict[str, int]],
                 back: dict[str, str], modes: Sequence[str], progress: bool,
                 cache: dict[str, tuple[list[Hit], list[Hit]]] | None = None) -> tuple[list[dict], dict[str, dict]]:
    for mode in modes:  # warm-up: load the embedder / keyword index before timing
        qa.search(queries[0][1] if queries else "warm up", k=DEPTH, mode=mode)

    def search(qid: str, text: str, mode: str) -> list[Hit]:
        if cache is None:
            return qa.search(text, k=DEPTH, mode=mode)
        return qa.rank(text, cache[qid], k=DEPTH, mode=mode)  # copies the cached hits

    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(queries) * len(modes), desc="queries", unit="q", disable=not progress)
    sums = {m: 0.0 for m in modes}
    for i, (qid, text) in enumerate(queries, start=1):
        judged = qrels[qid]
        if cache is not None and qid not in cache:  # retrieved once for all variants, outside the timings
            cache[qid] = qa.candidates(text, depth=DEPTH, mode="hybrid")
        for mode in modes:
            t0 = time.perf_counter()
            hits = search(qid, text, mode)
            ms = (time.perf_counter() - t0) * 1000
            ranked = [back.get(pid, pid) for pid in metrics.dedupe(h.chunk.paper_id for h in hits)][:DEPTH]
            row = {"qid": qid, "mode": mode, "ms": round(ms, 2),
                   "ndcg@10": metrics.ndcg_at_k(ranked, judged, 10),
                   "recall@10": metrics.recall_at_k(ranked, judged, 10),
                   "recall@100": metrics.recall_at_k(ranked, judged, 100),
                   "mrr": metrics.reciprocal_rank(ranked, judged),
                   "relevant": sorted(judged), "top10": ranked[:10]}
            rows.append(row)
            sums[mode] += row["ndcg@10"]
            bar.update(1)
        bar.set_postfix({f"{m} nDCG": f"{sums[m] / i:.3f}" for m in modes}, refresh=False)
    bar.close()
    per_mode: dict[str, dict[str, float]] = {}
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        stats = {key: round(metrics.mean(r[key] for r in mine) or 0.0, 4) for key in METRIC_KEYS}
        ms = [r["ms"] for r in mine]
        stats.update(latency_p50_ms=round(metrics.percentile(ms, 50), 2),
                     latency_p95_ms=round(metrics.percentile(ms, 95), 2),
                     latency_mean_ms=round(metrics.mean(ms) or 0.0, 2))
        per_mode[mode] = stats
    return rows, per_mode


def run_retrieval_sweep(
    beir_dir: str | Path,
    variants: dict[str, dict[str, Any]],
    *,
    out: str | Path,
    settings: Settings | None = None,
    index_home: str | Path | None = None,
    name: str = "sweep",
    **kwargs: Any,
) -> dict[str, Any]:
    """The same benchmark under several settings variants (name -> overrides), one index per chunking.

    Writes each variant's outputs in a sub-folder of ``out`` and a side-by-side sweep.md/json.
    """
    from paperqa_local.evaluation.report import write_sweep_report
    from paperqa_local.pipeline import PaperQA

    base = settings or Settings.load()
    out_dir = output_dir(out, name)
    results: dict[str, Any] = {}
    qa: PaperQA | None = None
    shared: dict[str, dict[str, tuple[list[Hit], list[Hit]]]] = {}  # index (collection) -> query candidates
    try:
        for vname, overrides in variants.items():
            full = base.with_overrides(**overrides)
            if qa is None:
                qa = PaperQA(settings=corpus_home(full, Path(beir_dir).expanduser().resolve(), index_home))
            fields = {k: v for k, v in full.model_dump().items() if k not in ("home", "models_dir", "chroma_url")}
            slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in vname)
            log.info("variant %s: %s", vname, overrides)
            cache = shared.setdefault(f"{full.collection_name}|{full.candidates}|{full.search_ef}", {})
            result = run_retrieval_eval(beir_dir, settings=full, overrides=fields, qa=qa, out=out_dir / slug,
                                        name=vname, candidates=cache, **kwargs)
            result["overrides"] = overrides
            results[vname] = result
    finally:
        if qa is not None:
            qa.close()
    sweep = {"kind": "sweep", "name": name, "dataset": str(beir_dir), "variants": results, "out": str(out_dir)}
    write_json(out_dir / "sweep.json", sweep)
    write_sweep_report(sweep, out_dir)
    return sweep


def write_retrieval_outputs(result: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> Path:
    """results.json, per_query.jsonl, report.md and the charts, all in ``out``."""
    from paperqa_local.evaluation.report import write_retrieval_report

    with (out / "per_query.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    result["out"] = str(out)
    write_retrieval_report(result, rows, out)
    write_json(out / "results.json", result)
    return out
