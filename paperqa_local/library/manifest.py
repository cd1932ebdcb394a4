"""The library's manifest: which files and papers are indexed, in SQLite.

The manifest is the source of truth the vector store is checked against; the keyword rows
(``keywords.py``) and sentence vectors (``sentence_store.py``) live in the same database and
commit with the chunks. A paper is ``pending`` while its vectors are being written and ``complete``
once they all are; a file's hash is recorded only when all its papers are complete, so
a crash at any point leaves rows that the next run can clean up or redo. ``generation``
counts changes to the chunk set.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from paperqa_local.chunking import author_label
from paperqa_local.errors import LibraryError
from paperqa_local.library import keywords, sentence_store
from paperqa_local.library.sentence_store import SentenceRows
from paperqa_local.records import Chunk, Paper, PaperInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER, mtime REAL, paper_ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS file_papers (
    path TEXT NOT NULL, paper_id TEXT NOT NULL, PRIMARY KEY (path, paper_id)
);
CREATE INDEX IF NOT EXISTS file_papers_paper ON file_papers (paper_id);
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, authors TEXT NOT NULL,
    author_count INTEGER, date TEXT, url TEXT, chunks INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'complete'))
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, paper_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
    location TEXT NOT NULL, page INTEGER
);
CREATE INDEX IF NOT EXISTS chunks_paper ON chunks (paper_id, idx);
CREATE TABLE IF NOT EXISTS dropped (paper_id TEXT PRIMARY KEY);
"""

