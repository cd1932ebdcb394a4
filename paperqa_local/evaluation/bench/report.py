"""Turn the results of one bench run into Markdown tables, bench.json and PNG charts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from paperqa_local.evaluation.bench.measure import ratio


def _f(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pp(stats: dict[str, Any] | None) -> str:
    """p50 / p95 in ms."""
    if not stats:
        return "–"
    return f"{_f(stats.get('p50_ms'))} / {_f(stats.get('p95_ms'))}"


# ----------------------------------------------------------------- comparison
def comparison(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours vs the LlamaIndex baseline, measured in this run (ratio = ours / baseline)."""
    base = results.get("baseline")
    if not base:
        return []
    rows: list[dict[str, Any]] = []
    index = results.get("index", {})
    ours_idx = index.get("embedded", {}).get("chunks_per_s")
    rows.append({"metric": "indexing chunks/s (higher is better)", "ours": ours_idx,
                 "baseline": base["index"]["chunks_per_s"], "ratio": ratio(ours_idx, base["index"]["chunks_per_s"])})
    seeds = results.get("search", {}).get("seeds", {}).get("embedded")
    br = base.get("retrieval", {})
    if seeds:
        q = seeds["hybrid"]["p50_ms"]
        rows.append({"metric": "retrieval p50 ms, seeds (ours hybrid vs baseline dense)", "ours": q,
                     "baseline": br.get("p50_ms"), "ratio": ratio(q, br.get("p50_ms"))})
        rows.append({"metric": f"retrieval hit@{seeds['k']} (paper of the query in top k)", "ours": seeds["hit_at_k"],
                     "baseline": br.get("hit_at_k"), "ratio": ratio(seeds["hit_at_k"], br.get("hit_at_k"))})
    ours_models = results.get("answer", {}).get("models", {})
    for model, entry in base.get("models", {}).items():
        ours = ours_models.get(model, {}).get("summary")
        theirs = entry.get("summary")
        if not ours or not theirs:
            continue
        for key, label in (("first_token_s", "first token p50 s"), ("total_s", "answer total p50 s")):
            a, b = ours[key]["p50"], theirs[key]["p50"]
            rows.append({"metric": f"{label}, {model}", "ours": a, "baseline": b, "ratio": ratio(a, b)})
        rows.append({"metric": f"gold paper cited, {model}", "ours": f"{ours['gold_cited']}/{ours['n']}",
                     "baseline": f"{theirs['gold_cited']}/{theirs['n']}", "ratio": None})
    return rows


# ----------------------------------------------------------------- markdown
def render_markdown(results: dict[str, Any]) -> str:
    """bench.md: one table per section, the comparison with LlamaIndex, and the sections that failed."""
    meta = results.get("meta", {})
    parts = [f"# paperqa_local bench ({meta.get('mode', 'full')} run)", "",
             f"{meta.get('started', '')} · {meta.get('cpus', '?')} CPUs · {meta.get('python', '')} · "
             f"whole run {_f(meta.get('seconds'), 0)} s · load average at start {meta.get('loadavg_start')}, "
             f"at end {meta.get('loadavg_end')}", ""]
    if "index" in results:
        parts += ["## Indexing throughput (seeds/)", "", _index_table(results), ""]
    if "search" in results or "baseline" in results:
        parts += ["## Search latency on seeds (ms, p50 / p95)", "", _seeds_search_table(results), ""]
    if results.get("search", {}).get("synthetic"):
        parts += ["## Search latency on synthetic libraries (ms, p50 / p95)", "", _synthetic_table(results), ""]
        budgets = _budget_table(results)
        if budgets:
            parts += ["### Keyword budget (`keyword_budget`: postings scored in full; query vector cached)", "",
                      budgets, ""]
        projected = _extrapolated_table(results)
        if projected:
            parts += ["### 10^7 chunks, on paper", "",
                      "Extrapolated from the measured curve: a power law through the two largest sizes of each "
                      "store (not measured).", "", projected, ""]
    if "answer" in results or "baseline" in results:
        parts += ["## Answer latency (seconds, p50 / max over the questions)", "", _answer_table(results), ""]
        goals = results.get("answer", {}).get("goals")
        if goals:
            parts += [f"Goals: evidence within {goals['evidence_s']:g} s, first token within "
                      f"{goals['first_token_s']:g} s, whole answer within {goals['total_s']:g} s "
                      "(met = questions within the goal).", ""]
    comp = comparison(results)
    if comp:
        parts += ["## Ours vs plain LlamaIndex (same run, same models)", "",
                  _table(["metric", "ours", "LlamaIndex", "ours / LlamaIndex"],
                         [[r["metric"], _f(r["ours"], 2), _f(r["baseline"], 2), _f(r["ratio"], 2)] for r in comp]),
                  ""]
    errors = results.get("errors", {})
    if errors:
        parts += ["## Sections that failed", ""] + [f"- **{k}**: {v}" for k, v in errors.items()] + [""]
    return "\n".join(parts)


