"""Token-aware chunking: each section of a paper is split on sentence boundaries.

Sections (not pages) are split one by one, so every chunk keeps the section it came from, and a chunk of a PDF
section that crosses a page break knows both pages ("§ 3 Method, p. 4–5"). Reference lists are never chunked:
they are not evidence. Token counts use tiktoken cl100k, the same count the rest of the pipeline uses for budgets.
"""

from __future__ import annotations

from functools import lru_cache

from paperqa_local import offline  # noqa: F401  (TIKTOKEN_CACHE_DIR before tiktoken loads)
from paperqa_local.records import Chunk, Paper, Section

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
        """All evidence chunks of ``paper`` (reference lists left out), ids ``f"{paper.id}:{i:04d}"`` in order."""
        authors = author_label(paper.authors, paper.author_count)
        chunks: list[Chunk] = []
        for section in paper.sections:
            if section.kind == "references":
                continue
            for text, first, last in _located(section, self.split(section.text)):
                index = len(chunks)
                chunks.append(Chunk(
                    id=f"{paper.id}:{index:04d}", paper_id=paper.id, index=index, text=text,
                    location=section.span_location(first, last) if section.page_starts else section.location,
                    title=paper.title, source=paper.source, page=first, date=paper.date, url=paper.url,
                    authors=authors, section=section.heading, end_page=last if last != first else None,
                ))
        return chunks


def _located(section: Section, parts: list[str]) -> list[tuple[str, int | None, int | None]]:
    """Each chunk text with the first and last page it covers, found by its place in the section text."""
    out: list[tuple[str, int | None, int | None]] = []
    cursor = 0
    for text in parts:
        if not section.page_starts:
            out.append((text, section.page, section.page))
            continue
        start = section.text.find(text, cursor)
        if start < 0:  # the splitter changed whitespace: place it by its first words
            start = section.text.find(text[:40], cursor)
        if start < 0:
            start = cursor
        end = start + len(text)
        out.append((text, *section.pages_of(start, end)))
        cursor = start + 1
    return out
