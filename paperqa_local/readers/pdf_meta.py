"""A PDF paper's metadata, offline: title, authors, year/date, DOI, arXiv id and venue.

Read from what the first page prints (the largest type is the title, the name lines under it are the authors,
the arXiv stamp and "Published ..." lines give the date) and from the PDF's own metadata when it is plausible
(tools write "untitled", "Microsoft Word - x.docx" or "admin"). The PDF's creation date is the last resort for the
year: it is when the file was made, not when the paper appeared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from paperqa_local.readers.common import one_line
from paperqa_local.readers.pdf_lines import Line, PageText
from paperqa_local.readers.pdf_structure import Hyphens

_BAD_META_TITLE = re.compile(
    r"^(untitled.*|title|document\d*|slide \d+|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|tex|dvi|ps|indd|rtf))$"
    r"|^arxiv:|^(main|paper|draft|manuscript|article)[-_ ]?\w*$|\ufffd",
    re.IGNORECASE,
)
_NOT_TITLE_LINE = re.compile(
    r"arxiv:\s*\d{4}\.\d{4,5}|^(preprint|under review|published as|proceedings of|accepted (at|to|by)|"
    r"journal of|vol\.|volume|doi:|https?://|copyright|©|received|manuscript)|@",
    re.IGNORECASE,
)
_NO_AUTHOR = {"anonymous", "unknown", "author", "authors", "admin", "administrator", "user", "(anonymous)", "owner"}
_NOT_NAME = re.compile(
    r"\b(university|universit[éàa]|institut[e]?|department|dept|faculty|school|college|laborator(y|ies)|lab|labs|"
    r"cent(er|re)|research|inc|ltd|corp|corporation|company|hospital|academy|foundation|google|microsoft|meta|"
    r"amazon|deepmind|openai|nvidia|ibm|email|e-mail|abstract|introduction|usa|uk|china|germany|france|japan|"
    r"canada|spain|italy|india|korea|switzerland|netherlands|portugal|israel|singapore|australia|sweden|austria|"
    r"belgium|denmark|finland|norway|poland|brazil|mexico|russia|taiwan|hong kong|street|road|avenue|equal|"
    r"contribution|corresponding)\b|@|https?:|\d{2,}",
    re.IGNORECASE,
)
_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "della", "la", "le", "du", "dos", "das", "bin",
              "ibn", "al", "el", "ter", "ten", "zu", "y"}
_MARKS = "0123456789*†‡§¶∗⋆#♠♣♦♥✉,"
_NAME_TOKEN = re.compile(r"^([A-ZÀ-ÖØ-Þ][\w'’.\-]*|[A-Z]\.)$")
_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})\b", re.IGNORECASE)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH},?\s+((?:19|20)\d{{2}})\b", re.IGNORECASE)
_DATE_ISO = re.compile(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})\b")
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+((?:19|20)\d{{2}})\b", re.IGNORECASE)
_VENUE_YEAR = re.compile(
    r"(?:©|\(c\)|copyright|proceedings|conference|workshop|symposium|transactions|journal|published|accepted|"
    r"iclr|neurips|nips|icml|acl|emnlp|naacl|cvpr|iccv|eccv|aaai|ijcai|kdd|sigir|www)\D{0,60}?((?:19|20)\d{2})\b",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(r"published|accepted|available online|issued|date of publication", re.IGNORECASE)
_ARXIV_STAMP = re.compile(
    r"arxiv:\s*(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[a-z]{2})?/\d{7})(v\d+)?\s*(?:\[[^\]]*\])?\s*"
    r"(\d{1,2}\s+[a-z]{3,9}\.?\s+(?:19|20)\d{2})?", re.IGNORECASE,
)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_VENUE = [
    re.compile(r"published as a (?:conference|workshop) paper at\s+(.+)$", re.IGNORECASE),
    re.compile(r"(?:conference|workshop|symposium) on [^()]+\(([A-Z][\w -]*(?:19|20)\d{2})\)", re.IGNORECASE),
    re.compile(r"^(?:in\s+)?(proceedings of .+?)(?:[,.]\s*(?:pages|pp\.|vol).*)?$", re.IGNORECASE),
    re.compile(r"(?:accepted|to appear)\s+(?:at|in|to|for)\s+(?:the\s+)?(.+?)\.?$", re.IGNORECASE),
    re.compile(r"^((?:ieee|acm)\s+[a-z &]+?)(?:,|\s+vol\b|$)", re.IGNORECASE),
    re.compile(r"^([A-Z][\w .&-]{3,60}?)\s*\|"),
]
_SMALL_WORDS = {"on", "of", "and", "for", "in", "the", "a", "an", "to", "at"}


@dataclass
class Metadata:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None  # ISO date when the day is known, else the year
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    venue: str | None = None


def _plausible_year(year: int) -> bool:
    return 1950 <= year <= date.today().year + 1


def meta_title(raw: object) -> str | None:
    title = " ".join(str(raw or "").split())
    if 4 <= len(title) <= 300 and sum(c.isalpha() for c in title) >= 4 and not _BAD_META_TITLE.search(title):
        return one_line(title)
    return None


def _strip_marks(piece: str) -> str:
    piece = piece.strip().strip(_MARKS + " ")
    return re.sub(r"(?<=[a-z])[\d*†‡§¶∗⋆#]+$", "", piece).strip()


def _is_name(piece: str) -> bool:
    tokens = piece.split()
    if not 2 <= len(tokens) <= 5 or _NOT_NAME.search(piece):
        return False
    caps = [t for t in tokens if len(t) > 3 and t.isupper()]
    if caps and len(caps) != len(tokens):
        return False
    return all(_NAME_TOKEN.match(t) or t.lower() in _PARTICLES for t in tokens)


def names_in(text: str) -> list[str] | None:
    """The names on an author line, or None when the line is something else (affiliation, email, title)."""
    pieces = [_strip_marks(p) for p in re.split(r",|;|\band\b|&|·|\s{3,}", text)]
    pieces = [p for p in pieces if p]
    if not pieces or not all(_is_name(p) for p in pieces):
        return None
    return pieces


def meta_authors(raw: object) -> list[str]:
    """Authors from the PDF's Author field when they read as names ("admin" and tool defaults do not)."""
    text = " ".join(str(raw or "").split())
    if not text or text.lower() in _NO_AUTHOR:
        return []
    parts = text.split(";") if ";" in text else re.split(r",|\band\b", text)
    names = [p.strip() for p in parts if p.strip() and p.strip().lower() not in _NO_AUTHOR]
    return names if names and all(len(n) <= 60 for n in names) else []


