"""Sentence vectors computed at indexing time, stored beside the chunks in the manifest (float16).

The best-sentence re-rank, evidence selection and the answer check compare the question with
each sentence of a few passages; embedding those sentences per question cost most of a
search on real text. Indexing embeds them once with the chunks and writes them in the same
transaction; a trigger deletes them with their chunk. Each row carries a checksum of the
sentences it was made from, so a changed sentence rule is noticed (and those sentences are
embedded on demand, as for a library indexed before this table existed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from paperqa_local.library.manifest import Manifest

#: chunk id -> (checksum of its sentences, float32 vectors with one row per sentence)
SentenceRows = Mapping[str, tuple[int, np.ndarray]]

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk_sentences (
    chunk_id TEXT PRIMARY KEY, checksum INTEGER NOT NULL, dim INTEGER NOT NULL, vectors BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS chunks_forget_sentences AFTER DELETE ON chunks BEGIN
    DELETE FROM chunk_sentences WHERE chunk_id = old.id;
END;
"""


def prepare(db: sqlite3.Connection) -> None:
    """Create the table and its trigger (older libraries simply have no rows yet)."""
    db.executescript(SCHEMA)


def write(db: sqlite3.Connection, rows: SentenceRows) -> None:
    """Store sentence vectors (called in the transaction that stores their chunks)."""
    db.executemany(
        "INSERT OR REPLACE INTO chunk_sentences (chunk_id, checksum, dim, vectors) VALUES (?, ?, ?, ?)",
        [(cid, checksum, int(vecs.shape[1]), np.ascontiguousarray(vecs, dtype="<f2").tobytes())
         for cid, (checksum, vecs) in rows.items()],
    )


class SentenceStore:
    """Reads of stored sentence vectors (on the manifest's read connections)."""

    def __init__(self, manifest: Manifest) -> None:
        self._manifest = manifest

    def get(self, chunk_ids: Sequence[str]) -> dict[str, tuple[int, np.ndarray]]:
        """chunk id -> (checksum, float32 vectors) for the ids that have stored vectors."""
        ids = list(dict.fromkeys(chunk_ids))
        out: dict[str, tuple[int, np.ndarray]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ",".join("?" * len(part))
            rows = self._manifest.read(
                f"SELECT chunk_id, checksum, dim, vectors FROM chunk_sentences WHERE chunk_id IN ({marks})", part)
            for cid, checksum, dim, blob in rows:
                out[cid] = (checksum, np.frombuffer(blob, dtype="<f2").reshape(-1, dim).astype(np.float32))
        return out

    def __len__(self) -> int:
        with self._manifest.lock:
            return self._manifest.db.execute("SELECT count(*) FROM chunk_sentences").fetchone()[0]
