"""Where a benchmark run lives: the library home of its corpus, its output folder and JSON files, the settings
recorded beside its figures."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from paperqa_local.errors import PaperQAError
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_OUT_ROOT = Path("eval-output")


def corpus_home(settings: Settings, corpus: Path, home: str | Path | None = None) -> Settings:
    """Settings for the library that holds a benchmark corpus.

    Each corpus gets its own home under ``<home>/eval/`` (derived from its path), so a benchmark
    never mixes with the user's papers and is indexed once: later runs find it unchanged.
    Embedding and chunking settings already name the collection inside that home, so
    changing them builds a second index beside the first. The store is always the embedded
    one, since a Chroma server's collection names do not include the home. Models stay
    where the user's settings put them.
    """
    if home is None:
        digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:8]
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", corpus.stem if corpus.is_file() else corpus.name) or "corpus"
        home = settings.home / "eval" / f"{stem}-{digest}"
    derived = settings.model_copy(update={"chroma_url": None})
    return derived.with_overrides(home=Path(home).expanduser(), models_dir=settings.models_path)


def output_dir(out: str | Path | None, name: str, resume: bool = False) -> Path:
    """``out`` as given, else ``eval-output/<name>-<time>`` (with ``resume``: the latest such folder)."""
    if out is not None:
        path = Path(out).expanduser()
    else:
        runs = sorted(DEFAULT_OUT_ROOT.glob(f"{name}-2*")) if resume else []
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = runs[-1] if runs else DEFAULT_OUT_ROOT / f"{name}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


SETTINGS_SHOWN = ("embed_model", "chunk_size", "chunk_overlap", "k", "candidates", "retrieval_mode", "fusion",
                  "rrf_k", "dense_weight", "bm25_weight", "rerank_depth", "sentence_weight", "per_paper_cap", "evidence_budget", "min_relevance",
                  "min_coverage", "max_missing", "max_unstated", "max_apart", "min_identify_coverage", "support_threshold", "llm", "model", "openai_model", "max_tokens", "temperature", "prompts_dir")


def settings_summary(settings: Settings) -> dict[str, Any]:
    """The settings that shape a figure, recorded beside it."""
    data = settings.model_dump(mode="json")
    return {k: data[k] for k in SETTINGS_SHOWN if k in data}


def run_items(todo: Sequence[T], items_path: Path, run_one: Callable[[T], dict[str, Any]],
              error_row: Callable[[T, str], dict[str, Any]], *, desc: str, unit: str, progress: bool,
              postfix: Callable[[dict[str, Any]], dict[str, str]] | None = None) -> None:
    """Run each item and append its row to ``items_path`` as it finishes (so a killed run resumes).

    A failure is recorded as that item's error row and the run goes on: one bad item never loses
    the others. ``postfix`` turns each row into the progress bar's running figures.
    """
    bar = tqdm(todo, desc=desc, unit=unit, disable=not progress)
    with items_path.open("a", encoding="utf-8") as fh:
        for item in bar:
            try:
                row = run_one(item)
            except PaperQAError as err:  # a model/backend failure is recorded, the run goes on
                log.warning("%s: %s", getattr(item, "id", item), err)
                row = error_row(item, f"{type(err).__name__}: {err}")
            except Exception as err:  # noqa: BLE001  (one bad item must not lose the others)
                log.warning("%s: %s\n%s", getattr(item, "id", item), err, traceback.format_exc())
                row = error_row(item, f"{type(err).__name__}: {err}")
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            if postfix is not None:
                bar.set_postfix(postfix(row), refresh=False)
    bar.close()


def read_items(path: Path) -> list[dict[str, Any]]:
    """An items file's rows; a line cut short by an interruption is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning("%s: skipping a truncated line", path)
    return rows


def done_ids(path: Path) -> set[str]:
    """Ids already answered (errors are retried on resume)."""
    return {r["id"] for r in read_items(path) if not r.get("error")}