def _title_lines(lines: list[Line], page: PageText, body_size: float) -> list[Line]:
    """The run of lines set in the largest type in the top half of page 1, when it is clearly larger than text."""
    candidates = [ln for ln in lines if ln.top < 0.6 * page.height and not _NOT_TITLE_LINE.search(ln.text)
                  and sum(c.isalpha() for c in ln.text) >= 4]
    if not candidates:
        return []
    biggest = max(ln.size for ln in candidates)
    if biggest < body_size + 1.5:
        return []
    start = next(i for i, ln in enumerate(lines) if ln in candidates and ln.size >= biggest - 0.5)
    run = [lines[start]]
    for ln in lines[start + 1:start + 5]:
        if abs(ln.size - biggest) > 0.5 or ln.top - run[-1].bottom > 1.2 * biggest:
            break
        run.append(ln)
    return run


def _first_line_title(lines: list[Line]) -> str | None:
    for line in lines[:40]:
        text = line.text.strip()
        words = [w for w in text.split() if sum(c.isalpha() for c in w) >= 2]
        if len(words) >= 2 and sum(c.isalpha() for c in text) >= 8 and not _NOT_TITLE_LINE.search(text):
            return one_line(text)
    return None


def _iso(year: str, month: str | int, day: str | int | None) -> str | None:
    m = month if isinstance(month, int) else _MONTHS.get(month[:3].lower())
    if not m:
        return None
    return f"{int(year):04d}-{m:02d}-{int(day):02d}" if day else f"{int(year):04d}-{m:02d}"


