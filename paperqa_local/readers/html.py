"""HTML papers (.html/.htm) via BeautifulSoup and the stdlib parser: sections by h1-h3, page chrome dropped."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction, Tag

from paperqa_local.errors import ReaderError
from paperqa_local.readers.common import decode_text, one_line, tidy
from paperqa_local.records import Paper, Section, content_id

_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "form", "button"]
_PAGE_CHROME = ["header", "footer"]  # dropped unless inside the <article>/<main> they describe
_BLOCK = [
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "table",
    "section",
    "article",
    "main",
    "aside",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "caption",
    "h4",
    "h5",
    "h6",
    "address",
    "hr",
    "body",
]
_MARK = "\ue000"  # private-use char that brackets headings in the flattened text (removed from input first)


def _meta(soup: BeautifulSoup, *names: str) -> list[str]:
    """Contents of <meta name|property=...> tags (citation_*, og:*, author), in document order."""
    wanted = {n.lower() for n in names}
    out = []
    for tag in soup.find_all("meta"):
        key = str(tag.get("name") or tag.get("property") or "").lower()
        value = " ".join(str(tag.get("content") or "").split())
        if key in wanted and value:
            out.append(value)
    return out


def _iso_date(text: str) -> str:
    m = re.match(r"(\d{4})[-/](\d{2})[-/](\d{2})", text)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else text


def html_to_sections(soup: BeautifulSoup) -> tuple[list[Section], list[str]]:
    """Text split at h1-h3 into Sections ("§ Heading"; "start" before the first); returns the heading texts too."""
    for node in soup.find_all(string=lambda s: isinstance(s, Comment | Doctype | Declaration | ProcessingInstruction)):
        node.extract()
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME):
        if not tag.find_parent(["article", "main"]):
            tag.decompose()
    for node in soup.find_all(string=True):
        if not node.find_parent("pre"):
            node.replace_with(re.sub(r"\s+", " ", str(node)))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    headings = []
    for h in soup.find_all(["h1", "h2", "h3"]):
        text = " ".join(h.get_text(" ").split())
        if text:
            headings.append(text)
            h.replace_with(f"\n{_MARK}{text}{_MARK}\n")
        else:
            h.decompose()
    for tag in soup.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.append("\n")
    root = soup.body or soup
    text = "\n".join(line.strip() for line in root.get_text().split("\n"))
    sections = []
    parts = text.split(_MARK)  # body, heading, body, heading, body ...
    for i in range(0, len(parts), 2):
        body = tidy(parts[i])
        if not body:
            continue
        heading = parts[i - 1] if i else None
        location = f"§ {one_line(heading, 120)}" if heading else "start"
        sections.append(Section(text=f"{heading}\n\n{body}" if heading else body, location=location,
                                heading=one_line(heading, 120) if heading else None))
    return sections, headings


def read_html(data: bytes, source: str) -> list[Paper]:
    """Title from citation_title, <title> or the first <h1>; authors/date/url from citation_* meta tags."""
    text = decode_text(data).replace(_MARK, "")
    soup = BeautifulSoup(text, "html.parser")
    head_title = " ".join(soup.title.get_text().split()) if soup.title else ""
    first_h1 = soup.find("h1")
    h1 = " ".join(first_h1.get_text(" ").split()) if isinstance(first_h1, Tag) else ""
    cite_title = next(iter(_meta(soup, "citation_title", "dc.title")), "")
    authors = _meta(soup, "citation_author", "dc.creator")
    if not authors:
        authors = [a.strip() for a in ",".join(_meta(soup, "author")).split(",") if a.strip()]
    date = next(
        iter(_meta(soup, "citation_publication_date", "citation_date", "dc.date", "article:published_time")), None
    )
    canonical = soup.find("link", rel="canonical")
    url = next(iter(_meta(soup, "citation_abstract_html_url", "og:url")), None) or (
        str(canonical.get("href")) if isinstance(canonical, Tag) and canonical.get("href") else None
    )
    if soup.title:
        soup.title.decompose()
    sections, headings = html_to_sections(soup)
    if not sections:
        raise ReaderError("no text in the HTML page")
    first_line = sections[0].text.split("\n", 1)[0]
    title = one_line(cite_title or head_title or h1 or (headings[0] if headings else first_line))
    return [
        Paper(
            id=content_id(*(s.text for s in sections)),
            title=title,
            source=source,
            sections=sections,
            authors=authors,
            author_count=len(authors) or None,
            date=_iso_date(date) if date else None,
            url=url,
        )
    ]
