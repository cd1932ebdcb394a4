"""Evaluation data: BEIR retrieval sets, QA question files, and their corpora as ``Paper`` records.

Two QA formats are read, detected per file:

- PubMedQA (``{id, question, gold_doc_id, final_decision, long_answer}``): a yes/no/maybe label
  and one gold document;
- the project's own (``{id, question, gold_titles, key_facts, answerable, type}``): gold papers
  by exact title, short facts a correct answer must contain, and unanswerable questions.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperqa_local.errors import PaperQAError
from paperqa_local.records import Paper, Section

LABELS = ("yes", "no", "maybe")


# ----------------------------------------------------------------------------- BEIR
@dataclass
class BeirDataset:
    """A retrieval benchmark in BEIR layout; ``qrels[qid][doc_id] = relevance``."""

    name: str
    path: Path
    split: str
    corpus: dict[str, tuple[str, str]]  # doc id -> (title, text)
    queries: dict[str, str]  # only the queries that have judgements in ``split``
    qrels: dict[str, dict[str, int]]


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL file; a bad line raises naming the file and line."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise PaperQAError(f"{path}:{number}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise PaperQAError(f"{path}:{number}: expected a JSON object")
            yield row


def load_beir(path: str | Path, split: str = "train") -> BeirDataset:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` (with header)."""
    root = Path(path).expanduser().resolve()
    files = {"corpus": root / "corpus.jsonl", "queries": root / "queries.jsonl", "qrels": root / "qrels" / f"{split}.tsv"}
    for what, file in files.items():
        if not file.is_file():
            raise PaperQAError(f"{file}: missing BEIR {what} file")
    corpus: dict[str, tuple[str, str]] = {}
    for row in read_jsonl(files["corpus"]):
        doc_id = str(row.get("_id", ""))
        if not doc_id:
            raise PaperQAError(f"{files['corpus']}: a document has no _id")
        corpus[doc_id] = (str(row.get("title") or "").strip(), str(row.get("text") or "").strip())
    qrels: dict[str, dict[str, int]] = {}
    with files["qrels"].open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None or len(header) < 3:
            raise PaperQAError(f"{files['qrels']}: expected a header 'query-id corpus-id score'")
        for row in reader:
            if len(row) < 3:
                continue
            qid, doc_id, score = row[0].strip(), row[1].strip(), int(float(row[2]))
            if score > 0:
                qrels.setdefault(qid, {})[doc_id] = score
    all_queries = {str(r["_id"]): str(r.get("text", "")) for r in read_jsonl(files["queries"])}
    queries = {qid: all_queries[qid] for qid in sorted(qrels, key=_natural) if qid in all_queries}
    if not queries:
        raise PaperQAError(f"{files['qrels']}: no judged query is in {files['queries']}")
    return BeirDataset(name=root.name, path=root, split=split, corpus=corpus, queries=queries,
                       qrels={q: qrels[q] for q in queries})


def paper_id_for(dataset: str, doc_id: str) -> str:
    """The library id of a benchmark document: readable, stable, safe in chunk ids."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{dataset}-{doc_id}")


def corpus_papers(dataset: str, corpus: dict[str, tuple[str, str]]) -> tuple[list[Paper], dict[str, str]]:
    """One ``Paper`` per document (text as its abstract) and the map paper id -> doc id."""
    papers: list[Paper] = []
    back: dict[str, str] = {}
    for doc_id, (title, text) in corpus.items():
        pid = paper_id_for(dataset, doc_id)
        back[pid] = doc_id
        papers.append(Paper(id=pid, title=title or f"{dataset} {doc_id}", source=f"beir:{dataset}/{doc_id}",
                            sections=[Section(text=text or title, location="abstract")]))
    return papers, back


def load_corpus_jsonl(path: str | Path) -> dict[str, tuple[str, str]]:
    """A corpus file of ``{_id, title?, text}`` rows (BEIR's and PubMedQA's)."""
    file = Path(path).expanduser().resolve()
    if file.is_dir():
        file = file / "corpus.jsonl"
    if not file.is_file():
        raise PaperQAError(f"{file}: corpus file not found")
    out: dict[str, tuple[str, str]] = {}
    for row in read_jsonl(file):
        doc_id = str(row.get("_id") or row.get("id") or "")
        if not doc_id:
            raise PaperQAError(f"{file}: a document has no _id")
        out[doc_id] = (str(row.get("title") or "").strip(), str(row.get("text") or "").strip())
    return out


# ----------------------------------------------------------------------------- QA
@dataclass
class QAItem:
    """One question with what a correct answer looks like."""

    id: str
    question: str
    answerable: bool = True
    type: str = "single"  # single | multi | unanswerable | pubmedqa
    gold_docs: list[str] = field(default_factory=list)  # corpus doc ids
    gold_titles: list[str] = field(default_factory=list)
    key_facts: list[str] = field(default_factory=list)
    label: str | None = None  # yes | no | maybe
    long_answer: str = ""
    split: str | None = None  # tune | heldout where the row names its part (``evaluation/splits.py``)
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier turns of a follow-up question


@dataclass
class QADataset:
    name: str
    path: Path
    format: str  # "pubmedqa" | "seeds"
    items: list[QAItem]


def load_qa_dataset(path: str | Path) -> QADataset:
    """Read a QA JSONL file in PubMedQA or the project's format (detected from the first row)."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise PaperQAError(f"{file}: QA dataset file not found")
    rows = list(read_jsonl(file))
    if not rows:
        raise PaperQAError(f"{file}: no questions")
    fmt = "pubmedqa" if "final_decision" in rows[0] else "seeds"
    items: list[QAItem] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        item = _pubmedqa_item(row) if fmt == "pubmedqa" else _seeds_item(row)
        if not item.id or not item.question:
            raise PaperQAError(f"{file}:{number}: a question needs 'id' and 'question'")
        if item.id in seen:
            raise PaperQAError(f"{file}:{number}: duplicate id {item.id!r}")
        if fmt == "pubmedqa" and item.label not in LABELS:
            raise PaperQAError(f"{file}:{number}: final_decision must be yes, no or maybe")
        seen.add(item.id)
        items.append(item)
    name = file.parent.name if file.stem in ("questions", "queries") else file.stem
    return QADataset(name=name, path=file, format=fmt, items=items)


def _pubmedqa_item(row: dict[str, Any]) -> QAItem:
    gold = str(row.get("gold_doc_id") or "")
    return QAItem(id=str(row.get("id", "")), question=str(row.get("question", "")).strip(), type="pubmedqa",
                  gold_docs=[gold] if gold else [], label=str(row.get("final_decision", "")).lower() or None,
                  long_answer=str(row.get("long_answer", "")))


def _seeds_item(row: dict[str, Any]) -> QAItem:
    answerable = bool(row.get("answerable", True))
    return QAItem(id=str(row.get("id", "")), question=str(row.get("question", "")).strip(), answerable=answerable,
                  type=str(row.get("type") or ("single" if answerable else "unanswerable")),
                  gold_docs=[str(d) for d in row.get("gold_docs", [])],
                  gold_titles=[str(t) for t in row.get("gold_titles", [])],
                  key_facts=[str(f) for f in row.get("key_facts", [])],
                  label=(str(row["label"]).lower() if row.get("label") else None),
                  split=(str(row["split"]) if row.get("split") else None),
                  history=[(str(u), str(a)) for u, a in row.get("history") or []])


def _natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 62, key)
