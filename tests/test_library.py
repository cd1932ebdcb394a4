"""Library integration tests: real readers, real MiniLM, real Chroma (embedded and `chroma run`)."""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from library_checks import assert_in_step

from paperqa_local.embedding import Embedder
from paperqa_local.errors import LibraryError, ModelError
from paperqa_local.evaluation.servers import free_port
from paperqa_local.library import Library
from paperqa_local.library.store import _set_width
from paperqa_local.readers import read_path
from paperqa_local.records import Paper, Section
from paperqa_local.settings import Settings

from conftest import SEEDS

pytestmark = pytest.mark.integration

STORES = ["embedded", "server"]
FFCV_QUERY = "train a ResNet-50 on ImageNet to 75% in 20 minutes"
_overlaps = itertools.count(1)  # a distinct chunk_overlap = a distinct collection on the shared server


class CachingEmbedder(Embedder):
    """The real model, each text embedded once per session (the server run reuses the embedded run's vectors)."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[str, np.ndarray] = {}
        self.calls = 0

    def embed(self, texts, progress=False, on_batch=None):  # noqa: ANN001, ANN201
        self.calls += len(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vec in zip(missing, super().embed(missing), strict=True):
                self.cache[text] = vec
        if on_batch is not None:
            on_batch(len(texts))
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@pytest.fixture(scope="session")
def embedder() -> CachingEmbedder:
    return CachingEmbedder()


def _settings(request: pytest.FixtureRequest, home: Path, store: str, **kw) -> Settings:
    url = request.getfixturevalue("chroma_server") if store == "server" else None
    return Settings.load(home=home, chroma_url=url, **kw)


# ------------------------------------------------------------------ the seeds library
@pytest.fixture(scope="module", params=STORES)
def seeded(request, tmp_path_factory, embedder):
    home = tmp_path_factory.mktemp(f"seeds-{request.param}")
    settings = _settings(request, home, request.param)
    library = Library(settings, embedder)
    seen: list[tuple[int, int, str]] = []
    report = library.add([SEEDS], progress=False, on_progress=lambda d, t, m: seen.append((d, t, m)))
    yield library, report, settings, seen
    library.close()


def _seed_paper_ids() -> set[str]:
    return {p.id for f in sorted(SEEDS.glob("*.txt")) for p in read_path(f)}


def test_seeds_index_every_paper_once(seeded) -> None:
    library, report, _, seen = seeded
    expected = _seed_paper_ids()
    assert report.failed == [] and report.files == 3
    assert report.added == len(expected) == report.total_papers >= 269
    assert {p.id for p in library.papers()} == expected
    assert report.chunks == report.total_chunks == library.count_chunks() > report.added
    stats = assert_in_step(library)
    assert stats["chunks"] == stats["vectors"] == stats["keywords"] == report.total_chunks
    # progress: reading files, then embedding chunks up to the total
    assert any(m.startswith("reading") for _, _, m in seen)
    assert (report.chunks, report.chunks) in [(d, t) for d, t, m in seen if m.startswith("embedding")]


def test_ffcv_query_finds_ffcv(seeded, embedder) -> None:
    library = seeded[0]
    dense = library.dense_search(embedder.embed_query(FFCV_QUERY), 20)
    bm25 = library.bm25_search(FFCV_QUERY, 10)
    assert any(h.chunk.title.startswith("FFCV") for h in dense)  # MiniLM alone ranks it ~10th of 458 chunks
    assert bm25[0].chunk.title.startswith("FFCV")
    assert [h.dense for h in dense] == sorted((h.dense for h in dense), reverse=True)
    assert all(0 < h.dense <= 1 for h in dense) and all(h.bm25 > 0 for h in bm25)


def test_dense_search_finds_the_exact_nearest_chunks(seeded, embedder) -> None:
    """Chroma's default HNSW width (ef_search 100) missed a near neighbour now and then, differently after each
    load, so one question got different passages from one process to the next; ``search_ef`` widens it."""
    library, _, settings, _ = seeded
    collection = library.store.collection
    assert collection.configuration["hnsw"]["ef_search"] == settings.search_ef == 400
    stored = collection.get(include=["embeddings"])
    vectors = np.asarray(stored["embeddings"], dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    titles = sorted({p.title for p in library.papers()})[:80]
    for title, query in zip(titles, embedder.embed(titles), strict=True):
        sims = vectors @ query
        cut = np.sort(sims)[-50] + 1e-5  # clear of the 50th (float32 in Chroma, float64 here)
        exact = {stored["ids"][i] for i in np.flatnonzero(sims > cut)}
        assert exact <= {h.chunk.id for h in library.dense_search(query, 50)}, title
    # an existing collection stores a changed width on the next open (Chroma applies it when it next loads the
    # index); its vectors stay
    again = Library(settings.with_overrides(search_ef=250), embedder)
    try:
        assert again.store.collection.configuration["hnsw"]["ef_search"] == 250
        assert again.store.count() == library.store.count()
    finally:
        again.close()
        Library(settings, embedder).close()  # back to the module's width


def test_a_store_refusing_the_search_width_still_opens(caplog) -> None:
    """A read-only store, or one with another index type, keeps its own width: a warning, never a library that
    no longer opens over a search-time setting."""

    class Refusing:
        name = "papers"
        configuration = {"hnsw": {"ef_search": 100}}

        def modify(self, **_: object) -> None:
            raise RuntimeError("attempt to write a readonly database")

    with caplog.at_level(logging.WARNING):
        _set_width(Refusing(), 400)
    assert "cannot set search_ef=400" in caplog.text and "readonly" in caplog.text


def test_hits_carry_citation_fields(seeded, embedder) -> None:
    library = seeded[0]
    for hit in library.dense_search(embedder.embed_query(FFCV_QUERY), 3) + library.bm25_search(FFCV_QUERY, 3):
        c = hit.chunk
        assert c.id == f"{c.paper_id}:{c.index:04d}"
        assert c.title and c.text and c.location
        assert Path(c.source).parent == SEEDS.resolve()
        assert library.chunks([c.id])[0].text == c.text  # manifest and vectors agree
    assert library.chunks(["nope:0000"]) == []


def test_reindex_is_all_unchanged(seeded, embedder) -> None:
    library, first, _, _ = seeded
    calls = embedder.calls
    report = library.add([SEEDS], progress=False)
    assert (report.added, report.updated, report.removed, report.chunks) == (0, 0, 0, 0)
    assert report.unchanged == first.total_papers
    assert embedder.calls == calls  # no embedding work at all
    assert report.total_chunks == first.total_chunks


def test_reopened_library_has_everything(seeded, embedder) -> None:
    library, report, settings, _ = seeded
    before = library.bm25_search(FFCV_QUERY, 5)
    again = Library(settings, embedder)
    try:
        assert again.stats() == library.stats()
        assert [h.chunk.id for h in again.bm25_search(FFCV_QUERY, 5)] == [h.chunk.id for h in before]
        assert len(list(again.all_chunks())) == report.total_chunks
        info = again.paper(before[0].chunk.paper_id)
        assert info is not None and info.chunks >= 1 and info.title.startswith("FFCV")
    finally:
        again.close()


# ------------------------------------------------------------------ small libraries
TOPICS = {
    "heron": ("Grey Herons in Urban Wetlands", "Grey herons nest in colonies near rivers and hunt fish at dawn."),
    "basalt": ("Columnar Basalt Formation", "Cooling lava contracts and cracks into hexagonal basalt columns."),
    "sourdough": ("Sourdough Fermentation Kinetics", "Wild yeast and lactic bacteria leaven sourdough bread slowly."),
    "comet": ("Cometary Tails and Solar Wind", "A comet grows an ion tail that points away from the sun."),
}


def _write_paper(path: Path, key: str, extra: str = "") -> None:
    title, line = TOPICS[key]
    body = " ".join(f"{line} Observation {i} adds a further detail about {key} number {i}." for i in range(12))
    path.write_text(f"# {title}\n\n{body}\n\n{extra}\n", encoding="utf-8")


@pytest.fixture(params=STORES)
def small(request, tmp_path, embedder):
    settings = _settings(request, tmp_path / "home", request.param, chunk_size=96, chunk_overlap=next(_overlaps))
    folder = tmp_path / "papers"
    folder.mkdir()
    for key in ("heron", "basalt", "sourdough"):
        _write_paper(folder / f"{key}.md", key)
    library = Library(settings, embedder)
    yield library, folder
    library.close()
    if settings.chroma_url:
        library.store.drop()


def _consistent(library: Library) -> dict[str, int]:
    return assert_in_step(library)  # also keyword rows, term counts and sentence vectors


def test_changed_file_replaces_its_chunks(small) -> None:
    library, folder = small
    first = library.add([folder], progress=False)
    assert (first.added, first.failed) == (3, [])
    old = {p.id: p for p in library.papers()}
    _write_paper(folder / "heron.md", "heron", extra="Zanzibarite is a mineral the herons never touch.")
    report = library.add([folder], progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 2, 0)
    new = {p.id: p for p in library.papers()}
    ((gone, was),) = [(i, p) for i, p in old.items() if i not in new]
    ((fresh, now),) = [(i, p) for i, p in new.items() if i not in old]
    assert library.bm25_search("zanzibarite", 5)[0].chunk.paper_id == fresh
    assert library.store.collection.get(where={"paper_id": gone}, include=[])["ids"] == []
    assert not [c for c in library.all_chunks() if c.paper_id == gone]
    stats = _consistent(library)
    assert stats["chunks"] == first.total_chunks - was.chunks + now.chunks  # replaced, not appended
    assert report.chunks == now.chunks  # only the changed paper was embedded


def _listing(path: Path, keys: list[str]) -> None:
    """A compact Daily Papers listing: one paper per (title, abstract) pair."""
    pairs = "".join(f"{TOPICS[k][0]}\n{TOPICS[k][1]} More about {k} here.\n" for k in keys)
    path.write_text("Get trending papers in your email inbox!\n" + pairs, encoding="utf-8")


def test_listing_that_loses_a_paper_removes_it(small) -> None:
    library, folder = small
    for f in folder.iterdir():
        f.unlink()
    _listing(folder / "listing.txt", ["heron", "basalt", "comet"])
    assert library.add([folder], progress=False).added == 3
    _listing(folder / "listing.txt", ["heron", "comet"])
    report = library.add([folder], progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed, report.chunks) == (0, 0, 2, 1, 0)
    assert {p.title for p in library.papers()} == {TOPICS["heron"][0], TOPICS["comet"][0]}
    assert not library.bm25_search("hexagonal basalt columns", 5)
    _consistent(library)


def test_same_paper_in_two_files_is_embedded_once(small) -> None:
    library, folder = small
    shutil.copy(folder / "heron.md", folder / "heron-copy.md")
    report = library.add([folder], progress=False)
    assert (report.added, report.unchanged, report.total_papers) == (3, 0, 3)
    assert report.failed == []
    # editing one copy keeps the paper (the other file still holds it) and adds the edited one
    _write_paper(folder / "heron-copy.md", "heron", extra="A second heron colony was found.")
    again = library.add([folder], progress=False)
    assert (again.added, again.updated, again.removed, again.total_papers) == (1, 0, 0, 4)
    _consistent(library)


def test_remove_by_prefix_and_add_again(small) -> None:
    library, folder = small
    first = library.add([folder], progress=False)
    target = next(p for p in library.papers() if p.title.startswith("Columnar"))
    with pytest.raises(LibraryError, match="no paper"):
        library.remove("zzzz-not-an-id")
    removed = library.remove(target.id[:8])
    assert removed.id == target.id and library.paper(target.id) is None
    assert not [h for h in library.bm25_search("basalt hexagonal columns", 10) if h.chunk.paper_id == target.id]
    stats = _consistent(library)
    assert stats["chunks"] == first.total_chunks - target.chunks
    report = library.add([folder], progress=False)  # its file is read again: the paper comes back
    assert (report.added, report.unchanged, report.chunks) == (1, 2, target.chunks)
    assert library.paper(target.id) is not None


def test_add_papers_is_incremental(small, embedder) -> None:
    library, _ = small

    def corpus(n: int, changed: str = "") -> list[Paper]:
        return [Paper(id=f"doc{i}", title=f"Doc {i}", source="beir/tiny",
                      sections=[Section(f"Document {i} is about topic {i}. {changed if i == 0 else ''}", "abstract")])
                for i in range(n)]

    first = library.add_papers(corpus(5), progress=False)
    assert (first.added, first.chunks, first.files) == (5, 5, 1)
    again = library.add_papers(corpus(5), progress=False)
    assert (again.unchanged, again.chunks) == (5, 0)
    third = library.add_papers(corpus(4), progress=False)  # doc4 left the source
    assert (third.unchanged, third.removed, third.total_papers) == (4, 1, 4)
    with pytest.raises(LibraryError, match="'doc' matches 4 papers"):
        library.remove("doc")
    assert library.remove("doc3").title == "Doc 3"
    _consistent(library)


def test_embedding_failure_mid_run_keeps_written_groups(small, monkeypatch) -> None:
    """Groups embed while the previous one is written: a failure in group 3 keeps groups 1-2, and the
    next run adds only the rest."""
    import paperqa_local.library.indexing as indexing

    library, _ = small
    papers = [Paper(id=f"g{i}", title=f"Glacier {i}", source="beir/groups",
                    sections=[Section(f"Glacier {i} moves {i} metres a year.", "abstract")]) for i in range(6)]
    monkeypatch.setattr(indexing, "FLUSH_CHUNKS", 2)
    real = library.embedder.embed
    calls = {"n": 0}

    def flaky(texts, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("embedding server went away")
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(library.embedder, "embed", flaky)
    with pytest.raises(RuntimeError, match="went away"):
        library.add_papers(papers, progress=False)
    assert {p.id for p in library.papers()} == {"g0", "g1", "g2", "g3"}
    _consistent(library)
    monkeypatch.setattr(library.embedder, "embed", real)
    report = library.add_papers(papers, progress=False)
    assert (report.added, report.unchanged, report.total_papers) == (2, 4, 6)
    _consistent(library)


def test_second_writer_fails_fast(small, embedder) -> None:
    library, folder = small
    other = Library(library.settings, embedder)
    try:
        with library._writing(), pytest.raises(LibraryError, match="another process is indexing"):
            other.add([folder], progress=False)
    finally:
        other.close()


def test_settings_are_read_per_call(small) -> None:
    library, folder = small
    tiny = library.settings.with_overrides(max_file_mb=1e-4)  # ~100 bytes: every paper file is too large
    report = library.add([folder], tiny, progress=False)
    assert report.added == 0 and len(report.failed) == 3
    assert all(f.reason.startswith("too large") for f in report.failed)
    assert library.add([folder], progress=False).added == 3  # the library's own settings again


# ------------------------------------------------------------------ bad input, errors
def _pdf(path: Path, text: str | None, password: str | None = None) -> None:
    from pypdf import PdfWriter
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    if text:
        y = 800
        for line in text.split(". "):
            c.drawString(40, y, line)
            y -= 16
    c.showPage()
    c.save()
    if password:
        writer = PdfWriter(clone_from=str(path))
        writer.encrypt(password)
        writer.write(str(path))


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path, embedder, caplog) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _write_paper(folder / "good.md", "heron")
    _write_paper(folder / "good.txt", "basalt")
    (folder / "latin1.txt").write_bytes("Crème brûlée kinetics\n\nCaramel forms at 170 °C in a crème.\n".encode("latin-1"))
    _pdf(folder / "good.pdf", "Sourdough Fermentation Kinetics. Wild yeast leavens bread. Lactic bacteria sour it.")
    bad = {
        "corrupt.pdf": b"%PDF-1.4\n1 0 obj <<< garbage",
        "empty.pdf": b"",
        "junk.txt": bytes(range(256)) * 40,
        "notutf8.txt": bytes(range(0x80, 0x100)) * 40,
        "empty.txt": b"",
        "slides.pptx": b"PK\x03\x04 not really",
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    _pdf(folder / "blank.pdf", None)
    _pdf(folder / "locked.pdf", "Secret results. Nobody may read them.", password="s3cret")
    os.symlink(folder / "missing.md", folder / "dangling.md")
    (folder / "folder.txt").mkdir()  # a folder, even named like a file, is walked (here: empty), not an error
    library = Library(Settings.load(home=tmp_path / "home"), embedder)
    try:
        with caplog.at_level(logging.WARNING, logger="paperqa_local.library"):
            report = library.add([folder], progress=False)
        failed = {Path(f.path).name: f.reason for f in report.failed}
        expected_bad = set(bad) | {"blank.pdf", "locked.pdf", "dangling.md"}
        assert set(failed) == expected_bad, failed
        assert all(reason and "\n" not in reason for reason in failed.values())
        assert "encrypted" in failed["locked.pdf"]
        assert report.added == report.total_papers == 4
        assert {p.title for p in library.papers()} >= {"Grey Herons in Urban Wetlands", "Crème brûlée kinetics"}
        for name in expected_bad:  # each failure logged once
            assert sum(name in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) == 1, name
        _consistent(library)
    finally:
        library.close()


def test_unreachable_server_is_one_clear_error(tmp_path, embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LibraryError, match=f"cannot reach the Chroma server at {url}"):
        Library(Settings.load(home=tmp_path, chroma_url=url), embedder)


def test_two_homes_share_one_server_without_mixing(request, tmp_path, embedder) -> None:
    settings = _settings(request, tmp_path / "a", "server", chunk_size=96, chunk_overlap=next(_overlaps))
    folder = tmp_path / "papers"
    folder.mkdir()
    _write_paper(folder / "comet.md", "comet")
    first = Library(settings, embedder)
    second = None
    try:
        first.add([folder], progress=False)
        vectors = first.stats()["vectors"]
        second = Library(settings.with_overrides(home=tmp_path / "b"), embedder)
        assert second.store.name != first.store.name  # its own collection on the same server
        assert second.papers() == [] and second.stats()["vectors"] == 0
        assert first.stats()["vectors"] == vectors > 0  # nothing of the first home was touched
    finally:
        for lib in (first, second):
            if lib is not None:
                lib.store.drop()
                lib.close()


def test_unknown_embedding_model_is_a_model_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="embedding model 'no-such-model' not found: give a local"):
        Embedder("no-such-model")


def test_embeddings_are_normalised_and_ordered(embedder) -> None:
    texts = ["short", "a much longer text about herons and basalt " * 5, "medium length text here"]
    vecs = Embedder.embed(embedder, texts)
    assert vecs.dtype == np.float32 and vecs.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    for text, vec in zip(texts, vecs, strict=True):
        assert np.allclose(Embedder.embed(embedder, [text])[0], vec, atol=1e-5)
    assert embedder.embed_query("herons") is embedder.embed_query("herons")


def test_manifest_is_plain_sqlite(small) -> None:
    library, folder = small
    library.add([folder], progress=False)
    db = sqlite3.connect(library.manifest.path)
    states = dict(db.execute("SELECT state, count(*) FROM papers GROUP BY state").fetchall())
    assert states == {"complete": 3}
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
