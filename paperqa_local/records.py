"""The plain records that flow between the steps (readers -> ... -> Answer)."""

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
    """A located piece of a paper: a PDF page, a text section or a listing entry."""

    text: str
    location: str  # what users see: "p. 3", "entry 12", "§ Methods"
    page: int | None = None


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
    page: int | None = None
    date: str | None = None
    url: str | None = None
    authors: str = ""  # "A. Author, B. Author" or "9 authors"

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


@dataclass
class Context:
    """A numbered passage sent to the model; ``number`` is the [n] users see."""

    number: int
    chunk: Chunk
    text: str  # the (possibly trimmed) passage text actually sent
    score: float  # retrieval score
    relevance: float  # question-passage similarity used for selection
    tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "number": self.number,
            "paper_id": c.paper_id,
            "chunk_id": c.id,
            "title": c.title,
            "location": c.location,
            "page": c.page,
            "date": c.date,
            "authors": c.authors,
            "url": c.url,
            "source": c.source,
            "text": self.text,
            "score": round(self.score, 6),
            "relevance": round(self.relevance, 6),
            "tokens": self.tokens,
        }


@dataclass
class Reference:
    """An entry of the reference list: a cited context."""

    number: int
    paper_id: str
    title: str
    location: str
    source: str
    authors: str = ""
    date: str | None = None
    url: str | None = None
    passage: str = ""

    def label(self) -> str:
        bits = [self.title]
        if self.authors:
            bits.append(self.authors)
        if self.date:
            bits.append(self.date)
        bits.append(self.location)
        return ", ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SentenceCheck:
    """One answer sentence, the contexts it cites and how well they support it."""

    text: str
    citations: list[int]
    support: float
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The result of ``PaperQA.ask``: text with [n] markers plus everything behind them."""

    question: str
    text: str
    contexts: list[Context] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    sentences: list[SentenceCheck] = field(default_factory=list)
    cannot_answer: bool = False
    closest_papers: list[str] = field(default_factory=list)  # titles, when cannot_answer
    backend: str = ""
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # evidence_s, first_token_s, total_s ...
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens
    standalone_question: str | None = None  # the rewritten follow-up, in chat
    raw_text: str = ""  # the model's own words before citation checks; kept when they were judged not an answer

    @property
    def citations(self) -> list[int]:
        """Context numbers cited in the text, in order of first appearance."""
        seen: list[int] = []
        for s in self.sentences:
            for n in s.citations:
                if n not in seen:
                    seen.append(n)
        return seen

    @property
    def cited_papers(self) -> list[str]:
        return list(dict.fromkeys(r.paper_id for r in self.references))

    @property
    def unsupported(self) -> list[str]:
        return [s.text for s in self.sentences if not s.supported]

    def to_markdown(self) -> str:
        lines = [f"**Q:** {self.question}", "", self.text, ""]
        if self.unsupported:
            lines += ["_Not supported by the cited passages:_"] + [f"- {s}" for s in self.unsupported] + [""]
        if self.references:
            lines.append("**References**")
            lines += [f"[{r.number}] {r.label()} — {r.source}" for r in self.references]
        elif self.cannot_answer and self.closest_papers:
            lines.append("**Closest papers**")
            lines += [f"- {t}" for t in self.closest_papers]
        return "\n".join(lines).rstrip() + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "cannot_answer": self.cannot_answer,
            "citations": self.citations,
            "references": [r.to_dict() for r in self.references],
            "contexts": [c.to_dict() for c in self.contexts],
            "sentences": [s.to_dict() for s in self.sentences],
            "unsupported": self.unsupported,
            "closest_papers": self.closest_papers,
            "backend": self.backend,
            "model": self.model,
            "timings": self.timings,
            "usage": self.usage,
            "standalone_question": self.standalone_question,
            "raw_text": self.raw_text,
        }


@dataclass
class Event:
    """A streaming event: ``kind`` is "evidence" (contexts ready), "token" (text) or "answer" (final)."""

    kind: str
    text: str = ""
    contexts: list[Context] = field(default_factory=list)
    answer: Answer | None = None
