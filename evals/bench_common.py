"""What every bench section shares: its configuration, temporary homes, a `chroma run` server, timers.

A section receives a ``BenchContext`` so the seeds library is indexed once per run and reused by the
search, answer and baseline sections; everything it creates lives under one temporary folder.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEEDS_QA = Path(__file__).resolve().parent / "seeds_qa.jsonl"
DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
FAST_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SECTIONS = ("index", "search", "answer", "baseline")
# Asked once, untimed, before a pipeline's timed questions: the fixed prompt prefix is then cached in both.
WARMUP_QUESTION = "What does Moment Probing do differently from linear probing?"

# Used when evals/seeds_qa.jsonl is absent: (question, a substring of the gold paper's title).
QUESTIONS: list[tuple[str, str]] = [
    ("Which method trains an ImageNet ResNet-50 to 75% in about 20 minutes on a single machine?", "FFCV"),
    ("How does REST speed up language model generation?", "REST: Retrieval-Based Speculative Decoding"),
    ("What is the dormant neuron phenomenon in deep reinforcement learning?", "Dormant Neuron Phenomenon"),
    ("Which distillation framework boosts a vanilla ResNet-50 above 80% top-1 accuracy on ImageNet?", "MEAL V2"),
    ("How can BERT-style masked pre-training be applied to convolutional networks?",
     "Designing BERT for Convolutional Networks"),
    ("Which method does real-time anchor-free instance segmentation?", "CenterMask"),
    ("How can image classifiers be trained from natural language supervision and transfer zero-shot?",
     "Learning Transferable Visual Models From Natural Language Supervision"),
    ("What architecture does HBFormer propose for microtumor and miniature organ segmentation?", "HBFormer"),
]


@dataclass
class _Server:
    proc: subprocess.Popen
    log: Any
    url: str


@dataclass
class BenchConfig:
    """Sizes of one run; ``quick`` shrinks everything so the smoke test finishes in seconds."""

    out: Path = ROOT / "bench-output"
    quick: bool = False
    seeds: Path = SEEDS
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    n_queries: int = 50
    n_synthetic_queries: int = 50
    models: tuple[str, ...] = (DEFAULT_MODEL, FAST_MODEL)
    n_questions: int = 8
    server: bool = True  # also measure against a `chroma run` server
    progress: bool = True
    max_tokens: int | None = None  # answer length (None: the settings default)
    baseline_llm: Any = None  # a llama-index LLM for the baseline (tests); None: our local model, wrapped
    overrides: dict[str, Any] = field(default_factory=dict)  # extra Settings fields for every library

    @classmethod
    def quick_config(cls, **kw: Any) -> BenchConfig:
        base: dict[str, Any] = dict(quick=True, sizes=(300, 1_000), n_queries=8, n_synthetic_queries=8,
                                    models=(FAST_MODEL,), n_questions=2, max_tokens=48)
        base.update(kw)
        return cls(**base)


class BenchContext:
    """Temporary homes, servers and the shared seeds library of one bench run."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.tmp = Path(tempfile.mkdtemp(prefix="paperqa-bench-"))
        # The models live in the user's default home (where `make models` put them), not in the temp homes.
        self.models_dir = Settings.load().models_path
        self._servers: dict[str, _Server] = {}
        self._seeds: dict[str, PaperQA] = {}
        self.index_reports: dict[str, Any] = {}

    # ------------------------------------------------------------- settings / libraries
    def settings(self, name: str, chroma_url: str | None = None, **overrides: Any) -> Settings:
        """Settings for a fresh library home ``<tmp>/<name>`` (models from the default home)."""
        home = self.tmp / name
        home.mkdir(parents=True, exist_ok=True)
        merged = {**self.config.overrides, **overrides}
        if self.config.max_tokens:
            merged.setdefault("max_tokens", self.config.max_tokens)
        return Settings.load(home=home, models_dir=self.models_dir, chroma_url=chroma_url, **merged)

    def seeds_qa(self, store: str = "embedded") -> PaperQA:
        """The seeds library in ``store`` ("embedded" or "server"), indexed once per run."""
        if store not in self._seeds:
            qa = self.open_seeds(store)
            self.index_reports[store] = qa.add([self.config.seeds], progress=self.config.progress)
            self._seeds[store] = qa
        return self._seeds[store]

    def open_seeds(self, store: str) -> PaperQA:
        """A fresh (empty) seeds library; ``keep_seeds`` registers it once indexed."""
        from paperqa_local.pipeline import PaperQA

        url = self.server("seeds") if store == "server" else None
        return PaperQA(settings=self.settings(f"seeds-{store}", chroma_url=url))

    def keep_seeds(self, store: str, qa: PaperQA, report: Any) -> None:
        self._seeds[store], self.index_reports[store] = qa, report

    # ------------------------------------------------------------- chroma server
    def server(self, name: str) -> str:
        """URL of a `chroma run` on 127.0.0.1 (one per ``name``: a library's collection name is fixed)."""
        if name not in self._servers:
            exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
            if exe is None:
                raise RuntimeError("the `chroma` command is missing: run `make install`")
            port = free_port()
            data = self.tmp / f"chroma-{name}"
            data.mkdir(parents=True, exist_ok=True)
            logf = open(data / "server.log", "wb")  # noqa: SIM115  (closed by stop_server)
            proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path",
                                     str(data / "db")], stdout=logf, stderr=subprocess.STDOUT)
            self._servers[name] = _Server(proc, logf, f"http://127.0.0.1:{port}")
            wait_for_port(port, proc=proc)
        return self._servers[name].url

    def stop_server(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is not None:
            stop_process(server.proc)
            server.log.close()

    def close(self) -> None:
        for qa in self._seeds.values():
            qa.close()
        for name in list(self._servers):
            self.stop_server(name)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------- questions
    def questions(self) -> list[tuple[str, str]]:
        """(question, gold title substring): evals/seeds_qa.jsonl when present, else the built-in list."""
        items = load_questions(SEEDS_QA) if SEEDS_QA.is_file() else []
        if not items:
            items = list(QUESTIONS)
        # The FFCV question is the one every report quotes: always first.
        ffcv = [q for q in items if "FFCV" in q[1]] or [QUESTIONS[0]]
        rest = [q for q in items if q not in ffcv]
        return (ffcv[:1] + rest)[: self.config.n_questions]


def load_questions(path: Path) -> list[tuple[str, str]]:
    """Tolerant reader: a question field plus a gold title (``gold_title``, ``title``, ``gold_titles``...)."""
    out: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        question = row.get("question") or row.get("query")
        gold = row.get("gold_title") or row.get("title") or row.get("paper_title") or row.get("gold_titles")
        if isinstance(gold, list):
            gold = gold[0] if gold else None
        if question and gold and not row.get("unanswerable") and row.get("answerable", True):
            out.append((str(question), str(gold)))
    return out


# ----------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"chroma server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# ----------------------------------------------------------------- figures
@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["s"]`` holds the seconds."""
    box = {"s": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def latency_stats(seconds: list[float]) -> dict[str, float]:
    """p50/p95/mean/max in milliseconds."""
    if not seconds:
        return {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan"),
                "max_ms": float("nan")}
    ms = np.asarray(seconds, dtype=float) * 1000.0
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "mean_ms": round(float(ms.mean()), 2),
            "max_ms": round(float(ms.max()), 2)}


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("nan")


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or a != a or b != b:
        return None
    return round(a / b, 3)


def first_sentence(text: str, max_words: int = 30) -> str:
    """The first sentence of a passage, at most ``max_words`` words (a query that paraphrases a paper)."""
    text = re.sub(r"\s+", " ", text).strip()
    match = re.match(r"(.{30,}?[.!?])\s", text + " ")
    sentence = match.group(1) if match else text
    words = sentence.split()
    return " ".join(words[:max_words])


def cites_gold(titles: list[str], gold: str) -> bool:
    g = gold.lower()
    return any(g in (t or "").lower() for t in titles)
