"""Page furniture: running headers and footers, page numbers and first-page notes.

They sit in the top or bottom margin and repeat from page to page (up to a page number), so a line there whose
text, digits aside, comes back on other pages is furniture; so is a lone page number, and a first-page note such
as "Preprint. Under review." or "Manuscript received ...". Furniture is never evidence, but it is kept apart
because metadata (venue, year, DOI) often lives there.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from paperqa_local.readers.pdf_lines import Line, PageText

MARGIN = 0.1  # share of the page height at the top and at the bottom where furniture lives
_PAGE_NUMBER = re.compile(r"^(page\s*)?(\d{1,4}|[ivxlc]{1,7})(\s*(/|of)\s*\d{1,4})?$", re.IGNORECASE)
_NOTE = re.compile(
    r"^(preprint|under review|published (as|in|by)|proceedings of|accepted (at|to|by|for)|to appear|copyright|©|"
    r"\(c\) ?\d{4}|manuscript received|received:?|this (work|paper|article) (is|was|has been)|permission to make|"
    r"licen[cs]ed under|corresponding author|equal contribution|work done)|\bdoi:|https?://|arxiv:",
    re.IGNORECASE,
)


_MARKS = "*∗†‡§¶⋆0123456789 "
_CAPTION = re.compile(r"(fig(ure)?|table)\b", re.IGNORECASE)


def _key(text: str) -> str:
    return " ".join(re.sub(r"\d+", "#", text.lower()).split())


def _in_margin(line: Line, page: PageText) -> bool:
    return line.top < MARGIN * page.height or line.bottom > (1 - MARGIN) * page.height


def split_furniture(pages: list[PageText]) -> tuple[list[list[Line]], list[Line]]:
    """(body lines of each page, furniture lines) for pages in order.

    Also furniture: page 1's notes at the bottom set smaller than the text ("*Equal contribution", "36th
    Conference on ..."), which would otherwise land in the middle of the first column.
    """
    chars: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            chars[line.size] += len(line.text)
    body_size = chars.most_common(1)[0][0] if chars else 0.0
    seen: dict[str, set[int]] = defaultdict(set)
    sizes: dict[str, list[float]] = defaultdict(list)
    for page in pages:
        for line in page.lines:
            if _in_margin(line, page):
                seen[_key(line.text)].add(page.number)
                sizes[_key(line.text)].append(line.size)
    repeated = {k for k, where in seen.items() if len(where) >= 2 and any(c.isalpha() for c in k)}
    usual = {k: Counter(sizes[k]).most_common(1)[0][0] for k in repeated}
    body: list[list[Line]] = []
    furniture: list[Line] = []
    for page in pages:
        keep = []
        for line in page.lines:
            text, key = line.text.strip(), _key(line.text)
            margin = _in_margin(line, page)
            is_furniture = margin and (
                _PAGE_NUMBER.match(text)
                # the title repeated as a running header stays on page 1, where it is set in a larger font
                or (key in repeated and line.size <= usual[key] + 0.5)
                or (page.number == 1 and _NOTE.search(text.lstrip(_MARKS)))
                or (page.number == 1 and line.top > page.height / 2 and line.size < body_size - 0.4
                    and not _CAPTION.match(text))
            )
            (furniture if is_furniture else keep).append(line)
        body.append(keep)
    return body, furniture
