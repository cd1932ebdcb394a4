"""Body lines of a PDF -> Sections that follow the paper's structure.

Headings ("Abstract", "3 Method", "3.1 Routing", "IV. RESULTS", "A Proofs") start sections; a heading must stand
out (bold, larger, capitals or set apart) so that a sentence starting with a number is not one. Figure and table
captions become their own sections (kind "caption"), with a table's rows kept under its caption; the running text
around them flows on, so a sentence broken by a figure or a page break stays whole. The reference list (from
"References"/"Bibliography" to the end or to an appendix) becomes a "references" section and one entry per
reference. Words hyphenated at line ends are joined, unless the document spells the word with a hyphen elsewhere.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from paperqa_local.readers.pdf_lines import HYPHEN, Line
from paperqa_local.records import Section

_NAMES = (
    r"abstract|introduction|background|related work|prior work|preliminaries|problem (setup|formulation|statement)|"
    r"methods?|methodology|materials and methods|methods and materials|approach|proposed method|model|"
    r"experiments?|experimental (setup|results|evaluation)|evaluation|results( and discussion)?|analysis|"
    r"discussion|limitations|broader impacts?|ethics statement|conclusions?( and future work)?|future work|"
    r"summary|acknowledge?ments?|funding|appendix|appendices|supplementary (material|information)|"
    r"index terms|keywords|references|bibliography|literature cited|works cited"
)
_NAMED = re.compile(rf"^(?:(?:\d{{1,2}}(?:\.\d{{1,2}})*|[IVX]{{1,5}}|[A-H])\.?\s+)?({_NAMES})\s*:?$", re.IGNORECASE)
_NUMBERED = re.compile(
    r"^(\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H](?:\.\d{1,2}){0,2}\.?)\s+([A-Z][^!?]{1,90})$"
)
_LEADERS = re.compile(r"(\. ?){4,}\s*\d*$")  # a table-of-contents line
_INLINE = re.compile(r"^(abstract|index terms|keywords)\s*[—–:.-]\s*(?=\S)", re.IGNORECASE)
_REFERENCES = re.compile(r"^(?:\d{1,2}\.?\s+)?(references|bibliography|literature cited|works cited)\s*:?$", re.I)
_APPENDIX = re.compile(r"^(appendix|appendices|supplementary|supplemental)\b|^[A-H](\.\d{1,2})*\.?\s", re.I)
_CAPTION = re.compile(r"^(figure|fig\.?|table|tab\.)\s*(\d{1,3}|[IVXL]{1,6})\s*[:.|—–-]\s*\S", re.IGNORECASE)
_REF_NUMBER = re.compile(r"^(\[\d{1,4}\]|\d{1,4}\.\s)")
_WORD = re.compile(r"[A-Za-z][A-Za-z]*(?:-[A-Za-z]+)*")
_MARKED = re.compile(rf"([A-Za-z]*){HYPHEN}\s*([A-Za-z]*)")


@dataclass
class Structure:
    sections: list[Section] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    body_size: float = 10.0
    hyphens: Hyphens | None = None


def body_font_size(lines: list[Line]) -> float:
    """The font size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def line_pitch(lines: list[Line], size: float) -> float:
    """The usual baseline-to-baseline distance of running text (paragraph gaps and headings are wider)."""
    pitches: Counter[float] = Counter()
    for a, b in zip(lines, lines[1:], strict=False):
        pitch = b.baseline - a.last_baseline
        if a.page == b.page and abs(a.size - size) < 0.3 and abs(b.size - size) < 0.3 and 0.8 * size < pitch < 2.5 * size:
            pitches[round(pitch, 1)] += 1
    return pitches.most_common(1)[0][0] if pitches else 1.2 * size


class Hyphens:
    """Decides a line-end hyphen: "repre-|sentation" -> "representation", "fine-|tuning" stays if seen elsewhere."""

    def __init__(self, lines: list[Line]) -> None:
        self.words: Counter[str] = Counter()
        for line in lines:
            text = _MARKED.sub(" ", line.text)
            self.words.update(w.lower() for w in _WORD.findall(text.rstrip("-")))

    def join(self, left: str, right: str) -> str:
        """The word for ``left`` + line break + ``right`` (both without the hyphen)."""
        hyphenated, joined = f"{left}-{right}".lower(), f"{left}{right}".lower()
        if not left or not right:
            return left + right
        if right[0].isupper() or self.words[hyphenated] > self.words[joined]:
            return f"{left}-{right}"
        return left + right

    def resolve(self, text: str) -> str:
        return _MARKED.sub(lambda m: self.join(m[1], m[2]), text)


