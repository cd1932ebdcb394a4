"""Shared fixtures: offline env, temporary library homes, a real `chroma run` server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import paperqa_local.offline  # noqa: F401  (offline env before anything else)
from paperqa_local.evaluation.servers import chroma_server as run_chroma_server
from paperqa_local.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
OUTPUT = ROOT / "test-output"

# The models `make install` placed in the user's default library home.
for _key in [k for k in os.environ if k.startswith("PAPERQA_")]:
    os.environ.pop(_key)
MODELS_DIR = Settings.load().models_path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


@pytest.fixture(scope="session")
def fast_model(models_dir: Path) -> Path:
    """The installed 0.5B GGUF, complete (the real local model of the integration tests)."""
    from paperqa_local.llms.models import CATALOG, model_path

    name = "qwen2.5-coder-0.5b-instruct-q4_k_m"
    path = model_path(name, models_dir)
    if not path.is_file() or path.stat().st_size != CATALOG[name].size:
        pytest.fail(f"{path} is missing: run `make install`")
    return path


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `chroma run` on 127.0.0.1 and a free port; stopped at the end of the session."""
    with run_chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture(scope="session")
def seeds_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library home with seeds/ indexed once per test session (embedded Chroma, real MiniLM)."""
    from paperqa_local.pipeline import PaperQA

    home = tmp_path_factory.mktemp("seeds-home")
    qa = PaperQA(home=home, models_dir=MODELS_DIR)
    report = qa.add([SEEDS], progress=False)
    qa.close()
    assert report.ok and report.total_papers == 272, report.summary()
    return home


@pytest.fixture(scope="session")
def seeds_qa(seeds_home: Path):
    """A shared PaperQA over the indexed seeds (default settings, local models folder)."""
    from paperqa_local.pipeline import PaperQA

    qa = PaperQA(home=seeds_home, models_dir=MODELS_DIR)
    yield qa
    qa.close()
