"""The evaluation harness (``paperqa-local eval ...``) on tiny datasets built in tmp_path.

Metrics are checked against hand-computed values; the runners go through the real CLI entry
(``paperqa_local.cli.main``) with the real MiniLM embedder, embedded Chroma and the
deterministic ``extractive`` backend, so no generative model is needed. The real benchmark
data in ../shared is never read here (too big); only the configs that point at it are parsed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from paperqa_local.cli import main
from paperqa_local.errors import PaperQAError, SettingsError
from paperqa_local.evaluation import metrics
from paperqa_local.evaluation.cli import load_eval_config
from paperqa_local.evaluation.datasets import QAItem, load_beir, load_qa_dataset
from paperqa_local.evaluation.qa_eval import score_item, summarize
from paperqa_local.records import Answer, Chunk, Context, Reference
from paperqa_local.settings import Settings

from conftest import MODELS_DIR, ROOT, SHARED

PNG = b"\x89PNG\r\n\x1a\n"
CONFIGS = ROOT / "evals" / "configs"


# ============================================================================ helpers
def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """``paperqa-local --home HOME --models-dir ... ARGS`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(["--home", str(home), "--models-dir", str(MODELS_DIR), *args])
    out, err = capsys.readouterr()
    return code, out, err


def read_items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 1000, path


# Fifteen abstracts on unrelated topics, each with words no other one uses.
DOCS = {
    "101": ("Lantern squid swarms map deep-sea trenches",
            "Swarms of bioluminescent lantern squid guided by acoustic beacons mapped forty ocean trenches, "
            "covering twelve square kilometres per hour."),
    "102": ("Hydrophone monitoring of glacier calving",
            "Hydrophones moored near Jakobshavn recorded 311 glacier calving events over two summers; "
            "the calving clustered at high tide."),
    "103": ("The microbiome of sourdough starters",
            "Sourdough starters from 500 bakeries shared lactobacilli and wild yeasts whose balance set "
            "the bread's sourness and rise."),
    "104": ("Decoding the honeybee waggle dance",
            "Video tracking of honeybee waggle dances showed that the run angle encodes the direction "
            "of nectar sources relative to the sun."),
    "105": ("Volcanic ash erodes jet engine turbines",
            "Volcanic ash ingested by jet engines melts in the combustor and glazes turbine blades, "
            "eroding them within minutes at high concentrations."),
    "106": ("Thermal stress and coral reef bleaching",
            "Marine heatwaves expelled symbiotic algae from reef-building corals; bleaching followed "
            "four degree-heating weeks of thermal stress."),
    "107": ("Quantum dot solar cells",
            "Lead sulfide quantum dot photovoltaic cells reached 13 percent power conversion efficiency "
            "after ligand exchange passivated surface traps."),
    "108": ("Tardigrade proteins protect against desiccation",
            "Tardigrades survive complete desiccation by expressing intrinsically disordered proteins "
            "that vitrify the cytoplasm into a glass."),
    "109": ("Green roofs cool urban heat islands",
            "Vegetated green roofs lowered rooftop surface temperatures by 30 degrees and reduced the "
            "urban heat island effect across the city."),
    "110": ("Mycorrhizal networks share carbon between trees",
            "Mycorrhizal fungal networks transferred carbon isotopes from mother trees to seedlings "
            "through the forest soil."),
    "111": ("Antibiotic resistance genes in hospital wastewater",
            "Metagenomic sequencing of hospital wastewater found carbapenemase resistance genes on "
            "plasmids shared by many bacteria."),
    "112": ("Exoplanet detection by transit photometry",
            "Transit photometry detected an exoplanet by the periodic dimming of its host star's light "
            "as the planet crossed the stellar disk."),
    "113": ("Sleep spindles consolidate memory",
            "Sleep spindles during non-REM sleep predicted overnight memory consolidation of word pairs "
            "learned before bed."),
    "114": ("Octopus arms make local decisions",
            "Each octopus arm holds a neural ganglion chain that coordinates suckers and reaching without "
            "input from the central brain."),
    "115": ("Methane emissions from thawing permafrost",
            "Thawing Arctic permafrost released methane from thermokarst lakes, adding to greenhouse "
            "warming feedbacks."),
}


def make_beir(root: Path) -> Path:
    """A BEIR-layout folder: 15 documents, 5 judged queries (one with two relevant documents)."""
    write_jsonl(root / "corpus.jsonl", [{"_id": k, "title": t, "text": x} for k, (t, x) in DOCS.items()])
    queries = [
        {"_id": "1", "text": "lantern squid swarms guided by acoustic beacons mapped ocean trenches"},
        {"_id": "2", "text": "tardigrades survive desiccation with intrinsically disordered proteins"},
        {"_id": "3", "text": "hydrophones recorded glacier calving events at Jakobshavn"},
        {"_id": "4", "text": "vegetated green roofs reduce the urban heat island effect"},
        {"_id": "5", "text": "coral reef bleaching from marine heatwaves and methane from thawing permafrost"},
        {"_id": "6", "text": "a query without judgements is ignored"},
    ]
    write_jsonl(root / "queries.jsonl", queries)
    (root / "qrels").mkdir()
    rows = [("1", "101", 1), ("2", "108", 1), ("3", "102", 1), ("4", "109", 1), ("5", "106", 1), ("5", "115", 1),
            ("4", "103", 0)]  # a zero judgement is not relevant
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in rows), encoding="utf-8")
    return root


def make_pubmedqa(root: Path) -> Path:
    """PubMedQA-shaped: corpus.jsonl ({_id, text}) beside questions.jsonl; returns the questions file."""
    corpus = [{"_id": k, "text": f"{t}. {x}", "labels": ["BACKGROUND"], "meshes": [], "year": "2019"}
              for k, (t, x) in list(DOCS.items())[:6]]
    write_jsonl(root / "corpus.jsonl", corpus)
    questions = [
        {"id": "9001", "question": "Do hydrophones record glacier calving events at Jakobshavn?",
         "gold_doc_id": "102", "final_decision": "yes", "long_answer": "Yes, 311 calving events."},
        {"id": "9002", "question": "Does volcanic ash ingested by jet engines erode turbine blades?",
         "gold_doc_id": "105", "final_decision": "yes", "long_answer": "Yes, within minutes."},
        {"id": "9003", "question": "Is the sourdough starter microbiome identical across bakeries?",
         "gold_doc_id": "103", "final_decision": "no", "long_answer": "No, lactobacilli and yeasts vary."},
    ]
    return write_jsonl(root / "questions.jsonl", questions)


def make_seeds(root: Path) -> tuple[Path, Path]:
    """Seeds-format questions over a folder of markdown papers: (questions file, papers folder)."""
    papers = root / "papers"
    papers.mkdir(parents=True)
    for key in ("101", "102", "108", "109", "112"):
        title, text = DOCS[key]
        (papers / f"p{key}.md").write_text(f"# {title}\n\n## Abstract\n\n{text}\n", encoding="utf-8")
    questions = [
        {"id": "s1", "question": "How many glacier calving events did the hydrophones near Jakobshavn record?",
         "gold_titles": [DOCS["102"][0]], "key_facts": ["311 calving events"], "answerable": True, "type": "single"},
        {"id": "s2", "question": "How do tardigrades survive complete desiccation?",
         "gold_titles": [DOCS["108"][0]], "key_facts": ["disordered proteins"], "answerable": True,
         "type": "single"},
        {"id": "s3", "question": "By how many degrees did vegetated green roofs lower rooftop temperatures?",
         "gold_titles": [DOCS["109"][0]], "key_facts": ["30 degrees"], "answerable": True, "type": "single"},
        {"id": "s4", "question": "Which medieval king commissioned the Bayeux tapestry embroidery?",
         "gold_titles": [], "key_facts": [], "answerable": False, "type": "unanswerable"},
    ]
    return write_jsonl(root / "seeds_qa.jsonl", questions), papers


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


# ============================================================================ runners via the CLI
def test_eval_retrieval_reports_all_modes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beir = make_beir(tmp_path / "tinybeir")
    home, out = tmp_path / "home", tmp_path / "out"
    code, stdout, stderr = cli(capsys, home, "eval", "retrieval", "--beir", str(beir), "--split", "train",
                               "--modes", "bm25,dense,hybrid", "--out", str(out), "--json", "--no-progress")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["kind"] == "retrieval" and result["queries"] == 5 and result["documents"] == 15
    assert list(result["modes"]) == ["bm25", "dense", "hybrid"]
    assert result["index"]["papers"] == 15 and result["index"]["embedded_this_run"] > 0
    assert Path(result["index"]["home"]).is_relative_to(home / "eval")  # never the user's own library
    for mode, stats in result["modes"].items():
        for key in ("ndcg@10", "recall@10", "recall@100", "mrr"):
            assert 0.0 <= stats[key] <= 1.0, (mode, key, stats)
        # each query copies its document's distinctive words: found first (or nearly), all found
        assert stats["mrr"] >= 0.9, (mode, stats)
        assert stats["recall@10"] == 1.0 and stats["recall@100"] == 1.0, (mode, stats)
        assert stats["ndcg@10"] >= 0.85, (mode, stats)
        assert stats["latency_p50_ms"] > 0 and stats["latency_p95_ms"] >= stats["latency_p50_ms"]
    assert result["settings"]["embed_model"] == "all-MiniLM-L6-v2" and result["settings"]["per_paper_cap"] == 1

    assert json.loads((out / "results.json").read_text())["modes"] == result["modes"]
    per_query = read_items(out / "per_query.jsonl")
    assert len(per_query) == 15 and {r["mode"] for r in per_query} == {"bm25", "dense", "hybrid"}
    first = next(r for r in per_query if r["qid"] == "1" and r["mode"] == "bm25")
    assert first["top10"][0] == "101" and first["relevant"] == ["101"]
    report = (out / "report.md").read_text()
    for mode in ("bm25", "dense", "hybrid"):
        assert f"| {mode} |" in report
    assert "nDCG@10" in report and "all-MiniLM-L6-v2" in report
    assert_png(out / "retrieval_metrics.png")
    assert_png(out / "retrieval_latency.png")

    # a second run finds the index as it was; the text output is the report's table
    code, stdout, stderr = cli(capsys, home, "eval", "retrieval", "--beir", str(beir), "--modes", "bm25",
                               "--limit", "2", "--out", str(tmp_path / "out2"), "--no-progress")
    assert code == 0, stderr
    again = json.loads((tmp_path / "out2" / "results.json").read_text())
    assert again["index"]["embedded_this_run"] == 0 and again["queries"] == 2 and list(again["modes"]) == ["bm25"]
    assert "| bm25 |" in stdout and str(tmp_path / "out2") in stderr

    code, _, stderr = cli(capsys, home, "eval", "retrieval", "--beir", str(beir), "--modes", "bm25,sparse",
                          "--out", str(tmp_path / "out3"))
    assert code == 2 and "sparse" in stderr and stderr.strip().count("\n") == 0


def test_eval_qa_pubmedqa_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = make_pubmedqa(tmp_path / "pmqa")
    out = tmp_path / "out"
    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(questions),
                               "--llm", "extractive", "--out", str(out), "--json", "--no-progress")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["format"] == "pubmedqa" and summary["items"] == 3 and summary["errors"] == 0
    assert summary["corpus"] == str(questions.parent / "corpus.jsonl")  # found beside the questions
    assert summary["index"]["papers"] == 6
    assert summary["question_suffix"] is None  # the extractive backend gets no label instruction
    assert summary["gold_cited_rate"] == 1.0 and summary["citation_recall"] == 1.0
    assert summary["label_accuracy"] is not None and 0.0 <= summary["label_accuracy"] <= 1.0
    assert set(summary["label_confusion"]) == {"yes", "no"}
    assert summary["settings"]["llm"] == "extractive"

    rows = read_items(out / "items.jsonl")
    assert [r["id"] for r in rows] == ["9001", "9002", "9003"]
    assert all(r["error"] is None and r["backend"] == "extractive" for r in rows)
    assert rows[0]["cited"][0]["doc_id"] == "102" and rows[0]["gold"] == ["102"]
    assert "311" in rows[0]["answer"]
    assert json.loads((out / "summary.json").read_text())["items"] == 3
    report = (out / "report.md").read_text()
    assert "# QA: pmqa-extractive" in report and "Labels (gold → predicted)" in report
    assert "backend `extractive` / `extractive`" in report  # not the (unused) local model's name
    assert_png(out / "qa_metrics.png")
    assert_png(out / "qa_latency.png")


def test_eval_qa_seeds_format_abstains_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, papers = make_seeds(tmp_path / "data")
    home, out = tmp_path / "home", tmp_path / "out"
    base = ["eval", "qa", "--dataset", str(questions), "--corpus", str(papers), "--llm", "extractive",
            "--out", str(out), "--json", "--no-progress"]
    code, stdout, stderr = cli(capsys, home, *base, "--limit", "1")
    assert code == 0, stderr
    first = json.loads(stdout)
    assert first["items"] == 1 and first["limit"] == 1 and first["index"]["papers"] == 5
    before = (out / "items.jsonl").read_text().splitlines()
    assert len(before) == 1

    code, stdout, stderr = cli(capsys, home, *base, "--resume")
    assert code == 0, stderr
    summary = json.loads(stdout)
    lines = (out / "items.jsonl").read_text().splitlines()
    assert lines[0] == before[0]  # the finished item was not answered again
    rows = [json.loads(x) for x in lines]
    assert [r["id"] for r in rows] == ["s1", "s2", "s3", "s4"]  # each once, all there
    assert summary["items"] == 4 and summary["errors"] == 0
    assert (summary["answerable"], summary["unanswerable"]) == (3, 1)
    assert summary["format"] == "seeds"

    by_id = {r["id"]: r for r in rows}
    assert by_id["s4"]["cannot_answer"] is True and by_id["s4"]["abstained_right"] is True
    assert summary["abstention_unanswerable"] == 1.0 and summary["false_abstention"] == 0.0
    assert by_id["s1"]["cited"][0]["title"] == DOCS["102"][0] and by_id["s1"]["key_fact_score"] == 1.0
    assert summary["gold_cited_rate"] == 1.0 and summary["key_fact_accuracy"] >= 2 / 3
    assert summary["by_type"]["unanswerable"] == {"items": 1, "gold_cited_rate": None, "key_fact_accuracy": None,
                                                  "abstention_rate": 1.0}
    report = (out / "report.md").read_text()
    assert "right abstention (unanswerable) | 1.000" in report and "## By question type" in report
    assert_png(out / "qa_metrics.png")
    assert_png(out / "qa_latency.png")

    # everything done: a resumed run answers nothing and reports the same figures
    code, stdout, stderr = cli(capsys, home, *base, "--resume")
    assert code == 0, stderr
    assert json.loads(stdout)["items"] == 4 and len((out / "items.jsonl").read_text().splitlines()) == 4


def test_eval_qa_malformed_dataset_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"id": "1", "question": "fine?"}\n{"id": "2", "question": oops}\n', encoding="utf-8")
    code, _, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(bad), "--llm", "extractive",
                          "--out", str(tmp_path / "out"))
    assert code == 2
    assert stderr.strip().count("\n") == 0
    assert f"{bad}:2" in stderr and "not valid JSON" in stderr

    code, _, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "missing.jsonl" in stderr and stderr.strip().count("\n") == 0


def test_eval_qa_missing_model_stops_with_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions, papers = make_seeds(tmp_path / "data")
    out = tmp_path / "out"
    code, _, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(questions), "--corpus",
                          str(papers), "--llm", "local", "--model", "no-such-model", "--out", str(out),
                          "--no-progress")
    assert code == 2 and "no-such-model" in stderr and stderr.strip().count("\n") == 0
    assert not (out / "items.jsonl").exists() or not (out / "items.jsonl").read_text().strip()


def test_eval_run_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_beir(tmp_path / "data" / "tinybeir")
    questions, _ = make_seeds(tmp_path / "data" / "seedsqa")
    sweep = tmp_path / "configs" / "sweep.toml"
    sweep.parent.mkdir()
    sweep.write_text(
        '[eval]\nkind = "retrieval"\nname = "tiny-sweep"\ndataset = "../data/tinybeir"\nmodes = ["bm25", "hybrid"]\n'
        'out = "../out/sweep"\n\n'
        '[[eval.variants]]\nname = "rrf"\nfusion = "rrf"\n\n'
        '[[eval.variants]]\nname = "weighted dense-heavy"\nfusion = "weighted"\ndense_weight = 2.0\n\n'
        '[settings]\nk = 5\n', encoding="utf-8")
    # relative paths: there is no pyproject.toml above tmp_path, so they are relative to the file
    cfg, overrides = load_eval_config(sweep)
    assert cfg["dataset"] == str((tmp_path / "data" / "tinybeir").resolve()) and overrides == {"k": 5}

    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "run", str(sweep), "--json", "--no-progress")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["kind"] == "sweep" and list(result["variants"]) == ["rrf", "weighted dense-heavy"]
    for name, variant in result["variants"].items():
        assert list(variant["modes"]) == ["bm25", "hybrid"] and variant["queries"] == 5
        assert variant["modes"]["hybrid"]["mrr"] >= 0.9, name
    assert result["variants"]["weighted dense-heavy"]["settings"]["fusion"] == "weighted"
    assert result["variants"]["weighted dense-heavy"]["settings"]["dense_weight"] == 2.0
    out = Path(result["out"])
    assert out == (tmp_path / "out" / "sweep").resolve()  # relative to the config's root, not the cwd
    assert (out / "sweep.md").is_file() and (out / "sweep.json").is_file()
    assert_png(out / "sweep_ndcg.png")
    assert (out / "rrf" / "report.md").is_file() and (out / "weighted_dense-heavy" / "results.json").is_file()

    qa_cfg = tmp_path / "configs" / "qa.toml"
    qa_cfg.write_text(
        f'[eval]\nkind = "qa"\ndataset = "../data/seedsqa/seeds_qa.jsonl"\ncorpus = "../data/seedsqa/papers"\n'
        f'limit = 2\nout = "{(tmp_path / "out" / "qa").as_posix()}"\n\n[settings]\nllm = "extractive"\n',
        encoding="utf-8")
    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "run", str(qa_cfg), "--json", "--no-progress")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["items"] == 2 and summary["name"] == "qa-extractive" and summary["settings"]["llm"] == "extractive"
    assert summary["dataset"] == str(questions.resolve())
    assert (tmp_path / "out" / "qa" / "report.md").is_file()

    bad = tmp_path / "configs" / "bad.toml"
    bad.write_text('[eval]\nkind = "qa"\ndataset = "x.jsonl"\nlimt = 3\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="limt"):
        load_eval_config(bad)
    code, _, stderr = cli(capsys, tmp_path / "home", "eval", "run", str(bad))
    assert code == 2 and "limt" in stderr


# ============================================================================ evals/configs
def test_every_benchmark_config_parses_and_points_at_data() -> None:
    files = sorted(CONFIGS.glob("*.toml"))
    assert {f.name for f in files} >= {"scifact_retrieval.toml", "scifact_sweep.toml", "pubmedqa.toml",
                                       "seeds_qa.toml"}
    shared_present = (SHARED / "datasets").is_dir()
    for file in files:
        cfg, overrides = load_eval_config(file)
        assert cfg.get("kind") in ("retrieval", "qa"), file
        for key in ("dataset", "beir", "corpus"):
            if not cfg.get(key):
                continue
            path = Path(cfg[key])
            if path.is_relative_to(SHARED.resolve()) and not shared_present:
                continue  # the shared datasets are not on this machine
            assert path.exists(), f"{file.name}: {key} {path} does not exist"
        if cfg["kind"] == "retrieval" and cfg.get("variants"):
            assert 2 <= len(cfg["variants"]) <= 8, file
            for variant in cfg["variants"]:
                extra = set(variant) - {"name"}
                assert extra, f"{file.name}: a variant with no overrides"
        if cfg["kind"] == "qa":
            assert cfg.get("dataset", "").endswith(".jsonl"), file
        for variant in cfg.get("variants", []):  # every variant is a valid set of settings
            Settings().with_overrides(**overrides).with_overrides(**{k: v for k, v in variant.items() if k != "name"})