def _tidy_heading(text: str, hyphens: Hyphens) -> str:
    text = " ".join(hyphens.resolve(text).split()).rstrip(":")
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 3:
        head, _, rest = text.partition(" ")
        if re.fullmatch(r"[IVX]+\.|\d[\d.]*|[A-H]\.?", head) and rest:
            return f"{head} {rest.title()}"
        return text.title()
    return text


class _Builder:
    """Walks the body lines once, filling sections; captions and references go aside."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines
        self.size = body_font_size(lines)
        self.pitch = line_pitch(lines, self.size)
        self.hyphens = Hyphens(lines)
        self.out = Structure(body_size=self.size, hyphens=self.hyphens)
        self.heading: str | None = None
        self.kind = "text"
        self.text = ""
        self.page_starts: list[tuple[int, int]] = []
        self.last: Line | None = None
        self.caption: Section | None = None
        self.caption_line: Line | None = None
        self.pending: list[Section] = []  # captions met inside the current section, emitted after it
        self.refs: list[str] = []
        self.numbered_refs = False
        self.ref_x0 = 0.0
        self.refs_heading = "References"
        self.refs_pages: list[tuple[int, int]] = []  # approximate offsets: entries are re-joined after hyphens

    # -- classification ---------------------------------------------------------------------------------------
    def stands_out(self, line: Line) -> bool:
        letters = [c for c in line.text if c.isalpha()]
        caps = len(letters) >= 4 and all(c.isupper() for c in letters)
        return line.bold or line.size >= self.size + 0.8 or caps

    def set_apart(self, line: Line, prev: Line | None) -> bool:
        """A wider gap above than between lines of a paragraph (or a new page/column)."""
        if prev is None or prev.page != line.page or line.baseline < prev.last_baseline:
            return True
        expected = self.pitch * max(line.size, 1) / self.size
        return line.baseline - prev.last_baseline > expected + 0.3 * max(line.size, 1)

    def heading_of(self, line: Line, prev: Line | None) -> str | None:
        text = line.text.strip()
        if len(text) > 100 or len(text.split()) > 14 or sum(c.isalpha() for c in text) < 0.5 * len(text) or (
                _LEADERS.search(text)):
            return None
        if line.size < self.size - 0.5:
            return None
        named = _NAMED.match(text)
        if named and (self.stands_out(line) or self.set_apart(line, prev)):
            return _tidy_heading(text, self.hyphens)
        if _NUMBERED.match(text) and self.stands_out(line) and not text.endswith((".", ",")):
            return _tidy_heading(text, self.hyphens)
        return None

    def is_caption(self, line: Line, prev: Line | None) -> bool:
        return bool(_CAPTION.match(line.text)) and (
            self.set_apart(line, prev) or line.size < self.size - 0.4 or line.bold
        )

    # -- output -----------------------------------------------------------------------------------------------
    def flush(self) -> None:
        text = self.hyphens.resolve(self.text).rstrip()
        body = text[len(self.heading):].strip() if self.heading and text.startswith(self.heading) else text
        if body and self.kind == "text":
            starts = _fix_offsets(self.text, text, self.page_starts)
            self.out.sections.append(_section(text, self.heading, "text", starts))
        self.out.sections += self.pending
        self.text, self.page_starts, self.pending = "", [], []

    def flush_caption(self) -> None:
        if self.caption is not None:
            self.caption.text = self.hyphens.resolve(self.caption.text).strip()
            self.pending.append(self.caption)
        self.caption = self.caption_line = None

    def flush_refs(self) -> None:
        if self.refs:
            entries = [" ".join(self.hyphens.resolve(r).split()) for r in self.refs]
            self.out.references += [e for e in entries if e]
            text = "\n".join([self.refs_heading, *entries])
            self.out.sections.append(_section(text, self.refs_heading, "references", self.refs_pages))
        self.refs = []

    def append(self, line: Line, text: str | None = None) -> None:
        text = line.text if text is None else text
        if not self.page_starts or self.page_starts[-1][1] != line.page:
            self.page_starts.append((len(self.text), line.page))
        prev = self.last
        if not self.text:
            sep = ""
        elif self.text.endswith(HYPHEN):
            sep = ""
        elif prev is None:  # right after a heading
            sep = "\n"
        elif self.text.endswith("-") and text[:1].islower() and not self.text.endswith(" -"):
            self.text = self.text[:-1] + HYPHEN
            sep = ""
        elif self.set_apart(line, prev) and prev.page == line.page and line.baseline > prev.last_baseline:
            sep = "\n"
        else:
            sep = " "
        self.text += sep + text
        self.last = line

    # -- the walk ---------------------------------------------------------------------------------------------
    def run(self) -> Structure:
        prev: Line | None = None
        for line in self.lines:
            self.step(line, prev)
            prev = line
        self.flush_caption()
        if self.kind == "references":
            self.flush_refs()
        else:
            self.flush()
        return self.out

    def step(self, line: Line, prev: Line | None) -> None:
        heading = self.heading_of(line, prev)
        if self.kind == "references":
            if heading and _APPENDIX.match(heading) and not _REFERENCES.match(heading):
                self.flush_refs()
                self.start(heading, line)
            else:
                self.add_reference(line, prev)
            return
        if heading and _REFERENCES.match(heading):
            self.flush_caption()
            self.flush()
            self.kind, self.refs_heading, self.refs_pages = "references", heading, [(0, line.page)]
            return
        if heading:
            self.flush_caption()
            self.start(heading, line)
            return
        if inline := _INLINE.match(line.text):
            self.flush_caption()
            name = inline[1].title()
            if name == "Abstract":
                self.start(name, line)
            self.append(line, line.text if name != "Abstract" else line.text[inline.end():])
            return
        if self.is_caption(line, prev):
            self.flush_caption()
            self.caption_line = line
            self.caption = Section(text=line.text, location="", page=line.page, kind="caption",
                                   heading=self.heading, page_starts=[(0, line.page)])
            self.caption.location = self.caption.span_location(line.page, line.page)
            return
        if self.caption is not None and self.continues_caption(line, prev):
            return
        if line.size < self.size - 1.0 and len(line.text.split()) < 5:
            return  # labels inside a figure
        self.append(line)

    def start(self, heading: str, line: Line) -> None:
        self.flush()
        self.heading, self.kind, self.last = heading, "text", None
        self.text, self.page_starts = heading, [(0, line.page)]

    def continues_caption(self, line: Line, prev: Line | None) -> bool:
        cap, first = self.caption, self.caption_line
        assert cap is not None and first is not None
        close = prev is not None and not self.set_apart(line, prev)
        if close and abs(line.size - first.size) <= 0.3 and line.x0 >= first.x0 - 2 * line.size:
            cap.text += ("" if cap.text.endswith(HYPHEN) else " ") + line.text
            return True
        if cap.text[:3].lower() == "tab" and line.size < self.size - 0.4:
            cap.text += "\n" + line.text  # a table's rows, set smaller than the text
            return True
        self.flush_caption()
        return False

    def add_reference(self, line: Line, prev: Line | None) -> None:
        text = line.text.strip()
        if self.refs_pages[-1][1] != line.page:
            self.refs_pages.append((sum(len(r) + 1 for r in self.refs) + len(self.refs_heading), line.page))
        if not self.refs:
            self.numbered_refs = bool(_REF_NUMBER.match(text))
            self.refs.append(text)
            self.ref_x0 = line.x0
            return
        if self.numbered_refs:
            new = bool(_REF_NUMBER.match(text))
        else:  # author-year lists: a hanging indent or a gap starts the next entry
            column_break = prev is None or prev.page != line.page or line.top < prev.top
            new = (not column_break and (line.x0 < prev.x0 - 2 or self.set_apart(line, prev))) or (
                column_break and abs(line.x0 - self.ref_x0) > 2 and line.x0 <= prev.x0 - 2
            )
        if new:
            self.refs.append(text)
            self.ref_x0 = line.x0
        elif self.refs[-1].endswith(HYPHEN) or (self.refs[-1].endswith("-") and text[:1].islower()):
            self.refs[-1] = self.refs[-1].rstrip("-") + HYPHEN + text
        else:
            self.refs[-1] += " " + text


def _fix_offsets(raw: str, final: str, starts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Page offsets measured on the text before hyphens were resolved, moved onto the final text."""
    if raw == final:
        return starts
    return [(min(len(raw[:offset].replace(HYPHEN, "")), len(final)), page) for offset, page in starts]


def _section(text: str, heading: str | None, kind: str, page_starts: list[tuple[int, int]]) -> Section:
    first, last = page_starts[0][1], page_starts[-1][1]
    section = Section(text=text, location="", page=first, kind=kind, heading=heading, page_starts=page_starts)
    section.location = section.span_location(first, last)
    return section


FRONT_HEADINGS = {"abstract", "keywords", "index terms"}  # headings that still belong to page 1's front matter


def front_matter(lines: list[Line], body_size: float) -> list[Line]:
    """Page 1's lines up to the first heading after the abstract (where the paper proper starts)."""
    out: list[Line] = []
    for line in lines:
        text = line.text.strip()
        named = _NAMED.match(text)
        if out and ((named and named[1].lower() not in FRONT_HEADINGS) or (
                _NUMBERED.match(text) and (line.bold or line.size > body_size + 0.5))):
            break
        out.append(line)
    return out


def build_structure(lines: list[Line]) -> Structure:
    """Sections (text and captions, in reading order) and reference entries from the body lines of every page."""
    return _Builder(lines).run()
