"""Claim verification eval, tune/held-out splits and calibration (``paperqa-local eval verify|calibrate``).

Metrics are checked against numbers worked out by hand; the runs go through the real CLI with the
real MiniLM embedder and the deterministic ``extractive`` backend on a 5-abstract BEIR folder built
in tmp_path. Calibration always writes to a file in tmp_path, never to the package's calibration.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from evalkit import assert_png, cli, read_items, write_jsonl

from paperqa_local.claim_verification import claim_features
from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation import verify_metrics as vm
from paperqa_local.evaluation.calibrate import calibrate, fit_threshold
from paperqa_local.evaluation.splits import hashed_split, select, split_of
from paperqa_local.evaluation.verify_eval import summarize
from paperqa_local.evidence import Evidence
from paperqa_local.results import EvidenceSentence
from paperqa_local.text_rules import split_sentences
from paperqa_local.verdicts import calibration

from conftest import ROOT, SHARED

S, C, N = "SUPPORT", "CONTRADICT", "NOT_ENOUGH_INFO"


# ============================================================================ metrics by hand
def row(gold: dict[str, Any], label_gold: str, label_pred: str, pred: dict[str, list[int]], split: str = "tune"):
    return {"id": f"c{id(gold)}", "split": split, "gold": gold, "label_gold": label_gold, "label_pred": label_pred,
            "pred_docs": list(pred), "pred_sentences": pred, "gold_in_context": True if gold else None,
            "gold_reachable": [sum(len(v["rationales"]) for v in gold.values())] * 2, "timings": {"total_s": 1.0}}


ROWS = [
    # right label, right doc d1 with one whole rationale [3, 4] among 3 sentences; d9 is not gold
    row({"d1": {"label": S, "rationales": [[1], [3, 4]]}}, S, S, {"d1": [3, 4, 0], "d9": [2]}),
    # wrong label on the right doc and sentence
    row({"d2": {"label": C, "rationales": [[0]]}}, C, S, {"d2": [0]}),
    row({}, N, N, {}),
    row({}, N, S, {"d5": [1]}),  # evidence where there is none
    row({"d3": {"label": S, "rationales": [[2]]}}, S, N, {}),  # evidence missed
    # right label and doc (d4), wrong sentence; gold doc d6 not found
    row({"d4": {"label": S, "rationales": [[0]]}, "d6": {"label": S, "rationales": [[1]]}}, S, S, {"d4": [5]}),
]


def test_claim_level_accuracy_macro_f1_and_confusion() -> None:
    scores = vm.claim_scores([(r["label_gold"], r["label_pred"]) for r in ROWS])
    assert scores["accuracy"] == 0.5  # c1, c3, c6
    # SUPPORT: 2 right of 4 predicted, 3 gold; CONTRADICT: never predicted; NEI: 1 of 2, 2 gold
    assert scores["per_label"][S] == {"precision": 0.5, "recall": 0.6667, "f1": 0.5714, "correct": 2,
                                      "predicted": 4, "gold": 3}
    assert scores["per_label"][C]["f1"] == 0.0 and scores["per_label"][N]["f1"] == 0.5
    assert scores["macro_f1"] == round((0.5714 + 0 + 0.5) / 3, 4) == 0.3571
    assert scores["confusion"] == {S: {S: 2, C: 0, N: 1}, C: {S: 1, C: 0, N: 0}, N: {S: 1, C: 0, N: 1}}


def test_abstract_and_sentence_level_f1() -> None:
    abstract = vm.abstract_scores(ROWS)
    # 5 predicted (doc, label): d1, d9, d2, d5, d4; 5 gold docs: d1, d2, d3, d4, d6
    assert abstract["label_only"] == {"precision": 0.4, "recall": 0.4, "f1": 0.4, "correct": 2, "predicted": 5,
                                      "gold": 5}  # d1, d4
    assert abstract["label_rationale"]["f1"] == 0.2  # d1 only: d4's sentence is not its rationale
    sentence = vm.sentence_scores(ROWS)
    # predicted sentences: d1 {3,4,0}, d9 {2}, d2 {0}, d5 {1}, d4 {5} = 7; gold: {1,3,4}, {0}, {2}, {0}, {1} = 7
    assert sentence["selection"] == {"precision": 0.4286, "recall": 0.4286, "f1": 0.4286, "correct": 3,
                                     "predicted": 7, "gold": 7}  # d1's 3 and 4, d2's 0
    assert sentence["selection_label"]["correct"] == 2 and sentence["selection_label"]["f1"] == 0.2857


def test_rationale_credit_needs_the_whole_rationale_within_three_sentences() -> None:
    gold = {"d": {"label": S, "rationales": [[2, 3]]}}
    assert vm.abstract_scores([row(gold, S, S, {"d": [0, 1, 2, 3]})])["label_rationale"]["correct"] == 0
    assert vm.abstract_scores([row(gold, S, S, {"d": [3, 2]})])["label_rationale"]["correct"] == 1
    assert vm.sentence_scores([row(gold, S, S, {"d": [2]})])["selection"]["correct"] == 0  # half a rationale


def test_summary_headline_and_parts() -> None:
    rows = [dict(r, id=f"c{i}", split="tune" if i < 3 else "heldout") for i, r in enumerate(ROWS)]
    rows.append({"id": "bad", "split": "tune", "label_gold": S, "gold": {}, "error": "boom"})
    summary = summarize(rows)
    assert (summary["items"], summary["errors"], summary["items_ok"]) == (7, 1, 6)
    assert summary["label_accuracy"] == 0.5 and summary["macro_f1"] == 0.3571
    assert summary["abstract_label_rationale_f1"] == 0.2 and summary["sentence_selection_label_f1"] == 0.2857
    assert summary["gold_in_context_rate"] == 1.0 and summary["alignment_rate"] == 1.0
    assert summary["by_split"]["tune"]["label_accuracy"] == round(2 / 3, 4)  # c0, c2 right; c1 wrong
    assert summary["by_split"]["heldout"]["label_accuracy"] == round(1 / 3, 4)


def test_evidence_sentences_map_to_abstract_indices() -> None:
    abstract = split_sentences("Alpha beta gamma delta epsilon here. Second sentence is here and long enough. "
                               "Third one closes the abstract text.")
    assert len(abstract) == 3
    assert vm.sentence_indices("Second sentence is here and long enough.", abstract) == [1]
    assert vm.sentence_indices("Alpha beta gamma delta epsilon here. … Third one closes the abstract text.",
                               abstract) == [0, 2]  # two runs of a passage joined by the gap mark
    assert vm.sentence_indices("sentence is here and long", abstract) == [1]  # a piece cut by a chunk boundary
    assert vm.sentence_indices("Nothing like it.", abstract) == []
    gold = {"d": {"label": S, "rationales": [[0], [5]]}, "e": {"label": S, "rationales": [[1, 2]]}}
    assert vm.reachable_gold(gold, {"d": 3, "e": 2}) == (2, 4)  # d:5 and e:2 lie beyond the split


# ============================================================================ splits
def test_split_is_stable_disjoint_and_balanced() -> None:
    ids = [str(i) for i in range(2000)]
    tune = select(ids, "tune", hashed_split)
    held = select(ids, "heldout", hashed_split)
    assert not set(tune) & set(held) and len(tune) + len(held) == len(ids)
    assert select(ids, "all", hashed_split) == ids
    assert 0.45 < len(tune) / len(ids) < 0.55
    # frozen: the same ids land in the same part forever (and regardless of which other ids exist)
    assert [hashed_split(i) for i in ("0", "2", "8", "14", "10808977", "s01")] == [
        "tune", "heldout", "tune", "tune", "heldout", "tune"]
    assert select(list(reversed(ids))[:50], "tune", hashed_split) == [i for i in reversed(ids[-50:]) if i in tune]
    assert split_of("2", "tune") == "tune"  # a row's own part wins
    with pytest.raises(PaperQAError, match="split must be"):
        split_of("2", "train")
    with pytest.raises(PaperQAError, match="choose from"):
        select(ids, "test", hashed_split)


def test_shared_datasets_split_about_half() -> None:
    scifact, pubmedqa = SHARED / "datasets" / "scifact", SHARED / "datasets" / "pubmedqa"
    if not scifact.is_dir():
        pytest.skip("the shared datasets are not on this machine")
    claims = [json.loads(x)["_id"] for x in (scifact / "queries.jsonl").read_text().splitlines() if x.strip()]
    assert sum(hashed_split(c) == "tune" for c in claims) == 407 and len(claims) == 809
    questions = [json.loads(x)["id"] for x in (pubmedqa / "questions.jsonl").read_text().splitlines() if x.strip()]
    assert sum(hashed_split(q) == "tune" for q in questions) == 248 and len(questions) == 500


def test_seeds_questions_name_their_part() -> None:
    rows = [json.loads(x) for x in (ROOT / "evals" / "seeds_qa.jsonl").read_text().splitlines() if x.strip()]
    parts = [split_of(r["id"], r.get("split")) for r in rows]
    if any("split" in r for r in rows):
        assert all(r.get("split") in ("tune", "heldout") for r in rows)
        assert parts.count("heldout") >= 50


# ============================================================================ calibration
def lp(**probs: float) -> dict[str, float]:
    return {k: round(math.log(v), 4) for k, v in probs.items()}


def test_calibration_refuses_held_out_or_unmarked_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = {"claim": "x", "label_gold": S, "label_pred": S, "logprobs": lp(SUPPORT=0.5, CONTRADICT=0.3,
                                                                               NOT_ENOUGH_INFO=0.2), "model": "m"}
    cal = tmp_path / "calibration.json"
    held = write_jsonl(tmp_path / "held.jsonl", [dict(base, id="1", split="tune"), dict(base, id="2", split="heldout")])
    with pytest.raises(PaperQAError, match="not from the tune part"):
        calibrate("verify", held, path=cal)
    unmarked = write_jsonl(tmp_path / "old.jsonl", [dict(base, id="1")])
    with pytest.raises(PaperQAError, match="not from the tune part"):
        calibrate("verify", unmarked, path=cal)
    code, _, stderr = cli(capsys, tmp_path / "home", "eval", "calibrate", "verify", "--items", str(held),
                          "--calibration-file", str(cal))
    assert code == 2 and "--split tune" in stderr and stderr.strip().count("\n") == 0
    assert not cal.exists()  # nothing written
    qa_rows = write_jsonl(tmp_path / "qa.jsonl", [{"id": "1", "split": "tune", "question": "q?", "model": "m"}])
    with pytest.raises(PaperQAError, match="not verify items"):
        calibrate("verify", qa_rows, path=cal)


def test_calibrate_fits_offsets_thresholds_and_weights(tmp_path: Path) -> None:
    cal = tmp_path / "calibration.json"
    # a model that leans SUPPORT: the gold NEI claims still carry relatively more NEI mass
    leaning = [dict(id=f"s{i}", claim="c", split="tune", model="m", label_gold=S, label_pred=S, features={},
                    logprobs=lp(SUPPORT=0.7, CONTRADICT=0.1, NOT_ENOUGH_INFO=0.2)) for i in range(4)]
    leaning += [dict(id=f"n{i}", claim="c", split="tune", model="m", label_gold=N, label_pred=S, features={},
                     logprobs=lp(SUPPORT=0.5, CONTRADICT=0.1, NOT_ENOUGH_INFO=0.4)) for i in range(4)]
    old_prompt = [{k: v for k, v in r.items() if k != "features"} for r in leaning]  # whole-evidence label prompt
    with pytest.raises(PaperQAError, match="whole-evidence label prompt"):
        calibrate("verify", write_jsonl(tmp_path / "old.jsonl", old_prompt), path=cal)
    result = calibrate("verify", write_jsonl(tmp_path / "v.jsonl", leaning), path=cal)
    assert (result["accuracy_before"], result["accuracy_after"], result["rows"]) == (0.5, 1.0, 8)
    assert set(calibration("verify", "m", cal)) == {S, C, N}

    similar = [dict(id=str(i), claim="c", split="tune", model="extractive", label_gold=g, label_pred=N,
                    probabilities={"similarity": s}) for i, (s, g) in enumerate([(0.9, S), (0.7, S), (0.5, N), (0.2, N),
                                                                                 (0.8, C)])]
    result = calibrate("verify", write_jsonl(tmp_path / "x.jsonl", similar), path=cal)
    assert calibration("verify", "extractive", cal) == {"threshold": 0.6} and result["accuracy_after"] == 0.8
    assert fit_threshold([(0.3, S), (0.1, N)]) == 0.2 and fit_threshold([]) == 0.0

    verdicts = [dict(id=f"v{i}", question="Does it?", split="tune", model="m", label_gold=g,
                     verdict={"label": "yes", "logprobs": lp(yes=y, no=1 - y - 0.05, maybe=0.05)})
                for i, (y, g) in enumerate([(0.8, "yes"), (0.75, "yes"), (0.6, "no"), (0.55, "no")])]
    result = calibrate("verdict", write_jsonl(tmp_path / "p.jsonl", verdicts), path=cal)
    assert (result["accuracy_before"], result["accuracy_after"]) == (0.5, 1.0)
    assert result["method"] in ("offsets", "linear") and result["cross_validated_accuracy"]["none"] == 0.5
    # a model already right on every tune item keeps its own arg-max: nothing is fitted
    right = [dict(r, id=f"r{i}", label_gold="yes", model="m2") for i, r in enumerate(verdicts)]
    result = calibrate("verdict", write_jsonl(tmp_path / "r.jsonl", right), path=cal)
    assert result["method"] == "none" and calibration("verdict", "m2", cal) == {} and result["accuracy_after"] == 1.0

    scores = [(0.7, 0.9, True), (0.6, 0.8, True), (0.65, 0.7, True), (0.5, 0.2, False), (0.45, 0.25, False)]
    answer_rows = [dict(id=f"a{i}", question="q?", split="tune", model="extractive", answerable=ok,
                        answerability={"relevance": r, "coverage": c}) for i, (r, c, ok) in enumerate(scores)]
    result = calibrate("answerability", write_jsonl(tmp_path / "a.jsonl", answer_rows), path=cal)
    assert result["accuracy_after"] == 1.0 and set(result["values"]) == {"relevance", "coverage", "bias"}
    only_answerable = write_jsonl(tmp_path / "b.jsonl", answer_rows[:3])  # PubMedQA-like
    with pytest.raises(PaperQAError, match="both answerable and unanswerable"):
        calibrate("answerability", only_answerable, path=cal)
    both = calibrate("answerability", [only_answerable, write_jsonl(tmp_path / "c.jsonl", answer_rows[3:])], path=cal)
    assert both["rows"] == 5 and both["values"] == result["values"]  # two runs' items together
    assert json.loads(cal.read_text())["verdict"]["m"]["no"] > 0  # the "no" bias removed


def test_calibration_keeps_only_the_features_that_help_on_held_back_tune_rows(tmp_path: Path) -> None:
    """Forward selection by cross-validation: a feature that separates the labels joins, noise does not."""
    lp = {S: math.log(0.6), C: math.log(0.1), N: math.log(0.3)}  # the model says SUPPORT to every claim
    rows = [dict(id=str(i), claim="c", split="tune", model="m", label_gold=N if i % 3 == 0 else S, label_pred=S,
                 logprobs=lp, features={"numbers_missing": 1.0 if i % 3 == 0 else 0.0,
                                        "noise": math.sin(i * 7.3)}) for i in range(30)]
    result = calibrate("verify", write_jsonl(tmp_path / "f.jsonl", rows), path=tmp_path / "cal.json")
    assert result["method"] == "linear" and result["features"] == ["numbers_missing"]
    assert result["accuracy_after"] == 1.0 and not any("noise" in k for k in result["values"])


def test_claim_features_read_numbers_negation_and_coverage() -> None:
    def ranked(*sentences: str) -> list[EvidenceSentence]:
        return [EvidenceSentence(number=1, paper_id="p", title="T", sentence=x, index=i, location="", score=0.8 - i / 10)
                for i, x in enumerate(sentences)]

    evidence = Evidence(contexts=[], best_relevance=0.7)
    abstract = ranked("Folic acid lowered homocysteine by 25% in 120 patients.", "Kidney function was measured.")
    same = claim_features("Folic acid lowered homocysteine by 25%.", evidence, abstract)
    assert same["numbers_missing"] == 0.0 and same["negation_mismatch"] == 0.0 and same["relevance"] == 0.7
    assert same["similarity"] == pytest.approx(0.8) and same["coverage"] == pytest.approx(1.0)
    other = claim_features("Folic acid does not lower homocysteine in 90% or 1 in 5 million cases.", evidence, abstract)
    assert other["numbers_missing"] == pytest.approx(1.0) and other["negation_mismatch"] == 1.0
    assert other["coverage"] < 1.0
    assert claim_features("Anything at all.", evidence, [])["similarity"] == 0.0


# ============================================================================ end to end (extractive, real MiniLM)
ABSTRACTS = {
    "A": ("Lantern squid map trenches", ["Lantern squid emit blue light from photophores along their mantle.",
                                         "Swarms of lantern squid guided by acoustic beacons mapped forty ocean trenches.",
                                         "Each swarm covered twelve square kilometres per hour."]),
    "B": ("Sourdough microbiome", ["Sourdough starters were sampled from 500 bakeries on four continents.",
                                   "Lactobacilli dominated every starter.",
                                   "Wild yeast balance set the sourness and the rise of the bread."]),
    "C": ("Tardigrade desiccation", ["Tardigrades survive complete desiccation by expressing disordered proteins.",
                                     "The proteins vitrify the cytoplasm into a glass."]),
    "D": ("Green roofs", ["Cities warm faster than the countryside around them.",
                          "Vegetated green roofs lowered rooftop surface temperatures by 30 degrees.",
                          "The effect held across three summers."]),
    "E": ("Octopus arms", ["Each octopus arm holds a ganglion chain that coordinates its suckers."]),
}
CLAIMS = [  # id: its part, the claim, gold metadata (claim 2 contradicts; claim 14 has no evidence)
    ("0", "Lantern squid swarms guided by acoustic beacons mapped forty ocean trenches.", {"A": [([1], S)]}),
    ("8", "Wild yeast balance sets the sourness and rise of sourdough bread.", {"B": [([2], S)]}),
    ("14", "Volcanic ash glazes the turbine blades of jet engines within minutes.", {}),
    ("2", "Tardigrades die after complete desiccation despite expressing disordered proteins.", {"C": [([0], C)]}),
    ("3", "Vegetated green roofs lower rooftop surface temperatures by 30 degrees.", {"D": [([1], S)]}),
]


def make_scifact(root: Path) -> Path:
    write_jsonl(root / "corpus.jsonl", [{"_id": k, "title": t, "text": " ".join(s)} for k, (t, s) in ABSTRACTS.items()])
    write_jsonl(root / "queries.jsonl", [
        {"_id": cid, "text": text, "metadata": {d: [{"sentences": s, "label": lab} for s, lab in ev]
                                                for d, ev in meta.items()}} for cid, text, meta in CLAIMS])
    (root / "qrels").mkdir()
    cited = {"0": "A", "8": "B", "14": "E", "2": "C", "3": "D"}
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                              "".join(f"{q}\t{d}\t1\n" for q, d in cited.items()), encoding="utf-8")
    return root


def test_eval_verify_end_to_end_and_calibrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beir, home, cal = make_scifact(tmp_path / "scifact"), tmp_path / "home", tmp_path / "calibration.json"
    assert [hashed_split(c[0]) for c in CLAIMS] == ["tune", "tune", "tune", "heldout", "heldout"]
    out = tmp_path / "all"
    code, stdout, stderr = cli(capsys, home, "eval", "verify", "--beir", str(beir), "--llm", "extractive",
                               "--out", str(out), "--json", "--no-progress")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["kind"] == "verify" and summary["items"] == 5 and summary["errors"] == 0
    assert Path(summary["index"]["home"]).is_relative_to(home / "eval") and summary["index"]["papers"] == 5
    rows = {r["id"]: r for r in read_items(out / "items.jsonl")}
    assert [rows[c]["label_pred"] for c in ("0", "8", "14", "2", "3")] == [S, S, N, S, S]  # no CONTRADICT here
    assert summary["label_accuracy"] == 0.8 and summary["alignment_rate"] == 1.0
    for cid, doc, index in (("0", "A", 1), ("8", "B", 2), ("3", "D", 1)):  # the copied sentence, found and placed
        assert rows[cid]["evidence"][0]["doc_id"] == doc and rows[cid]["evidence"][0]["indices"] == [index], rows[cid]
    assert rows["14"]["evidence"] == [] and rows["0"]["split"] == "tune" and rows["2"]["split"] == "heldout"
    assert summary["sentence"]["selection_label"]["recall"] == 0.75  # claim 2's label is wrong
    assert summary["abstract"]["label_only"]["recall"] == 0.75
    assert set(summary["by_split"]) == {"tune", "heldout"}
    assert summary["confusion"][C] == {S: 1, C: 0, N: 0}
    report = (out / "report.md").read_text()
    assert "# Claim verification" in report and "| sentence F1, selection + label |" in report
    assert "| metric | heldout | tune | all |" in report
    assert_png(out / "verify_metrics.png")

    code, _, stderr = cli(capsys, home, "eval", "calibrate", "verify", "--items", str(out / "items.jsonl"),
                          "--calibration-file", str(cal))
    assert code == 2 and "not from the tune part" in stderr  # an all-parts run never calibrates

    tune = tmp_path / "tune"
    code, stdout, stderr = cli(capsys, home, "eval", "verify", "--beir", str(beir), "--llm", "extractive",
                               "--split", "tune", "--limit", "2", "--out", str(tune), "--json", "--no-progress")
    assert code == 0, stderr
    assert json.loads(stdout)["items"] == 2 and json.loads(stdout)["index"]["papers"] == 5
    code, stdout, stderr = cli(capsys, home, "eval", "verify", "--beir", str(beir), "--llm", "extractive",
                               "--split", "tune", "--resume", "--out", str(tune), "--json", "--no-progress")
    assert code == 0, stderr
    assert [r["id"] for r in read_items(tune / "items.jsonl")] == ["0", "8", "14"]  # resumed, each once
    code, stdout, stderr = cli(capsys, home, "eval", "calibrate", "verify", "--items", str(tune / "items.jsonl"),
                               "--calibration-file", str(cal))
    assert code == 0, stderr
    assert "tune accuracy 1.000 -> 1.000 on 3 items" in stdout
    threshold = calibration("verify", "extractive", cal)["threshold"]
    sims = {r["id"]: r["probabilities"]["similarity"] for r in read_items(tune / "items.jsonl")}
    assert sims["14"] < threshold <= min(sims["0"], sims["8"])


def test_eval_qa_split_records_verdict_and_answerability(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "seedsqa"
    write_jsonl(root / "corpus.jsonl", [{"_id": k, "title": t, "text": " ".join(s)} for k, (t, s) in ABSTRACTS.items()])
    questions = write_jsonl(root / "questions.jsonl", [
        {"id": "q1", "question": "How many ocean trenches did lantern squid swarms map?", "gold_docs": ["A"],
         "key_facts": ["forty"], "answerable": True, "split": "tune"},
        {"id": "q2", "question": "Does tardigrade protein vitrify the cytoplasm?", "gold_docs": ["C"],
         "answerable": True, "split": "heldout"},
        {"id": "q3", "question": "Which exoplanet did the TESS transit survey find around Proxima?",
         "answerable": False, "split": "tune"},
    ])
    out = tmp_path / "out"
    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(questions), "--split", "tune",
                               "--llm", "extractive", "--out", str(out), "--json", "--no-progress")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["split"] == "tune" and summary["items"] == 2 and summary["name"] == "seedsqa-tune-extractive"
    rows = read_items(out / "items.jsonl")
    assert [(r["id"], r["split"]) for r in rows] == [("q1", "tune"), ("q3", "tune")]
    for r in rows:
        assert {"relevance", "coverage"} <= set(r["answerability"]) and "label_text" in r
        assert r["verdict"] is None  # the extractive backend gives no token probabilities
    cal = tmp_path / "calibration.json"
    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "calibrate", "answerability", "--items",
                               str(out / "items.jsonl"), "--calibration-file", str(cal), "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["model"] == "extractive" and result["accuracy_after"] == 1.0
    assert set(calibration("answerability", "extractive", cal)) == {"relevance", "coverage", "missing", "bias"}

    # the rest of the set on top: both parts reported side by side, and no longer a file to calibrate on
    code, stdout, stderr = cli(capsys, tmp_path / "home", "eval", "qa", "--dataset", str(questions), "--resume",
                               "--llm", "extractive", "--out", str(out), "--json", "--no-progress")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["items"] == 3 and summary["by_split"]["heldout"]["items"] == 1
    assert summary["by_split"]["tune"]["unanswerable"] == 1
    with pytest.raises(PaperQAError, match="not from the tune part"):
        calibrate("answerability", out / "items.jsonl", path=cal)
