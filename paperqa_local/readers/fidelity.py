"""Reader fidelity on real PDFs: how often title, first author, year, sections and the reference list come out right.

Run: ``python -m paperqa_local.readers.fidelity tests/data ../shared/datasets/pdfs --truth tests/data/pdf_truth.json``
(missing folders are skipped). Files with an entry in the hand-checked truth file are scored on title, first
author and year; every PDF is scored on the share of its chunks that know their section and on whether its
reference list was found and kept out of the chunks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from paperqa_local.chunking import Chunker
from paperqa_local.errors import ReaderError
from paperqa_local.readers import read_path


def _norm(text: str | None) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").casefold()).split())


def _surname(name: str | None) -> str:
    words = _norm(name).split()
    return words[-1] if words else ""


@dataclass
class FileScore:
    file: str
    chunks: int = 0
    with_section: int = 0
    references: int = 0
    references_in_chunks: int = 0
    title: bool | None = None  # None: no truth entry
    first_author: bool | None = None
    year: bool | None = None
    error: str = ""

    @property
    def references_kept_out(self) -> bool:
        return self.references > 0 and self.references_in_chunks == 0


def score_file(path: Path, truth: dict | None, chunker: Chunker) -> FileScore:
    """One PDF against its truth entry (if any)."""
    result = FileScore(file=path.name)
    try:
        [paper] = read_path(path)
    except ReaderError as exc:
        result.error = str(exc)
        return result
    chunks = chunker.chunk(paper)
    result.chunks = len(chunks)
    result.with_section = sum(1 for c in chunks if c.section)
    result.references = len(paper.references)
    texts = " ".join(" ".join(c.text.split()) for c in chunks)
    result.references_in_chunks = sum(1 for r in paper.references if " ".join(r.split())[:60] in texts)
    if truth:
        result.title = _norm(paper.title) == _norm(truth.get("title"))
        first = (truth.get("authors") or [None])[0]
        result.first_author = bool(paper.authors) and _surname(paper.authors[0]) == _surname(first)
        result.year = paper.year == truth.get("year")
    return result


def _rate(values: list[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def report(folders: list[Path], truth_file: Path) -> dict:
    """Per-file scores and overall rates over every PDF in ``folders`` (missing folders are skipped)."""
    truth = json.loads(truth_file.read_text(encoding="utf-8")) if truth_file.exists() else {}
    chunker = Chunker()
    files = [f for folder in folders if folder.is_dir() for f in sorted(folder.glob("*.pdf"))]
    scores = [score_file(f, truth.get(f.name), chunker) for f in files]
    read = [s for s in scores if not s.error]
    return {
        "files": len(scores),
        "read": len(read),
        "title": _rate([s.title for s in read]),
        "first_author": _rate([s.first_author for s in read]),
        "year": _rate([s.year for s in read]),
        "references_kept_out": _rate([s.references_kept_out for s in read]),
        "section_per_chunk": sum(s.with_section for s in read) / max(sum(s.chunks for s in read), 1),
        "per_file": [asdict(s) | {"references_kept_out": s.references_kept_out} for s in scores],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[Path("tests/data")])
    parser.add_argument("--truth", type=Path, default=Path("tests/data/pdf_truth.json"))
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    rep = report(args.folders, args.truth)
    if args.json:
        print(json.dumps(rep, indent=2))
        return 0
    print("| file | chunks | section found | references (kept out) | title | first author | year |")
    print("|---|---|---|---|---|---|---|")
    for s in rep["per_file"]:
        if s["error"]:
            print(f"| {s['file']} | error: {s['error']} | | | | | |")
            continue
        marks = ["n/a" if s[k] is None else ("yes" if s[k] else "NO") for k in ("title", "first_author", "year")]
        print(f"| {s['file']} | {s['chunks']} | {s['with_section'] / max(s['chunks'], 1):.0%} | "
              f"{s['references']} ({'yes' if s['references_kept_out'] else 'NO'}) | " + " | ".join(marks) + " |")
    print(f"\n{rep['read']}/{rep['files']} PDFs read; title {_pct(rep['title'])}, first author "
          f"{_pct(rep['first_author'])}, year {_pct(rep['year'])}, reference list kept out "
          f"{_pct(rep['references_kept_out'])}, section found for {_pct(rep['section_per_chunk'])} of chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
