"""Readers: files -> Paper records (one per paper, not per file), chosen by content first, then by extension.

Public API: ``read_path``, ``discover``, ``SUPPORTED_EXTENSIONS``, ``READERS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from paperqa_local.errors import ReaderError
from paperqa_local.readers.common import reader_error
from paperqa_local.readers.discover import discover, sniffs_as_pdf, unsupported_reason
from paperqa_local.readers.html import read_html
from paperqa_local.readers.pdf import read_pdf
from paperqa_local.readers.sniff import is_html, is_pdf, sniff
from paperqa_local.readers.text import read_markdown, read_txt
from paperqa_local.records import Paper

log = logging.getLogger(__name__)

Reader = Callable[[bytes, str], list[Paper]]  # (file bytes, absolute source path) -> papers

READERS: dict[str, Reader] = {
    ".pdf": read_pdf,
    ".txt": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(READERS)

__all__ = ["READERS", "SUPPORTED_EXTENSIONS", "Reader", "discover", "read_bytes", "read_path"]


def read_bytes(data: bytes, name: str, source: str | None = None) -> list[Paper]:
    """Read in-memory file content (e.g. an upload); the content, else ``name``'s extension, picks the reader.

    A web page saved as .txt goes to the HTML reader and a PDF with any name to the PDF reader; a .pdf that is
    really a web page (a failed download) is refused as such instead of being indexed.
    """
    ext = Path(name).suffix.lower()
    if ext not in READERS and not is_pdf(data):
        raise reader_error(name, unsupported_reason(ext, SUPPORTED_EXTENSIONS))
    if not data:
        raise reader_error(name, "empty file")
    if ext == ".pdf" and not is_pdf(data) and is_html(data):
        raise reader_error(name, "not a valid PDF: it is a web page (a failed download?)")
    reader = READERS[sniff(data, ext)]
    try:
        papers = reader(data, source or name)
    except ReaderError as exc:
        raise reader_error(name, str(exc)) from exc
    except Exception as exc:  # a reader bug or a pathological file must not abort an index run
        log.debug("reader crashed on %s", name, exc_info=True)
        raise reader_error(name, f"could not read ({type(exc).__name__}: {exc})") from exc
    if not papers:
        raise reader_error(name, "no papers found")
    return papers


def read_path(path: str | Path, max_file_mb: float | None = None) -> list[Paper]:
    """Read one file into Papers; raises ``ReaderError("<path>: <reason>")`` (one line) on any bad input."""
    p = Path(path).expanduser()
    name = str(path)
    if p.suffix.lower() not in READERS and not sniffs_as_pdf(p):
        raise reader_error(name, unsupported_reason(p.suffix.lower(), SUPPORTED_EXTENSIONS))
    try:
        if p.is_dir():
            raise reader_error(name, "is a folder, not a file")
        size = p.stat().st_size
        if max_file_mb is not None and size > max_file_mb * 1024 * 1024:
            raise reader_error(name, f"too large ({size / 1048576:.1f} MB > {max_file_mb:g} MB limit)")
        data = p.read_bytes()
    except FileNotFoundError:
        raise reader_error(name, "not found") from None
    except PermissionError:
        raise reader_error(name, "permission denied") from None
    except OSError as exc:
        raise reader_error(name, f"cannot read: {exc.strerror or exc}") from None
    return read_bytes(data, name, source=str(p.resolve()))
