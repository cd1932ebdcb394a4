"""SciFact claim verification: each claim through ``PaperQA.verify``, scored with the SciFact paper's metrics.

The corpus (a BEIR folder whose ``queries.jsonl`` metadata holds each claim's gold abstracts,
rationale sentences and SUPPORT/CONTRADICT; claims without any are NOT_ENOUGH_INFO) is indexed
through ``PaperQA.add_papers`` into the same library home the retrieval benchmark uses, so it is
embedded once. Claims are split into tune and held-out parts by ``splits.hashed_split``; only the
tune part's items may calibrate (``calibrate.py``). Items are appended to ``items.jsonl`` as they
finish (``resume=True`` goes on after an interruption); the summary covers every item in the file.
Metrics: ``verify_metrics.py``. Evidence sentences are mapped to the abstract's sentence indices by
their text under ``text_rules.split_sentences``; the share of gold indices that split can reach is
reported as the alignment rate.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation import metrics
from paperqa_local.evaluation import verify_metrics as vm
from paperqa_local.evaluation import workspace as ws
from paperqa_local.evaluation.datasets import BeirDataset, corpus_papers, load_beir, read_jsonl
from paperqa_local.evaluation.splits import check_split, hashed_split, select
from paperqa_local.results import Verdict
from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

log = logging.getLogger(__name__)

ITEMS_FILE = "items.jsonl"
QRELS_SPLIT = "train"  # SciFact's claims with gold evidence (the test claims' evidence is not public)
#: (summary key, report row, chart label)
HEADLINE = (
    ("label_accuracy", "label accuracy (claim)", "accuracy"),
    ("macro_f1", "label macro-F1 (claim)", "macro-F1"),
    ("abstract_label_only_f1", "abstract F1, label only", "abstract\nlabel"),
    ("abstract_label_rationale_f1", "abstract F1, label + rationale", "abstract\n+rationale"),
    ("sentence_selection_label_f1", "sentence F1, selection + label", "sentence\n+label"),
    ("sentence_selection_f1", "sentence F1, selection only", "sentence\nselection"),
    ("gold_in_context_rate", "gold abstract among the passages", "gold in\npassages"),
    ("alignment_rate", "gold sentences the split reaches", "alignment"),
)


@dataclass
class Claim:
    """One claim with its gold label and evidence (``verify_metrics`` row layout)."""

    id: str
    text: str
    label: str
    gold: dict[str, dict[str, Any]] = field(default_factory=dict)  # doc id -> {"label", "rationales"}

    @property
    def split(self) -> str:
        return hashed_split(self.id)


def load_claims(data: BeirDataset) -> list[Claim]:
    """The judged claims of ``data`` with their gold evidence from ``queries.jsonl`` metadata."""
    meta = {str(r["_id"]): r.get("metadata") or {} for r in read_jsonl(data.path / "queries.jsonl")}
    claims = []
    for qid, text in data.queries.items():
        gold: dict[str, dict[str, Any]] = {}
        for doc, entries in meta.get(qid, {}).items():
            entries = [e for e in entries if e.get("label") in vm.LABELS[:2]]
            if entries:  # SciFact never mixes labels within an abstract; the first one names it
                gold[str(doc)] = {"label": entries[0]["label"],
                                  "rationales": [sorted(int(i) for i in e.get("sentences", [])) for e in entries]}
        label = next(iter(gold.values()))["label"] if gold else vm.NEI
        claims.append(Claim(qid, text, label, gold))
    return claims


def run_verify_eval(
    beir_dir: str | Path,
    *,
    split: str = "all",
    limit: int | None = None,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    out: str | Path | None = None,
    index_home: str | Path | None = None,
    name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Verify the first ``limit`` claims of ``split`` (tune | heldout | all); write items, summary, report, chart."""
    from paperqa_local.pipeline import PaperQA

    check_split(split)
    data = load_beir(beir_dir, QRELS_SPLIT)
    claims = select(load_claims(data), split, lambda c: c.split)[: limit or None]
    base = (settings or Settings.load()).with_overrides(**(overrides or {}))
    name = name or f"{data.name}-verify-{split}-{base.llm}"
    out_dir = ws.output_dir(out, name, resume=resume)
    items_path = out_dir / ITEMS_FILE
    if items_path.exists() and not resume:
        items_path.unlink()
    done = ws.done_ids(items_path)
    todo = [c for c in claims if c.id not in done]
    abstracts = functools.cache(lambda doc: vm.abstract_sentences(_text(data.corpus.get(doc, ("", "")))))
    qa_settings = ws.corpus_home(base, data.path, index_home)
    index: dict[str, Any] = {}
    if todo:
        qa = PaperQA(settings=qa_settings)
        try:
            papers, back = corpus_papers(data.name, data.corpus)
            report = qa.add_papers(papers, progress=progress)
            if not report.ok:
                raise PaperQAError(f"{data.path}: {len(report.failed)} documents failed to index: {report.failed[0]}")
            index = {"home": str(qa.settings.home), "papers": report.total_papers, "chunks": report.total_chunks,
                     "seconds": round(report.seconds, 1)}
            qa.warm_up()
            _verify_all(qa, todo, back, abstracts, items_path, progress)
        finally:
            qa.close()
    wanted = {c.id for c in claims}
    rows = [r for r in ws.read_items(items_path) if r["id"] in wanted]
    summary = summarize(rows)
    summary.update(kind="verify", name=name, dataset=str(data.path), split=split, limit=limit,
                   documents=len(data.corpus), index=index, settings=ws.settings_summary(qa_settings), out=str(out_dir))
    ws.write_json(out_dir / "summary.json", summary)
    write_verify_report(summary, rows, out_dir)
    return summary