def _dates(text: str) -> list[str]:
    found = [_iso(m[3], m[1], m[2]) for m in _DATE_MDY.finditer(text)]
    found += [_iso(m[3], m[2], m[1]) for m in _DATE_DMY.finditer(text)]
    found += [f"{m[1]}-{m[2]}-{m[3]}" for m in _DATE_ISO.finditer(text) if 1 <= int(m[2]) <= 12]
    if not found:
        found += [_iso(m[2], m[1], None) for m in _MONTH_YEAR.finditer(text)]
    return [d for d in found if d and _plausible_year(int(d[:4]))]


def _pdf_date(raw: object) -> str | None:
    m = re.match(r"D?:?((?:19|20)\d{2})(\d{2})?(\d{2})?", str(raw or ""))
    if not m or not _plausible_year(int(m[1])):
        return None
    if m[2] and m[3] and 1 <= int(m[2]) <= 12 and 1 <= int(m[3]) <= 31:
        return f"{m[1]}-{m[2]}-{m[3]}"
    return m[1]


def _venue(lines: list[str]) -> str | None:
    for pattern in _VENUE:
        for text in lines:
            if m := pattern.search(text.strip()):
                venue = " ".join(m[1].split()).rstrip(" .,;")
                if venue.isupper():
                    venue = " ".join(w if w in ("IEEE", "ACM") or not w.isalpha() else
                                     (w.lower() if w.lower() in _SMALL_WORDS else w.title()) for w in venue.split())
                if 3 <= len(venue) <= 120:
                    return venue
    return None


def guess(first_page: PageText, front: list[Line], furniture: list[str], body_size: float, info: dict[str, str],
          hyphens: Hyphens) -> Metadata:
    """Metadata from page 1's front matter (``front``: its body lines before the introduction), the furniture
    lines and stamps of the first pages (``furniture``) and the PDF's information dictionary (``info``)."""
    meta = Metadata()
    title_lines = _title_lines(front, first_page, body_size)
    if title_lines:
        meta.title = one_line(hyphens.resolve(" ".join(ln.text for ln in title_lines)))
    meta.title = meta.title or meta_title(info.get("Title")) or _first_line_title(front)

    meta.authors = meta_authors(info.get("Author"))
    if not meta.authors:
        after = front[front.index(title_lines[-1]) + 1:] if title_lines else front[1:]
        for line in after[:12]:
            if len(line.text.split()) > 25:
                break
            meta.authors += names_in(line.text) or []
        meta.authors = list(dict.fromkeys(meta.authors))

    texts = furniture + [ln.text for ln in front]
    joined = "\n".join(texts)
    if m := _ARXIV_STAMP.search(joined):
        meta.arxiv_id = m[1]
        if m[3] and (stamp := _dates(m[3])):
            meta.date = stamp[0]
    elif m := _ARXIV_URL.search(joined):
        meta.arxiv_id = m[1]
    if m := _DOI.search(joined):
        meta.doi = m[1].rstrip(".,;)]")
    if not meta.date:
        published = [d for t in texts if _PUBLISHED.search(t) for d in _dates(t)]
        anywhere = [d for t in texts for d in _dates(t)]
        venue_years = [m[1] for t in texts for m in _VENUE_YEAR.finditer(t) if _plausible_year(int(m[1]))]
        if published or anywhere:
            meta.date = max(published or anywhere)
        elif venue_years:
            meta.date = max(venue_years)
    meta.date = meta.date or _pdf_date(info.get("CreationDate"))
    meta.year = int(meta.date[:4]) if meta.date else None
    meta.venue = _venue(furniture) or _venue([ln.text for ln in front[:15]]) or ("arXiv" if meta.arxiv_id else None)
    return meta
