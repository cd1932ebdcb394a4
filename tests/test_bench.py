"""The bench on tiny sizes, so it cannot rot: structure of the figures and files, never timings.

Real parts: the seeds library (real embedding model, embedded Chroma and a `chroma run` server),
synthetic libraries through ``PaperQA.add_papers``, the LlamaIndex baseline. The answer sections run
the extractive backend and llama-index's MockLLM so the test needs no GGUF and stays quick.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from paperqa_local.cli import build_parser, settings_from_args
from paperqa_local.evaluation.bench.answer_latency import model_overrides
from paperqa_local.evaluation.bench.context import SECTIONS, SEEDS_QA, SHARED_DATASETS, BenchConfig, seeds_questions
from paperqa_local.evaluation.bench.measure import latency_stats
from paperqa_local.evaluation.bench.report import extrapolate, render_markdown, write_outputs
from paperqa_local.evaluation.bench.runner import config_from_args, run_bench
from paperqa_local.evaluation.bench.search_latency import first_sentence, real_sentences, synthetic_papers

from conftest import SEEDS

pytestmark = pytest.mark.integration
REAL_TEXT = SHARED_DATASETS if SHARED_DATASETS.is_dir() else None  # CI has ../shared beside the clone


def _mini_seeds(folder: Path) -> Path:
    """About 20 papers of one seeds listing plus the FFCV entry: the whole bench in seconds."""
    lines = (SEEDS / "002_bb1c8db523e0ccea.txt").read_text(encoding="utf-8").splitlines()
    ffcv = next(i for i, line in enumerate(lines) if line.startswith("FFCV: Accelerating Training"))
    (folder / "mini.txt").write_text("\n".join(lines[:44] + lines[ffcv:ffcv + 2]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    from llama_index.core.llms import MockLLM

    out = tmp_path_factory.mktemp("bench-out")
    config = BenchConfig.quick_config(out=out, seeds=_mini_seeds(tmp_path_factory.mktemp("mini-seeds")),
                                      sizes=(200, 600), models=("extractive",), real_text=REAL_TEXT,
                                      baseline_llm=MockLLM(max_tokens=16), progress=False)
    results = run_bench(config)
    write_outputs(results, out)
    return results, out


def test_every_section_ran_without_error(quick_results: tuple[dict, Path]) -> None:
    results, _ = quick_results
    assert results["errors"] == {}
    assert set(SECTIONS) <= set(results)
    assert results["meta"]["mode"] == "quick"


def test_index_figures(quick_results: tuple[dict, Path]) -> None:
    idx = quick_results[0]["index"]
    assert idx["corpus"]["papers"] >= 15 and idx["corpus"]["chunks"] >= idx["corpus"]["papers"]
    for key in ("embedded", "server"):
        assert idx[key]["chunks"] == idx["corpus"]["chunks"]
        assert idx[key]["chunks_per_s"] > 0 and idx[key]["ratio_vs_raw"] > 0
        assert isinstance(idx[key]["goal_met"], bool)
    assert idx["raw_embed"]["chunks"] == idx["corpus"]["chunks"]


def test_search_figures(quick_results: tuple[dict, Path]) -> None:
    search = quick_results[0]["search"]
    for store in ("embedded", "server"):
        seeds = search["seeds"][store]
        for kind in ("dense", "bm25", "hybrid"):
            assert seeds[kind]["n"] == 8 and seeds[kind]["p95_ms"] >= seeds[kind]["p50_ms"] > 0
        assert 0 <= seeds["hit_at_k"] <= 1
    rows = search["synthetic"]
    assert [(r["store"], r["size"]) for r in rows] == [("embedded", 200), ("embedded", 600), ("server", 200),
                                                        ("server", 600)]
    for r in rows:
        assert r["chunks"] == r["size"]
        assert r["dense"]["p50_ms"] > 0 and r["hybrid"]["p50_ms"] > 0 and r["insert_chunks_per_s"] > 0
        assert r["add_one_paper_s"] > 0 and r["remove_one_paper_s"] > 0 and r["rss_mb"] > 0
        assert r["disk_mb"] > 0 if r["store"] == "embedded" else r["disk_mb"] >= 0
        assert r["text"] == ("real" if REAL_TEXT else "words")
        # a smaller keyword budget is measured beside the default one, both halves of hybrid with it
        assert r["bm25_budget_50"]["n"] == 8 and r["hybrid_budget_50"]["p50_ms"] > 0
    md = render_markdown(quick_results[0])
    assert "### 10^7 chunks, on paper" in md and "budget 50: BM25 / hybrid" in md


def test_answer_and_baseline_figures(quick_results: tuple[dict, Path]) -> None:
    results = quick_results[0]
    ours = results["answer"]["models"]["extractive"]
    assert len(ours["rows"]) == 2 and ours["rows"][0]["question"].startswith("Which method trains an ImageNet")
    assert ours["summary"]["total_s"]["of"] == 2 and ours["rows"][0]["evidence_s"] is not None
    assert ours["rows"][0]["gold_cited"] in (True, False)
    base = results["baseline"]
    assert base["index"]["chunks"] > 0 and base["index"]["papers"] == results["index"]["corpus"]["papers"]
    assert base["retrieval"]["n"] == 8
    assert len(base["models"]["custom"]["rows"]) == 2


def test_outputs_written(quick_results: tuple[dict, Path]) -> None:
    results, out = quick_results
    saved = json.loads((out / "bench.json").read_text())
    assert saved["index"]["corpus"] == results["index"]["corpus"]
    assert any(r["metric"].startswith("indexing chunks/s") for r in saved["comparison"])
    md = (out / "bench.md").read_text()
    for heading in ("## Indexing throughput", "## Search latency on seeds", "## Search latency on synthetic",
                    "## Answer latency", "## Ours vs plain LlamaIndex"):
        assert heading in md
    for png in ("index_throughput.png", "search_latency.png", "answer_latency.png"):
        assert (out / png).stat().st_size > 1000


def _bench_args(*argv: str) -> tuple[BenchConfig, tuple[str, ...]]:
    args = build_parser().parse_args(["eval", "bench", *argv])
    return config_from_args(args, settings_from_args(args))


def test_cli_arguments() -> None:
    config, sections = _bench_args("--quick", "--only", "index,search", "--sizes", "100,200", "--models",
                                   "extractive", "--no-server", "--max-tokens", "32")
    assert sections == ("index", "search") and config.sizes == (100, 200) and not config.server
    assert config.quick and config.models == ("extractive",) and config.overrides == {"max_tokens": 32}
    assert _bench_args("--budgets", "5000,2000")[0].keyword_budgets == (5000, 2000)
    assert _bench_args("--budgets", "0")[0].keyword_budgets == ()
    assert build_parser().parse_args(["eval", "bench"]).func.__name__ == "run_bench"
    with pytest.raises(SystemExit):
        _bench_args("--only", "nope")


def test_helpers(tmp_path: Path) -> None:
    assert latency_stats([0.001, 0.002, 0.003])["p50_ms"] == 2.0
    assert first_sentence("FFCV speeds up model training a lot. It removes data bottlenecks.") == \
        "FFCV speeds up model training a lot."
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"id": "1", "question": "q1", "gold_titles": ["T1", "T2"]}\n'
                  '{"id": "2", "question": "q2", "answerable": false}\n'
                  '{"id": "3", "question": "q3", "gold_titles": ["T3"]}\n')
    assert seeds_questions(qa) == [("q1", "T1"), ("q3", "T3")]
    assert ("Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?",
            "FFCV: Accelerating Training by Removing Data Bottlenecks") in seeds_questions(SEEDS_QA)
    assert "## Indexing throughput" not in render_markdown({"meta": {}})
    assert extrapolate([(1e4, 40.0), (1e5, 50.0), (1e6, 60.0)], 1e7) == pytest.approx(72.0)
    assert extrapolate([(1e6, 60.0)], 1e7) is None
    # decoding variants of one model are timed side by side: "MODEL+setting=value"
    assert model_overrides("m+prompt_lookup=10+cite_grammar=true") == {
        "llm": "local", "model": "m", "prompt_lookup": 10, "cite_grammar": True}
    assert model_overrides("extractive") == {"llm": "extractive"}


def test_real_text_chunks_are_real_sentences(tmp_path: Path) -> None:
    corpus = tmp_path / "scifact" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text('{"_id": "1", "text": "Aspirin lowers the risk of stroke in adults over sixty. Short. '
                      'The effect was largest in the first two years of treatment."}\n', encoding="utf-8")
    sentences = real_sentences(tmp_path)
    assert sentences == ["Aspirin lowers the risk of stroke in adults over sixty.",
                         "The effect was largest in the first two years of treatment."]  # too short: left out
    paper = next(synthetic_papers(0, 1, ["w"], np.ones(1), seed=0, sentences=sentences))
    text = paper.sections[0].text
    assert len(text.split()) >= 110 and text.count(".") >= 10 and set(text.split(". ")) <= {
        s.rstrip(".") for s in sentences} | set(sentences)
    assert real_sentences(None) == [] and real_sentences(tmp_path / "missing") == []
