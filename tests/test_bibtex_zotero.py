"""Reference-manager libraries: BibTeX files with attachments and a Zotero data directory built here.

Unit tests read the formats; integration tests index them for real (MiniLM, embedded Chroma): metadata
from the library wins, collections and tags filter search and ask, re-runs pick up additions and
removals. Also: reference labels and the manifest's migration of an older manifest.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from zotero_builder import ZoteroBuilder

from paperqa_local.errors import LibraryError, ReaderError
from paperqa_local.library.manifest import Manifest
from paperqa_local.readers.bibtex import file_paths, read_bibtex
from paperqa_local.readers.zotero import read_zotero
from paperqa_local.records import Chunk, Paper, Section
from paperqa_local.results import Reference

DATA = Path(__file__).parent / "data"
ZEPHYR = """# ZephyrNet: Wind-Tunnel Pretraining for Tiny Weather Models

## Abstract

ZephyrNet forecasts surface wind speed 6 hours ahead with a mean absolute error of 0.41 metres per second.

## Method

Its key idea is vortex dropout: randomly removing simulated vortices from the training flows.
"""
KESTREL = """KestrelDB: A Log-Structured Store for Sensor Telemetry

KestrelDB is a log-structured key-value store for sensor telemetry. It sustains 2.4 million writes per second
on a single NVMe drive, and reads of the latest value complete in 80 microseconds.
"""
HERON = """Heron: Counting Birds from Drone Video

