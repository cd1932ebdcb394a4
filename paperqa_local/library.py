"""The paper library: Chroma vectors + BM25 keyword index + SQLite manifest, kept in step.

Indexing is incremental (an unchanged file costs one hash) and crash-safe: papers are
written in groups as pending -> vectors replaced -> texts stored + complete, and a file's
hash is recorded only once all its papers are complete. Whatever a crash leaves pending
is removed at the next start, so Chroma, the manifest and BM25 always end up holding
the same chunks. Chroma never embeds anything itself: vectors always come from
``Embedder``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from paperqa_local import offline  # noqa: F401  (Chroma telemetry off before import)
from paperqa_local.chunking import Chunker
from paperqa_local.errors import LibraryError, PaperQAError, ReaderError
from paperqa_local.keyword_index import KeywordIndex
from paperqa_local.manifest import FileRecord, Manifest
from paperqa_local.records import Chunk, FileFailure, Hit, IndexReport, Paper, PaperInfo, file_sha256

if TYPE_CHECKING:
    from paperqa_local.embedding import Embedder
    from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
FLUSH_CHUNKS = 512  # chunks embedded and written together: big enough to batch well, small to lose on a crash
PAGE = 5000  # ids per Chroma page when reconciling
SYNTHETIC_PREFIX = "papers:"  # manifest key of papers given to add_papers (no file)


class LibraryBusy(LibraryError):
    """Another process holds this library's write lock."""


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


