"""BM25 keyword search and term counts inside the manifest's own SQLite database (FTS5).

Each chunk's row in ``chunk_terms`` is written in the transaction that marks its paper
complete, and a trigger deletes it (and its term counts) in the statement that deletes the
chunk, so manifest and keywords can never disagree and adding a paper costs O(paper).

The text is tokenised here, not by SQLite: lower-cased words, English stopwords dropped,
Porter-stemmed (the tokenisation the earlier bm25s index used). The stems are stored
space-separated and FTS5's ``unicode61`` tokenizer only splits them again; a stem that is not
plain ``[a-z0-9]`` is written as ``_`` + its UTF-8 in hex, so SQLite's idea of a word
character can never split or merge one. Ranking is FTS5's own ``bm25()``.

``term_df`` holds, per content word (``text_rules.content_words``), how many chunks contain
it, and under the empty word the number of chunks: the IDF of the coverage check. It also holds,
under a space + the stem, how many chunks contain each stem (FTS5's own count reads the stem's
whole posting list, O(library)).

FTS5 scores every chunk that matches any query stem, so a question with common words costs
O(library) (over 10^5 real-text chunks, ~100 ms). With a postings budget, the search first
ranks by the query's rarest stems only (those whose chunk counts fit the budget), then
re-scores those candidates with the whole query by FTS5's own BM25 formula and statistics:
the same scores as the full query for every candidate, at a cost bounded by the budget.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from paperqa_local.text_rules import content_words

if TYPE_CHECKING:
    from paperqa_local.library.manifest import Manifest

TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
STEM = True  # Porter stemming: +nDCG@10 on SciFact (see the library helper's report)
#: English stopwords, exactly bm25s's ``STOPWORDS_EN`` (the list the keyword index was tuned with).
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these"
    " they this to was will with".split()
)
VERSION = "fts5-2"  # meta 'keywords': a manifest without it (or with another) is indexed again on open
STEM_KEY = " "  # term_df key prefix of a stem's chunk count (a content word never holds a space)
K1, B = 1.2, 0.75  # FTS5's bm25() defaults, which the re-scoring repeats
_PLAIN = re.compile(r"[a-z0-9]+")
_PAGE = 2000  # chunks read at a time when (re)indexing a whole library

SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(
    terms, words UNINDEXED, tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
CREATE TABLE IF NOT EXISTS term_df (word TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS chunks_forget_keywords AFTER DELETE ON chunks BEGIN
    UPDATE term_df SET df = df - 1 WHERE word = '' AND EXISTS (SELECT 1 FROM chunk_terms WHERE rowid = old.rowid);
    UPDATE term_df SET df = df - 1
        WHERE word IN (SELECT value FROM json_each((SELECT words FROM chunk_terms WHERE rowid = old.rowid)));
    DELETE FROM term_df WHERE df <= 0
        AND word IN (SELECT value FROM json_each((SELECT words FROM chunk_terms WHERE rowid = old.rowid)));
    DELETE FROM chunk_terms WHERE rowid = old.rowid;
END;
"""


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    if not STEM:
        return None
    try:
        from nltk.stem.porter import PorterStemmer
    except ImportError:  # pragma: no cover
        return None
    return lru_cache(maxsize=200_000)(PorterStemmer().stem)


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens, English stopwords dropped, Porter-stemmed."""
    stem = _stemmer()
    words = [w for w in TOKEN_RE.findall(text.lower()) if w not in STOPWORDS]
    return [stem(w) for w in words] if stem else words


def fts_token(stem: str) -> str:
    """The stem as one ``unicode61`` token: plain ``[a-z0-9]`` as is, anything else ``_`` + UTF-8 hex."""
    return stem if _PLAIN.fullmatch(stem) else "_" + stem.encode("utf-8", "surrogatepass").hex()


# --- writing (inside the manifest's transactions) -------------------------------------------
def prepare(db: sqlite3.Connection) -> None:
    """Create the tables and trigger; index every chunk once if this manifest predates them."""
    db.executescript(SCHEMA)
    db.execute("PRAGMA recursive_triggers = ON")  # so a REPLACE that deletes a chunk fires the trigger too
    if _version(db) == VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if _version(db) != VERSION:  # another process may have done it while we waited
            db.execute("DELETE FROM chunk_terms")
            db.execute("DELETE FROM term_df")
            last = 0
            while True:
                rows = db.execute(
                    "SELECT c.rowid, p.title, c.text FROM chunks c JOIN papers p ON p.id = c.paper_id"
                    " WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?", (last, _PAGE)).fetchall()
                if not rows:
                    break
                _index(db, rows)
                last = rows[-1][0]
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('keywords', ?)", (VERSION,))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def add_papers(db: sqlite3.Connection, paper_ids: Iterable[str]) -> None:
    """Index the chunks of these papers (called in the transaction that stores them)."""
    for pid in paper_ids:
        _index(db, db.execute(
            "SELECT c.rowid, p.title, c.text FROM chunks c JOIN papers p ON p.id = c.paper_id"
            " WHERE c.paper_id = ?", (pid,)).fetchall())


def _index(db: sqlite3.Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """One ``chunk_terms`` row per chunk (title + text, as the embedder sees it) and its term counts."""
    df: Counter[str] = Counter()
    for rowid, title, text in rows:
        doc = f"{title}\n{text}"
        tokens = [fts_token(t) for t in tokenize(doc)]
        # the trigger decrements every key listed here when the chunk goes
        words = sorted(content_words(doc)) + sorted(STEM_KEY + t for t in set(tokens))
        db.execute("INSERT INTO chunk_terms (rowid, terms, words) VALUES (?, ?, ?)",
                   (rowid, " ".join(tokens), json.dumps(words)))
        df.update(words)
    df[""] = len(rows)
    db.executemany("INSERT INTO term_df (word, df) VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET df = df + excluded.df",
                   list(df.items()))


def _version(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'keywords'").fetchone()
    return row[0] if row else None


# --- reading ---------------------------------------------------------------------------------
class KeywordIndex:
    """Searches and counts of the manifest's keyword rows (on the manifest's read connections: no write lock)."""

    def __init__(self, manifest: Manifest) -> None:
        self._manifest = manifest

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._manifest.read(sql, params)

    def __len__(self) -> int:
        """Keyword rows: equal to the manifest's chunk count when the two are in step."""
        return self._rows("SELECT count(*) FROM chunk_terms")[0][0]

    def search(self, query: str, n: int, budget: int = 0) -> list[tuple[str, float]]:
        """Top ``n`` (chunk id, BM25 score > 0) of complete papers sharing a stem with ``query``, best first.

        ``budget``: at most this many postings are scored in full (0: no limit); past it, candidates come
        from the rarest stems and are re-scored with the whole query (module docstring).
        """
        tokens = [fts_token(t) for t in tokenize(query)]
        if not tokens or n <= 0:
            return []
        if budget > 0:
            df = self._stem_counts(tokens)
            rare = rarest(tokens, df, budget)
            if rare is not None:
                return self._rescored(tokens, rare, df, n)
        rows = self._rows(
            "SELECT c.id, -k.rank FROM (SELECT rowid, rank FROM chunk_terms WHERE chunk_terms MATCH ?"
            " ORDER BY rank LIMIT ?) k JOIN chunks c ON c.rowid = k.rowid JOIN papers p ON p.id = c.paper_id"
            " WHERE p.state = 'complete' ORDER BY k.rank, c.id", (_match(tokens), n))
        return [(cid, float(score)) for cid, score in rows if score > 0]

    def _stem_counts(self, tokens: Sequence[str]) -> dict[str, int]:
        """Chunks holding each stem (the ``STEM_KEY`` rows of ``term_df``)."""
        _, found = self.frequencies(STEM_KEY + t for t in tokens)
        return {k[len(STEM_KEY):]: df for k, df in found.items()}

    def _rescored(self, tokens: Sequence[str], rare: Sequence[str], df: dict[str, int],
                  n: int) -> list[tuple[str, float]]:
        """Candidates by the rare stems, then the whole query's BM25 for each (FTS5's formula and counts)."""
        depth = max(4 * n, 200)
        found = self._rows("SELECT rowid FROM chunk_terms WHERE chunk_terms MATCH ? ORDER BY rank LIMIT ?",
                           (_match(rare), depth))
        rowids = [r for (r,) in found]
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        texts = self._rows(f"SELECT rowid, terms FROM chunk_terms WHERE rowid IN ({marks})", rowids)
        ids = dict(self._rows(f"SELECT c.rowid, c.id FROM chunks c JOIN papers p ON p.id = c.paper_id"
                              f" WHERE c.rowid IN ({marks}) AND p.state = 'complete'", rowids))
        rows, words = self._averages()
        idf = {t: _idf(rows, df.get(t, 0)) for t in set(tokens)}
        avgdl = words / rows if rows else 1.0
        scored = []
        for rowid, terms in texts:
            if rowid not in ids:
                continue
            doc = terms.split()
            tf = Counter(doc)
            norm = K1 * (1 - B + B * len(doc) / avgdl)
            score = sum(idf[t] * tf[t] * (K1 + 1) / (tf[t] + norm) for t in tokens if tf[t])
            if score > 0:
                scored.append((ids[rowid], score))
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:n]

    def _averages(self) -> tuple[int, int]:
        """(rows, tokens) as FTS5 keeps them for bm25(): its 'averages' record, two SQLite varints."""
        found = self._rows("SELECT block FROM chunk_terms_data WHERE id = 1")
        values = _varints(found[0][0]) if found and found[0][0] else []
        return (values[0], values[1]) if len(values) >= 2 else (0, 0)

    def frequencies(self, words: Iterable[str]) -> tuple[int, dict[str, int]]:
        """(chunks indexed, chunks containing each of ``words``): document frequencies, no texts read."""
        words = [w for w in dict.fromkeys(words) if w]
        found: dict[str, int] = {}
        for start in range(0, len(words), 500):
            part = words[start:start + 500]
            marks = ",".join("?" * len(part))
            found.update(self._rows(f"SELECT word, df FROM term_df WHERE word IN ({marks})", part))
        total = self._rows("SELECT df FROM term_df WHERE word = ''")
        return (total[0][0] if total else 0), found


def _match(tokens: Sequence[str]) -> str:
    return " OR ".join(f'"{t}"' for t in tokens)


def _idf(rows: int, df: int) -> float:
    """FTS5's bm25() IDF: ``log((N - n + 0.5) / (n + 0.5))``, floored at 1e-6."""
    value = math.log((rows - df + 0.5) / (df + 0.5)) if rows else 0.0
    return value if value > 0 else 1e-6


def _varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers (big-endian 7-bit groups; a 9th byte holds 8 bits)."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for j in range(9):
            byte = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def rarest(tokens: Sequence[str], df: dict[str, int], budget: int) -> list[str] | None:
    """The rarest stems whose chunk counts ``df`` sum within ``budget`` (at least one); None when all fit."""
    present = sorted((t for t in dict.fromkeys(tokens) if df.get(t)), key=lambda t: (df[t], t))
    if sum(df[t] for t in present) <= budget:
        return None
    kept, total = [], 0
    for t in present:
        if kept and total + df[t] > budget:
            break
        kept.append(t)
        total += df[t]
    return kept
