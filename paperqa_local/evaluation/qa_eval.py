"""Answer-quality benchmark: each question through ``PaperQA.ask``, scored against its gold answer.

Per item: yes/no/maybe label, key facts, gold document cited (citation recall / precision),
abstention (right on unanswerable, wrong on answerable), unsupported sentences, latency and
tokens. Items are appended to ``items.jsonl`` as they finish, so an interrupted run goes on
with ``resume=True`` and the summary always covers every item in the file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation import metrics
from paperqa_local.evaluation import workspace as ws
from paperqa_local.evaluation.datasets import QADataset, QAItem, corpus_papers, load_corpus_jsonl, load_qa_dataset
from paperqa_local.evaluation.splits import check_split, select, split_of
from paperqa_local.prompts import load_prompts
from paperqa_local.results import Answer
from paperqa_local.settings import Settings
from paperqa_local.text_rules import LOOSE_MARKER

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

log = logging.getLogger(__name__)

ITEMS_FILE = "items.jsonl"


@dataclass
class Corpus:
    """Where the questions' papers live and how cited papers map back to gold documents."""

    kind: str  # "jsonl" | "files" | "library"
    path: Path | None = None
    doc_ids: dict[str, str] = field(default_factory=dict)  # paper id -> corpus doc id


def run_qa_eval(
    dataset: str | Path,
    *,
    corpus: str | Path | None = None,
    settings: Settings | None = None,
    overrides: dict[str, Any] | None = None,
    limit: int | None = None,
    resume: bool = False,
    out: str | Path | None = None,
    index_home: str | Path | None = None,
    question_suffix: str | None = None,
    name: str | None = None,
    progress: bool = True,
    split: str = "all",
) -> dict[str, Any]:
    """Answer the dataset's questions (the first ``limit`` of ``split``) and write items, summary, report, charts.

    ``corpus``: a ``corpus.jsonl`` (or a folder holding one) or paper files/folders to index;
    by default the ``corpus.jsonl`` beside the dataset, else the library in ``settings.home``
    as it is. ``question_suffix`` is appended to every question in the model's prompt only (PubMedQA
    gets ``prompts/label_instruction.txt`` unless ``prompts_dir`` is set or the backend is extractive).
    ``split``: ``tune``, ``heldout`` or ``all`` (``splits.py``: a row's own ``split``, else a hash of its id).
    """
    from paperqa_local.pipeline import PaperQA

    data = load_qa_dataset(dataset)
    base = (settings or Settings.load()).with_overrides(**(overrides or {}))
    if split == "tune":  # the calibration fitted on a tune run needs the model's probability on refusals too
        base = base.with_overrides(score_refusals=True)
    name = name or (f"{data.name}-{base.llm}" if check_split(split) == "all" else f"{data.name}-{split}-{base.llm}")
    out_dir = ws.output_dir(out, name, resume=resume)
    items_path = out_dir / ITEMS_FILE
    if items_path.exists() and not resume:
        items_path.unlink()  # a fresh run in a reused folder starts over
    done = ws.done_ids(items_path)
    chosen = select(data.items, split, lambda it: split_of(it.id, it.split))[: limit or None]
    todo = [it for it in chosen if it.id not in done]
    if question_suffix is None and data.format == "pubmedqa" and base.llm != "extractive" and base.prompts_dir is None:
        question_suffix = load_prompts().render("label_instruction")

    where = _resolve_corpus(data, corpus)
    qa_settings = ws.corpus_home(base, where.path, index_home) if where.path is not None else base
    if todo:
        qa = PaperQA(settings=qa_settings)
        try:
            index = _index(qa, where, progress)
            qa.warm_up()  # loading is not timed; a model that cannot load stops the run with one error
            _answer_all(qa, todo, where, items_path, question_suffix, progress)
        finally:
            qa.close()
    else:
        index = {}
        log.info("every item of %s is already in %s", data.path, items_path)
    rows = [r for r in ws.read_items(items_path)]
    summary = summarize(rows)
    summary.update(kind="qa", name=name, dataset=str(data.path), format=data.format,
                   corpus=str(where.path) if where.path else str(qa_settings.home), index=index,
                   settings=ws.settings_summary(qa_settings), question_suffix=question_suffix,
                   limit=limit, split=split, out=str(out_dir))
    parts = sorted({r["split"] for r in rows if r.get("split")})
    if len(parts) > 1:  # both parts in one run: each one's figures, so the gap shows
        summary["by_split"] = {p: {k: v for k, v in summarize([r for r in rows if r.get("split") == p]).items()
                                   if not isinstance(v, dict)} for p in parts}
    from paperqa_local.evaluation.report import write_qa_report

    ws.write_json(out_dir / "summary.json", summary)
    write_qa_report(summary, rows, out_dir)
    return summary


