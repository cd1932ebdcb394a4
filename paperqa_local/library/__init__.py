"""The paper library: Chroma vectors + SQLite manifest (with its BM25 keywords and sentence vectors), in step.

The manifest (``manifest.py``) is the truth: it holds the chunk texts and says which papers
are complete. The keyword rows (``keywords.py``, SQLite FTS5) and sentence vectors
(``sentence_store.py``) live in the manifest's own database and commit with its chunks; the
vector store (``store.py``) is checked against it. Indexing (``indexing.py``) writes
crash-safely, and every deletion goes through one purge (pending -> vectors deleted -> rows
dropped), so whatever a crash leaves pending is removed at the next start and the stores
always end up holding the same chunks. Chroma never embeds anything itself: vectors always
come from ``Embedder``.

The settings that define the store (home, chroma_url, embedding model, chunking) are fixed
when a ``Library`` opens; the others (``max_file_mb``) are read per call.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from paperqa_local.chunking import Chunker
from paperqa_local.errors import LibraryError
from paperqa_local.library import labels
from paperqa_local.library.indexing import IndexRun, ProgressFn, fail, group_by_source
from paperqa_local.library.keywords import KeywordIndex
from paperqa_local.library.manifest import Manifest
from paperqa_local.library.sentence_store import SentenceStore
from paperqa_local.library.store import VectorStore, connect, library_folder
from paperqa_local.library.term_stats import TermStats
from paperqa_local.records import Chunk, Hit, IndexReport, Paper, PaperInfo

if TYPE_CHECKING:
    from paperqa_local.embedding import Embedder
    from paperqa_local.readers.entries import LibraryEntry
    from paperqa_local.settings import Settings

__all__ = ["Library", "LibraryBusy", "Subset"]

log = logging.getLogger(__name__)


class LibraryBusy(LibraryError):
    """Another process holds this library's write lock."""