class Library:
    """One collection of papers: ``add``/``add_papers``/``remove``/``papers`` and the two searches."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
        base = settings.collection_name
        self.client = _connect(settings)
        folder = base if not settings.chroma_url else f"{base}@{_server_tag(settings.chroma_url)}"
        self.folder = Path(settings.home) / "libraries" / folder
        self.manifest = Manifest(self.folder / "manifest.sqlite")
        # On a server, several library homes may share one Chroma: each gets its own collection.
        self.name = base + (f"-{self.manifest.library_id[:8]}" if settings.chroma_url else "")
        self.keywords = KeywordIndex(self.folder / "bm25")
        self.collection = self._open_collection()
        self._max_batch = _max_batch(self.client)
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
        self._ensure_keywords()
        return {
            "papers": self.manifest.count_papers(),
            "chunks": self.manifest.count_chunks(),
            "vectors": self.collection.count(),
            "keywords": len(self.keywords),
        }

    def dense_search(self, query_vec: np.ndarray, n: int) -> list[Hit]:
        """Nearest chunks by cosine similarity (``hit.dense``), best first."""
        if n <= 0:
            return []
        try:
            res = self.collection.query(
                query_embeddings=[np.asarray(query_vec, dtype=np.float32).tolist()], n_results=n,
                include=["documents", "metadatas", "distances"],
            )
        except Exception as err:  # noqa: BLE001
            raise LibraryError(f"vector search failed in {self._where()}: {err}") from None
        hits = []
        for cid, doc, meta, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0],
                                        res["distances"][0], strict=True):
            sim = min(1.0, max(-1.0, 1.0 - float(dist)))
            hits.append(Hit(chunk=_chunk_from_meta(cid, doc or "", meta or {}), score=sim, dense=sim))
        return hits

    def bm25_search(self, query: str, n: int) -> list[Hit]:
        """Best chunks by BM25 (``hit.bm25``), best first; only chunks sharing a word with the query."""
        self._ensure_keywords()
        scored = self.keywords.search(query, n)
        chunks = {c.id: c for c in self.manifest.chunks([cid for cid, _ in scored])}
        return [Hit(chunk=chunks[cid], score=s, bm25=s) for cid, s in scored if cid in chunks]

    # --- public: writing -------------------------------------------------------
    def add(self, paths: Sequence[str | Path], progress: bool = True, on_progress: ProgressFn | None = None) -> IndexReport:
        """Index files and folders; bad files are reported in ``failed``, never fatal."""
        from paperqa_local.readers import discover, read_path

        start = time.perf_counter()
        files, failures = discover(list(paths), self.settings.max_file_mb)
        files = list(dict.fromkeys(Path(f).absolute() for f in files))
        report = IndexReport(files=len(files))
        for failure in failures:
            self._fail(report, failure.path, failure.reason)
        with self._writing():
            self._recover()
            sources: list[_Source] = []
            for i, path in enumerate(_bar(files, progress, "reading", "file")):
                if on_progress:
                    on_progress(i, len(files), f"reading {path.name}")
                source = self._read_file(path, read_path, report)
                if source is not None:
                    sources.append(source)
            if on_progress:
                on_progress(len(files), len(files), "read all files")
            self._index(sources, report, progress, on_progress)
        return self._finish(report, start)

    def add_papers(self, papers: Sequence[Paper], progress: bool = True,
                   on_progress: ProgressFn | None = None) -> IndexReport:
        """Index papers built in code (e.g. a BEIR corpus), grouped by ``paper.source``.

        Each source acts like one file: the same group of papers again is skipped, a changed
        group replaces its old papers.
        """
        start = time.perf_counter()
        groups: dict[str, list[Paper]] = {}
        for paper in papers:
            groups.setdefault(paper.source, []).append(paper)
        report = IndexReport(files=len(groups))
        with self._writing():
            self._recover()
            sources = []
            for name, group in groups.items():
                digest = hashlib.sha256()
                for p in group:
                    for part in (p.id, p.title, p.date or "", p.url or "", "|".join(p.authors), p.text):
                        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
                source = _Source(key=SYNTHETIC_PREFIX + name, name=name, sha256=digest.hexdigest(), papers=group)
                source.previous = self.manifest.file(source.key)
                if not self._unchanged(source, report):
                    sources.append(source)
            self._index(sources, report, progress, on_progress)
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
            self.manifest.mark_removing(info.id)
            self._delete_vectors([info.id])
            self.manifest.drop_papers([info.id])
            self._rebuild_keywords()
        log.info("removed %s (%s)", info.id, info.title)
        return info

    def close(self) -> None:
        self.manifest.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading files -----------------------------------------------------------
    def _read_file(self, path: Path, read_path: Callable[[Path], list[Paper]], report: IndexReport) -> _Source | None:
        key = str(path)
        try:
            stat = path.stat()
            sha = file_sha256(path)
        except OSError as err:
            self._fail(report, key, err.strerror or str(err))
            return None
        source = _Source(key=key, name=path.name, sha256=sha, size=stat.st_size, mtime=stat.st_mtime,
                         previous=self.manifest.file(key))
        if self._unchanged(source, report):
            return None
        try:
            source.papers = list(read_path(path))
        except ReaderError as err:
            self._fail(report, key, _reason(err, path))
            return None
        except Exception as err:  # noqa: BLE001  (a reader bug on one file must not stop the run)
            log.debug("reader crashed on %s", path, exc_info=True)
            self._fail(report, key, f"unexpected {type(err).__name__}: {err}")
            return None
        if not source.papers:
            self._fail(report, key, "no papers found in the file")
            return None
        return source

    def _unchanged(self, source: _Source, report: IndexReport) -> bool:
        """Same hash as last time and all its papers complete: count them, do nothing else."""
        prev = source.previous
        if prev is None or prev.sha256 != source.sha256:
            return False
        states = self.manifest.states(prev.paper_ids)
        if any(states.get(pid) != "complete" for pid in prev.paper_ids):
            return False
        new = [pid for pid in prev.paper_ids if pid not in self._seen]
        self._seen.update(new)
        report.unchanged += len(new)
        return True

    # --- indexing --------------------------------------------------------------------
    def _index(self, sources: list[_Source], report: IndexReport, progress: bool,
               on_progress: ProgressFn | None) -> None:
        """Chunk what is new, embed it in large groups across papers, write each group, record files."""
        todo: list[tuple[Paper, list[Chunk]]] = []
        complete = set()
        waiting: list[_Source] = []
        for source in sources:
            unique = list({p.id: p for p in source.papers}.values())
            states = self.manifest.states([p.id for p in unique])
            keep = []
            for paper in unique:
                if states.get(paper.id) == "complete":
                    complete.add(paper.id)
                    keep.append(paper)
                    if paper.id not in self._seen:
                        self._seen.add(paper.id)
                        report.unchanged += 1
                    continue
                if paper.id in self._seen:  # queued already for another file in this run
                    keep.append(paper)
                    continue
                chunks = self.chunker.chunk(paper)
                if not chunks:
                    log.info("%s: paper '%s' has no text, skipped", source.name, paper.title)
                    continue
                self._seen.add(paper.id)
                keep.append(paper)
                source.new.append(paper.id)
                todo.append((paper, chunks))
            if not keep:
                self._fail(report, source.key, "no text to index")
                continue
            source.papers = keep
            waiting.append(source)

        total = sum(len(chunks) for _, chunks in todo)
        done = 0
        recorded = list(waiting)
        waiting = self._record_ready(waiting, complete)
        bar = _Bar(total, progress, "embedding", "chunk") if total else None
        try:
            for group in _groups(todo, FLUSH_CHUNKS):
                texts = [c.embed_text for _, chunks in group for c in chunks]

                def on_batch(n: int) -> None:
                    nonlocal done
                    done += n
                    if bar:
                        bar.update(n)
                    if on_progress:
                        on_progress(done, total, "embedding chunks")

                vectors = self.embedder.embed(texts, on_batch=on_batch)
                try:
                    self._write(group, vectors)
                except PaperQAError:
                    raise
                except Exception as err:  # noqa: BLE001  (the next run cleans up what was pending)
                    raise LibraryError(f"writing to the vector store in {self._where()} failed: {err}") from None
                report.chunks += len(texts)
                complete.update(p.id for p, _ in group)
                waiting = self._record_ready(waiting, complete)
        finally:
            if bar:
                bar.close()
        self._count(recorded, self._drop_orphans(), report)
        if on_progress and total:
            on_progress(total, total, "indexed")

    def _write(self, group: list[tuple[Paper, list[Chunk]]], vectors: np.ndarray) -> None:
        """pending (commit) -> old vectors of these papers deleted -> upsert -> texts + complete (commit)."""
        papers = [p for p, _ in group]
        chunks = [c for _, cs in group for c in cs]
        self.manifest.mark_pending(papers)
        self._delete_vectors([p.id for p in papers])
        for start in range(0, len(chunks), self._max_batch):
            part = chunks[start:start + self._max_batch]
            self.collection.upsert(
                ids=[c.id for c in part], embeddings=vectors[start:start + len(part)],
                documents=[c.text for c in part], metadatas=[_meta(c) for c in part],
            )
        self.manifest.mark_complete({p.id: cs for p, cs in group})

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

    @staticmethod
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

    def _finish(self, report: IndexReport, start: float) -> IndexReport:
        if self.keywords.generation != self.manifest.generation:
            self._rebuild_keywords()
        report.total_papers = self.manifest.count_papers()
        report.total_chunks = self.manifest.count_chunks()
        report.seconds = time.perf_counter() - start
        log.info(report.summary())
        return report

    def _fail(self, report: IndexReport, path: str, reason: str) -> None:
        log.warning("skipped %s: %s", path, reason)
        report.failed.append(FileFailure(path=str(path), reason=reason))

    # --- consistency ---------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer per library across processes (a second index run fails fast)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "write.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LibraryBusy(f"{self.folder}: another process is indexing this library; try again when it ends") from None
            self._seen: set[str] = set()
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _recover(self) -> None:
        """Undo what an interrupted run left: pending papers go, stores are reconciled."""
        pending = self.manifest.pending()
        if pending:
            log.warning("cleaning up %d paper(s) left pending by an interrupted run", len(pending))
            self._delete_vectors(pending)
            self.manifest.drop_papers(pending)
        self._drop_orphans()
        if self.collection.count() != self.manifest.count_chunks():
            self._reconcile()

    def _reconcile(self) -> None:
        """Vectors and manifest disagree (e.g. a wiped server): delete strays, re-read what lost vectors."""
        in_store: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=PAGE, offset=offset)["ids"]
            in_store.update(page)
            if len(page) < PAGE:
                break
            offset += PAGE
        known = self.manifest.chunk_papers()
        strays = sorted(in_store - known.keys())
        lost = sorted({pid for cid, pid in known.items() if cid not in in_store})
        if strays:
            log.warning("deleting %d vector(s) the manifest does not know", len(strays))
            for start in range(0, len(strays), self._max_batch):
                self.collection.delete(ids=strays[start:start + self._max_batch])
        if lost:
            log.warning("%d paper(s) lost their vectors; they are indexed again on the next add", len(lost))
            for pid in lost:
                self.manifest.mark_removing(pid)
            self._delete_vectors(lost)
            self.manifest.drop_papers(lost)

    def _drop_orphans(self) -> list[str]:
        """Delete the papers that files no longer hold: pending (commit) -> vectors -> rows."""
        orphans = self.manifest.take_orphans()
        if orphans:
            self._delete_vectors(orphans)
            self.manifest.drop_papers(orphans)
        return orphans

    def _delete_vectors(self, paper_ids: Sequence[str]) -> None:
        for start in range(0, len(paper_ids), 500):
            part = list(paper_ids[start:start + 500])
            where: dict[str, Any] = {"paper_id": part[0]} if len(part) == 1 else {"paper_id": {"$in": part}}
            self.collection.delete(where=where)

    def _ensure_keywords(self) -> None:
        generation = self.manifest.generation
        if self.keywords.generation == generation:
            return
        if not self.keywords.load(generation):
            self._rebuild_keywords()

    def _rebuild_keywords(self) -> None:
        generation = self.manifest.generation
        ids, texts = self.manifest.texts()
        try:
            self.keywords.build(ids, texts, generation)
        except OSError as err:  # another process saved at the same moment: ours stays in memory
            log.warning("could not save the keyword index: %s", err)

    def _open_collection(self) -> Any:
        """Get or create the collection, tagged with this library's id.

        A server collection filled by another library home is refused: its manifest lives
        elsewhere, and reconciling against ours would delete its vectors.
        """
        from chromadb.errors import NotFoundError

        library_id = self.manifest.library_id
        meta = {"library_id": library_id, "embed_model": self.settings.embed_model,
                "chunk_size": self.settings.chunk_size, "chunk_overlap": self.settings.chunk_overlap}
        try:
            try:
                collection = self.client.get_collection(self.name, embedding_function=None)
            except NotFoundError:
                return self.client.create_collection(
                    self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}, metadata=meta)
            owner = (collection.metadata or {}).get("library_id")
            if owner != library_id:
                if self.settings.chroma_url and owner and collection.count():
                    raise LibraryError(
                        f"collection '{self.name}' at {self.settings.chroma_url} belongs to another library home"
                        f" (id {owner}); use that home, or another server"
                    )
                collection.modify(metadata={**(collection.metadata or {}), **meta})
            return collection
        except LibraryError:
            raise
        except Exception as err:  # noqa: BLE001  (any store error is one user-facing line)
            raise LibraryError(f"cannot open collection '{self.name}' in {self._where()}: {err}") from None

    def _where(self) -> str:
        return self.settings.chroma_url or str(Path(self.settings.home) / "chroma")


# --- helpers ------------------------------------------------------------------------
def _connect(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.chroma_url
    if not url:
        path = Path(settings.home) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as err:  # noqa: BLE001
            raise LibraryError(f"{path}: cannot open the Chroma store ({err})") from None
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise LibraryError(f"chroma_url '{url}': expected http://host:port")
    ssl = parsed.scheme == "https"
    try:
        port = parsed.port or (443 if ssl else 8000)
        client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl, settings=chroma_settings)
        client.heartbeat()
    except Exception as err:  # noqa: BLE001
        raise LibraryError(f"cannot reach the Chroma server at {url}: {err}") from None
    return client


def _server_tag(url: str) -> str:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in f"{parsed.hostname}-{parsed.port or ''}")


def _max_batch(client: Any) -> int:
    try:
        return max(1, min(int(client.get_max_batch_size()), 4096))
    except Exception:  # noqa: BLE001
        return 1000


def _reason(err: ReaderError, path: Path) -> str:
    """The reader's message without its leading "<file>: " (the report names the file)."""
    msg = str(err)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if msg.startswith(prefix):
            return msg[len(prefix):]
    return msg


def _meta(c: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "paper_id": c.paper_id, "index": c.index, "location": c.location, "title": c.title,
        "source": c.source, "date": c.date or "", "url": c.url or "", "authors": c.authors,
    }
    if c.page is not None:
        meta["page"] = c.page
    return meta


def _chunk_from_meta(cid: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        id=cid, paper_id=str(meta.get("paper_id", cid.rsplit(":", 1)[0])), index=int(meta.get("index", 0)),
        text=text, location=str(meta.get("location", "")), title=str(meta.get("title", "")),
        source=str(meta.get("source", "")), page=meta.get("page"), date=meta.get("date") or None,
        url=meta.get("url") or None, authors=str(meta.get("authors", "")),
    )


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

