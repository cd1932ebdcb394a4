"""Compare permissively licensed PDF text extractors on the generated papers (docs/pdf-extractors.md).

Run: ``python tests/data/measure_extractors.py [more.pdf ...]`` with pypdf, pypdfium2, pdfminer.six, pdfplumber and
reportlab installed. For each extractor: the share of body sentences that come out whole and in order (two
columns, captions, running headers in the way), how ligature glyphs come out, the share of long words rejoined
after a generic line-end dehyphenation, and speed in pages per second on a 24-page two-column paper (plus any
PDFs named on the command line).
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_pdfs  # noqa: E402

_LIG = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_JOIN = re.compile(r"(\w)[-\u00ad\ufffe]\s*\n?\s*(?=\w)")


def pypdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def pdfium_pages(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def pdfminer_pages(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
            for page in extract_pages(io.BytesIO(data))]


def pdfplumber_pages(data: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


EXTRACTORS: dict[str, Callable[[bytes], list[str]]] = {
    "pypdf": pypdf_pages, "pypdfium2": pdfium_pages, "pdfminer.six": pdfminer_pages, "pdfplumber": pdfplumber_pages,
}


def normalise(text: str) -> str:
    text = _JOIN.sub(r"\1", text.translate(_LIG).replace("\r\n", "\n"))
    return " ".join(text.split())


def sentences(spec: make_pdfs.Spec) -> list[str]:
    out = []
    for para in make_pdfs.spec_paragraphs(spec):
        out += [s for s in re.split(r"(?<=\.)\s+(?=[A-Z])", " ".join(para.split())) if len(s) > 20]
    return out


def score(spec: make_pdfs.Spec, pages: list[str]) -> dict[str, float]:
    raw = "\n".join(pages)
    flat = normalise(raw)
    sents = [normalise(s) for s in sentences(spec)]
    whole = in_order = cursor = 0
    for s in sents:
        if s in flat:
            whole += 1
            at = flat.find(s, cursor)
            if at >= 0:
                in_order += 1
                cursor = at + len(s)
    words = {w for s in sentences(spec) for w in re.findall(r"[A-Za-z]{9,}", s)}
    return {
        "whole": whole / len(sents),
        "order": in_order / max(whole, 1),
        "ligature_glyphs": float(sum(raw.count(c) for c in "\ufb01\ufb02")),
        "words": sum(1 for w in words if w in flat) / len(words),
    }


def speed(fn: Callable[[bytes], list[str]], data: bytes, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = len(fn(data))
        best = min(best, time.perf_counter() - t0)
    return n / best


def main(extra: list[str]) -> None:
    docs = {s.file: (s, make_pdfs.build(s)) for s in make_pdfs.SPECS}
    long_spec = replace(make_pdfs.TWO_COLUMN, blocks=make_pdfs.TWO_COLUMN.blocks * 6)
    long_pdf = make_pdfs.build(long_spec)
    print("| extractor | sentences whole | in order | emits U+FB01/FB02 | long words rejoined "
          "| pages/s (24-page two-column) |" + "".join(f" pages/s {Path(p).name} |" for p in extra))
    print("|---|---|---|---|---|---|" + "---|" * len(extra))
    for name, fn in EXTRACTORS.items():
        scores = [score(spec, fn(data)) for spec, data in docs.values()]
        avg = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
        speeds = [speed(fn, long_pdf)] + [speed(fn, Path(p).read_bytes(), 1) for p in extra]
        print(f"| {name} | {avg['whole']:.0%} | {avg['order']:.0%} | {'yes' if avg['ligature_glyphs'] else 'no'} | {avg['words']:.0%} | "
              + " | ".join(f"{s:.0f}" for s in speeds) + " |")
        for (file, _), s in zip(docs.items(), scores, strict=True):
            print(f"<!-- {name} {file}: " + ", ".join(f"{k}={v:.2f}" for k, v in s.items()) + " -->")


if __name__ == "__main__":
    main(sys.argv[1:])