Heron counts wading birds in drone footage with a detector trained on 40,000 labelled frames; it reaches
a counting error of 3 percent on the Wetland-2022 survey.
"""
BIB = r"""
@article{quill2024zephyr,
  title = {{ZephyrNet}: Wind-Tunnel Pretraining},
  author = {Quill, Ada and Rennet, Bo},
  year = {2024},
  journal = {Journal of Tiny Weather},
  keywords = {weather, cnn},
  groups = {Forecasting},
  file = {Full Text:zephyr.md:text/markdown},
}
@inproceedings{osei2023kestrel,
  title = {KestrelDB},
  author = {Osei, Kofi},
  booktitle = {Proc. of Storage Systems},
  year = 2023,
  keywords = {databases},
  file = {kestrel.txt},
}
@article{gonzalez2019protein,
  title = {Protein Stability from Sequence},
  author = {Gonz{\'a}lez, Mar{\'\i}a and Becker, Tom},
  date = {2019-03-12},
  journaltitle = {PLOS Computational Biology},
  doi = {https://doi.org/10.1371/journal.pcbi.1007123},
  groups = {Biology},
  file = {Full Text PDF:papers/protein stability.pdf:application/pdf;Snapshot:papers/snapshot.html:text/html},
}
@misc{nofile2020, title = {Only Metadata}, author = {Nobody, N.}, year = 2020}
"""


# ------------------------------------------------------------------ reading the formats (unit)
def test_file_field_forms(tmp_path: Path) -> None:
    zotero = r"Full Text PDF:/home/u/Zotero/storage/AB12/Vaswani - 2017.pdf:application/pdf;Snapshot:/home/u/s.html:text/html"
    assert file_paths(zotero, tmp_path) == [Path("/home/u/Zotero/storage/AB12/Vaswani - 2017.pdf"), Path("/home/u/s.html")]
    assert file_paths(r"/abs/a\:b.pdf; rel/c.pdf", tmp_path) == [Path("/abs/a:b.pdf"), tmp_path / "rel/c.pdf"]
    assert file_paths(":papers/x.pdf:PDF", tmp_path) == [tmp_path / "papers/x.pdf"]  # JabRef
    assert file_paths("", tmp_path) == []


def test_bibtex_entries_carry_metadata_labels_and_attachments(tmp_path: Path) -> None:
    bib = tmp_path / "library.bib"
    bib.write_text(BIB + "@article{broken, title = {no closing brace}\n", encoding="utf-8")
    entries = {e.key: e for e in read_bibtex(bib)}
    assert set(entries) == {"quill2024zephyr", "osei2023kestrel", "gonzalez2019protein", "nofile2020"}
    z = entries["quill2024zephyr"]
    assert (z.title, z.authors, z.year, z.venue) == ("ZephyrNet: Wind-Tunnel Pretraining", ["Ada Quill", "Bo Rennet"],
                                                      2024, "Journal of Tiny Weather")
    assert (z.tags, z.collections, z.files) == (["weather", "cnn"], ["Forecasting"], [tmp_path / "zephyr.md"])
    g = entries["gonzalez2019protein"]
    assert g.authors == ["María González", "Tom Becker"] and g.doi == "10.1371/journal.pcbi.1007123"
    assert (g.year, g.date, g.venue) == (2019, "2019-03-12", "PLOS Computational Biology")
    # the PDF is the paper; the web snapshot is only used when an entry has no PDF
    assert g.attachments() == [tmp_path / "papers/protein stability.pdf"]
    assert entries["nofile2020"].attachments() == []
    arxiv = read_bibtex(_write(tmp_path / "a.bib", "@misc{v, author={A and others}, eprint={1706.03762v5},"
                                                   " archivePrefix={arXiv}}"))[0]
    assert arxiv.arxiv_id == "1706.03762v5" and arxiv.author_count == 2


def test_zotero_directory_is_read_from_a_copy(tmp_path: Path) -> None:
    z = _zotero(tmp_path)
    before = (z.folder / "zotero.sqlite").read_bytes()
    with z.locked():  # Zotero running: the database is locked, the copy is readable
        entries = {e.key: e for e in read_zotero(z.folder)}
    assert (z.folder / "zotero.sqlite").read_bytes() == before
    assert set(entries) == {"ZEPH0001", "KEST0001", "LOOSEPDF"}  # the trashed item is left out
    zeph = entries["ZEPH0001"]
    assert (zeph.title, zeph.authors, zeph.year, zeph.date) == ("ZephyrNet from Zotero", ["Ada Quill", "Bo Rennet"],
                                                                2024, "2024-05")
    assert (zeph.venue, zeph.doi, zeph.arxiv_id) == ("Journal of Tiny Weather", "10.1/zeph", "2405.01234")
    assert zeph.collections == ["Reading/Weather"] and zeph.tags == ["cnn", "weather"]
    assert zeph.files == [z.folder / "storage" / "ATT00001" / "zephyr.md"]
    kest = entries["KEST0001"]
    assert kest.authors == ["Kestrel Project"] and kest.files == [z.linked]  # single-field name, linked file
    assert kest.collections == ["Reading"] and kest.year == 2023
    with pytest.raises(ReaderError, match="no zotero.sqlite"):
        read_zotero(tmp_path / "nowhere")


# ------------------------------------------------------------------ reference labels (unit)
@pytest.mark.parametrize(("names", "label", "expected"), [
    (["Ada Quill"], "", "Quill, 2024 — § Method · T"),
    (["Ada Quill", "Bo Rennet"], "", "Quill and Rennet, 2024 — § Method · T"),
    (["Ada Quill", "Bo Rennet", "Cy Dorn"], "", "Quill et al., 2024 — § Method · T"),
    ([], "A. Quill, B. Rennet", "Quill and Rennet, 2024 — § Method · T"),  # chunks without names (older code)
    ([], "9 authors", "T, 2024 — § Method"),
    (["Jan van der Berg"], "", "van der Berg, 2024 — § Method · T"),
    (["Vaswani, Ashish", "Shazeer, Noam", "Parmar, Niki", "Uszkoreit, J."], "", "Vaswani et al., 2024 — § Method · T"),
])
def test_reference_label(names: list[str], label: str, expected: str) -> None:
    ref = Reference(number=1, paper_id="p", title="T", location="§ Method", source="/t.md", authors=label,
                    date="2024-05-01", author_names=names)
    assert ref.label() == expected


# ------------------------------------------------------------------ manifest migration
OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER, mtime REAL, paper_ids TEXT NOT NULL);
CREATE TABLE file_papers (path TEXT NOT NULL, paper_id TEXT NOT NULL, PRIMARY KEY (path, paper_id));
CREATE TABLE papers (id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, authors TEXT NOT NULL,
    author_count INTEGER, date TEXT, url TEXT, chunks INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'complete')));
CREATE TABLE chunks (id TEXT PRIMARY KEY, paper_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
    location TEXT NOT NULL, page INTEGER);
CREATE TABLE dropped (paper_id TEXT PRIMARY KEY);
INSERT INTO papers VALUES ('old1', 'An Old Paper', '/old.pdf', '["A. Old"]', 1, '2001', NULL, 1, 'complete');
INSERT INTO chunks VALUES ('old1:0000', 'old1', 0, 'Old text.', 'p. 2', 2);
"""


def test_an_older_manifest_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    manifest = Manifest(path)
    try:
        (old,) = manifest.chunks(["old1:0000"])
        assert (old.text, old.page, old.section, old.end_page, old.year, old.author_names) == (
            "Old text.", 2, None, None, None, ["A. Old"])
        info = manifest.paper("old1")
        assert info is not None and (info.title, info.year, info.venue, info.tags) == ("An Old Paper", None, None, [])
        assert manifest.references("old1") == []
        paper = Paper(id="new1", title="New", source="/new.pdf", sections=[Section("x", "p. 4")], authors=["B. New"],
                      year=2024, venue="NeurIPS", doi="10.1/x", arxiv_id="2401.00001", references=["[1] A ref."])
        manifest.mark_pending([paper])
        manifest.mark_complete({"new1": [Chunk(id="new1:0000", paper_id="new1", index=0, text="New text.",
                                               location="§ 3 Method, p. 4–5", title="New", source="/new.pdf", page=4,
                                               section="3 Method", end_page=5)]})
        (new,) = manifest.chunks(["new1:0000"])
        assert (new.section, new.page, new.end_page, new.year) == ("3 Method", 4, 5, 2024)
        info = manifest.paper("new1")
        assert (info.year, info.venue, info.doi, info.arxiv_id) == (2024, "NeurIPS", "10.1/x", "2401.00001")
        assert manifest.references("new1") == ["[1] A ref."]
    finally:
        manifest.close()
    Manifest(path).close()  # opening again: nothing left to add


# ------------------------------------------------------------------ indexing (integration)
@pytest.fixture(scope="module")
def embedder():
    from paperqa_local.embedding import Embedder

    return Embedder()


def _qa(home: Path, embedder):  # noqa: ANN202
    from paperqa_local.pipeline import PaperQA

    return PaperQA(home=home, llm="extractive", embedder=embedder)


@pytest.fixture
def bib_library(tmp_path: Path) -> Path:
    (tmp_path / "zephyr.md").write_text(ZEPHYR, encoding="utf-8")
    (tmp_path / "kestrel.txt").write_text(KESTREL, encoding="utf-8")
    (tmp_path / "papers").mkdir()
    shutil.copy(DATA / "single_column_journal.pdf", tmp_path / "papers" / "protein stability.pdf")
    (tmp_path / "papers" / "snapshot.html").write_text("<html><body><p>Snapshot page.</p></body></html>")
    return _write(tmp_path / "library.bib", BIB)


@pytest.mark.integration
def test_bibtex_library_is_indexed_with_its_metadata_and_filters(tmp_path: Path, bib_library: Path, embedder) -> None:
    qa = _qa(tmp_path / "home", embedder)
    try:
        report = qa.add_library(bibtex=bib_library, progress=False)
        assert report.ok and (report.added, report.total_papers) == (3, 3), report.summary()
        papers = {p.title: p for p in qa.papers()}
        assert set(papers) == {"ZephyrNet: Wind-Tunnel Pretraining", "KestrelDB", "Protein Stability from Sequence"}
        protein = papers["Protein Stability from Sequence"]  # the library's metadata, not the PDF's guesses
        assert (protein.authors, protein.year, protein.venue, protein.doi, protein.collections) == (
            ["María González", "Tom Becker"], 2019, "PLOS Computational Biology", "10.1371/journal.pcbi.1007123",
            ["Biology"])
        assert len(qa.library.references(protein.id)) == 5  # the PDF's own reference list, kept aside
        assert papers["ZephyrNet: Wind-Tunnel Pretraining"].tags == ["cnn", "weather"]
        assert qa.labels() == {"collection": ["Biology", "Forecasting"], "tag": ["cnn", "databases", "weather"]}

        everything = {h.chunk.title for h in qa.search("wind speed key-value store protein stability", k=10)}
        assert len(everything) == 3
        assert {h.chunk.title for h in qa.search("wind speed key-value store", k=10, collection="forecasting")} == {
            "ZephyrNet: Wind-Tunnel Pretraining"}
        assert {h.chunk.title for h in qa.search("wind speed key-value store", k=10, tag="databases")} == {"KestrelDB"}
        assert qa.search("wind speed", k=10, collection="Biology", tag="weather") == []
        with pytest.raises(LibraryError, match=r"no paper has the collection 'Physics' \(known: Biology, Forecasting"):
            qa.search("wind", collection="Physics")

        answer = qa.ask("How many writes per second does KestrelDB sustain?", tag="databases")
        assert not answer.cannot_answer and "2.4 million" in answer.text
        assert answer.references[0].label().startswith("Osei, 2023 — ")
        assert qa.ask("How many writes per second does KestrelDB sustain?", tag="weather").cited_papers != [
            papers["KestrelDB"].id]
        pdf_chunks = [c for c in qa.all_chunks() if c.paper_id == protein.id]
        assert all(c.year == 2019 and c.author_names == ["María González", "Tom Becker"] for c in pdf_chunks)
        assert {c.section for c in pdf_chunks} >= {"Abstract", "Introduction", "Results"}
    finally:
        qa.close()


@pytest.mark.integration
def test_bibtex_rerun_picks_up_additions_removals_and_changes(tmp_path: Path, bib_library: Path, embedder) -> None:
    qa = _qa(tmp_path / "home", embedder)
    try:
        assert qa.add_library(bibtex=bib_library, progress=False).added == 3
        again = qa.add_library(bibtex=bib_library, progress=False)
        assert (again.unchanged, again.added, again.removed, again.chunks) == (3, 0, 0, 0)

        (tmp_path / "heron.md").write_text(HERON, encoding="utf-8")
        text = BIB.replace("keywords = {databases},", "keywords = {databases},\n  OMIT,")
        text = text[:text.index("@inproceedings{osei2023kestrel")] + text[text.index("@article{gonzalez"):]
        text = text.replace("keywords = {weather, cnn}", "keywords = {weather, drones}")  # a tag: no re-embedding
        text += "@article{heron2022, title={Heron}, author={Ibis, Ada}, year=2022, file={heron.md}, groups={Birds}}\n"
        _write(bib_library, text)
        report = qa.add_library(bibtex=bib_library, progress=False)
        assert (report.added, report.removed, report.unchanged, report.total_papers) == (1, 1, 2, 3), report.summary()
        heron_chunks = [c for c in qa.all_chunks() if c.title == "Heron"]
        assert report.chunks == len(heron_chunks) > 0  # only the new paper was embedded
        titles = {p.title: p for p in qa.papers()}
        assert "KestrelDB" not in titles and titles["ZephyrNet: Wind-Tunnel Pretraining"].tags == ["drones", "weather"]
        assert qa.stats()["chunks"] == qa.stats()["vectors"]

        _write(bib_library, text.replace("{{ZephyrNet}: Wind-Tunnel Pretraining}", "{ZephyrNet Revisited}"))
        report = qa.add_library(bibtex=bib_library, progress=False)
        assert (report.updated, report.added, report.removed) == (1, 0, 0), report.summary()
        assert "ZephyrNet Revisited" in {p.title for p in qa.papers()}
        assert [h.chunk.title for h in qa.search("vortex dropout", k=1, tag="drones")] == ["ZephyrNet Revisited"]
    finally:
        qa.close()


@pytest.mark.integration
def test_zotero_library_is_indexed_and_filtered(tmp_path: Path, embedder) -> None:
    z = _zotero(tmp_path)
    qa = _qa(tmp_path / "home", embedder)
    try:
        report = qa.add_library(zotero=z.folder, progress=False)
        assert report.ok and report.added == 3, report.summary()
        by_title = {p.title: p for p in qa.papers()}
        assert by_title["ZephyrNet from Zotero"].collections == ["Reading/Weather"]
        # a parent collection includes its sub-collections; the leaf name works too
        assert {h.chunk.title for h in qa.search("wind speed sensor telemetry", k=10, collection="Reading")} == {
            "ZephyrNet from Zotero", "KestrelDB from Zotero"}
        assert {h.chunk.title for h in qa.search("wind speed sensor telemetry", k=10, collection="weather")} == {
            "ZephyrNet from Zotero"}
        z.trash("KEST0001")
        report = qa.add_library(zotero=z.folder, progress=False)
        assert (report.removed, report.unchanged) == (1, 2), report.summary()
        assert "KestrelDB from Zotero" not in {p.title for p in qa.papers()}
    finally:
        qa.close()


@pytest.mark.integration
def test_cli_index_bibtex_and_filtered_search(tmp_path: Path, bib_library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from paperqa_local.cli import main

    home = ["--home", str(tmp_path / "home")]
    assert main([*home, "index"]) == 2
    assert "give files / folders, --bibtex FILE or --zotero DIR" in capsys.readouterr().err
    assert main([*home, "index", "--bibtex", str(bib_library), "--no-progress"]) == 0
    assert "3 added" in capsys.readouterr().out
    assert main([*home, "search", "wind speed and writes per second", "--collection", "Forecasting", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and {h["title"] for h in hits} == {"ZephyrNet: Wind-Tunnel Pretraining"}
    assert main([*home, "papers", "--json"]) == 0
    listed = {p["title"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["KestrelDB"]["tags"] == ["databases"] and listed["KestrelDB"]["venue"] == "Proc. of Storage Systems"


# ------------------------------------------------------------------ helpers
def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _zotero(tmp_path: Path) -> ZoteroBuilder:
    """A Zotero data directory: two papers with stored / linked files, a standalone PDF, a trashed item."""
    z = ZoteroBuilder(tmp_path / "Zotero")
    reading = z.collection("Reading")
    weather = z.collection("Weather", parent=reading)
    zeph = z.item("ZEPH0001", "journalArticle", {"title": "ZephyrNet from Zotero", "date": "2024-05-00 May 2024",
                                                 "publicationTitle": "Journal of Tiny Weather", "DOI": "10.1/zeph",
                                                 "extra": "arXiv: 2405.01234"},
                  authors=[("Ada", "Quill"), ("Bo", "Rennet")], collections=[weather], tags=["weather", "cnn"])
    z.stored(zeph, "ATT00001", "zephyr.md", ZEPHYR.encode())
    kest = z.item("KEST0001", "conferencePaper", {"title": "KestrelDB from Zotero", "date": "2023-00-00 2023"},
                  authors=[(None, "Kestrel Project")], collections=[reading])
    z.linked = tmp_path / "elsewhere" / "kestrel.txt"
    z.linked.parent.mkdir()
    z.linked.write_text(KESTREL, encoding="utf-8")
    z.attachment(kest, "ATT00002", str(z.linked))
    loose = z.item("LOOSEPDF", "attachment", {"title": "protein.pdf"})
    z.attach_file(loose, "storage:protein.pdf", (DATA / "single_column_journal.pdf").read_bytes())
    gone = z.item("GONE0001", "journalArticle", {"title": "In the trash"}, collections=[reading])
    z.stored(gone, "ATT00003", "heron.md", HERON.encode())
    z.trash("GONE0001")
    return z