# ----------------------------------------------------------------------------- corpus
def _resolve_corpus(data: QADataset, corpus: str | Path | None) -> Corpus:
    if corpus is None:
        beside = data.path.parent / "corpus.jsonl"
        return Corpus("jsonl", beside) if beside.is_file() else Corpus("library")
    path = Path(corpus).expanduser().resolve()
    if not path.exists():
        raise PaperQAError(f"{path}: corpus not found")
    if path.suffix == ".jsonl" or (path.is_dir() and (path / "corpus.jsonl").is_file()):
        return Corpus("jsonl", path if path.is_file() else path / "corpus.jsonl")
    return Corpus("files", path)


def _index(qa: PaperQA, where: Corpus, progress: bool) -> dict[str, Any]:
    if where.kind == "library":
        papers = qa.papers()
        if not papers:
            raise PaperQAError(f"{qa.settings.home}: the library is empty; give --corpus or index papers first")
        return {"home": str(qa.settings.home), "papers": len(papers)}
    if where.kind == "jsonl":
        assert where.path is not None
        name = where.path.parent.name
        papers, where.doc_ids = corpus_papers(name, load_corpus_jsonl(where.path))
        report = qa.add_papers(papers, progress=progress)
    else:
        report = qa.add([where.path], progress=progress)
    if not report.ok:
        log.warning("corpus: %d file(s) failed: %s", len(report.failed), "; ".join(map(str, report.failed[:3])))
    return {"home": str(qa.settings.home), "papers": report.total_papers, "chunks": report.total_chunks,
            "seconds": round(report.seconds, 1)}


# ----------------------------------------------------------------------------- answering
def _answer_all(qa: PaperQA, todo: list[QAItem], where: Corpus, items_path: Path, suffix: str | None,
                progress: bool) -> None:
    tally: dict[str, list[float]] = {"acc": [], "cited": [], "abstain": []}

    def run_one(item: QAItem) -> dict[str, Any]:
        answer = (qa.chat(item.history, item.question, instruction=suffix) if item.history
                  else qa.ask(item.question, instruction=suffix))
        return score_item(item, answer, where.doc_ids)

    def postfix(row: dict[str, Any]) -> dict[str, str]:
        _tally(tally, row)
        return {k: f"{sum(v) / len(v):.2f}" for k, v in tally.items() if v}

    ws.run_items(todo, items_path, run_one, _error_row, desc="questions", unit="q", progress=progress, postfix=postfix)


def _tally(tally: dict[str, list[float]], row: dict[str, Any]) -> None:
    if row.get("label_correct") is not None:
        tally["acc"].append(float(row["label_correct"]))
    if row.get("gold_cited") is not None:
        tally["cited"].append(float(row["gold_cited"]))
    if not row["answerable"]:
        tally["abstain"].append(float(row["cannot_answer"]))


