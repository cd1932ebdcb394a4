"""Markdown reports and PNG charts for eval results (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend chosen first)

RETRIEVAL_COLUMNS = (("ndcg@10", "nDCG@10"), ("recall@10", "Recall@10"), ("recall@100", "Recall@100"), ("mrr", "MRR"))
QA_ROWS = (
    ("label_accuracy", "yes/no/maybe accuracy"),
    ("label_coverage", "answers with a parsable label"),
    ("label_accuracy_model", "yes/no/maybe accuracy of the model's own verdict (before the citation check)"),
    ("key_fact_accuracy", "key-fact accuracy (answerable)"),
    ("gold_cited_rate", "gold paper cited (answerable)"),
    ("citation_recall", "citation recall"),
    ("citation_precision", "citation precision"),
    ("gold_in_context_rate", "gold paper among the passages"),
    ("abstention_unanswerable", "right abstention (unanswerable)"),
    ("false_abstention", "false abstention (answerable)"),
    ("unsupported_sentence_rate", "unsupported-sentence rate"),
)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _settings_table(settings: dict[str, Any]) -> list[str]:
    return ["| setting | value |", "|---|---|"] + [f"| {k} | {_fmt(v)} |" for k, v in settings.items()]


# ----------------------------------------------------------------------------- retrieval
def write_retrieval_report(result: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> Path:
    """report.md plus retrieval_metrics.png and retrieval_latency.png in ``out``."""
    modes = result["modes"]
    _bars(modes, [k for k, _ in RETRIEVAL_COLUMNS], [label for _, label in RETRIEVAL_COLUMNS],
          f"{result['dataset']} ({result['split']}, {result['queries']} queries)", out / "retrieval_metrics.png")
    _latency_chart(rows, list(modes), out / "retrieval_latency.png")
    lines = [
        f"# Retrieval: {result['name']}",
        "",
        f"Dataset `{result['path']}`, split `{result['split']}`: {result['queries']} queries over "
        f"{result['documents']} documents; top {result['depth']} documents per query (one passage per paper).",
        f"Index: {result['index']['chunks']} chunks in `{result['index']['home']}`.",
        "",
        "| mode | " + " | ".join(label for _, label in RETRIEVAL_COLUMNS) + " | p50 ms | p95 ms |",
        "|---" * (len(RETRIEVAL_COLUMNS) + 3) + "|",
    ]
    for mode, stats in modes.items():
        cells = [_fmt(stats[k]) for k, _ in RETRIEVAL_COLUMNS]
        cells += [_fmt(stats["latency_p50_ms"], 1), _fmt(stats["latency_p95_ms"], 1)]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    lines += ["", "![metrics](retrieval_metrics.png)", "", "![latency](retrieval_latency.png)", "",
              "## Settings", "", *_settings_table(result["settings"]), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _bars(groups: dict[str, dict[str, Any]], keys: list[str], labels: list[str], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(groups), 1)
    for i, (name, stats) in enumerate(groups.items()):
        xs = [j + i * width for j in range(len(keys))]
        vals = [stats.get(k) or 0.0 for k in keys]
        bars = ax.bar(xs, vals, width, label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in vals], fontsize=7, padding=1)
    ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in range(len(keys))], labels)
    ax.set_ylim(0, 1.08)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", ncols=max(len(groups), 1))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _latency_chart(rows: list[dict[str, Any]], modes: list[str], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for mode in modes:
        ms = [r["ms"] for r in rows if r["mode"] == mode]
        if ms:
            ax.hist(ms, bins=40, alpha=0.55, label=mode)
    ax.set_xlabel("query latency (ms)")
    ax.set_ylabel("queries")
    ax.set_title("Search latency per mode", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- QA
def write_qa_report(summary: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> Path:
    """report.md plus qa_metrics.png and qa_latency.png in ``out``."""
    shown = [(k, label) for k, label in QA_ROWS if summary.get(k) is not None]
    _bars({"all": summary}, [k for k, _ in shown] or ["items"], [label.split(" (")[0] for _, label in shown] or ["items"],
          f"{summary['name']} ({summary['items']} questions)", out / "qa_metrics.png")
    _qa_latency(rows, out / "qa_latency.png")
    s = summary
    # the model the answers name (the settings' ``model`` is the local one, whatever the backend)
    model = next((r["model"] for r in rows if r.get("model")), s["settings"].get("model"))
    lines = [
        f"# QA: {s['name']}",
        "",
        f"Dataset `{s['dataset']}` ({s['format']} format), corpus `{s['corpus']}`: {s['items']} questions "
        f"({s['answerable']} answerable, {s['unanswerable']} unanswerable, {s['errors']} errors); "
        f"backend `{s['settings'].get('llm')}` / `{model}`.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {label} | {_fmt(s.get(k))} |" for k, label in shown]
    lines += [
        f"| latency p50 / p95 (s) | {_fmt(s.get('latency_p50_s'), 2)} / {_fmt(s.get('latency_p95_s'), 2)} |",
        f"| first token p50 (s) | {_fmt(s.get('first_token_p50_s'), 2)} |",
        f"| tokens per answer in / out | {_fmt(s.get('prompt_tokens_mean'), 0)} / "
        f"{_fmt(s.get('completion_tokens_mean'), 0)} |",
        "",
        "![metrics](qa_metrics.png)",
        "",
        "![latency](qa_latency.png)",
        "",
    ]
    if s.get("by_type"):
        lines += ["## By question type", "", "| type | items | gold cited | key facts | abstained |", "|---|---|---|---|---|"]
        for kind, v in s["by_type"].items():
            lines.append(f"| {kind} | {v['items']} | {_fmt(v['gold_cited_rate'])} | {_fmt(v['key_fact_accuracy'])} "
                         f"| {_fmt(v['abstention_rate'])} |")
        lines.append("")
    if s.get("label_confusion"):
        preds = sorted({p for row in s["label_confusion"].values() for p in row})
        lines += ["## Labels (gold → predicted)", "", "| gold | " + " | ".join(preds) + " |",
                  "|---" * (len(preds) + 1) + "|"]
        for gold, row in sorted(s["label_confusion"].items()):
            lines.append(f"| {gold} | " + " | ".join(str(row.get(p, 0)) for p in preds) + " |")
        lines.append("")
    misses = _misses(rows)
    if misses:
        lines += ["## Misses (first 15)", ""] + misses[:15] + [""]
    lines += ["## Settings", "", *_settings_table(s["settings"]), ""]
    if s.get("question_suffix"):
        lines += [f"Question suffix: `{s['question_suffix']}`", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _misses(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        why = []
        if r.get("error"):
            why.append(f"error: {r['error']}")
        if r.get("false_abstention"):
            why.append("abstained on an answerable question")
        if r.get("abstained_right") is False:
            why.append("answered an unanswerable question")
        if r.get("gold_cited") is False and not r.get("cannot_answer"):
            why.append("gold paper not cited")
        if r.get("label_correct") is False:
            why.append(f"label {r.get('label_pred')} (gold {r.get('label_gold')})")
        if why:
            out.append(f"- `{r['id']}` {r['question']} — {'; '.join(why)}")
    return out


def _qa_latency(rows: list[dict[str, Any]], path: Path) -> None:
    totals = [r["timings"]["total_s"] for r in rows if not r.get("error") and "total_s" in r.get("timings", {})]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    if totals:
        ax.hist(totals, bins=min(30, max(len(totals) // 2, 5)), color="tab:blue", alpha=0.8)
    ax.set_xlabel("seconds per answer")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- sweeps
def write_sweep_report(sweep: dict[str, Any], out: Path) -> Path:
    """sweep.md and sweep_ndcg.png: every variant and mode side by side."""
    variants = sweep["variants"]
    modes = list(dict.fromkeys(m for v in variants.values() for m in v["modes"]))
    lines = [f"# Retrieval sweep: {sweep['name']}", "", f"Dataset `{sweep['dataset']}`.", "",
             "Variants over one index share each query's dense and BM25 candidates, retrieved once outside the "
             "timings: p50 ms times fusion, re-ranking and capping alone (the first hybrid variant of each index "
             "also embeds the candidates' sentences, which later variants find memoised).", "",
             "| variant | overrides | mode | " + " | ".join(label for _, label in RETRIEVAL_COLUMNS) + " | p50 ms |",
             "|---" * (len(RETRIEVAL_COLUMNS) + 4) + "|"]
    for vname, v in variants.items():
        shown = ", ".join(f"{k}={val}" for k, val in v.get("overrides", {}).items()) or "defaults"
        for mode, stats in v["modes"].items():
            cells = [_fmt(stats[k]) for k, _ in RETRIEVAL_COLUMNS] + [_fmt(stats["latency_p50_ms"], 1)]
            lines.append(f"| {vname} | {shown} | {mode} | " + " | ".join(cells) + " |")
    lines += ["", "![nDCG@10](sweep_ndcg.png)", ""]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(variants)), 3.6))
    width = 0.8 / max(len(modes), 1)
    names = list(variants)
    for i, mode in enumerate(modes):
        vals = [variants[n]["modes"].get(mode, {}).get("ndcg@10", 0.0) for n in names]
        bars = ax.bar([j + i * width for j in range(len(names))], vals, width, label=mode)
        ax.bar_label(bars, labels=[f"{x:.3f}" for x in vals], fontsize=6, padding=1)
    ax.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(names))], names, rotation=20, fontsize=7)
    ax.set_ylabel("nDCG@10")
    ax.set_ylim(0, 1.0)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "sweep_ndcg.png", dpi=110)
    plt.close(fig)
    path = out / "sweep.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
