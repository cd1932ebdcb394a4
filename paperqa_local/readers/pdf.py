"""PDF papers via pypdf: one Section per page ("p. N"), so every citation can point at its page."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from pypdf import PdfReader
from pypdf.errors import DependencyError

from paperqa_local.errors import ReaderError
from paperqa_local.readers.common import one_line, tidy
from paperqa_local.records import Paper, Section, content_id

log = logging.getLogger(__name__)

_BAD_META_TITLE = re.compile(
    r"^(untitled.*|title|document\d*|slide \d+|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|tex|dvi|ps|indd|rtf))$"
    r"|^arxiv:|\ufffd",
    re.IGNORECASE,
)
_NOT_TITLE_LINE = re.compile(
    r"arxiv:\s*\d{4}\.\d{4,5}|^(preprint|under review|published as|proceedings of|accepted (at|to|by)|"
    r"journal of|vol\.|volume|doi:|https?://|copyright|©)|@",
    re.IGNORECASE,
)
_NO_AUTHOR = {"anonymous", "unknown", "author", "admin", "user", "(anonymous)"}  # tool defaults, not names
_HYPHEN_BREAK = re.compile(r"([a-z])-\n([a-z])")


def _clean_page(text: str) -> str:
    return tidy(_HYPHEN_BREAK.sub(r"\1\2", text.replace("\x00", "")))


def _meta_title(raw: object) -> str | None:
    title = " ".join(str(raw or "").split())
    if 4 <= len(title) <= 300 and sum(c.isalpha() for c in title) >= 4 and not _BAD_META_TITLE.search(title):
        return one_line(title)
    return None


def _first_line_title(page_text: str) -> str | None:
    """The first line on page 1 with a few real words that is not an arXiv stamp, venue note or email."""
    for line in page_text.split("\n")[:40]:
        line = line.strip()
        words = [w for w in line.split() if sum(c.isalpha() for c in w) >= 2]
        if len(words) >= 2 and sum(c.isalpha() for c in line) >= 8 and not _NOT_TITLE_LINE.search(line):
            return one_line(line)
    return None


def _authors(raw: object) -> list[str]:
    text = " ".join(str(raw or "").split())
    if not text:
        return []
    parts = text.split(";") if ";" in text else re.split(r",|\band\b", text)
    return [p.strip() for p in parts if p.strip() and p.strip().lower() not in _NO_AUTHOR]


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning per oddity in damaged files; our ReaderError already says what matters."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def read_pdf(data: bytes, source: str) -> list[Paper]:
    """One Paper per PDF; corrupt, encrypted and image-only files raise ReaderError with the reason."""
    if b"%PDF-" not in data[:1024]:
        raise ReaderError("not a valid PDF: no %PDF header")
    with _quiet_pypdf():
        return _read(data, source)


def _read(data: bytes, source: str) -> list[Paper]:
    try:
        reader = PdfReader(io.BytesIO(data))
    except Exception as exc:  # pypdf raises many types on damaged files
        raise ReaderError(f"not a valid PDF: {exc or type(exc).__name__}") from exc
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except DependencyError as exc:
            raise ReaderError(f"encrypted PDF (cannot decrypt: {exc})") from exc
        except Exception as exc:
            raise ReaderError(f"encrypted PDF ({exc or type(exc).__name__})") from exc
        if not ok:
            raise ReaderError("encrypted PDF (needs a password)")
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise ReaderError(f"not a valid PDF: {exc or type(exc).__name__}") from exc
    if not pages:
        raise ReaderError("not a valid PDF: it has no pages")
    sections: list[Section] = []
    for number, page in enumerate(pages, start=1):
        try:
            text = _clean_page(page.extract_text() or "")
        except Exception as exc:  # one bad page should not lose the rest
            log.warning("%s: page %d: text extraction failed: %s", source, number, exc)
            continue
        if text:
            sections.append(Section(text=text, location=f"p. {number}", page=number))
    if not sections or sum(len(s.text) for s in sections) < 20:
        raise ReaderError("no extractable text (scanned?)")

    try:
        meta = reader.metadata
    except Exception:
        meta = None
    title = _meta_title(getattr(meta, "title", None)) if meta else None
    first_page = sections[0].text if sections[0].page == 1 else ""
    title = title or _first_line_title(first_page) or _first_line_title(sections[0].text) or "Untitled PDF"
    authors = _authors(getattr(meta, "author", None)) if meta else []
    date = None
    if meta:
        try:
            created = meta.creation_date
            date = created.date().isoformat() if created else None
        except Exception:  # malformed date strings are common
            date = None
    return [
        Paper(
            id=content_id(*(s.text for s in sections)),
            title=title,
            source=source,
            sections=sections,
            authors=authors,
            author_count=len(authors) or None,
            date=date,
        )
    ]