def score_item(item: QAItem, answer: Answer, doc_ids: dict[str, str] | None = None) -> dict[str, Any]:
    """One item's scores from its ``Answer`` (pure: no model, no library)."""
    doc_ids = doc_ids or {}
    cited = [{"paper_id": r.paper_id, "doc_id": doc_ids.get(r.paper_id, r.paper_id), "title": r.title}
             for r in _unique_papers(answer)]
    has_gold = bool(item.gold_docs or item.gold_titles)
    recall, precision = _gold_match(cited, item) if has_gold and not answer.cannot_answer else (None, None)
    if has_gold and answer.cannot_answer:
        recall = 0.0
    in_context = [{"doc_id": doc_ids.get(c.chunk.paper_id, c.chunk.paper_id), "title": c.chunk.title}
                  for c in answer.contexts]
    # the scored verdict (``answer.verdict``, from the model's probabilities) wins over the label parsed from text
    verdict = answer.verdict or {}
    scored = verdict.get("label")
    label_text = None if answer.cannot_answer else metrics.parse_label(answer.text)
    label = None if answer.cannot_answer else (scored or label_text)
    # the model's verdict, not a rule's that replaced it ("scored_label": ``verdict_answer.denial_answer``)
    model_label = verdict.get("scored_label", scored) or (metrics.parse_label(answer.raw_text) if answer.raw_text
                                                          else None)
    n_sent = len(answer.sentences)
    return {
        "id": item.id,
        "question": item.question,
        "type": item.type,
        "split": split_of(item.id, item.split),
        "answerable": item.answerable,
        "answer": answer.text,
        "raw_text": answer.raw_text,  # what the model wrote, for reading a refusal or a wrong label
        "standalone_question": answer.standalone_question,  # a follow-up as it was rewritten and answered
        "cannot_answer": answer.cannot_answer,
        "abstained_right": (answer.cannot_answer if not item.answerable else None),
        "false_abstention": (answer.cannot_answer if item.answerable else None),
        "label_gold": item.label,
        "label_pred": label,
        "label_text": label_text,
        "label_correct": (label == item.label) if item.label else None,
        # the model's own verdict, before the citation check could turn its answer into "not answered"
        "label_model": model_label,
        "label_model_correct": (model_label == item.label) if item.label else None,
        "key_facts": item.key_facts,
        "key_fact_score": (metrics.key_fact_score(item.key_facts, answer.text) if item.answerable else None),
        "facts_missing": [f for f in item.key_facts if not metrics.fact_present(f, answer.text)],
        "gold": item.gold_docs or item.gold_titles,
        "gold_cited": (recall is not None and recall > 0) if has_gold and item.answerable else None,
        "citation_recall": recall if item.answerable else None,
        "citation_precision": precision if item.answerable else None,
        "gold_in_context": (_gold_match(in_context, item)[0] or 0.0) > 0 if has_gold and item.answerable else None,
        "cited": cited,
        "sentences": n_sent,
        # markers naming no passage given: what the model wrote, and what the user sees (0 by construction)
        "markers_outside_raw": _outside(answer.raw_text, len(answer.contexts)),
        "markers_outside": _outside("" if answer.cannot_answer else answer.text, len(answer.contexts)),
        "unsupported": len(answer.unsupported),
        "unsupported_rate": (len(answer.unsupported) / n_sent) if n_sent else None,
        "verdict": answer.verdict,  # with the raw option log-probabilities `eval calibrate verdict` fits
        "answerability": answer.answerability,  # the scores `eval calibrate answerability` fits
        "timings": answer.timings,
        "usage": answer.usage,
        "backend": answer.backend,
        "model": answer.model,
        "error": None,
    }


def _outside(text: str, n_passages: int) -> int:
    return sum(not 1 <= int(n) <= n_passages for group in LOOSE_MARKER.findall(text or "")
               for n in re.findall(r"\d+", group))


def _unique_papers(answer: Answer) -> list[Any]:
    seen: dict[str, Any] = {}
    for ref in answer.references:
        seen.setdefault(ref.paper_id, ref)
    return list(seen.values())


def _gold_match(cited: list[dict[str, str]], item: QAItem) -> tuple[float | None, float | None]:
    """(recall over gold documents, precision over cited papers); gold by doc id, else by title."""
    if item.gold_docs:
        gold = set(item.gold_docs)
        keys = [c["doc_id"] for c in cited]
    else:
        gold = {metrics.title_key(t) for t in item.gold_titles}
        keys = [metrics.title_key(c["title"]) for c in cited]
    recall = len(gold & set(keys)) / len(gold) if gold else None
    precision = sum(k in gold for k in keys) / len(keys) if keys else None
    return recall, precision


