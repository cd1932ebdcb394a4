"""PDF papers: text lines (PDFium) -> furniture removed -> sections, captions, references -> metadata.

Every Section knows its heading and the pages it covers, so a passage can be cited as "§ 3 Method, p. 4–5";
the reference list is kept on the Paper (``references``) but marked so that it never becomes evidence.
"""

from __future__ import annotations

import logging

from paperqa_local.errors import ReaderError
from paperqa_local.readers.pdf_furniture import split_furniture
from paperqa_local.readers.pdf_lines import open_pdf, read_pages
from paperqa_local.readers.pdf_meta import guess
from paperqa_local.readers.pdf_structure import Hyphens, build_structure, front_matter
from paperqa_local.records import Paper, content_id

log = logging.getLogger(__name__)

def read_pdf(data: bytes, source: str) -> list[Paper]:
    """One Paper per PDF; damaged, encrypted and image-only files raise ReaderError with the reason."""
    if b"%PDF-" not in data[:1024]:
        raise ReaderError("not a valid PDF: no %PDF header")
    doc = open_pdf(data)
    try:
        if len(doc) == 0:
            raise ReaderError("not a valid PDF: it has no pages")
        pages = read_pages(doc, source)
        try:
            info = {k: str(v) for k, v in doc.get_metadata_dict().items() if v}
        except Exception:  # a damaged information dictionary is not worth failing over
            info = {}
    finally:
        doc.close()
    if not pages:
        raise ReaderError("not a valid PDF: no page could be read")
    body, furniture = split_furniture(pages)
    lines = [line for page_lines in body for line in page_lines]
    if sum(len(line.text) for line in lines) < 20:
        raise ReaderError("no extractable text (scanned?)")
    structure = build_structure(lines)
    if not structure.sections:
        raise ReaderError("no extractable text (scanned?)")

    first = next(p for p in pages if p.lines or p.rotated)
    front = front_matter(body[pages.index(first)], structure.body_size)
    stamps = [ln.text for ln in furniture if ln.page <= first.number + 1] + first.rotated
    meta = guess(first, front, stamps, structure.body_size, info, structure.hyphens or Hyphens(lines))
    return [
        Paper(
            id=content_id(*(s.text for s in structure.sections)),
            title=meta.title or "Untitled PDF",
            source=source,
            sections=structure.sections,
            authors=meta.authors,
            author_count=len(meta.authors) or None,
            date=meta.date,
            year=meta.year,
            venue=meta.venue,
            doi=meta.doi,
            arxiv_id=meta.arxiv_id,
            references=structure.references,
        )
    ]

