"""The question sets over the seed papers (evals/seeds_qa.jsonl, the project's own; evals/independent_qa.jsonl,
independent_qa_2.jsonl … independent_qa_6.jsonl, written apart from the project) stay valid against the seed papers
they are about.

Every gold title must be a real seed paper and every key fact must be quotable from a gold abstract, or the
eval would score answers against facts nobody can find. The held-out split must stay large and must not share
papers with the tuning split, or settings chosen on "tune" would leak into the figures reported for "heldout".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from paperqa_local.readers import read_path

from conftest import ROOT, SEEDS

QUESTIONS = ROOT / "evals" / "seeds_qa.jsonl"
INDEPENDENT = ROOT / "evals" / "independent_qa.jsonl"
THIRD = ROOT / "evals" / "independent_qa_2.jsonl"
FOURTH = ROOT / "evals" / "independent_qa_3.jsonl"
FIFTH = ROOT / "evals" / "independent_qa_4.jsonl"
SIXTH = ROOT / "evals" / "independent_qa_5.jsonl"
SEVENTH = ROOT / "evals" / "independent_qa_6.jsonl"  # yes/no questions, half answered "no"
SPLITS = {"tune", "heldout"}
TYPES = {"single", "multi", "unanswerable", "paraphrase", "followup"}


def _rows(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


ROWS = _rows()
OTHER_ROWS = _rows(INDEPENDENT)
THIRD_ROWS = _rows(THIRD)
FOURTH_ROWS = _rows(FOURTH)
FIFTH_ROWS = _rows(FIFTH)
SIXTH_ROWS = _rows(SIXTH)
SEVENTH_ROWS = _rows(SEVENTH)


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    """Title -> lower-cased abstract for every paper in seeds/ (a title listed twice keeps both texts)."""
    texts: dict[str, list[str]] = {}
    for path in sorted(Path(SEEDS).glob("*.txt")):
        for paper in read_path(path):
            texts.setdefault(paper.title, []).append(paper.text.lower())
    return {title: "\n".join(parts) for title, parts in texts.items()}


def test_size_splits_and_ids() -> None:
    assert len(ROWS) >= 150
    splits = Counter(row.get("split") for row in ROWS)
    assert set(splits) <= SPLITS, splits
    assert splits["heldout"] >= 50
    ids = Counter(row["id"] for row in ROWS)
    assert [i for i, n in ids.items() if n > 1] == []
    assert {row["type"] for row in ROWS} <= TYPES


@pytest.mark.parametrize(("rows", "held"), [(OTHER_ROWS, 40), (THIRD_ROWS, 38), (FOURTH_ROWS, 30),
                                                 (FIFTH_ROWS, 32), (SIXTH_ROWS, 30), (SEVENTH_ROWS, 30)],
                         ids=["independent", "third", "fourth", "fifth", "sixth", "seventh"])
def test_the_independent_sets_are_split_and_share_no_paper_across_parts(rows: list[dict[str, Any]],
                                                                         held: int) -> None:
    splits = Counter(row["split"] for row in rows)
    assert set(splits) == SPLITS and splits["heldout"] >= held
    assert len({row["id"] for row in rows}) == len(rows)
    assert {row["type"] for row in rows} <= TYPES
    by_split: dict[str, set[str]] = {s: set() for s in SPLITS}
    for row in rows:
        by_split[row["split"]].update(row["gold_titles"])
    assert by_split["tune"] & by_split["heldout"] == set()


ALL_ROWS = ROWS + OTHER_ROWS + THIRD_ROWS + FOURTH_ROWS + FIFTH_ROWS + SIXTH_ROWS + SEVENTH_ROWS


@pytest.mark.parametrize("row", ALL_ROWS, ids=[row["id"] for row in ALL_ROWS])
def test_row_is_grounded_in_the_seeds(row: dict[str, Any], seed_texts: dict[str, str]) -> None:
    assert row["question"].strip()
    if not row["answerable"] or row["type"] == "unanswerable":
        assert row["type"] == "unanswerable" and not row["answerable"]
        assert row["gold_titles"] == [] and row["key_facts"] == []
        return
    assert row["gold_titles"], "an answerable question needs a gold paper"
    missing = [t for t in row["gold_titles"] if t not in seed_texts]
    assert missing == [], f"gold titles not in seeds/: {missing}"
    gold = [seed_texts[t] for t in row["gold_titles"]]
    absent = [f for f in row["key_facts"] if not any(f.lower() in text for text in gold)]
    assert absent == [], f"key facts not in any gold abstract: {absent}"
    if row["type"] == "followup":
        history = row.get("history")
        assert history and all(len(turn) == 2 and all(str(x).strip() for x in turn) for turn in history)


def test_heldout_papers_are_not_tuning_papers() -> None:
    """No paper behind a held-out question may appear in a tuning question: tuning must not see held-out papers."""
    by_split: dict[str, set[str]] = {s: set() for s in SPLITS}
    for row in ROWS:
        by_split[row["split"]].update(row["gold_titles"])
    assert by_split["tune"] & by_split["heldout"] == set()


@pytest.mark.parametrize("rows", [SIXTH_ROWS, SEVENTH_ROWS], ids=["sixth", "seventh"])
def test_the_later_sets_held_out_papers_are_no_sets_tuning_papers(rows: list[dict[str, Any]]) -> None:
    """The sixth and seventh sets were written with their held-out parts about papers every set uses only in
    held-out parts, so no rule mended on a tune part has looked at them."""
    tune: set[str] = set()
    for row in ALL_ROWS:
        if row["split"] == "tune":
            tune.update(row["gold_titles"])
    held = {t for row in rows if row["split"] == "heldout" for t in row["gold_titles"]}
    assert held and held & tune == set()


def test_the_seventh_set_asks_yes_no_questions_half_answered_no() -> None:
    """Every answerable row carries the right verdict, and each part has as many "no" as "yes" answers or more:
    the 1.5B model's "no" is what the set measures."""
    for split in SPLITS:
        labels = Counter(row.get("label") for row in SEVENTH_ROWS if row["split"] == split and row["answerable"])
        assert set(labels) == {"yes", "no"} and labels["no"] >= labels["yes"], (split, labels)
