"""Keywords (SQLite FTS5), term counts and stored sentence vectors: in step with the chunks, migrated, used.

A hashed bag-of-words embedder (``fakes.embed``) keeps these fast; the real model is covered in
``test_library.py``.
"""

from __future__ import annotations

import math
import sqlite3
import threading

import numpy as np
import pytest
from library_checks import assert_in_step

from paperqa_local.library import Library
from paperqa_local.library.keywords import fts_token, rarest, tokenize
from paperqa_local.records import Paper, Section
from paperqa_local.retrieval import Retriever
from paperqa_local.sentence_vectors import SentenceVectors, checksum, chunk_sentences
from paperqa_local.settings import Settings

from fakes import DIM, embed


class CountingEmbedder:
    """``fakes.embed`` behind the ``Embedder`` interface, counting the texts it embeds."""

    model_name = "fake"
    dim = DIM

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts, progress=False, on_batch=None):  # noqa: ANN001, ANN201
        self.texts.extend(texts)
        if on_batch is not None:
            on_batch(len(texts))
        return embed(texts) if texts else np.zeros((0, DIM), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return embed([text])[0]


TOPICS = [
    ("Grey Herons in Urban Wetlands", "Grey herons nest in colonies near rivers. They hunt fish at dawn."),
    ("Columnar Basalt Formation", "Cooling lava contracts. It cracks into hexagonal basalt columns."),
    ("Sourdough Fermentation Kinetics", "Wild yeast leavens sourdough bread. Lactic bacteria sour the dough."),
    ("Cometary Tails and Solar Wind", "A comet grows an ion tail. The tail points away from the sun."),
    ("Café Culture of Zürich", "The naïve_x café serves β2 espresso. Zanzibarite décor lines the walls."),
]


def _papers(n: int = len(TOPICS), extra: str = "") -> list[Paper]:
    """The first ``n`` topics as one source; ``extra`` changes doc0 into a new paper, doc0b."""
    return [Paper(id=f"doc{i}{'b' if extra and i == 0 else ''}", title=title, source="tiny",
                  sections=[Section(f"{text} {extra if i == 0 else ''}", "abstract")])
            for i, (title, text) in enumerate(TOPICS[:n])]


@pytest.fixture
def library(tmp_path):
    lib = Library(Settings.load(home=tmp_path / "home"), CountingEmbedder())
    yield lib
    lib.close()


def test_tokenisation_is_the_bm25_one() -> None:
    assert tokenize("The Herons were running to the rivers, and it is 2024!") == ["heron", "were", "run", "river", "2024"]
    assert [fts_token(t) for t in ("heron", "β2", "naïve_x")] == ["heron", "_ceb232", "_6e61c3af76655f78"]


def test_keyword_rows_follow_every_change(library) -> None:
    library.add_papers(_papers(), progress=False)
    assert_in_step(library)
    assert library.bm25_search("hexagonal basalt", 5)[0].chunk.title.startswith("Columnar")
    assert library.bm25_search("naïve_x β2", 5)[0].chunk.paper_id == "doc4"  # words unicode61 would split
    assert library.bm25_search("the and of", 5) == []  # stopwords only
    report = library.add_papers(_papers(extra="Zanzibarite was found in the wetland."), progress=False)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)  # doc0 -> doc0b
    assert_in_step(library)
    assert library.bm25_search("zanzibarite wetland", 1)[0].chunk.paper_id == "doc0b"
    library.add_papers(_papers(3), progress=False)  # doc3, doc4 leave the source
    stats = assert_in_step(library)
    assert stats["papers"] == 3 and not library.bm25_search("zanzibarite comet", 5)
    library.remove("doc1")
    assert_in_step(library)
    assert not library.bm25_search("basalt", 5)


def test_searches_do_not_wait_for_a_write_in_progress(library) -> None:
    """Reads run on their own connections: a long write holding the manifest's lock delays no search, and a
    search sees the last committed state."""
    library.add_papers(_papers(), progress=False)
    held, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with library.manifest.lock:
            held.set()
            release.wait(30)

    writer = threading.Thread(target=long_write)
    writer.start()
    held.wait(10)
    try:
        found: list = []
        reader = threading.Thread(target=lambda: found.extend(
            (library.bm25_search("hexagonal basalt", 5), library.sentence_vectors(["doc1:0000"]))))
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "a search waited for the write lock"
        assert found[0][0].chunk.title.startswith("Columnar") and "doc1:0000" in found[1]
    finally:
        release.set()
        writer.join()