def _text(doc: tuple[str, str]) -> str:
    title, text = doc
    return text or title  # what ``corpus_papers`` indexes


def _verify_all(qa: PaperQA, todo: list[Claim], back: dict[str, str], abstracts: Callable[[str], list[str]],
                items_path: Path, progress: bool) -> None:
    right: list[bool] = []

    def postfix(row: dict[str, Any]) -> dict[str, str]:
        if not row["error"]:
            right.append(row["correct"])
        return {"acc": f"{sum(right) / len(right):.2f}"} if right else {}

    ws.run_items(todo, items_path, lambda claim: score_claim(claim, qa.verify(claim.text), back, abstracts),
              _error_row, desc="claims", unit="claim", progress=progress, postfix=postfix)


def score_claim(claim: Claim, verdict: Verdict, back: dict[str, str], abstracts: Callable[[str], list[str]]) -> dict:
    """One claim's row (pure: no model, no library); ``back`` maps paper ids to corpus doc ids."""
    evidence, sentences = [], {}
    for e in verdict.evidence:
        doc = back.get(e.paper_id, e.paper_id)
        indices = vm.sentence_indices(e.sentence, abstracts(doc))
        sentences.setdefault(doc, []).extend(i for i in indices if i not in sentences.get(doc, []))
        evidence.append({"doc_id": doc, "number": e.number, "sentence": e.sentence, "indices": indices,
                         "score": round(e.score, 4)})
    in_context = metrics.dedupe(back.get(c.chunk.paper_id, c.chunk.paper_id) for c in verdict.contexts)
    reachable, gold_sentences = vm.reachable_gold(claim.gold, {d: len(abstracts(d)) for d in claim.gold})
    return {
        "id": claim.id, "claim": claim.text, "split": claim.split,
        "label_gold": claim.label, "label_pred": verdict.label, "correct": verdict.label == claim.label,
        "probabilities": {k: round(v, 4) for k, v in verdict.probabilities.items()},
        "logprobs": {k: round(v, 4) for k, v in verdict.logprobs.items()}, "scored": verdict.scored,
        "features": {k: round(v, 4) for k, v in verdict.features.items()},
        "gold": claim.gold, "pred_docs": list(sentences), "pred_sentences": sentences, "evidence": evidence,
        "context_docs": in_context,
        "gold_in_context": any(d in claim.gold for d in in_context) if claim.gold else None,
        "gold_reachable": [reachable, gold_sentences],
        "timings": verdict.timings, "backend": verdict.backend, "model": verdict.model, "error": None,
    }


def _error_row(claim: Claim, error: str) -> dict[str, Any]:
    return {"id": claim.id, "claim": claim.text, "split": claim.split, "label_gold": claim.label,
            "gold": claim.gold, "error": error}


