"""One index run: read -> chunk -> embed -> write, and the report of what changed.

An unchanged file costs one hash. New chunks are embedded in groups of whole papers
(``FLUSH_CHUNKS``) across files, together with their sentences (for the re-rank, so a
question embeds only itself), and each group is written as pending -> old vectors
deleted -> upsert -> texts, keywords and sentence vectors stored + complete. A file's hash is recorded only once all its
papers are complete, so a crash at any point leaves pending rows that the library purges
at its next start. A bad file is reported in ``IndexReport.failed``, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paperqa_local.chunking import Chunker
from paperqa_local.errors import LibraryError, PaperQAError, ReaderError
from paperqa_local.library.manifest import FileRecord, Manifest
from paperqa_local.library.sentence_store import SentenceRows
from paperqa_local.library.store import VectorStore
from paperqa_local.records import Chunk, FileFailure, IndexReport, Paper, file_sha256
from paperqa_local.sentence_vectors import checksum, chunk_sentences

if TYPE_CHECKING:
    from paperqa_local.embedding import Embedder
    from paperqa_local.readers.entries import Attachment

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
FLUSH_CHUNKS = 512  # chunks embedded and written together: big enough to batch well, small to lose on a crash
SYNTHETIC_PREFIX = "papers:"  # manifest key of papers given to add_papers (no file)


@dataclass
class _Source:
    """A file (or a group of papers given directly) to index."""

    key: str
    name: str
    sha256: str
    size: int = 0
    mtime: float = 0.0
    previous: FileRecord | None = None
    papers: list[Paper] = field(default_factory=list)
    new: list[str] = field(default_factory=list)  # paper ids this run embeds for it

    @property
    def paper_ids(self) -> list[str]:
        return list(dict.fromkeys(p.id for p in self.papers))


def fail(report: IndexReport, path: str, reason: str) -> None:
    """Report a file that could not be indexed (logged once)."""
    log.warning("skipped %s: %s", path, reason)
    report.failed.append(FileFailure(path=str(path), reason=reason))


def group_by_source(papers: Sequence[Paper]) -> dict[str, list[Paper]]:
    """Papers given in code, grouped by ``paper.source``: each group acts like one file."""
    groups: dict[str, list[Paper]] = {}
    for paper in papers:
        groups.setdefault(paper.source, []).append(paper)
    return groups


class IndexRun:
    """The work of one ``add``/``add_papers`` call, under the library's write lock.

    ``drop_orphans`` is the library's purge of papers no file holds any more; it runs once
    every file of the run is recorded (a paper can move from one file to another).
    """

    def __init__(self, manifest: Manifest, store: VectorStore, chunker: Chunker, embedder: Embedder,
                 report: IndexReport, drop_orphans: Callable[[], list[str]], progress: bool = True,
                 on_progress: ProgressFn | None = None) -> None:
        self.manifest = manifest
        self.store = store
        self.chunker = chunker
        self.embedder = embedder
        self.report = report
        self.drop_orphans = drop_orphans
        self.progress = progress
        self.on_progress = on_progress
        self.seen: set[str] = set()  # paper ids counted or queued in this run

    # --- reading ------------------------------------------------------------------
    def read_files(self, files: Sequence[Path]) -> list[_Source]:
        """The files that changed since the last run, read into papers."""
        from paperqa_local.readers import read_path

        sources: list[_Source] = []
        for i, path in enumerate(_bar(list(files), self.progress, "reading", "file")):
            if self.on_progress:
                self.on_progress(i, len(files), f"reading {path.name}")
            source = self._read_file(path, read_path)
            if source is not None:
                sources.append(source)
        if self.on_progress:
            self.on_progress(len(files), len(files), "read all files")
        return sources

    def read_entries(self, attachments: Sequence[Attachment]) -> list[_Source]:
        """The attachments of library entries that changed (file or entry metadata) since the last run,
        read into papers carrying the entry's metadata; each is keyed by ``attachment.key``."""
        from paperqa_local.readers import read_path

        sources: list[_Source] = []
        for i, item in enumerate(_bar(list(attachments), self.progress, "reading", "file")):
            if self.on_progress:
                self.on_progress(i, len(attachments), f"reading {item.path.name}")
            source = self._read_file(item.path, read_path, key=item.key, salt=item.entry.fingerprint(),
                                     apply=item.entry.apply)
            if source is not None:
                sources.append(source)
        return sources

    def paper_sources(self, groups: dict[str, list[Paper]]) -> list[_Source]:
        """The groups of papers that changed since the last run (hashed on every field that is stored)."""
        sources = []
        for name, group in groups.items():
            digest = hashlib.sha256()
            for p in group:
                for part in (p.id, p.title, p.date or "", p.url or "", "|".join(p.authors), p.text):
                    digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
            source = _Source(key=SYNTHETIC_PREFIX + name, name=name, sha256=digest.hexdigest(), papers=group)
            source.previous = self.manifest.file(source.key)
            if not self._unchanged(source):
                sources.append(source)
        return sources

    def _read_file(self, path: Path, read_path: Callable[[Path], list[Paper]], key: str | None = None,
                   salt: str = "", apply: Callable[[Paper], Paper] | None = None) -> _Source | None:
        """``key``/``salt``/``apply``: a library entry's manifest key, metadata hash and metadata."""
        key = key or str(path)
        try:
            stat = path.stat()
            sha = file_sha256(path) + (f":{salt}" if salt else "")
        except OSError as err:
            fail(self.report, key, err.strerror or str(err))
            return None
        source = _Source(key=key, name=path.name, sha256=sha, size=stat.st_size, mtime=stat.st_mtime,
                         previous=self.manifest.file(key))
        if self._unchanged(source):
            return None
        try:
            source.papers = list(read_path(path))
        except ReaderError as err:
            fail(self.report, key, _reason(err, path))
            return None
        except Exception as err:  # noqa: BLE001  (a reader bug on one file must not stop the run)
            log.debug("reader crashed on %s", path, exc_info=True)
            fail(self.report, key, f"unexpected {type(err).__name__}: {err}")
            return None
        if not source.papers:
            fail(self.report, key, "no papers found in the file")
            return None
        if apply is not None and len(source.papers) == 1:  # a listing attached to an entry keeps its own papers
            source.papers = [apply(source.papers[0])]
        return source

    def _unchanged(self, source: _Source) -> bool:
        """Same hash as last time and all its papers complete: count them, do nothing else."""
        prev = source.previous
        if prev is None or prev.sha256 != source.sha256:
            return False
        states = self.manifest.states(prev.paper_ids)
        if any(states.get(pid) != "complete" for pid in prev.paper_ids):
            return False
        new = [pid for pid in prev.paper_ids if pid not in self.seen]
        self.seen.update(new)
        self.report.unchanged += len(new)
        return True

    # --- chunk, embed, write ----------------------------------------------------------
    def index(self, sources: list[_Source]) -> None:
        """Chunk what is new, embed it in large groups across papers, write each group, record files."""
        report, on_progress = self.report, self.on_progress
        todo, complete, waiting = self._chunk(sources)
        total = sum(len(chunks) for _, chunks in todo)
        done = 0
        recorded = list(waiting)
        waiting = self._record_ready(waiting, complete)
        bar = _Bar(total, self.progress, "embedding", "chunk") if total else None

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if bar:
                bar.update(n)
            if on_progress:
                on_progress(done, total, "embedding chunks")

        groups = list(_groups(todo, FLUSH_CHUNKS))
        # embedding group i+1 (torch/ONNX release the GIL) overlaps writing group i to Chroma and the manifest
        pool = ThreadPoolExecutor(1, thread_name_prefix="embed")
        try:
            ahead = pool.submit(self._embed, _chunks_of(groups[0]), advance) if groups else None
            for i, group in enumerate(groups):
                assert ahead is not None
                vectors, sentences = ahead.result()
                ahead = pool.submit(self._embed, _chunks_of(groups[i + 1]), advance) if i + 1 < len(groups) else None
                try:
                    self._write(group, vectors, sentences)
                except PaperQAError:
                    raise
                except Exception as err:  # noqa: BLE001  (the next run cleans up what was pending)
                    raise LibraryError(f"writing to the vector store in {self.store.where} failed: {err}") from None
                report.chunks += len(vectors)
                complete.update(p.id for p, _ in group)
                waiting = self._record_ready(waiting, complete)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if bar:
                bar.close()
        _count(recorded, self.drop_orphans(), report)
        if on_progress and total:
            on_progress(total, total, "indexed")

    def _chunk(self, sources: list[_Source]) -> tuple[list[tuple[Paper, list[Chunk]]], set[str], list[_Source]]:
        """(papers to embed with their chunks, papers complete already, sources kept) for these sources."""
        todo: list[tuple[Paper, list[Chunk]]] = []
        complete: set[str] = set()
        waiting: list[_Source] = []
        for source in sources:
            unique = list({p.id: p for p in source.papers}.values())
            states = self.manifest.states([p.id for p in unique])
            keep = []
            for paper in unique:
                if states.get(paper.id) == "complete":
                    complete.add(paper.id)
                    keep.append(paper)
                    if paper.id not in self.seen:
                        self.seen.add(paper.id)
                        self.report.unchanged += 1
                    continue
                if paper.id in self.seen:  # queued already for another file in this run
                    keep.append(paper)
                    continue
                chunks = self.chunker.chunk(paper)
                if not chunks:
                    log.info("%s: paper '%s' has no text, skipped", source.name, paper.title)
                    continue
                self.seen.add(paper.id)
                keep.append(paper)
                source.new.append(paper.id)
                todo.append((paper, chunks))
            if not keep:
                fail(self.report, source.key, "no text to index")
                continue
            source.papers = keep
            waiting.append(source)
        return todo, complete, waiting

    def _embed(self, chunks: list[Chunk], advance: Callable[[int], None]) -> tuple[np.ndarray, SentenceRows]:
        """Chunk vectors and each chunk's sentence vectors, in one embedding call (batched by length across
        both); ``advance(n)`` as the equivalent of ``n`` more chunks is done."""
        texts = [c.embed_text for c in chunks]
        groups = [chunk_sentences(c.text) for c in chunks]
        sentences = list(dict.fromkeys(s for g in groups for s in g))  # overlapping chunks share some
        work = len(texts) + len(sentences)
        seen = reported = 0

        def on_batch(n: int) -> None:
            nonlocal seen, reported
            seen += n
            now = len(chunks) * seen // work
            if now > reported:
                advance(now - reported)
                reported = now

        vectors = self.embedder.embed(texts + sentences, on_batch=on_batch)
        by_text = dict(zip(sentences, vectors[len(texts):], strict=True))
        rows = {c.id: (checksum(g), np.stack([by_text[s] for s in g])) for c, g in zip(chunks, groups, strict=True)}
        return vectors[: len(texts)], rows

    def _write(self, group: list[tuple[Paper, list[Chunk]]], vectors: np.ndarray, sentences: SentenceRows) -> None:
        """pending (commit) -> old vectors of these papers deleted -> upsert -> texts + complete (commit)."""
        papers = [p for p, _ in group]
        self.manifest.mark_pending(papers)
        self.store.delete_papers([p.id for p in papers])
        self.store.upsert([c for _, cs in group for c in cs], vectors)
        self.manifest.mark_complete({p.id: cs for p, cs in group}, sentences)

    def _record_ready(self, waiting: list[_Source], complete: set[str]) -> list[_Source]:
        """Record every source whose papers are all complete; return those still waiting."""
        still = []
        for source in waiting:
            ids = source.paper_ids
            if all(pid in complete for pid in ids):
                self.manifest.record_file(FileRecord(source.key, source.sha256, source.size, source.mtime, ids))
            else:
                still.append(source)
        return still


