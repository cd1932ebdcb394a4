"""The plain records of the library side: papers as read, chunks as stored, hits as retrieved, index runs.

What the pipeline returns (answers, verdicts, events) lives in ``results.py``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks: the identity of an indexed or uploaded file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_id(*parts: str, length: int = 16) -> str:
    """Stable id from normalised content: same text, same id, whatever the file name."""
    norm = "\n".join(re.sub(r"\s+", " ", p).strip().lower() for p in parts)
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:length]


@dataclass
class Section:
    """A located piece of a paper: a PDF section, a text section or a listing entry."""

    text: str
    location: str  # what users see: "p. 3", "entry 12", "§ Methods", "§ 3 Method, p. 4–5"
    page: int | None = None  # the first page
    kind: str = "text"  # "text", "caption" (a figure/table caption) or "references" (never evidence)
    heading: str | None = None  # the section it belongs to, e.g. "3 Method"
    page_starts: list[tuple[int, int]] = field(default_factory=list)  # (offset in text, page): where pages begin

    def pages_of(self, start: int, end: int) -> tuple[int | None, int | None]:
        """First and last page of ``text[start:end]`` (both ``page`` when the section has no page offsets)."""
        if not self.page_starts:
            return self.page, self.page
        first = last = self.page_starts[0][1]
        for offset, page in self.page_starts:
            if offset <= start:
                first = page
            if offset < max(end, start + 1):
                last = page
        return first, last

    def span_location(self, first: int | None, last: int | None) -> str:
        """ "§ 3 Method, p. 4–5" for a passage of this section on pages ``first``..``last``."""
        if first is None:
            return self.location
        pages = f"p. {first}" if last in (None, first) else f"p. {first}\u2013{last}"
        return f"§ {self.heading}, {pages}" if self.heading else pages


@dataclass
class Paper:
    """One paper (not one file). ``id`` is a content hash."""

    id: str
    title: str
    source: str  # the file it came from (absolute path)
    sections: list[Section] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    date: str | None = None
    url: str | None = None
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    references: list[str] = field(default_factory=list)  # the paper's own reference list, one entry each

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass
class PaperInfo:
    """A paper as the library lists it (no text)."""

    id: str
    title: str
    source: str
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    date: str | None = None
    url: str | None = None
    chunks: int = 0
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    collections: list[str] = field(default_factory=list)  # from a Zotero / BibTeX library: search filters
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Chunk:
    """A passage stored in the library; carries its paper's display fields."""

    id: str  # f"{paper_id}:{index:04d}"
    paper_id: str
    index: int
    text: str
    location: str
    title: str
    source: str
    page: int | None = None  # the first page the passage is on
    date: str | None = None
    url: str | None = None
    authors: str = ""  # "A. Author, B. Author" or "9 authors"
    section: str | None = None  # "3 Method"
    end_page: int | None = None  # the last page, when the passage crosses a page break
    year: int | None = None
    author_names: list[str] = field(default_factory=list)  # every name, for "Author et al., Year"

    @property
    def embed_text(self) -> str:
        """What the embedder and BM25 see: the title gives every chunk its topic."""
        return f"{self.title}\n{self.text}"


@dataclass
class Hit:
    """A retrieved chunk with its scores (``score`` is what ranked it)."""

    chunk: Chunk
    score: float
    dense: float | None = None  # cosine similarity, when the dense retriever saw it
    bm25: float | None = None
    rank_dense: int | None = None
    rank_bm25: int | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "title": c.title,
            "paper_id": c.paper_id,
            "chunk_id": c.id,
            "location": c.location,
            "score": round(self.score, 6),
            "dense": None if self.dense is None else round(self.dense, 6),
            "bm25": None if self.bm25 is None else round(self.bm25, 6),
            "text": c.text,
            "source": c.source,
            "date": c.date,
            "url": c.url,
        }


@dataclass
class FileFailure:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class IndexReport:
    """What an index run did; closes every run as a one-line summary."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[FileFailure] = field(default_factory=list)
    chunks: int = 0  # chunks embedded in this run
    total_papers: int = 0
    total_chunks: int = 0
    seconds: float = 0.0
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"papers: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.failed)} failed; {self.chunks} chunks embedded; "
            f"library: {self.total_papers} papers, {self.total_chunks} chunks; {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed"] = [{"path": f.path, "reason": f.reason} for f in self.failed]
        return d