def _index_table(results: dict[str, Any]) -> str:
    idx = results["index"]
    rows = []
    labels = (("embedded", "ours: add() into embedded Chroma"), ("server", "ours: add() into `chroma run` server"))
    for key, label in labels:
        if key in idx:
            r = idx[key]
            met = "met" if r.get("goal_met") else "not met"
            rows.append([label, _f(r.get("chunks")), _f(r["seconds"], 2), _f(r["chunks_per_s"]),
                         f"{_f(r.get('ratio_vs_raw'), 2)} ({met}, goal ≥ {idx['goal_ratio']:.2f})"])
    raw = idx.get("raw_embed")
    if raw:
        rows.append([f"embedding model alone (batch {raw['batch_size']})", _f(raw["chunks"]), _f(raw["seconds"], 2),
                     _f(raw["chunks_per_s"]), "1.00"])
    base = results.get("baseline", {}).get("index")
    if base:
        rows.append(["LlamaIndex VectorStoreIndex (read+split+embed)", _f(base["chunks"]), _f(base["seconds"], 2),
                     _f(base["chunks_per_s"]),
                     _f(ratio(base["chunks_per_s"], (raw or {}).get("chunks_per_s")), 2)])
    corpus = idx.get("corpus", {})
    head = (f"{_f(corpus.get('files'))} files, {_f(corpus.get('papers'))} papers, {_f(corpus.get('chunks'))} chunks\n\n"
            if corpus else "")
    return head + _table(["path", "chunks", "seconds", "chunks/s", "vs raw embedding"], rows)


def _seeds_search_table(results: dict[str, Any]) -> str:
    rows = []
    for store, r in results.get("search", {}).get("seeds", {}).items():
        rows.append([f"ours, {store}", _f(r["chunks"]), _pp(r["hybrid"]), _pp(r.get("embed_query")), _pp(r["dense"]),
                     _pp(r["bm25"]), _f(r["hit_at_k"], 2)])
    base = results.get("baseline", {}).get("retrieval")
    if base:
        rows.append(["LlamaIndex retriever (query embedding + dense)", _f(results["baseline"]["index"]["chunks"]),
                     "–", "–", _pp(base), "–", _f(base["hit_at_k"], 2)])
    return _table(["library", "chunks", "qa.search (hybrid)", "query embedding", "dense (Chroma)", "BM25",
                   "hit@k"], rows)


EXTRAPOLATE_TO = 10_000_000
_PROJECTED = (("hybrid p95 ms", lambda r: r["hybrid"]["p95_ms"]), ("dense p95 ms", lambda r: r["dense"]["p95_ms"]),
              ("BM25 p95 ms", lambda r: r["bm25"]["p95_ms"]), ("add 1 paper s", lambda r: r.get("add_one_paper_s")),
              ("RSS MiB", lambda r: r.get("rss_mb")), ("home disk MiB", lambda r: r.get("disk_mb")))


