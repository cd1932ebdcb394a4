"""Plain text (.txt) and Markdown (.md) papers; a .txt that is a Daily Papers listing goes to hf_papers."""

from __future__ import annotations

import re

from paperqa_local.errors import ReaderError
from paperqa_local.readers import hf_papers
from paperqa_local.readers.common import decode_text, one_line, tidy
from paperqa_local.records import Paper, Section, content_id

SECTION_CHARS = 2000  # plain-text sections grow to about this size before a new one starts

_NAMED = (
    "abstract|introduction|background|related work|preliminaries|method|methods|methodology|approach|"
    "experiments?|experimental setup|evaluation|results|discussion|limitations|conclusions?|future work|"
    "acknowledge?ments?|references|bibliography|appendix( [a-z])?"
)
_TXT_HEADING = re.compile(rf"^((\d+(\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s+[A-Z][^.!?]{{1,78}}|({_NAMED}):?)$", re.IGNORECASE)
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _location(heading: str | None, first: int, last: int) -> str:
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    return f"§ {heading}, {lines}" if heading else lines


def _is_txt_heading(block: list[str]) -> bool:
    if len(block) != 1:
        return False
    line = block[0].strip()
    if len(line) > 80:
        return False
    if _TXT_HEADING.match(line):
        return True
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and len(line.split()) <= 8 and all(c.isupper() for c in letters)


def _blocks(lines: list[str]) -> list[tuple[int, int, list[str]]]:
    """Runs of non-blank lines as (first line no, last line no, lines), 1-based; huge runs cut by size."""
    out: list[tuple[int, int, list[str]]] = []
    cur: list[str] = []
    start = size = 0
    for no, line in enumerate(lines, start=1):
        if cur and (not line.strip() or size >= SECTION_CHARS):
            out.append((start, no - 1, cur))
            cur = []
        if not line.strip():
            continue
        if not cur:
            start, size = no, 0
        cur.append(line)
        size += len(line) + 1
    if cur:
        out.append((start, start + len(cur) - 1, cur))
    return out


def plain_text_paper(text: str, source: str) -> Paper:
    """Title = first non-empty line; sections = blank-line blocks grouped to ~SECTION_CHARS, split at headings."""
    lines = text.split("\n")
    blocks = _blocks(lines)
    title = one_line(blocks[0][2][0])
    sections: list[Section] = []
    heading: str | None = None
    first = last = 0
    parts: list[str] = []

    def flush() -> None:
        body = tidy("\n\n".join(parts))
        if body:
            sections.append(Section(text=body, location=_location(heading, first, last), heading=heading))

    for i, (a, b, block) in enumerate(blocks):
        starts_heading = i > 0 and _is_txt_heading(block)
        if parts and (starts_heading or sum(len(p) for p in parts) >= SECTION_CHARS):
            flush()
            parts = []
        if starts_heading:
            heading = one_line(block[0], 80)
        if not parts:
            first = a
        parts.append("\n".join(block))
        last = b
    flush()
    return Paper(id=content_id(text), title=title, source=source, sections=sections)


def read_txt(data: bytes, source: str) -> list[Paper]:
    """A .txt is a Daily Papers listing when it looks like one, otherwise one plain-text paper."""
    text = decode_text(data)
    if hf_papers.looks_like_listing(text):
        papers = hf_papers.parse_listing(text, source)
        if not papers:
            raise ReaderError("Daily Papers listing with no paper entries")
        return papers
    return [plain_text_paper(text, source)]


def _front_matter(lines: list[str]) -> tuple[int, str | None]:
    """Skip a YAML front-matter block; return (first body line index, its ``title:`` if any)."""
    if not lines or lines[0].strip() != "---":
        return 0, None
    for end in range(1, min(len(lines), 60)):
        if lines[end].strip() in {"---", "..."}:
            title = next(
                (ln.split(":", 1)[1].strip().strip("'\"") for ln in lines[1:end] if ln.lower().startswith("title:")),
                None,
            )
            return end + 1, title or None
    return 0, None


def read_markdown(data: bytes, source: str) -> list[Paper]:
    """Sections by ATX (#) and setext headings, located as "§ Heading"; text before any heading as "lines a-b"."""
    text = decode_text(data)
    lines = text.split("\n")
    start, fm_title = _front_matter(lines)
    sections: list[Section] = []
    headings: list[tuple[int, str]] = []  # (level, text)
    heading: str | None = None
    body: list[str] = []
    body_first = start + 1
    in_fence = False

    def flush() -> None:
        content = tidy("\n".join(body))
        if not content:
            return
        if heading is None:
            last_line = body_first + max(n for n, ln in enumerate(body) if ln.strip())
            sections.append(Section(text=content, location=_location(None, body_first, last_line)))
        else:
            sections.append(Section(text=f"{heading}\n\n{content}", location=f"§ {heading}", heading=heading))

    i = start
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        found: tuple[int, str] | None = None
        if not in_fence:
            if m := _MD_HEADING.match(line):
                found = (len(m[1]), m[2].strip())
            elif (
                i + 1 < len(lines)
                and line.strip()
                and not line.startswith((" " * 4, "\t"))
                and re.fullmatch(r" {0,3}(=+|-+)\s*", lines[i + 1])
                and not _MD_HEADING.match(line)
                and (i == start or not lines[i - 1].strip())
            ):
                found = (1 if "=" in lines[i + 1] else 2, line.strip())
        if found and found[1]:
            flush()
            heading, body, body_first = one_line(found[1], 120), [], i + 2
            headings.append(found)
            i += 1 if _MD_HEADING.match(line) else 2
            continue
        body.append(line)
        i += 1
    flush()
    if not sections:
        if not headings:
            raise ReaderError("no text")
        sections = [Section(text="\n".join(h for _, h in headings), location="§ " + one_line(headings[0][1], 120))]
    h1 = next((h for level, h in headings if level == 1), None)
    first_line = next((ln for ln in lines[start:] if ln.strip()), "")
    title = one_line(h1 or fm_title or (headings[0][1] if headings else first_line.lstrip("# ")))
    return [Paper(id=content_id(text), title=title, source=source, sections=sections)]
