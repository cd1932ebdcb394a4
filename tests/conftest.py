"""Shared fixtures: offline env, temporary library homes, a real `chroma run` server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import paperqa_local.offline  # noqa: F401  (offline env before anything else)
from paperqa_local.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
OUTPUT = ROOT / "test-output"

# The models `make install` placed in the user's default library home.
for _key in [k for k in os.environ if k.startswith("PAPERQA_")]:
    os.environ.pop(_key)
MODELS_DIR = Settings.load().models_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
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


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS_DIR


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
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command is missing: run `make install`")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data / "db")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)
        log.close()


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