def extrapolate(points: list[tuple[float, float]], target: float) -> float | None:
    """A power law ``y = a * x^b`` through the two largest ``(x, y)`` points, read at ``target``."""
    pts = sorted((x, y) for x, y in points if x and y and x > 0 and y > 0)
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts[-2], pts[-1]
    if x1 == x0:
        return None
    b = math.log(y1 / y0) / math.log(x1 / x0)
    return y1 * (target / x1) ** b


def _extrapolated_table(results: dict[str, Any]) -> str:
    synth = results["search"].get("synthetic", [])
    rows = []
    for store in dict.fromkeys(r["store"] for r in synth):
        mine = [r for r in synth if r["store"] == store]
        if len(mine) < 2 or max(r["chunks"] for r in mine) >= EXTRAPOLATE_TO:
            continue
        rows.append([store, _f(EXTRAPOLATE_TO)] + [
            _f(extrapolate([(r["chunks"], get(r)) for r in mine], EXTRAPOLATE_TO), 1) for _, get in _PROJECTED])
    return _table(["store", "chunks"] + [name for name, _ in _PROJECTED], rows) if rows else ""


def _budget_table(results: dict[str, Any]) -> str:
    """BM25 and hybrid p50 / p95 at each keyword budget measured (query vector cached), per library size."""
    synth = results["search"].get("synthetic", [])
    budgets = sorted({int(k.rsplit("_", 1)[1]) for r in synth for k in r if k.startswith("bm25_budget_")}, reverse=True)
    if not budgets:
        return ""
    rows = [[r["store"], _f(r["chunks"]), f"{_f(r.get('keyword_budget'))}: {_pp(r['bm25'])}",
             *(f"{_pp(r.get(f'bm25_budget_{b}'))} / {_pp(r.get(f'hybrid_budget_{b}'))}" for b in budgets)]
            for r in synth]
    return _table(["store", "chunks", "default budget: BM25"] + [f"budget {b:,}: BM25 / hybrid" for b in budgets], rows)


def _synthetic_table(results: dict[str, Any]) -> str:
    rows = []
    for r in results["search"].get("synthetic", []):
        rows.append([r["store"], _f(r["chunks"]), _f(r["insert_chunks_per_s"], 0), _f(r.get("add_one_paper_s"), 3),
                     _pp(r["dense"]), _pp(r["bm25"]), _pp(r.get("embed_query")), _pp(r["hybrid"]),
                     _pp(r.get("hybrid_parallel")), _pp(r.get("hybrid_sequential")),
                     _f(r.get("rss_mb"), 0), _f(r.get("disk_mb"), 0)])
    return _table(["store", "chunks", "insert chunks/s", "add 1 paper s (no embedding)", "dense (Chroma)", "BM25",
                   "query embedding", "hybrid = qa.search", "cached vector: halves side by side", "halves in turn",
                   "RSS MiB", "home disk MiB"], rows)


