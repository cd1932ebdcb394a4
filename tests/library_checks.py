"""One check shared by the library tests: every store and every row derived from the chunks is in step."""

from __future__ import annotations

from collections import Counter

from paperqa_local.library import Library
from paperqa_local.library.keywords import STEM_KEY, fts_token, tokenize
from paperqa_local.text_rules import content_words


def assert_in_step(library: Library, sentences: bool = True) -> dict[str, int]:
    """Chroma, manifest and keywords hold the same chunks; term counts equal a recount from the texts;
    with ``sentences`` every chunk has stored sentence vectors. Returns ``library.stats()``."""
    stats = library.stats()
    assert stats["chunks"] == stats["vectors"] == stats["keywords"], stats
    db = library.manifest.db
    rows = db.execute("SELECT c.rowid, p.title, c.text FROM chunks c JOIN papers p ON p.id = c.paper_id").fetchall()
    assert sorted(r[0] for r in rows) == sorted(r[0] for r in db.execute("SELECT rowid FROM chunk_terms"))
    df: Counter[str] = Counter()
    for _, title, text in rows:
        df.update(content_words(f"{title}\n{text}"))
        df.update({STEM_KEY + fts_token(t) for t in tokenize(f"{title}\n{text}")})  # chunks holding each stem
    stored = dict(db.execute("SELECT word, df FROM term_df"))
    assert stored.pop("", 0) == len(rows)
    assert stored == dict(df)
    if sentences:
        ids = {r[0] for r in db.execute("SELECT id FROM chunks")}
        assert {r[0] for r in db.execute("SELECT chunk_id FROM chunk_sentences")} == ids
    return stats
