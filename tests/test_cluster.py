"""Cluster mode end to end: deploy/cluster.sh starts a `chroma run`, `paperqa-local serve-embeddings` and
`python -m llama_cpp.server` (the default 1.5B model) on free 127.0.0.1 ports; a library indexes seed papers
through the embeddings server into the Chroma server and answers through the generation server, one
question and then 20 at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from paperqa_local.embeddings import make_embedder
from paperqa_local.evaluation.servers import free_port, stop_process, wait_for_port
from paperqa_local.llms.models import resolve_model
from paperqa_local.pipeline import PaperQA
from paperqa_local.settings import Settings

from conftest import MODELS_DIR, ROOT, SEEDS

pytestmark = pytest.mark.integration

DEFAULT_MODEL = Settings.model_fields["model"].default  # the product's default model, as a user would serve it
SEED_FILE = SEEDS / "002_bb1c8db523e0ccea.txt"  # a Daily Papers listing: a title line, then its abstract line
GOLD = ["FFCV: Accelerating", "DropBlock: A regularization", "Bag of Tricks for Image", "MEAL V2:", "SPAM: Spike-Aware"]
QUESTIONS = [
    ("Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?", "FFCV"),
    ("Which structured form of dropout drops units in contiguous regions of a feature map?", "DropBlock"),
    ("How much did combining training procedure refinements raise ResNet-50's top-1 accuracy on ImageNet?",
     "Bag of Tricks"),
    ("What does FFCV speed up by removing data bottlenecks?", "FFCV"),
]


@pytest.fixture(scope="module")
def seed_papers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few seed papers: the listing's first six and the ones the questions are about (11 in all)."""
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    keep = lines[:14]
    for title in GOLD:
        i = next(i for i, line in enumerate(lines) if line.startswith(title))
        keep += lines[i:i + 2]
    path = tmp_path_factory.mktemp("seeds") / SEED_FILE.name
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The documented script, as a user runs it; ports and data folder chosen here."""
    data = tmp_path_factory.mktemp("cluster")
    ports = {"CHROMA_PORT": free_port(), "EMBED_PORT": free_port(), "LLM_PORT": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERQA_")}
    env.update({k: str(v) for k, v in ports.items()})
    env.update(HOST="127.0.0.1", DATA=str(data), BIN=str(Path(sys.executable).parent), LLM_ALIAS="fast",
               LLM_MODEL=str(resolve_model(DEFAULT_MODEL, MODELS_DIR)), LLM_CTX="4096")
    proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "cluster.sh")], env=env, cwd=ROOT,
                            stdout=(data / "cluster.out").open("wb"), stderr=subprocess.STDOUT)
    try:
        for port in ports.values():
            wait_for_port(port, timeout=240, proc=proc)
        yield {"chroma_url": f"http://127.0.0.1:{ports['CHROMA_PORT']}",
               "embed_base_url": f"http://127.0.0.1:{ports['EMBED_PORT']}/v1",
               "openai_base_url": f"http://127.0.0.1:{ports['LLM_PORT']}/v1", "data": str(data)}
    finally:
        stop_process(proc)  # the script's trap stops all three
    logs = {p.name: p.read_text(errors="replace")[-2000:] for p in data.glob("*.log")}
    assert proc.returncode == 0, logs


@pytest.fixture(scope="module")
def cluster_qa(cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperQA]:
    settings = Settings.load(
        home=tmp_path_factory.mktemp("cluster-home"), models_dir=MODELS_DIR, chroma_url=cluster["chroma_url"],
        embed_backend="openai", embed_base_url=cluster["embed_base_url"], embed_concurrency=2,
        llm="openai", openai_base_url=cluster["openai_base_url"], openai_model="fast", openai_repeat_penalty=1.0,
        openai_concurrency=8,
        max_tokens=128, k=3, evidence_budget=500)
    qa = PaperQA(settings=settings, embedder=make_embedder(settings))
    yield qa
    qa.close()


def test_cluster_indexes_and_answers_through_the_three_servers(cluster_qa: PaperQA, seed_papers: Path) -> None:
    assert cluster_qa.embedder.backend == "openai"
    report = cluster_qa.add([seed_papers], progress=False)
    assert report.ok and report.total_papers == 11, report.summary()
    stats = cluster_qa.stats()
    assert stats["chunks"] == stats["vectors"] > 0, stats  # every chunk's vector is in the Chroma server
    question, gold = QUESTIONS[0]
    answer = cluster_qa.ask(question)
    assert answer.backend == "openai" and not answer.cannot_answer, (answer.raw_text, answer.sentences)
    assert any(gold in r.title for r in answer.references), (answer.text, [r.title for r in answer.references])
    assert answer.usage.get("completion_tokens", 0) > 0


def test_twenty_concurrent_questions_finish_without_errors(cluster_qa: PaperQA, seed_papers: Path) -> None:
    if not cluster_qa.stats()["chunks"]:
        cluster_qa.add([seed_papers], progress=False)
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(20)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        # short prompts and replies: the server answers one at a time on CPU, the point is 0 errors
        answers = list(pool.map(lambda q: cluster_qa.ask(q[0], max_tokens=16, k=2, evidence_budget=250), questions))
    elapsed = time.perf_counter() - start
    assert len(answers) == 20 and all(a.backend == "openai" and a.text for a in answers)
    # each answer is its own: whole (not cut short by the next request) and about its own question
    for (question, gold), answer in zip(questions, answers, strict=True):
        assert answer.question == question
        assert any(gold in c.chunk.title for c in answer.contexts), (question, [c.chunk.title for c in answer.contexts])
        assert answer.usage.get("completion_tokens", 0) > 0
    print(f"20 concurrent questions: {elapsed:.1f}s")
