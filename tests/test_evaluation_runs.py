"""The evaluation runners through the real CLI on tiny datasets (real MiniLM, embedded Chroma, extractive)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evalkit import CONFIGS, DOCS, assert_png, cli, make_beir, make_pubmedqa, make_seeds, read_items

from paperqa_local.errors import SettingsError
from paperqa_local.evaluation.cli import load_eval_config
from paperqa_local.settings import Settings

from conftest import SHARED


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
    assert summary["by_type"]["unanswerable"] == {"items": 1, "gold_cited_rate": None, "all_gold_cited_rate": None,
                                                  "key_fact_accuracy": None, "abstention_rate": 1.0}
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
        assert cfg.get("kind") in ("retrieval", "qa", "verify"), file
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