class Library:
    """One collection of papers: ``add``/``add_papers``/``remove``/``papers`` and the two searches."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings  # what the store was opened with; per-call settings go to ``add``
        self.embedder = embedder
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        client = connect(settings)
        self.folder = library_folder(settings)
        self.manifest = Manifest(self.folder / "manifest.sqlite")
        self.store = VectorStore(client, settings, self.manifest.library_id)
        self.keywords = KeywordIndex(self.manifest)
        self.sentences = SentenceStore(self.manifest)
        self.term_stats = TermStats(self.keywords)
        shutil.rmtree(self.folder / "bm25", ignore_errors=True)  # the keyword index of earlier versions
        try:
            with self._writing():
                self._recover()
        except LibraryBusy:
            log.info("another process is writing to this library; not cleaning up")

    # --- public: reading -------------------------------------------------------
    def papers(self) -> list[PaperInfo]:
        """All complete papers, by title."""
        return self.manifest.papers()

    def paper(self, paper_id: str) -> PaperInfo | None:
        return self.manifest.paper(paper_id)

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked."""
        return self.manifest.chunks(ids)

    def all_chunks(self) -> Iterator[Chunk]:
        return self.manifest.all_chunks()

    def count_chunks(self) -> int:
        return self.manifest.count_chunks()

    def stats(self) -> dict[str, int]:
        """Counts from each store; equal chunk counts mean the three are in step."""
        return {
            "papers": self.manifest.count_papers(),
            "chunks": self.manifest.count_chunks(),
            "vectors": self.store.count(),
            "keywords": len(self.keywords),
        }

    def idf(self) -> Callable[[str], float]:
        """Inverse document frequency of a content word over the library's chunks (for ``question_coverage``)."""
        return self.term_stats.idf()

    def dense_search(self, query_vec: np.ndarray, n: int, paper_ids: Collection[str] | None = None) -> list[Hit]:
        """Nearest chunks by cosine similarity (``hit.dense``), best first (of ``paper_ids`` only, when given)."""
        if n <= 0:
            return []
        scored = self.store.query(query_vec, n, paper_ids)
        chunks = {c.id: c for c in self.manifest.chunks([cid for cid, _ in scored])}
        return [Hit(chunk=chunks[cid], score=s, dense=s) for cid, s in scored if cid in chunks]

    def bm25_search(self, query: str, n: int, paper_ids: Collection[str] | None = None,
                    budget: int | None = None) -> list[Hit]:
        """Best chunks by BM25 (``hit.bm25``), best first; only chunks sharing a word with the query
        (and of ``paper_ids``, when given: every match is scored, then filtered). ``budget``: postings scored
        in full (``Settings.keyword_budget``; by default the library's)."""
        if paper_ids is None:
            scored = self.keywords.search(query, n, self.settings.keyword_budget if budget is None else budget)
        else:  # chunk ids are "<paper id>:<index>"
            scored = [(cid, s) for cid, s in self.keywords.search(query, max(n, len(self.keywords)))
                      if cid.rsplit(":", 1)[0] in paper_ids][:n]
        chunks = {c.id: c for c in self.manifest.chunks([cid for cid, _ in scored])}
        return [Hit(chunk=chunks[cid], score=s, bm25=s) for cid, s in scored if cid in chunks]

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, tuple[int, np.ndarray]]:
        """Sentence vectors stored at indexing time: chunk id -> (checksum of its sentences, vectors)."""
        return self.sentences.get(chunk_ids)

    def labels(self) -> dict[str, list[str]]:
        """The collection and tag names papers carry: {"collection": [...], "tag": [...]}."""
        return labels.names(self.manifest.labels())

    def references(self, paper_id: str) -> list[str]:
        """A paper's own reference list (stored, never evidence)."""
        return self.manifest.references(paper_id)

    def subset(self, collection: str | None = None, tag: str | None = None) -> Library | Subset:
        """The library as a search sees it under a collection / tag filter (itself when there is none).

        An unknown name raises ``LibraryError`` listing the known ones.
        """
        paper_ids = labels.select(self.manifest.labels(), collection, tag)
        return self if paper_ids is None else Subset(self, paper_ids)

    # --- public: writing -------------------------------------------------------
    def add(self, paths: Sequence[str | Path], settings: Settings | None = None, progress: bool = True,
            on_progress: ProgressFn | None = None) -> IndexReport:
        """Index files and folders; bad files are reported in ``failed``, never fatal.

        ``settings``: this call's settings (``max_file_mb``); by default those the library opened with.
        """
        from paperqa_local.readers import discover

        start = time.perf_counter()
        files, failures = discover(list(paths), (settings or self.settings).max_file_mb)
        files = list(dict.fromkeys(Path(f).absolute() for f in files))
        report = IndexReport(files=len(files))
        for failure in failures:
            fail(report, failure.path, failure.reason)
        with self._writing():
            self._recover()
            run = self._run(report, progress, on_progress)
            run.index(run.read_files(files))
        return self._finish(report, start)

    def add_papers(self, papers: Sequence[Paper], progress: bool = True,
                   on_progress: ProgressFn | None = None) -> IndexReport:
        """Index papers built in code (e.g. a BEIR corpus), grouped by ``paper.source``.

        Each source acts like one file: the same group of papers again is skipped, a changed
        group replaces its old papers.
        """
        start = time.perf_counter()
        groups = group_by_source(papers)
        report = IndexReport(files=len(groups))
        with self._writing():
            self._recover()
            run = self._run(report, progress, on_progress)
            run.index(run.paper_sources(groups))
        return self._finish(report, start)

    def add_entries(self, entries: Sequence[LibraryEntry], origin: str, progress: bool = True,
                    on_progress: ProgressFn | None = None) -> IndexReport:
        """Index a reference manager's entries (``readers/bibtex.py``, ``readers/zotero.py``) under ``origin``
        (e.g. ``bibtex:/abs/library.bib``): their attachments as papers with the entry's metadata, their
        collections and tags as filters. Run again, it indexes what changed and removes the papers of
        entries that left ``origin``."""
        from paperqa_local.readers.entries import attachments

        start = time.perf_counter()
        items = attachments(list(entries), origin)
        current = {a.key for a in items}
        bare = len(entries) - len({a.entry.key for a in items})
        if bare:
            log.info("%s: %d of %d entries have no PDF / text attachment to index", origin, bare, len(entries))
        report = IndexReport(files=len(items))
        with self._writing():
            self._recover()
            self.manifest.forget_files([k for k in self.manifest.file_keys(origin + "#") if k not in current])
            run = self._run(report, progress, on_progress)
            run.index(run.read_entries(items))
            self.manifest.set_labels({a.key: (a.entry.collections, a.entry.tags) for a in items})
        return self._finish(report, start)

    def remove(self, paper_id_or_prefix: str) -> PaperInfo:
        """Delete one paper everywhere; ``paper_id_or_prefix`` is its id or a unique prefix.

        Files that held it are read again on the next ``add`` (so adding it again works).
        """
        key = paper_id_or_prefix.strip()
        matches = [key] if key and self.manifest.paper(key) else (self.manifest.match(key) if key else [])
        if not matches:
            raise LibraryError(f"no paper with id '{key}' in the library (see 'paperqa-local papers')")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise LibraryError(f"'{key}' matches {len(matches)} papers ({shown}): give more of the id")
        info = self.manifest.paper(matches[0])
        assert info is not None
        with self._writing():
            self._purge([info.id], reread=True)
        log.info("removed %s (%s)", info.id, info.title)
        return info

    def close(self) -> None:
        self.manifest.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------
    def _run(self, report: IndexReport, progress: bool, on_progress: ProgressFn | None) -> IndexRun:
        return IndexRun(self.manifest, self.store, self.chunker, self.embedder, report,
                        drop_orphans=self._drop_orphans, progress=progress, on_progress=on_progress)

    def _finish(self, report: IndexReport, start: float) -> IndexReport:
        report.total_papers = self.manifest.count_papers()
        report.total_chunks = self.manifest.count_chunks()
        report.seconds = time.perf_counter() - start
        log.info(report.summary())
        return report

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer per library across processes (a second index run fails fast)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "write.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LibraryBusy(f"{self.folder}: another process is indexing this library; try again when it ends") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- consistency ---------------------------------------------------------------
    def _purge(self, paper_ids: Sequence[str], reread: bool) -> None:
        """Delete papers everywhere: pending (commit) -> vectors deleted -> rows dropped (commit).

        The one deletion path. A crash after the first step leaves pending rows, which the next
        start purges again. ``reread``: the files that held them are read again on the next add.
        """
        if not paper_ids:
            return
        self.manifest.mark_removing(paper_ids, reread=reread)
        self.store.delete_papers(paper_ids)
        self.manifest.drop_papers(paper_ids)

    def _recover(self) -> None:
        """Undo what an interrupted run left: pending papers go, stores are reconciled."""
        pending = self.manifest.pending()
        if pending:
            log.warning("cleaning up %d paper(s) left pending by an interrupted run", len(pending))
            self._purge(pending, reread=False)
        self._drop_orphans()
        if self.store.count() != self.manifest.count_chunks():
            self._reconcile()

    def _reconcile(self) -> None:
        """Vectors and manifest disagree (e.g. a wiped server): delete strays, re-read what lost vectors."""
        in_store = self.store.ids()
        known = self.manifest.chunk_papers()
        strays = sorted(in_store - known.keys())
        lost = sorted({pid for cid, pid in known.items() if cid not in in_store})
        if strays:
            log.warning("deleting %d vector(s) the manifest does not know", len(strays))
            self.store.delete_ids(strays)
        if lost:
            log.warning("%d paper(s) lost their vectors; they are indexed again on the next add", len(lost))
            self._purge(lost, reread=True)

    def _drop_orphans(self) -> list[str]:
        """Purge the papers that files no longer hold (taking them marks them pending in the same commit)."""
        orphans = self.manifest.take_orphans()
        self._purge(orphans, reread=False)
        return orphans


class Subset:
    """The library seen through a collection / tag filter: both searches return only the chunks of
    ``paper_ids``; everything else (sentence vectors, counts) is the library's own."""

    def __init__(self, library: Library, paper_ids: Collection[str]) -> None:
        self.library = library
        self.paper_ids = frozenset(paper_ids)

    def dense_search(self, query_vec: np.ndarray, n: int) -> list[Hit]:
        return self.library.dense_search(query_vec, n, self.paper_ids)

    def bm25_search(self, query: str, n: int, budget: int | None = None) -> list[Hit]:
        return self.library.bm25_search(query, n, self.paper_ids, budget)

    def __getattr__(self, name: str) -> object:
        return getattr(self.library, name)
