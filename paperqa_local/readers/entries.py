"""A reference manager's entry (a BibTeX record, a Zotero item) and what indexing needs from it.

The manager's metadata is what the researcher curated, so it wins over what the PDF reader
guessed. Collections and tags are not part of the paper: they are stored beside it (per manifest
key) and become search filters, so re-tagging in Zotero costs no re-embedding.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from paperqa_local.records import Paper, content_id

_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_ARXIV_BARE = r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)(?!\d|\.\d)"
_ARXIV_ID = re.compile(r"arxiv(?:\.org/(?:abs|pdf)/|\s*:\s*|\s+)" + _ARXIV_BARE, re.IGNORECASE)
_ARXIV_EPRINT = re.compile(r"^\s*(?:arxiv:\s*)?" + _ARXIV_BARE, re.IGNORECASE)
_PREFERRED = (".pdf",)  # an entry's PDFs are its paper; snapshots and notes only stand in when it has none


@dataclass
class LibraryEntry:
    """One item of a BibTeX file or Zotero library, with its attached files."""

    key: str  # citation key or Zotero item key
    title: str = ""
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None  # more than ``authors`` names ("and others")
    year: int | None = None
    date: str | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None
    arxiv_id: str | None = None
    collections: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # attachments, as listed

    def metadata(self) -> dict[str, object]:
        """The fields that change what is indexed (labels excluded: they are filters, not text)."""
        return {"title": self.title, "authors": self.authors, "author_count": self.author_count,
                "year": self.year, "date": self.date,
                "venue": self.venue, "doi": self.doi, "url": self.url, "arxiv_id": self.arxiv_id}

    def fingerprint(self) -> str:
        """A hash of ``metadata``: an attachment is indexed again when the entry's metadata changes."""
        blob = json.dumps(self.metadata(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def attachments(self) -> list[Path]:
        """The files that hold the paper: its PDFs, else its first other supported attachment."""
        from paperqa_local.readers import SUPPORTED_EXTENSIONS

        files = list(dict.fromkeys(self.files))
        pdfs = [f for f in files if f.suffix.lower() in _PREFERRED]
        if pdfs:
            return pdfs
        return [f for f in files if f.suffix.lower() in SUPPORTED_EXTENSIONS][:1]

    def apply(self, paper: Paper) -> Paper:
        """``paper`` with this entry's metadata where the entry has it; a new id, so a metadata change
        replaces the stored paper (its chunks carry the title)."""
        fields: dict[str, object] = {k: v for k, v in self.metadata().items() if v}
        if self.authors:
            fields["author_count"] = max(self.author_count or 0, len(self.authors))
        if self.year and not self.date:
            fields["date"] = str(self.year)
        fields["id"] = content_id(paper.id, self.fingerprint())
        return dataclasses.replace(paper, **fields)


@dataclass
class Attachment:
    """One file to index for an entry; ``key`` is its manifest key (``<origin>#<entry>/<file>``)."""

    key: str
    path: Path
    entry: LibraryEntry


def attachments(entries: list[LibraryEntry], origin: str) -> list[Attachment]:
    """Every file to index, keyed under ``origin`` (e.g. ``bibtex:/abs/library.bib``)."""
    return [Attachment(key=f"{origin}#{e.key}/{path}", path=path, entry=e)
            for e in entries for path in e.attachments()]


def year_of(text: str | None) -> int | None:
    """The first plausible year in a date string ("2017-06-12", "June 2017", "2017")."""
    m = _YEAR.search(text or "")
    return int(m.group(1)) if m else None


def arxiv_id_of(text: str | None, eprint: bool = False) -> str | None:
    """An arXiv identifier in a URL or an "arXiv: 1706.03762" note; with ``eprint``, a bare id (an eprint field)."""
    m = (_ARXIV_EPRINT.match if eprint else _ARXIV_ID.search)(text or "")
    return m.group(1) if m else None


def split_labels(text: str | None) -> list[str]:
    """Keywords / tags written as one field: "a, b; c" -> ["a", "b", "c"] (order kept, no duplicates)."""
    parts = (p.strip() for p in re.split(r"[,;]", text or ""))
    return list(dict.fromkeys(p for p in parts if p))
