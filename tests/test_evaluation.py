"""The evaluation harness (``paperqa-local eval ...``) on tiny datasets built in tmp_path.

Metrics are checked against hand-computed values; the runners go through the real CLI entry
(``paperqa_local.cli.main``) with the real MiniLM embedder, embedded Chroma and the
deterministic ``extractive`` backend, so no generative model is needed. The real benchmark
data in ../shared is never read here (too big); only the configs that point at it are parsed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from evalkit import make_beir, make_pubmedqa, make_seeds, write_jsonl

from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation import metrics
from paperqa_local.evaluation.datasets import QAItem, load_beir, load_qa_dataset
from paperqa_local.evaluation.qa_eval import score_item, summarize
from paperqa_local.records import Chunk
from paperqa_local.results import Answer, Context, Reference


# ============================================================================ metrics
def test_ndcg_recall_mrr_by_hand() -> None:
    qrels = {"a": 1, "b": 2}
    ranked = ["x", "a", "y", "b"]
    dcg = 1 / math.log2(3) + 2 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg_at_k(ranked, qrels, 10) == pytest.approx(dcg / idcg)
    assert metrics.ndcg_at_k(["b", "a"], qrels, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(ranked, qrels, 2) == pytest.approx((1 / math.log2(3)) / idcg)
    assert metrics.ndcg_at_k(["x", "y"], qrels) == 0.0
    assert metrics.ndcg_at_k(["a"], {}) == 0.0
    assert metrics.ndcg_at_k(["a", "b"], {"a": 1, "b": 0}) == pytest.approx(1.0)  # zero is not relevant

    assert metrics.recall_at_k(ranked, qrels, 2) == pytest.approx(0.5)
    assert metrics.recall_at_k(ranked, qrels, 4) == pytest.approx(1.0)
    assert metrics.recall_at_k(ranked, ["z"], 10) == 0.0
    assert metrics.recall_at_k(ranked, [], 10) == 0.0

    assert metrics.reciprocal_rank(ranked, qrels) == pytest.approx(0.5)
    assert metrics.reciprocal_rank(["b"], qrels) == 1.0
    assert metrics.reciprocal_rank(["x", "y", "a"], qrels, k=2) == 0.0
    assert metrics.reciprocal_rank(["x", "y", "z", "a"], qrels) == pytest.approx(0.25)

    assert metrics.dedupe(["p1", "p2", "p1", "p3", "p2"]) == ["p1", "p2", "p3"]
    assert metrics.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert metrics.percentile([10.0], 95) == 10.0 and metrics.percentile([], 50) == 0.0
    assert metrics.mean([1, None, 3]) == 2.0 and metrics.mean([None]) is None


def test_label_parsing_and_accuracy() -> None:
    assert metrics.parse_label("Yes, the trial showed a benefit [1].") == "yes"
    assert metrics.parse_label("No. The cohort did not differ [2].") == "no"
    assert metrics.parse_label("Maybe: results were mixed.") == "maybe"
    assert metrics.parse_label("Possibly, in older patients.") == "maybe"
    assert metrics.parse_label("The answer is yes for adults. No data for children.") == "yes"
    assert metrics.parse_label("The effect was seen in 2 vs. 3 arms, so yes. No data for children.") == "yes"
    assert metrics.parse_label("The drug lowered blood pressure [1].") is None
    assert metrics.parse_label("") is None
    rows = [{"id": "1", "type": "pubmedqa", "answerable": True, "cannot_answer": False, "label_gold": "yes",
             "label_pred": "yes", "label_correct": True},
            {"id": "2", "type": "pubmedqa", "answerable": True, "cannot_answer": False, "label_gold": "no",
             "label_pred": "yes", "label_correct": False},
            {"id": "3", "type": "pubmedqa", "answerable": True, "cannot_answer": False, "label_gold": "maybe",
             "label_pred": None, "label_correct": False},
            {"id": "4", "type": "pubmedqa", "answerable": True, "cannot_answer": True, "label_gold": "yes",
             "label_pred": None, "label_correct": False}]
    summary = summarize(rows)
    assert summary["label_accuracy"] == 0.25
    assert summary["label_coverage"] == 0.5
    assert summary["label_confusion"] == {"yes": {"yes": 1, "abstained": 1}, "no": {"yes": 1},
                                          "maybe": {"none": 1}}


def test_key_fact_matching() -> None:
    answer = "FFCV trains ResNet-50 to 75% in 20 mins [1]. It uses 8 A100 GPUs, and reaches 80.4% top-1 [2]."
    assert metrics.fact_present("FFCV", answer)
    assert metrics.fact_present("20 mins", answer)
    assert metrics.fact_present("80.4%", answer)
    assert metrics.fact_present("A100 GPU", answer)  # plural folding
    assert metrics.fact_present("ffcv 75%", answer)  # case and word order do not matter
    assert not metrics.fact_present("80.5%", answer)
    assert not metrics.fact_present("ImageNet", answer)
    assert not metrics.fact_present("", answer)
    assert metrics.fact_present("1,000 images", "trained on 1000 images")
    assert metrics.fact_present("Réseau", "the reseau [3] works")  # accents and markers dropped
    assert metrics.key_fact_score(["FFCV", "20 mins", "ImageNet"], answer) == pytest.approx(2 / 3)
    # how a number is written is not what it is: "8" states "eight", "400M" states "400 million"
    assert metrics.fact_present("eight GPUs", answer)
    assert metrics.fact_present("400 million", "CLIP was trained on 400M pairs [1]")
    assert metrics.fact_present("435", "it has 435 million parameters")
    assert not metrics.fact_present("400 million", "CLIP was trained on 400 pairs")
    assert metrics.key_fact_score([], answer) is None


def test_citation_recall_and_precision() -> None:
    assert metrics.citation_scores(["a", "b"], ["a"]) == (1.0, 0.5)
    assert metrics.citation_scores(["a", "a"], ["a", "c"]) == (0.5, 1.0)
    assert metrics.citation_scores([], ["a"]) == (0.0, None)
    assert metrics.citation_scores(["a"], []) == (None, 0.0)
    assert metrics.title_key("FFCV: Accelerating Training!") == metrics.title_key("ffcv accelerating  training")


def _answer(text: str, papers: list[tuple[str, str]], cannot: bool = False) -> Answer:
    refs = [Reference(number=i, paper_id=pid, title=title, location="abstract", source=f"/{pid}")
            for i, (pid, title) in enumerate(papers, start=1)]
    ctxs = [Context(number=i, chunk=Chunk(id=f"{pid}:0000", paper_id=pid, index=0, text=text, location="abstract",
                                          title=title, source=f"/{pid}"), text=text, score=1.0, relevance=0.5)
            for i, (pid, title) in enumerate(papers, start=1)]
    return Answer(question="q", text=text, contexts=[] if cannot else ctxs, references=[] if cannot else refs,
                  cannot_answer=cannot, timings={"total_s": 1.0})


def test_score_item_citations_by_doc_id_and_title() -> None:
    by_doc = QAItem(id="1", question="q", type="pubmedqa", gold_docs=["42"], label="yes")
    row = score_item(by_doc, _answer("Yes, it does [1][2].", [("pm-42", "A"), ("pm-7", "B")]),
                     {"pm-42": "42", "pm-7": "7"})
    assert row["citation_recall"] == 1.0 and row["citation_precision"] == 0.5 and row["gold_cited"] is True
    assert row["label_pred"] == "yes" and row["label_correct"] is True and row["gold_in_context"] is True
    assert [c["doc_id"] for c in row["cited"]] == ["42", "7"]

    # the citation check refused the model's "Yes, ..." (not stated in the passages): the answer has no label,
    # the model's own verdict is still recorded, apart
    refused = _answer("", [], cannot=True)
    refused.raw_text = "Yes, it does [1]."
    row = score_item(by_doc, refused, {"pm-42": "42"})
    assert row["label_pred"] is None and row["label_correct"] is False
    assert row["label_model"] == "yes" and row["label_model_correct"] is True
    assert summarize([row])["label_accuracy_model"] == 1.0 and summarize([row])["label_accuracy"] == 0.0

    by_title = QAItem(id="2", question="q", gold_titles=["FFCV: Accelerating Training"], key_facts=["FFCV"])
    row = score_item(by_title, _answer("Use ffcv [1].", [("h1", "ffcv accelerating training"), ("h2", "Other")]))
    assert (row["citation_recall"], row["citation_precision"], row["key_fact_score"]) == (1.0, 0.5, 1.0)
    row = score_item(by_title, _answer("Something else [1].", [("h2", "Other")]))
    assert (row["citation_recall"], row["citation_precision"], row["gold_cited"]) == (0.0, 0.0, False)
    assert row["facts_missing"] == ["FFCV"]


def test_abstention_metrics() -> None:
    answerable = QAItem(id="a", question="q", gold_titles=["T"], key_facts=["x"])
    unanswerable = QAItem(id="u", question="q", answerable=False, type="unanswerable")
    false_abst = score_item(answerable, _answer("", [], cannot=True))
    assert false_abst["false_abstention"] is True and false_abst["citation_recall"] == 0.0
    assert false_abst["gold_cited"] is False and false_abst["abstained_right"] is None
    right = score_item(unanswerable, _answer("", [], cannot=True))
    assert right["abstained_right"] is True and right["false_abstention"] is None
    assert right["citation_recall"] is None and right["key_fact_score"] is None
    wrong = score_item(QAItem(id="u2", question="q", answerable=False, type="unanswerable"),
                       _answer("It was X [1].", [("p", "T")]))
    assert wrong["abstained_right"] is False
    answered = score_item(QAItem(id="a2", question="q", gold_titles=["T"], key_facts=["x"]),
                          _answer("x is so [1].", [("p", "T")]))

    summary = summarize([false_abst, right, wrong, answered])
    assert (summary["items"], summary["answerable"], summary["unanswerable"]) == (4, 2, 2)
    assert summary["abstention_unanswerable"] == 0.5
    assert summary["false_abstention"] == 0.5
    assert summary["gold_cited_rate"] == 0.5 and summary["key_fact_accuracy"] == 0.5
    assert summary["by_type"]["unanswerable"]["abstention_rate"] == 0.5
    # the latest row of an id wins; error rows are counted apart
    retry = dict(false_abst, cannot_answer=False, false_abstention=False)
    error = {"id": "e", "question": "q", "type": "single", "answerable": True, "cannot_answer": False,
             "error": "LLMError: boom"}
    again = summarize([false_abst, right, wrong, answered, retry, error])
    assert (again["items"], again["errors"], again["false_abstention"]) == (5, 1, 0.0)


# ============================================================================ datasets
def test_loaders_read_and_reject(tmp_path: Path) -> None:
    beir = load_beir(make_beir(tmp_path / "tinybeir"))
    assert list(beir.queries) == ["1", "2", "3", "4", "5"] and len(beir.corpus) == 15
    assert beir.qrels["5"] == {"106": 1, "115": 1} and beir.qrels["4"] == {"109": 1}

    data = load_qa_dataset(make_pubmedqa(tmp_path / "pmqa"))
    assert data.format == "pubmedqa" and data.name == "pmqa" and data.items[0].gold_docs == ["102"]
    seeds, _ = make_seeds(tmp_path / "seeds")
    data = load_qa_dataset(seeds)
    assert data.format == "seeds" and data.name == "seeds_qa"
    assert [i.answerable for i in data.items] == [True, True, True, False]
    assert data.items[3].type == "unanswerable"

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "1", "question": "q", "gold_doc_id": "1",
                                                 "final_decision": "perhaps"}])
    with pytest.raises(PaperQAError, match=r"bad\.jsonl:1: final_decision"):
        load_qa_dataset(bad)
    dup = write_jsonl(tmp_path / "dup.jsonl", [{"id": "1", "question": "q"}, {"id": "1", "question": "r"}])
    with pytest.raises(PaperQAError, match=r"dup\.jsonl:2: duplicate id"):
        load_qa_dataset(dup)
    (tmp_path / "tinybeir" / "qrels" / "train.tsv").unlink()
    with pytest.raises(PaperQAError, match="missing BEIR qrels"):
        load_beir(tmp_path / "tinybeir")




def test_markers_outside_the_passages_are_counted_and_all_gold_cited_per_type() -> None:
    item = QAItem(id="m", question="q", type="multi", gold_titles=["A", "B"], key_facts=[])
    answer = _answer("A does x [1].", [("a", "A")])
    answer.raw_text = "A does x [1]. B does y [1, 7]."  # the model named a passage it was not given
    row = score_item(item, answer)
    assert (row["markers_outside_raw"], row["markers_outside"]) == (1, 0)
    both = score_item(QAItem(id="m2", question="q", type="multi", gold_titles=["A", "B"], key_facts=[]),
                      _answer("A does x [1]. B does y [2].", [("a", "A"), ("b", "B")]))
    summary = summarize([row, both])
    assert summary["markers_outside_raw"] == 1 and summary["markers_outside"] == 0
    assert summary["by_type"]["multi"]["gold_cited_rate"] == 1.0
    assert summary["by_type"]["multi"]["all_gold_cited_rate"] == 0.5
