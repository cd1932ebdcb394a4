"""Token-aware chunking: each section of a paper is split on sentence boundaries.

Sections are split one by one so every chunk keeps the page/section it came from
(what a citation shows). Token counts use tiktoken cl100k, the same count the rest
of the pipeline uses for budgets.
"""

from __future__ import annotations

from functools import lru_cache

from paperqa_local import offline  # noqa: F401  (TIKTOKEN_CACHE_DIR before tiktoken loads)
from paperqa_local.records import Chunk, Paper

MAX_NAMED_AUTHORS = 3


@lru_cache(maxsize=1)
def _encoding():  # noqa: ANN202
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``."""
    return len(_encoding().encode(text, disallowed_special=()))


def _encode(text: str) -> list[int]:
    return _encoding().encode(text, disallowed_special=())


def author_label(authors: list[str], author_count: int | None = None) -> str:
    """What a reference shows: "A, B" for a few names, "9 authors" for many."""
    count = max(author_count or 0, len(authors))
    if not authors:
        return f"{count} authors" if count > 1 else ""
    if count > MAX_NAMED_AUTHORS:
        return f"{count} authors"
    return ", ".join(authors)


class Chunker:
    """Splits papers into chunks of at most ``chunk_size`` tokens with ``chunk_overlap`` overlap."""

    def __init__(self, chunk_size: int = 256, chunk_overlap: int = 32) -> None:
        if chunk_overlap >= chunk_size:
            chunk_overlap = chunk_size // 4
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = None

    @property
    def splitter(self):  # noqa: ANN201
        """llama-index's SentenceSplitter, built on first use (its import costs ~1 s)."""
        if self._splitter is None:
            from llama_index.core.node_parser import SentenceSplitter

            self._splitter = SentenceSplitter(
                chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, tokenizer=_encode,
                include_metadata=False, include_prev_next_rel=False,
            )
        return self._splitter

    def split(self, text: str) -> list[str]:
        """Split one piece of text into chunk texts (empty pieces dropped)."""
        text = text.strip()
        if not text:
            return []
        if count_tokens(text) <= self.chunk_size:
            return [text]  # the common case for listing entries: skip the splitter
        return [t.strip() for t in self.splitter.split_text(text) if t.strip()]

    def chunk(self, paper: Paper) -> list[Chunk]:
        """All chunks of ``paper``, ids ``f"{paper.id}:{i:04d}"`` in reading order."""
        authors = author_label(paper.authors, paper.author_count)
        chunks: list[Chunk] = []
        for section in paper.sections:
            for text in self.split(section.text):
                index = len(chunks)
                chunks.append(Chunk(
                    id=f"{paper.id}:{index:04d}", paper_id=paper.id, index=index, text=text,
                    location=section.location, title=paper.title, source=paper.source, page=section.page,
                    date=paper.date, url=paper.url, authors=authors,
                ))
        return chunks