def _error_row(item: QAItem, error: str) -> dict[str, Any]:
    return {"id": item.id, "question": item.question, "type": item.type, "split": split_of(item.id, item.split),
            "answerable": item.answerable, "cannot_answer": False, "label_gold": item.label, "error": error}


# ----------------------------------------------------------------------------- files and summary


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate figures over item rows (the latest row per id wins, errors counted apart)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        latest[row["id"]] = row
    ok = [r for r in latest.values() if not r.get("error")]
    answerable = [r for r in ok if r["answerable"]]
    unanswerable = [r for r in ok if not r["answerable"]]
    m = metrics.mean

    def rate(rs: list[dict[str, Any]], key: str) -> float | None:
        return _round(m(float(r[key]) for r in rs if r.get(key) is not None))

    total_s = [r["timings"].get("total_s") for r in ok if r.get("timings", {}).get("total_s") is not None]
    first = [r["timings"]["first_token_s"] for r in ok if "first_token_s" in r.get("timings", {})]
    prompt = [r["usage"].get("prompt_tokens", 0) for r in ok if r.get("usage")]
    completion = [r["usage"].get("completion_tokens", 0) for r in ok if r.get("usage")]
    labelled = [r for r in ok if r.get("label_gold")]
    summary: dict[str, Any] = {
        "items": len(latest),
        "errors": len(latest) - len(ok),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "label_accuracy": rate(labelled, "label_correct"),
        "label_coverage": _round(m(float(r.get("label_pred") is not None) for r in labelled)),
        "label_accuracy_model": rate(labelled, "label_model_correct"),
        "key_fact_accuracy": _round(m(r.get("key_fact_score") for r in answerable)),
        "gold_cited_rate": rate(answerable, "gold_cited"),
        "citation_recall": rate(answerable, "citation_recall"),
        "citation_precision": rate(answerable, "citation_precision"),
        "gold_in_context_rate": rate(answerable, "gold_in_context"),
        "abstention_unanswerable": rate(unanswerable, "cannot_answer"),
        "false_abstention": rate(answerable, "cannot_answer"),
        "unsupported_sentence_rate": _round(m(r.get("unsupported_rate") for r in ok)),
        "markers_outside_raw": sum(r.get("markers_outside_raw") or 0 for r in ok),
        "markers_outside": sum(r.get("markers_outside") or 0 for r in ok),
        "latency_p50_s": _round(metrics.percentile(total_s, 50)) if total_s else None,
        "latency_p95_s": _round(metrics.percentile(total_s, 95)) if total_s else None,
        "latency_mean_s": _round(m(total_s)),
        "first_token_p50_s": _round(metrics.percentile(first, 50)) if first else None,
        "prompt_tokens_mean": _round(m(prompt), 1),
        "completion_tokens_mean": _round(m(completion), 1),
        "tokens_total": sum(prompt) + sum(completion),
    }
    if labelled:
        summary["label_confusion"] = _confusion(labelled)
    by_type: dict[str, dict[str, Any]] = {}
    for kind in sorted({r["type"] for r in ok}):
        rs = [r for r in ok if r["type"] == kind]
        by_type[kind] = {"items": len(rs), "gold_cited_rate": rate(rs, "gold_cited"),
                         "all_gold_cited_rate": _round(m(float(r["citation_recall"] == 1.0) for r in rs
                                                         if r.get("citation_recall") is not None)),
                         "key_fact_accuracy": _round(m(r.get("key_fact_score") for r in rs)),
                         "abstention_rate": rate(rs, "cannot_answer")}
    summary["by_type"] = by_type
    return summary


def _confusion(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """gold label -> predicted label (or "none") -> count."""
    table: dict[str, dict[str, int]] = {}
    for r in rows:
        pred = r.get("label_pred") or ("abstained" if r.get("cannot_answer") else "none")
        table.setdefault(r["label_gold"], {})
        table[r["label_gold"]][pred] = table[r["label_gold"]].get(pred, 0) + 1
    return table


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