# ----------------------------------------------------------------------------- summary and report
def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every metric over the rows (the latest row per id wins, errors counted apart), per split too."""
    latest = {r["id"]: r for r in rows}
    ok = [r for r in latest.values() if not r.get("error")]
    summary = {"items": len(latest), "errors": len(latest) - len(ok), **_figures(ok)}
    parts = sorted({r["split"] for r in ok})
    if len(parts) > 1:
        summary["by_split"] = {p: {k: v for k, v in _figures([r for r in ok if r["split"] == p]).items()
                                   if k not in ("claims", "abstract", "sentence")} for p in parts}
    return summary


def _figures(ok: list[dict[str, Any]]) -> dict[str, Any]:
    claims = vm.claim_scores([(r["label_gold"], r["label_pred"]) for r in ok])
    abstract, sentence = vm.abstract_scores(ok), vm.sentence_scores(ok)
    reach = [r["gold_reachable"] for r in ok if r["gold_reachable"][1]]
    totals = [r["timings"]["total_s"] for r in ok if "total_s" in r.get("timings", {})]
    return {
        "claims": claims, "abstract": abstract, "sentence": sentence, "items_ok": len(ok),
        "label_accuracy": claims["accuracy"], "macro_f1": claims["macro_f1"],
        "abstract_label_only_f1": abstract["label_only"]["f1"],
        "abstract_label_rationale_f1": abstract["label_rationale"]["f1"],
        "sentence_selection_label_f1": sentence["selection_label"]["f1"],
        "sentence_selection_f1": sentence["selection"]["f1"],
        "gold_in_context_rate": _round(metrics.mean(float(r["gold_in_context"]) for r in ok
                                                    if r["gold_in_context"] is not None)),
        "alignment_rate": round(sum(a for a, _ in reach) / sum(n for _, n in reach), 4) if reach else None,
        "confusion": claims["confusion"],
        "latency_p50_s": _round(metrics.percentile(totals, 50)) if totals else None,
        "latency_p95_s": _round(metrics.percentile(totals, 95)) if totals else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def write_verify_report(summary: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> Path:
    """report.md and verify_metrics.png in ``out``."""
    from paperqa_local.evaluation.report import _bars, _fmt, _settings_table

    s = summary
    groups = {**(s.get("by_split") or {}), "all": s}
    _bars(groups, [k for k, _, _ in HEADLINE], [short for _, _, short in HEADLINE],
          f"{s['name']} ({s['items']} claims)", out / "verify_metrics.png")
    model = next((r["model"] for r in rows if r.get("model")), s["settings"].get("llm"))
    lines = [f"# Claim verification: {s['name']}", "",
             f"Dataset `{s['dataset']}`, split `{s['split']}` (tune / held-out by a hash of the claim id): "
             f"{s['items']} claims ({s['errors']} errors) over {s['documents']} abstracts; backend "
             f"`{s['settings'].get('llm')}` / `{model}`.", "",
             "| metric | " + " | ".join(groups) + " |", "|---" * (len(groups) + 1) + "|"]
    for key, label, _ in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(_fmt(g.get(key)) for g in groups.values()) + " |")
    lines += ["| latency p50 / p95 (s) | " + " | ".join(f"{_fmt(g.get('latency_p50_s'), 2)} / "
                                                    f"{_fmt(g.get('latency_p95_s'), 2)}" for g in groups.values()) + " |",
              "",
              "![metrics](verify_metrics.png)", "", "## Labels (gold → predicted)", "",
              "| gold | " + " | ".join(vm.LABELS) + " |", "|---" * (len(vm.LABELS) + 1) + "|"]
    for gold in vm.LABELS:
        lines.append(f"| {gold} | " + " | ".join(str(s["confusion"][gold].get(p, 0)) for p in vm.LABELS) + " |")
    lines += ["", "## Per label (claim level)", "", "| label | precision | recall | F1 | gold | predicted |",
              "|---|---|---|---|---|---|"]
    for label, v in s["claims"]["per_label"].items():
        lines.append(f"| {label} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} | {v['gold']} "
                     f"| {v['predicted']} |")
    misses = [f"- `{r['id']}` {r['claim']} — " + (f"error: {r['error']}" if r.get("error") else
              f"{r['label_pred']} (gold {r['label_gold']})") for r in rows if r.get("error") or not r.get("correct")]
    if misses:
        lines += ["", "## Misses (first 15)", "", *misses[:15]]
    lines += ["", "Metrics as in Wadden et al. (2020); sentence indices are matched through the project's sentence "
              "split, whose reach is the alignment rate above.", "", "## Settings", "",
              *_settings_table(s["settings"]), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