def test_budgeted_search_scores_like_the_full_one(library) -> None:
    # 60 papers share the common words; the rare ones pick a few. With a small postings budget the
    # candidates come from the rare stems, then the whole query re-scores them: same ids, same scores
    rng = np.random.default_rng(3)
    common = "model training data results method network learning performance".split()
    rare = "heron basalt sourdough comet espresso glacier lichen".split()
    papers = [Paper(id=f"p{i:02d}", title=f"Paper {i}", source="mix", sections=[Section(
        " ".join(rng.choice(common, 30)) + " " + " ".join(rng.choice(rare, int(rng.integers(0, 3)))) + ".", "s")])
        for i in range(60)]
    library.add_papers(papers, progress=False)
    query = "learning model data for heron and basalt network training"
    full = library.keywords.search(query, 10)
    stems = [fts_token(t) for t in tokenize(query)]
    assert rarest(stems, library.keywords._stem_counts(stems), 40) is not None  # the budget bites
    budgeted = library.keywords.search(query, 10, budget=40)
    assert [c for c, _ in budgeted] == [c for c, _ in full]
    assert [s for _, s in budgeted] == pytest.approx([s for _, s in full], rel=1e-9)
    assert [h.chunk.id for h in library.bm25_search(query, 10, budget=40)] == [c for c, _ in full]
    assert library.keywords.search("zzz unseen words", 10, budget=1) == []
    library.remove("p00")
    assert_in_step(library)  # stem counts follow removals too


def test_idf_comes_from_the_term_counts(library) -> None:
    library.add_papers(_papers(), progress=False)
    idf = library.idf()
    n = library.count_chunks()
    assert idf("basalt") == pytest.approx(math.log((n + 1) / 1.5))
    assert idf("never-seen") == pytest.approx(math.log((n + 1) / 0.5))


def test_sentence_vectors_are_stored_at_indexing(library) -> None:
    library.add_papers(_papers(), progress=False)
    chunks = list(library.all_chunks())
    stored = library.sentence_vectors([c.id for c in chunks])
    assert stored.keys() == {c.id for c in chunks}
    for c in chunks:
        sentences = chunk_sentences(c.text)
        check, vectors = stored[c.id]
        assert check == checksum(sentences) and vectors.dtype == np.float32
        assert np.allclose(vectors, embed(sentences), atol=2e-3)  # float16 on disk


def test_rerank_embeds_nothing_but_the_query(library) -> None:
    library.add_papers(_papers(), progress=False)
    embedder = library.embedder
    retriever = Retriever(library, embedder)
    settings = Settings.load(home=library.settings.home)
    embedder.texts.clear()
    hits = retriever.retrieve("Where do grey herons hunt fish?", settings, k=3)
    assert hits[0].chunk.paper_id == "doc0"
    assert embedder.texts == []  # embed_query is not counted: the query's own vector is the one embedding
    # the stored vectors also serve evidence and checks: the memo holds the re-ranked sentences
    assert retriever.sentence_vectors(chunk_sentences(hits[0].chunk.text)).shape[0] >= 1
    assert embedder.texts == []


def test_older_library_is_migrated_on_open(library, tmp_path) -> None:
    library.add_papers(_papers(), progress=False)
    before = [(h.chunk.id, round(h.bm25, 6)) for h in library.bm25_search("basalt columns of lava", 5)]
    settings, embedder = library.settings, library.embedder
    library.close()
    db = sqlite3.connect(library.manifest.path)
    db.executescript("DROP TRIGGER chunks_forget_keywords; DROP TRIGGER chunks_forget_sentences;"
                     " DROP TABLE chunk_terms; DROP TABLE term_df; DROP TABLE chunk_sentences;"
                     " DELETE FROM meta WHERE key = 'keywords';")
    db.close()
    (library.folder / "bm25").mkdir()  # the bm25s index of earlier versions
    again = Library(settings, embedder)
    try:
        assert_in_step(again, sentences=False)  # keyword rows and term counts filled once, on open
        assert not (again.folder / "bm25").exists()
        assert [(h.chunk.id, round(h.bm25, 6)) for h in again.bm25_search("basalt columns of lava", 5)] == before
        # no stored sentence vectors: the re-rank embeds the candidates' sentences, as before
        embedder.texts.clear()
        retriever = Retriever(again, embedder)
        hits = retriever.retrieve("Where do grey herons hunt fish?", Settings.load(home=settings.home), k=3)
        assert hits[0].chunk.paper_id == "doc0" and embedder.texts
        report = again.add_papers(_papers(extra="New words arrive."), progress=False)  # incremental after migrating
        assert (report.added, report.updated, report.removed) == (0, 1, 0)
        assert_in_step(again, sentences=False)
    finally:
        again.close()


def test_sentence_vectors_prefer_stored_rows() -> None:
    embedded: list[str] = []

    def counting(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return embed(texts)

    from fakes import chunk

    a, b = chunk("a", "Herons hunt fish. They nest."), chunk("b", "Basalt cracks. Columns form.")
    groups = [chunk_sentences(a.text), chunk_sentences(b.text)]
    rows = {a.id: (checksum(groups[0]), np.ones((2, DIM), np.float32)),  # made from these sentences
            b.id: (checksum(["Other sentences.", "Columns form."]), np.ones((2, DIM), np.float32))}  # stale
    vectors = SentenceVectors(counting, stored=lambda ids: {i: rows[i] for i in ids if i in rows})
    got = vectors.for_chunks([a, b], groups)
    assert np.array_equal(got[0], np.ones((2, DIM))) and np.allclose(got[1], embed(groups[1]))
    assert embedded == groups[1]
    assert np.array_equal(vectors(["Herons hunt fish."]), np.ones((1, DIM)))  # from the memo
    assert embedded == groups[1]
