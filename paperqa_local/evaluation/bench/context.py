"""What every bench section shares: its configuration, temporary homes, `chroma run` servers, the questions.

A section receives a ``BenchContext`` so the seeds library is indexed once per run and reused by the
search, answer and baseline sections; everything it creates lives under one temporary folder.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperqa_local.evaluation.datasets import load_qa_dataset
from paperqa_local.evaluation.servers import chroma_server
from paperqa_local.settings import Settings

if TYPE_CHECKING:
    from paperqa_local.pipeline import PaperQA
    from paperqa_local.records import IndexReport

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]  # the checkout: seeds/ and evals/ live there
SEEDS = ROOT / "seeds"
SEEDS_QA = ROOT / "evals" / "seeds_qa.jsonl"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"  # real abstracts for real-text synthetic chunks
DEFAULT_MODEL = str(Settings.model_fields["model"].default)
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
class BenchConfig:
    """Sizes of one run; ``quick`` shrinks everything so the smoke test finishes in seconds."""

    out: Path = Path("bench-output")
    quick: bool = False
    seeds: Path = SEEDS
    questions_file: Path = SEEDS_QA
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    real_text: Path | None = SHARED_DATASETS if SHARED_DATASETS.is_dir() else None  # None: seeds-vocabulary words
    n_queries: int = 50
    n_synthetic_queries: int = 50
    keyword_budgets: tuple[int, ...] = (5_000, 2_000)  # BM25 and hybrid also at these ``keyword_budget`` values
    models: tuple[str, ...] = (DEFAULT_MODEL, FAST_MODEL)
    n_questions: int = 8
    server: bool = True  # also measure against a `chroma run` server
    progress: bool = True
    max_tokens: int | None = None  # answer length (None: the settings default)
    models_dir: Path | None = None  # where the GGUF and embedding models are (None: the default home's)
    baseline_llm: Any = None  # a llama-index LLM for the baseline (tests); None: our local model, wrapped
    overrides: dict[str, Any] = field(default_factory=dict)  # extra Settings fields for every library
    keep_synthetic: Path | None = None  # synthetic libraries live (and stay) here: a 10^6 one takes ~1 h to build

    @classmethod
    def quick_config(cls, **kw: Any) -> BenchConfig:
        base: dict[str, Any] = dict(quick=True, sizes=(300, 1_000), real_text=None, n_queries=8,
                                    n_synthetic_queries=8, models=(FAST_MODEL,), n_questions=2, max_tokens=48,
                                    keyword_budgets=(50,))
        base.update(kw)
        return cls(**base)


class BenchContext:
    """Temporary homes, servers and the shared seeds library of one bench run."""

    def __init__(self, config: BenchConfig) -> None:
        self.config = config
        self.tmp = Path(tempfile.mkdtemp(prefix="paperqa-bench-"))
        # The models live in the user's default home (where `make models` put them), not in the temp homes.
        self.models_dir = config.models_dir or Settings.load().models_path
        self._servers: dict[str, tuple[contextlib.ExitStack, str]] = {}
        self._seeds: dict[str, PaperQA] = {}
        self.index_reports: dict[str, IndexReport] = {}
        self.memo: dict[str, Any] = {}  # figures' inputs computed once per run (e.g. the seeds queries)

    # ------------------------------------------------------------- settings / libraries
    def settings(self, name: str, chroma_url: str | None = None, **overrides: Any) -> Settings:
        """Settings for a fresh library home ``<tmp>/<name>`` (models from the default home); synthetic libraries
        in ``keep_synthetic`` when given, so the next run with that folder measures them without rebuilding."""
        keep = self.config.keep_synthetic
        home = (keep if keep and name.startswith("synthetic-embedded") else self.tmp) / name
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

    def keep_seeds(self, store: str, qa: PaperQA, report: IndexReport) -> None:
        self._seeds[store], self.index_reports[store] = qa, report

    # ------------------------------------------------------------- chroma server
    def server(self, name: str) -> str:
        """URL of a `chroma run` on 127.0.0.1 (one per ``name``: a library's collection name is fixed)."""
        if name not in self._servers:
            stack = contextlib.ExitStack()
            url = stack.enter_context(chroma_server(self.tmp / f"chroma-{name}"))
            self._servers[name] = (stack, url)
        return self._servers[name][1]

    def stop_server(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is not None:
            server[0].close()

    def close(self) -> None:
        for qa in self._seeds.values():
            qa.close()
        for name in list(self._servers):
            self.stop_server(name)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------- questions
    def questions(self) -> list[tuple[str, str]]:
        """(question, gold title): the seeds QA file when present, else the built-in list; FFCV's first."""
        path = self.config.questions_file
        items = seeds_questions(path) if path.is_file() else []
        if not items:
            items = list(QUESTIONS)
        # The FFCV question is the one every report quotes: always first.
        ffcv = [q for q in items if "FFCV" in q[1]] or [QUESTIONS[0]]
        rest = [q for q in items if q not in ffcv]
        return (ffcv[:1] + rest)[: self.config.n_questions]


def seeds_questions(path: Path) -> list[tuple[str, str]]:
    """(question, first gold title) of each answerable question of a QA file (read as the QA eval reads it)."""
    return [(item.question, item.gold_titles[0]) for item in load_qa_dataset(path).items
            if item.answerable and item.gold_titles]