#: Columns added after the first release, as (table, column, declaration): an older manifest gets them on open.
ADDED_COLUMNS = (
    ("papers", "year", "INTEGER"), ("papers", "venue", "TEXT"), ("papers", "doi", "TEXT"),
    ("papers", "arxiv_id", "TEXT"), ("papers", "refs", "TEXT NOT NULL DEFAULT '[]'"),
    ("chunks", "section", "TEXT"), ("chunks", "end_page", "INTEGER"),
)
#: Collections and tags of a library entry, per file key (so they follow the file bookkeeping).
LABELS_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    path TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('collection', 'tag')), name TEXT NOT NULL,
    PRIMARY KEY (path, kind, name)
);
"""

CHUNK_SELECT = (
    "SELECT c.id, c.paper_id, c.idx, c.text, c.location, c.page, p.title, p.source, p.date, p.url,"
    " p.authors, p.author_count, c.section, c.end_page, p.year FROM chunks c JOIN papers p ON p.id = c.paper_id"
)
PAPER_COLUMNS = "id, title, source, authors, author_count, date, url, chunks, year, venue, doi, arxiv_id"


@dataclass
class FileRecord:
    path: str
    sha256: str
    size: int
    mtime: float
    paper_ids: list[str]


class Manifest:
    """SQLite (WAL) manifest; every public write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            _add_columns(self.db)
            self.db.executescript(LABELS_SCHEMA)
            keywords.prepare(self.db)  # keyword rows + term counts (FTS5), filled once for an older manifest
            sentence_store.prepare(self.db)
        except sqlite3.DatabaseError as err:
            raise LibraryError(f"{path}: manifest is not readable ({err})") from None
        self.lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()  # not ``lock``: opening a reader must not wait for a write

    def close(self) -> None:
        with self.lock, self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self.db.close()

    def read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """A read on this thread's own read-only connection: searches never wait for the write lock or for each
        other (WAL readers see the last committed state), so BM25, the dense half's chunk reads and concurrent
        UI sessions overlap. Reads that must see a write in progress use ``_query`` (the writing connection)."""
        db = getattr(self._local, "db", None)
        if db is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    # --- generation -------------------------------------------------------
    @property
    def generation(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0][0]) if rows else 0

    @property
    def library_id(self) -> str:
        """A random id made with the manifest; the vector collection is tagged with it."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('library_id', ?)", (uuid.uuid4().hex,))
            return db.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone()[0]

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1"
        )

    # --- files ---------------------------------------------------------------
    def file(self, path: str) -> FileRecord | None:
        rows = self._query("SELECT path, sha256, size, mtime, paper_ids FROM files WHERE path = ?", (path,))
        if not rows:
            return None
        p, sha, size, mtime, ids = rows[0]
        return FileRecord(p, sha, size, mtime, json.loads(ids))

    def record_file(self, rec: FileRecord) -> None:
        """Store a fully indexed file. Papers it no longer holds become removal candidates."""
        with self.transaction() as db:
            old = [r[0] for r in db.execute("SELECT paper_id FROM file_papers WHERE path = ?", (rec.path,))]
            db.execute("DELETE FROM file_papers WHERE path = ?", (rec.path,))
            db.execute(
                "INSERT OR REPLACE INTO files (path, sha256, size, mtime, paper_ids) VALUES (?, ?, ?, ?, ?)",
                (rec.path, rec.sha256, rec.size, rec.mtime, json.dumps(rec.paper_ids)),
            )
            db.executemany("INSERT OR IGNORE INTO file_papers (path, paper_id) VALUES (?, ?)",
                           [(rec.path, pid) for pid in rec.paper_ids])
            kept = set(rec.paper_ids)
            db.executemany("INSERT OR IGNORE INTO dropped (paper_id) VALUES (?)",
                           [(pid,) for pid in old if pid not in kept])

    def take_orphans(self) -> list[str]:
        """Removal candidates that no file holds any more, marked pending in the same commit.

        Run when no file of the run is still waiting to be recorded (a paper can move
        from one file to another).
        """
        with self.transaction() as db:
            orphans = [r[0] for r in db.execute(
                "SELECT d.paper_id FROM dropped d JOIN papers p ON p.id = d.paper_id"
                " WHERE NOT EXISTS (SELECT 1 FROM file_papers f WHERE f.paper_id = d.paper_id) ORDER BY d.paper_id"
            )]
            db.executemany("UPDATE papers SET state = 'pending' WHERE id = ?", [(pid,) for pid in orphans])
            db.execute("DELETE FROM dropped")
            if orphans:
                self._bump(db)
        return orphans

    # --- papers --------------------------------------------------------------
    def states(self, ids: Iterable[str]) -> dict[str, str]:
        ids = list(ids)
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            out.update(self._query(f"SELECT id, state FROM papers WHERE id IN ({marks})", part))
        return out

    def mark_pending(self, papers: Sequence[Paper]) -> None:
        """Step 1 of a write: these papers may have partial vectors until ``complete``."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO papers (id, title, source, authors, author_count, date, url, chunks, state,"
                " year, venue, doi, arxiv_id, refs) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'pending', ?, ?, ?, ?, ?)",
                [(p.id, p.title, p.source, json.dumps(p.authors), p.author_count, p.date, p.url,
                  p.year, p.venue, p.doi, p.arxiv_id, json.dumps(p.references)) for p in papers],
            )
            db.executemany("DELETE FROM chunks WHERE paper_id = ?", [(p.id,) for p in papers])
            self._bump(db)

    def mark_complete(self, chunks_by_paper: dict[str, list[Chunk]], sentences: SentenceRows | None = None) -> None:
        """Last step of a write: chunk texts, their keywords and ``sentences`` (vectors, by chunk id) stored
        and papers complete, atomically. (Triggers delete keywords and sentence vectors with their chunk.)"""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO chunks (id, paper_id, idx, text, location, page, section, end_page)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(c.id, c.paper_id, c.index, c.text, c.location, c.page, c.section, c.end_page)
                 for chunks in chunks_by_paper.values() for c in chunks],
            )
            db.executemany("UPDATE papers SET state = 'complete', chunks = ? WHERE id = ?",
                           [(len(chunks), pid) for pid, chunks in chunks_by_paper.items()])
            keywords.add_papers(db, chunks_by_paper)
            sentence_store.write(db, sentences or {})
            self._bump(db)

    def mark_removing(self, ids: Sequence[str], reread: bool) -> None:
        """Step 1 of a removal: these papers become pending; with ``reread`` the files that held them
        are forgotten, so the next run reads them again."""
        with self.transaction() as db:
            changed = 0
            for pid in ids:
                changed += db.execute("UPDATE papers SET state = 'pending' WHERE id = ? AND state != 'pending'",
                                      (pid,)).rowcount
                if reread:
                    paths = [r[0] for r in db.execute("SELECT path FROM file_papers WHERE paper_id = ?", (pid,))]
                    db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])
                    db.execute("DELETE FROM file_papers WHERE paper_id = ?", (pid,))
            if changed:
                self._bump(db)

    def pending(self) -> list[str]:
        return [r[0] for r in self._query("SELECT id FROM papers WHERE state = 'pending' ORDER BY id")]

    def drop_papers(self, ids: Sequence[str]) -> None:
        """Last step of a removal (vectors already deleted)."""
        with self.transaction() as db:
            for pid in ids:
                db.execute("DELETE FROM chunks WHERE paper_id = ?", (pid,))
                db.execute("DELETE FROM papers WHERE id = ?", (pid,))
                db.execute("DELETE FROM file_papers WHERE paper_id = ?", (pid,))
            self._bump(db)

    def papers(self) -> list[PaperInfo]:
        rows = self._query(f"SELECT {PAPER_COLUMNS} FROM papers WHERE state = 'complete' ORDER BY lower(title), id")
        return self._labelled([_info(r) for r in rows])

    def paper(self, paper_id: str) -> PaperInfo | None:
        rows = self._query(f"SELECT {PAPER_COLUMNS} FROM papers WHERE state = 'complete' AND id = ?", (paper_id,))
        return self._labelled([_info(rows[0])])[0] if rows else None

    def references(self, paper_id: str) -> list[str]:
        """The paper's own reference list, one entry each (kept out of the evidence)."""
        rows = self._query("SELECT refs FROM papers WHERE id = ?", (paper_id,))
        return json.loads(rows[0][0] or "[]") if rows else []

    # --- labels: collections and tags of library entries ------------------------
    def file_keys(self, prefix: str) -> list[str]:
        """Recorded file keys starting with ``prefix`` (the attachments of one BibTeX file or Zotero library)."""
        return [r[0] for r in self._query("SELECT path FROM files WHERE substr(path, 1, ?) = ? ORDER BY path",
                                          (len(prefix), prefix))]

    def forget_files(self, keys: Sequence[str]) -> None:
        """Files gone from their library (an entry deleted from the .bib): their papers become removal
        candidates, purged by the next ``take_orphans`` unless another file holds them."""
        with self.transaction() as db:
            for key in keys:
                old = [r[0] for r in db.execute("SELECT paper_id FROM file_papers WHERE path = ?", (key,))]
                for table in ("file_papers", "files", "labels"):
                    db.execute(f"DELETE FROM {table} WHERE path = ?", (key,))
                db.executemany("INSERT OR IGNORE INTO dropped (paper_id) VALUES (?)", [(pid,) for pid in old])

    def set_labels(self, labels: dict[str, tuple[Sequence[str], Sequence[str]]]) -> None:
        """Replace the (collections, tags) of these file keys."""
        with self.transaction() as db:
            for key, (collections, tags) in labels.items():
                db.execute("DELETE FROM labels WHERE path = ?", (key,))
                db.executemany("INSERT OR IGNORE INTO labels (path, kind, name) VALUES (?, ?, ?)",
                               [(key, "collection", c) for c in collections] + [(key, "tag", t) for t in tags])

    def labels(self) -> list[tuple[str, str, str]]:
        """(paper id, kind, name) for every label of a complete paper, by name."""
        return self._query(
            "SELECT DISTINCT f.paper_id, l.kind, l.name FROM labels l JOIN file_papers f ON f.path = l.path"
            " JOIN papers p ON p.id = f.paper_id WHERE p.state = 'complete' ORDER BY lower(l.name), l.name")

    def _labelled(self, infos: list[PaperInfo]) -> list[PaperInfo]:
        by_id = {i.id: i for i in infos}
        for pid, kind, name in self.labels() if by_id else []:
            if pid in by_id:
                (by_id[pid].collections if kind == "collection" else by_id[pid].tags).append(name)
        return infos

    def match(self, prefix: str) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._query("SELECT id FROM papers WHERE state = 'complete' AND id LIKE ? ESCAPE '\\' ORDER BY id",
                           (escaped + "%",))
        return [r[0] for r in rows]

    def count_papers(self) -> int:
        return self._query("SELECT count(*) FROM papers WHERE state = 'complete'")[0][0]

    # --- chunks --------------------------------------------------------------
    def count_chunks(self) -> int:
        return self._query(
            "SELECT count(*) FROM chunks c JOIN papers p ON p.id = c.paper_id WHERE p.state = 'complete'"
        )[0][0]

    def chunk_papers(self) -> dict[str, str]:
        """chunk id -> paper id for every complete chunk (no texts)."""
        return dict(self._query(
            "SELECT c.id, c.paper_id FROM chunks c JOIN papers p ON p.id = c.paper_id WHERE p.state = 'complete'"
        ))

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked (unknown ids skipped)."""
        found: dict[str, Chunk] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in self.read(f"{CHUNK_SELECT} WHERE c.id IN ({marks})", part):
                found[row[0]] = _chunk(row)
        return [found[i] for i in ids if i in found]

    def all_chunks(self) -> Iterator[Chunk]:
        """Every complete chunk, paper by paper, in a stable order (read in pages)."""
        last = ""
        while True:
            rows = self._query(
                f"{CHUNK_SELECT} WHERE p.state = 'complete' AND c.id > ? ORDER BY c.id LIMIT 2000", (last,)
            )
            if not rows:
                return
            for row in rows:
                yield _chunk(row)
            last = rows[-1][0]


def _add_columns(db: sqlite3.Connection) -> None:
    """Bring a manifest written by an older version up to ``ADDED_COLUMNS`` (new columns start empty)."""
    for table, column, declaration in ADDED_COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column in have:
            continue
        try:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        except sqlite3.OperationalError as err:  # another process added it first
            if "duplicate column" not in str(err):
                raise


def _info(row: tuple) -> PaperInfo:
    pid, title, source, authors, author_count, date, url, chunks, year, venue, doi, arxiv_id = row
    return PaperInfo(id=pid, title=title, source=source, authors=json.loads(authors), author_count=author_count,
                     date=date, url=url, chunks=chunks, year=year, venue=venue, doi=doi, arxiv_id=arxiv_id)


def _chunk(row: tuple) -> Chunk:
    """The one place a stored chunk becomes a ``Chunk`` (both searches return these)."""
    cid, pid, idx, text, location, page, title, source, date, url, authors, author_count, section, end_page, year = row
    names = json.loads(authors)
    return Chunk(id=cid, paper_id=pid, index=idx, text=text, location=location, title=title, source=source,
                 page=page, date=date, url=url, authors=author_label(names, author_count), section=section,
                 end_page=end_page, year=year, author_names=names)
