"""Hugging Face "Daily Papers" listing pages saved as text: one Paper per listed entry.

Two layouts occur. Full: title, blank, abstract, blank, ``  • 9 authors``, ``·``, a date (``Dec 3``,
``Jul 21, 2023``, or ``Oct 30, 2023 1`` with an upvote count). Compact: title line, abstract line, repeated, with
no blank lines and no author/date. Page chrome ("Daily Papers", "Subscribe", ...) is not a paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperqa_local.readers.common import one_line, unescape_latex
from paperqa_local.records import Paper, Section, content_id

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_DATE = re.compile(
    r"^(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+\d+)?$"
)
_AUTHORS = re.compile(r"^[•·*-]?\s*(?P<n>\d+)\s+authors?$", re.IGNORECASE)
_AUTHOR_NAMES = re.compile(r"^•\s*(?P<names>\S.*)$")
_URL = re.compile(r"^https?://\S+$")
_CHROME = re.compile(
    r"^(new|subscribe|daily papers|trending papers|byak and the research community|"
    r"get trending papers in your email inbox.*)$",
    re.IGNORECASE,
)
_STRONG_CHROME = re.compile(
    r"^(daily papers|byak and the research community|get trending papers in your email inbox.*)$", re.I
)
_GLUED = re.compile(r"^Subscribe(?=[A-Z0-9\"'(\[])")  # "SubscribeReducing Information Loss ..."
_SECTION_HEADING = re.compile(
    r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s|^(abstract|introduction|related work|methods?|results|conclusions?|references)$",
    re.IGNORECASE,
)
TITLE_MAX_LEN = 300  # a listing title is one short line; an abstract line is longer


@dataclass
class _Entry:
    title: str
    abstract: list[str] = field(default_factory=list)
    author_count: int | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    url: str | None = None
    has_meta: bool = False


def _title_like(line: str) -> bool:
    return len(line) <= TITLE_MAX_LEN and not line.rstrip().endswith(".")


def parse_date(text: str) -> str | None:
    """``Jul 21, 2023`` -> ``2023-07-21``; ``Dec 3`` (no year) stays as written; anything else -> None."""
    m = _DATE.match(text.strip())
    if not m:
        return None
    if not m["year"]:
        return f"{m['mon']} {int(m['day'])}"
    month = _MONTHS[m["mon"][:3].lower()]
    return f"{int(m['year']):04d}-{month:02d}-{int(m['day']):02d}"


def _is_meta(line: str) -> bool:
    return bool(
        _AUTHORS.match(line)
        or _AUTHOR_NAMES.match(line)
        or line in {"·", "•"}
        or _DATE.match(line)
        or _URL.match(line)
        or line.isdigit()
    )


def _strip_header(lines: list[str]) -> list[str]:
    """Drop the page chrome before the first entry (including its lone date line) and a glued "Subscribe"."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line or _CHROME.match(line) or _DATE.match(line):
            i += 1
            continue
        rest = lines[i:]
        rest[0] = _GLUED.sub("", line)
        return rest
    return []


def looks_like_listing(text: str) -> bool:
    """Sniff a .txt: page chrome near the top, the author·date pattern, or strictly alternating title/abstract."""
    lines = [ln.strip() for ln in text.split("\n")]
    nonblank = [ln for ln in lines if ln]
    if any(_STRONG_CHROME.match(ln) or _GLUED.match(ln) for ln in nonblank[:12]):
        return True
    for a, dot, date in zip(nonblank, nonblank[1:], nonblank[2:], strict=False):
        if _AUTHORS.match(a) and dot == "·" and _DATE.match(date):
            return True
    # Compact layout without chrome: no blank lines, >= 3 (title, abstract) pairs, nothing else.
    body = text.strip().split("\n")
    if len(body) < 6 or len(body) % 2 or any(not ln.strip() for ln in body):
        return False
    titles, abstracts = body[0::2], body[1::2]
    return all(_title_like(t) and not _SECTION_HEADING.match(t.strip()) for t in titles) and all(
        len(a) > TITLE_MAX_LEN for a in abstracts
    )


def _entries(lines: list[str]) -> list[_Entry]:
    """Walk content and meta lines; a title starts an entry, its abstract follows, meta lines close it."""
    entries: list[_Entry] = []
    cur: _Entry | None = None
    for i, line in enumerate(lines):
        if not line or _CHROME.match(line):
            continue
        if cur is not None and _is_meta(line):
            cur.has_meta = True
            if m := _AUTHORS.match(line):
                cur.author_count = int(m["n"])
            elif m := _AUTHOR_NAMES.match(line):
                cur.authors = [a.strip() for a in m["names"].split(",") if a.strip()]
                cur.author_count = len(cur.authors)
            elif _DATE.match(line):
                cur.date = parse_date(line)
            elif _URL.match(line):
                cur.url = line
            continue
        if cur is None or cur.has_meta or (cur.abstract and _starts_entry(line, lines[i + 1 :])):
            cur = _Entry(title=line)
            entries.append(cur)
        else:
            cur.abstract.append(line)
    return entries


def _starts_entry(line: str, after: list[str]) -> bool:
    """A title-like line followed by an abstract-like line begins a new entry (the compact layout)."""
    if not _title_like(line):
        return False
    nxt = next((ln for ln in after if ln and not _CHROME.match(ln)), None)
    return nxt is not None and not _is_meta(nxt) and not _title_like(nxt)


def parse_listing(text: str, source: str) -> list[Paper]:
    """All entries of a listing page, in page order; ``location`` is "entry N" (1-based)."""
    lines = _strip_header([ln.strip() for ln in text.split("\n")])
    papers = []
    for n, e in enumerate(_entries(lines), start=1):
        title = one_line(e.title, TITLE_MAX_LEN)
        abstract = unescape_latex("\n\n".join(e.abstract))
        papers.append(
            Paper(
                id=content_id(title, abstract),
                title=title,
                source=source,
                sections=[Section(text=abstract or title, location=f"entry {n}")],
                authors=e.authors,
                author_count=e.author_count,
                date=e.date,
                url=e.url,
            )
        )
    return papers