def _count(sources: list[_Source], orphans: list[str], report: IndexReport) -> None:
    """A changed file's new papers count as updates of the papers it lost, the rest as added/removed."""
    left = set(orphans)
    for source in sources:
        gone = [pid for pid in (source.previous.paper_ids if source.previous else []) if pid in left]
        left.difference_update(gone)
        updated = min(len(source.new), len(gone))
        report.updated += updated
        report.added += len(source.new) - updated
        report.removed += len(gone) - updated
    report.removed += len(left)


def _reason(err: ReaderError, path: Path) -> str:
    """The reader's message without its leading "<file>: " (the report names the file)."""
    msg = str(err)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def _chunks_of(group: list[tuple[Paper, list[Chunk]]]) -> list[Chunk]:
    return [c for _, chunks in group for c in chunks]


def _groups(todo: list[tuple[Paper, list[Chunk]]], size: int) -> Iterator[list[tuple[Paper, list[Chunk]]]]:
    """Whole papers, packed until a group holds at least ``size`` chunks."""
    group: list[tuple[Paper, list[Chunk]]] = []
    n = 0
    for item in todo:
        group.append(item)
        n += len(item[1])
        if n >= size:
            yield group
            group, n = [], 0
    if group:
        yield group


def _bar(items: list[Path], progress: bool, desc: str, unit: str) -> Any:
    if not progress or not items:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, leave=False)


class _Bar:
    """A tqdm bar on stderr, or nothing."""

    def __init__(self, total: int, progress: bool, desc: str, unit: str) -> None:
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
