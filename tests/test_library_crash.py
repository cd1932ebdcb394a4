"""An index run killed (kill -9) or interrupted (Ctrl-C) leaves a usable library; the next run completes it.

A subprocess indexes a folder of small papers in groups of a few chunks; once some papers are
complete in its manifest it is stopped. The library must then open with Chroma, manifest, keywords,
term counts and sentence vectors in step, and a second run must end with exactly the chunk ids of an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from library_checks import assert_in_step

from paperqa_local.embedding import Embedder
from paperqa_local.library import Library
from paperqa_local.settings import Settings

from conftest import ROOT

pytestmark = pytest.mark.integration

N_PAPERS = 16
CHUNKING = {"chunk_size": 64, "chunk_overlap": 8}
STOP_AFTER = 4  # complete papers in the manifest before the run is stopped

SCRIPT = """
import signal
import sys
# a job a non-interactive shell starts in the background inherits SIGINT ignored; a user's Ctrl-C is not
signal.signal(signal.SIGINT, signal.default_int_handler)
import paperqa_local.library.indexing as L
from paperqa_local.embedding import Embedder
from paperqa_local.library import Library
from paperqa_local.settings import Settings
L.FLUSH_CHUNKS = 6  # small groups: many commits to land between
s = Settings.load(home=sys.argv[1], chunk_size=int(sys.argv[3]), chunk_overlap=int(sys.argv[4]))
lib = Library(s, Embedder())
report = lib.add([sys.argv[2]], progress=False, on_progress=lambda d, t, m: print(d, t, m, flush=True))
print("DONE", report.summary(), flush=True)
"""

WORDS = ("alpine glacier moraine drumlin esker cirque tarn fjord serac crevasse nunatak arete col "
         "outwash kettle till striation plucking abrasion firn neve ablation accumulation calving").split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("glaciers")
    rng = random.Random(7)
    for i in range(N_PAPERS):
        sentences = [
            f"Site {i} shows {rng.choice(WORDS)} and {rng.choice(WORDS)} near the {rng.choice(WORDS)} in survey {j}."
            for j in range(10)
        ]
        (folder / f"paper{i:02d}.md").write_text(f"# Glacier Survey {i}\n\n{' '.join(sentences)}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def reference(corpus, embedder, tmp_path_factory) -> list[str]:
    """Chunk ids of an uninterrupted run."""
    library = Library(Settings.load(home=tmp_path_factory.mktemp("reference"), **CHUNKING), embedder)
    try:
        report = library.add([corpus], progress=False)
        assert report.added == N_PAPERS and not report.failed
        return sorted(c.id for c in library.all_chunks())
    finally:
        library.close()


def _complete(manifest: Path) -> int:
    if not manifest.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM papers WHERE state = 'complete'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _interrupted_run(home: Path, corpus: Path, sig: int) -> int:
    """Start indexing in a subprocess, stop it with ``sig`` once STOP_AFTER papers are complete."""
    settings = Settings.load(home=home, **CHUNKING)
    manifest = home / "libraries" / settings.collection_name / "manifest.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(home), str(corpus), str(CHUNKING["chunk_size"]),
         str(CHUNKING["chunk_overlap"])],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.time() + 300
        while _complete(manifest) < STOP_AFTER:
            assert proc.poll() is None, f"indexer exited early:\n{proc.communicate()[0]}"
            assert time.time() < deadline, "indexer made no progress"
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.3))  # land anywhere in the next group's write
        proc.send_signal(sig)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "DONE" not in out, "the run finished before it could be interrupted"
    assert proc.returncode != 0
    return _complete(manifest)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_interrupted_index_run_resumes_to_the_same_library(sig, corpus, embedder, reference, tmp_path) -> None:
    home = tmp_path / "home"
    done_before = _interrupted_run(home, corpus, sig)
    assert STOP_AFTER <= done_before < N_PAPERS

    library = Library(Settings.load(home=home, **CHUNKING), embedder)
    try:
        # usable right away: stores agree, searches work
        stats = assert_in_step(library)  # keyword rows, term counts, sentence vectors too
        assert stats["chunks"] == stats["vectors"] == stats["keywords"] > 0
        assert STOP_AFTER <= stats["papers"] < N_PAPERS
        assert library.bm25_search("glacier moraine", 3)
        assert library.dense_search(embedder.embed_query("glacier moraine"), 3)

        report = library.add([corpus], progress=False)
        assert not report.failed
        assert report.added + report.unchanged == N_PAPERS == report.total_papers
        assert report.unchanged == stats["papers"]  # nothing complete was embedded again
        ids = sorted(c.id for c in library.all_chunks())
        assert ids == reference  # no duplicates, no orphans, nothing missing
        assert sorted(library.store.collection.get(include=[])["ids"]) == reference
        stats = assert_in_step(library)
        assert stats["chunks"] == stats["vectors"] == stats["keywords"] == len(reference)
    finally:
        library.close()