def _answer_rows(pipeline: str, models: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for model, entry in models.items():
        if entry.get("error"):
            rows.append([pipeline, model, "error: " + entry["error"][:80]] + ["–"] * 7)
            continue
        s = entry.get("summary")
        if not s:
            continue

        def cell(key: str, s: dict[str, Any] = s) -> str:
            d = s[key]
            return f"{_f(d['p50'], 2)} / {_f(d['max'], 2)} ({d['met']}/{d['of']} met)"

        rows.append([pipeline, model, _f(entry.get("load_s"), 1), cell("evidence_s"), cell("first_token_s"),
                     cell("total_s"), f"{_f(s['prompt_tokens'], 0)} / {_f(s['completion_tokens'], 0)}",
                     _f(s["gen_tokens_per_s"], 1), f"{s['gold_cited']}/{s['n']}", str(s["not_answered"])])
    return rows


def _answer_table(results: dict[str, Any]) -> str:
    rows = _answer_rows("ours (qa.stream)", results.get("answer", {}).get("models", {}))
    rows += _answer_rows("LlamaIndex CitationQueryEngine", results.get("baseline", {}).get("models", {}))
    return _table(["pipeline", "model", "load s", "evidence", "first token", "total", "tokens in / out (p50)",
                   "gen tok/s", "gold cited", "not answered"], rows)


# ----------------------------------------------------------------- charts
def write_charts(results: dict[str, Any], out: Path) -> list[Path]:
    """index_throughput.png, search_latency.png and answer_latency.png for the sections present."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    idx = results.get("index")
    if idx:
        labels, values = [], []
        for key, label in (("embedded", "ours\nembedded"), ("server", "ours\nchroma server"),
                           ("raw_embed", "embedding\nalone")):
            if key in idx:
                labels.append(label)
                values.append(idx[key]["chunks_per_s"])
        base = results.get("baseline", {}).get("index")
        if base:
            labels.append("LlamaIndex")
            values.append(base["chunks_per_s"])
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(labels, values, color=["#3b7dd8", "#5fa0e8", "#999999", "#e07b39"][: len(values)])
        ax.set_ylabel("chunks / s")
        ax.set_title("Indexing throughput, seeds/")
        save(fig, "index_throughput.png")

    synth = results.get("search", {}).get("synthetic", [])
    if synth:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 2)
        for store in dict.fromkeys(r["store"] for r in synth):
            rows = [r for r in synth if r["store"] == store]
            xs = [r["chunks"] for r in rows]
            for kind in ("dense", "bm25", "hybrid"):
                color = next(colors)
                ax.plot(xs, [r[kind]["p50_ms"] for r in rows], "-", marker="o", color=color,
                        label=f"{store} {kind} p50")
                ax.plot(xs, [r[kind]["p95_ms"] for r in rows], ":", marker="x", color=color, alpha=0.6,
                        label=f"{store} {kind} p95")
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("chunks in library")
        ax.set_ylabel("ms")
        ax.set_title("Search latency (synthetic libraries)")
        ax.legend(fontsize=7)
        save(fig, "search_latency.png")

    groups = []
    for pipeline, models in (("ours", results.get("answer", {}).get("models", {})),
                             ("LlamaIndex", results.get("baseline", {}).get("models", {}))):
        for model, entry in models.items():
            if entry.get("summary"):
                groups.append((f"{pipeline}\n{model.replace('-instruct-q4_k_m', '')}", entry["summary"]))
    if groups:
        fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(groups)), 4))
        width = 0.27
        keys = (("evidence_s", "evidence"), ("first_token_s", "first token"), ("total_s", "total"))
        for i, (key, label) in enumerate(keys):
            xs = [g + (i - 1) * width for g in range(len(groups))]
            ax.bar(xs, [s[key]["p50"] or 0 for _, s in groups], width, label=f"{label} p50")
        goals = results.get("answer", {}).get("goals", {})
        for key, color in (("first_token_s", "tab:orange"), ("total_s", "tab:green")):
            if key in goals:
                ax.axhline(goals[key], color=color, linestyle=":", linewidth=1)
        ax.set_xticks(range(len(groups)), [g for g, _ in groups], fontsize=7)
        ax.set_ylabel("seconds")
        ax.set_title("Answer latency (p50; dotted: goals)")
        ax.legend(fontsize=7)
        save(fig, "answer_latency.png")
    return written


def write_outputs(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """bench.json, bench.md and the charts in ``out``; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    results = {**results, "comparison": comparison(results)}
    paths = {"json": out / "bench.json", "md": out / "bench.md"}
    paths["json"].write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(results), encoding="utf-8")
    for chart in write_charts(results, out):
        paths[chart.stem] = chart
    return paths
