"""Indexing throughput: seeds/ through the full ``add`` path beside the embedding model alone.

The ratio (indexing chunks/s over raw embedding chunks/s, goal >= 0.85) shows how much reading,
chunking, BM25 and Chroma writes cost on top of the unavoidable embedding work. Both figures are
taken in the same run with a warm model and the same batch size.
"""

from __future__ import annotations

import logging
from typing import Any

from paperqa_local.evaluation.bench.context import BenchContext
from paperqa_local.evaluation.bench.measure import rate, ratio, timer

log = logging.getLogger(__name__)

GOAL_RATIO = 0.85


def run(ctx: BenchContext) -> dict[str, Any]:
    """seeds/ indexed into each store, timed, and the embedding model alone on the same chunk texts."""
    cfg = ctx.config
    out: dict[str, Any] = {"goal_ratio": GOAL_RATIO}
    stores = ["embedded"] + (["server"] if cfg.server else [])
    for store in stores:
        qa = ctx.open_seeds(store)
        qa.embedder.embed(["warm up the embedding model"])  # model load time is not throughput
        log.info("indexing %s (%s Chroma)", cfg.seeds, store)
        with timer() as t:
            report = qa.add([cfg.seeds], progress=cfg.progress)
        ctx.keep_seeds(store, qa, report)
        if not report.chunks:
            raise RuntimeError(f"indexing {cfg.seeds} embedded no chunks: {report.summary()}")
        out[store] = {"seconds": round(t["s"], 3), "chunks": report.chunks, "chunks_per_s": rate(report.chunks, t["s"])}
        if store == "embedded":
            out["corpus"] = {"path": str(cfg.seeds), "files": report.files, "papers": report.total_papers,
                             "chunks": report.chunks, "failed": len(report.failed)}
            out["raw_embed"] = _raw_embed(qa, cfg.progress)
        else:
            out[store]["url"] = qa.settings.chroma_url
        out[store]["ratio_vs_raw"] = ratio(out[store]["chunks_per_s"], out["raw_embed"]["chunks_per_s"])
        out[store]["goal_met"] = bool((out[store]["ratio_vs_raw"] or 0) >= GOAL_RATIO)
    return out


def _raw_embed(qa: Any, progress: bool) -> dict[str, Any]:
    """The embedding model alone on exactly the chunk texts the library embedded."""
    texts = [c.embed_text for c in qa.all_chunks()]
    log.info("raw embedding of the same %d chunk texts", len(texts))
    with timer() as t:
        qa.embedder.embed(texts, progress=progress)
    return {"seconds": round(t["s"], 3), "chunks": len(texts), "chunks_per_s": rate(len(texts), t["s"]),
            "batch_size": qa.embedder.batch_size}
