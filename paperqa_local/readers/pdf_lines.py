"""PDF pages -> text lines with position and font, via PDFium (pypdfium2; chosen by measurement, see
docs/pdf-extractors.md).

PDFium gives characters in content-stream order, which for papers is reading order (column by column), plus a
line break wherever the baseline jumps. A line keeps what layout rules need: its box, its font size and whether
the font is bold. Superscripts (author marks, footnote marks) break PDFium's lines; they are merged back here.
Rotated text (the arXiv stamp in the margin) is set aside, not mixed into the body.
"""

from __future__ import annotations

import ctypes
import logging
import re
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from paperqa_local.errors import ReaderError

log = logging.getLogger(__name__)

HYPHEN = "\x02"  # marks a word broken at a line end (PDFium reports it as \x02 or U+FFFE)
_LIGATURES = str.maketrans({
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st",
    "\ufffe": HYPHEN, "\u00ad": HYPHEN, "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
})
_CONTROL = re.compile(r"[\x00\x01\x03-\x1f\x7f-\x9f\ufeff\ufffd]")
_BOLD = re.compile(r"bold|black|heavy|semibold|demi|medi|cmbx|sfbx|cmb\d|\.b$|-b$|,b$", re.IGNORECASE)
_FORCE_BOLD = 1 << 18  # PDF font descriptor flag


@dataclass
class Line:
    """One visual line of text; coordinates in points from the page's top-left corner."""

    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # font size of the line's first character
    bold: bool = False
    baseline: float = 0.0  # of the first character, from the top: line pitch is measured on it
    last_baseline: float = 0.0  # of the last character (lower when PDFium joined a hyphenated line pair)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class PageText:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)  # text drawn at an angle (margin stamps)


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """The document, or ReaderError naming what is wrong (damaged, encrypted)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReaderError("encrypted PDF (needs a password)") from exc
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_SECURITY:
            raise ReaderError("encrypted PDF (unsupported security handler)") from exc
        detail = re.search(r"PDFium: ([^)]*)", str(exc))
        raise ReaderError(f"not a valid PDF: {detail[1].lower() if detail else exc}") from exc


def clean(text: str) -> str:
    """Ligatures spelled out, hyphen markers unified, controls and odd spaces removed."""
    return _CONTROL.sub("", text.translate(_LIGATURES))


class _Reader:
    """Per-document ctypes buffers for PDFium's per-character calls."""

    def __init__(self) -> None:
        self.box = [ctypes.c_double() for _ in range(4)]
        self.origin = [ctypes.c_double() for _ in range(2)]
        self.name = ctypes.create_string_buffer(128)
        self.flags = ctypes.c_int()

    def char_box(self, tp: object, i: int) -> tuple[float, float, float, float]:
        left, right, bottom, top = self.box
        pdfium_c.FPDFText_GetCharBox(tp, i, left, right, bottom, top)
        return left.value, right.value, bottom.value, top.value

    def baseline(self, tp: object, i: int) -> float:
        x, y = self.origin
        pdfium_c.FPDFText_GetCharOrigin(tp, i, x, y)
        return y.value

    def bold(self, tp: object, i: int) -> bool:
        pdfium_c.FPDFText_GetFontInfo(tp, i, self.name, len(self.name), self.flags)
        name = self.name.value.decode("latin-1", "replace")
        return bool(_BOLD.search(name.split("+")[-1]) or self.flags.value & _FORCE_BOLD
                    or pdfium_c.FPDFText_GetFontWeight(tp, i) >= 600)

    def page(self, doc: pdfium.PdfDocument, index: int) -> PageText:
        page = doc[index]
        width, height = page.get_size()
        out = PageText(number=index + 1, width=width, height=height)
        textpage = page.get_textpage()
        tp = textpage.raw
        try:
            n = pdfium_c.FPDFText_CountChars(tp)
            chars = textpage.get_text_range()  # one call; per-character calls only when it does not line up
            if len(chars) != n:  # characters outside the BMP come back as two UTF-16 units
                chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(tp, i)) for i in range(n))
            start = 0
            for i in range(n + 1):
                if i < n and chars[i] not in "\r\n":
                    continue
                first, last = start, i - 1
                while first <= last and chars[first] in " \x00":
                    first += 1
                while last >= first and chars[last] in " \x00":
                    last -= 1
                start = i + 1
                if first > last:
                    continue
                text = clean(chars[first:last + 1]).strip()
                if not text:
                    continue
                if abs(pdfium_c.FPDFText_GetCharAngle(tp, first)) > 0.05:
                    out.rotated.append(text)
                    continue
                x0, _, b0, t0 = self.char_box(tp, first)
                _, x1, b1, t1 = self.char_box(tp, last)
                out.lines.append(Line(
                    page=out.number, text=text, x0=x0, x1=x1, top=height - max(t0, t1), bottom=height - min(b0, b1),
                    size=round(pdfium_c.FPDFText_GetFontSize(tp, first), 1), bold=self.bold(tp, first),
                    baseline=height - self.baseline(tp, first), last_baseline=height - self.baseline(tp, last),
                ))
        finally:
            textpage.close()
            page.close()
        out.lines = merge_fragments(out.lines)
        return out


def merge_fragments(lines: list[Line]) -> list[Line]:
    """Join pieces PDFium split off one visual line (superscripts, table cells) back into one line."""
    out: list[Line] = []
    for line in lines:
        prev = out[-1] if out else None
        if prev is not None and _same_row(prev, line):
            gap = line.x0 - prev.x1
            joiner = "" if gap < 0.15 * min(prev.size or 10, line.size or 10) or line.text[0] in ",.;:)" else " "
            big = prev if (prev.size or 0) >= (line.size or 0) else line
            out[-1] = Line(page=prev.page, text=prev.text + joiner + line.text, x0=prev.x0, x1=max(prev.x1, line.x1),
                           top=min(prev.top, line.top), bottom=max(prev.bottom, line.bottom), size=big.size,
                           bold=big.bold if big is prev else prev.bold and line.bold, baseline=big.baseline,
                           last_baseline=big.last_baseline)
        else:
            out.append(line)
    return out


def _same_row(a: Line, b: Line) -> bool:
    if b.x0 < a.x1 - 1 or b.x0 - a.x1 > max(a.size, b.size, 1):  # a column gap is wider
        return False
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap > 0.3 * min(a.height, b.height) > 0


def read_pages(doc: pdfium.PdfDocument, source: str = "") -> list[PageText]:
    """Every page's lines; a page PDFium cannot read is logged and skipped, not fatal."""
    reader, pages = _Reader(), []
    for index in range(len(doc)):
        try:
            pages.append(reader.page(doc, index))
        except Exception as exc:  # one bad page should not lose the rest
            log.warning("%s: page %d: text extraction failed: %s", source, index + 1, exc)
    return pages
