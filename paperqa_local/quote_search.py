"""Page and quote questions, answered from where passages sit: "Which page says '…'?", "Where does the
paper define X?". A question that quotes a name or a phrase and asks about something else goes to the pipeline.

These are questions about location, not content: every chunk knows its page(s) and section, so
the answer is a lookup, not generation. A quote is matched on a normalised form of the text
(letters and digits only, case-folded, NFKD: ligatures unfolded, accents, hyphen breaks,
whitespace, punctuation and quote styles gone), so text copied out of a PDF viewer still matches.
Candidates come from the keyword search (a quote shares all its words with its passage), and
each is then checked character by character: exact, or near-exact (``NEAR`` of the quote's
characters found in order within one stretch of the passage).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Protocol

from paperqa_local.records import Chunk, Hit
from paperqa_local.results import Answer, Context, Reference, SentenceCheck
from paperqa_local.text_rules import split_sentences

CANDIDATES = 40  # keyword hits checked for a quote or a term
NEAR = 0.85  # share of the quote's characters a near-exact match must hold
MIN_QUOTE_WORDS = 4  # a shorter quoted span is a term or scare quotes, not a quote to look up
MAX_MATCHES = 3
MIN_RUN = 3  # characters: the shortest run of a near-exact match that counts

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|‘([^’]+)’|«([^»]+)»|„([^“”]+)[“”]|(?<!\w)\'([^\']+)\'(?!\w)')
# a quoted span is looked up only when the question asks where it is (or is nothing but the quote): "What
# does the 'ViTs outperform ResNets without pre-training' paper propose?" quotes a name and asks about content
_AUX = r"(?:does|do|did|is|are|was|were|can|could|will|would|has|have)"
# "where" that asks, not "in the setting where the backbone is frozen"
_WHERE_IN = r"\bwhere\s+(?:in\s+(?:the|this|that)\s+\w+\s+)?"  # "where", "where in the paper"
_WHERE = rf"{_WHERE_IN}{_AUX}\b"
_SAYS = (r"(?:say|says|said|write|writes|wrote|written|mention|mentions|mentioned|appear|appears|appeared|state|states"
         r"|stated|occur|occurs|quote|quotes|quoted)")
_ASKS_WHERE = re.compile(
    rf"{_WHERE}.*\b{_SAYS}\b"  # "Where does it say '…'?", "Where is '…' stated?"
    r"|\b(?:which|what)\s+(?:pages?|sections?|papers?|parts?|passages?|sentences?|paragraphs?|lines?|documents?"
    r"|articles?|chapters?|sources?)\b"
    r"|^\W*(?:find|locate|look\s+up|search\s+for)\b"  # "Find '…'" (not "Did the authors find that '…'?")
    r"|\bwho\s+(?:says|said|wrote|writes)\b|\bquoted?\b|\bquotes\b|\bsource\b", re.IGNORECASE)
_DEFINE = [
    re.compile(rf"{_WHERE}.*?\bdefines?\s+(?:the\s+(?:term|notion|concept)\s+)?(?P<term>.+)", re.IGNORECASE),
    re.compile(rf"{_WHERE_IN}(?:is|are)\s+(?:the\s+(?:term|notion|concept)\s+)?(?P<term>.+?)\s+defined\b",
               re.IGNORECASE),
    re.compile(r"\b(?:which|what)\s+page\b.*?\b(?:defines?|definition\s+of)\s+(?P<term>.+)", re.IGNORECASE),
]
_TERM_TAIL = re.compile(r"\s*(?:\bin\s+(?:the|this|that)\s+(?:paper|article|work|study)\b.*)?[?.!\s]*$", re.I)
_CUES = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(?:we|i)\s+(?:define|call|term|name|denote|refer\s+to)\b", r"\bdefined\s+(?:as|by|to\s+be)\b",
    r"\b(?:is|are)\s+(?:called|termed|known\s+as|referred\s+to\s+as|denoted)\b", r"\brefers?\s+to\b",
    r"\bdefinition\b", r"\bmeans?\b", r"\bi\.e\.")]


class Searchable(Protocol):
    """What a quote search needs: the library (or a filtered ``Subset``) keyword search."""

    def bm25_search(self, query: str, n: int) -> list[Hit]: ...


@dataclass
class QuoteMatch:
    """Where a quote (or a term's definition) is: the chunk, the span of its text, and how close it is."""

    chunk: Chunk
    start: int  # the matched span in ``chunk.text``
    end: int
    score: float  # share of the quote's characters found (1.0: exact)

    @property
    def exact(self) -> bool:
        return self.score >= 1.0

    @property
    def excerpt(self) -> str:
        return self.chunk.text[self.start:self.end]

    @property
    def where(self) -> str:
        """ "on p. 4 (§ 3 Method)", "on pp. 4–5", or "in <location>" for a passage without pages."""
        c = self.chunk
        if c.page is None:
            return f"in {c.location}"
        pages = f"p. {c.page}" if c.end_page in (None, c.page) else f"pp. {c.page}\u2013{c.end_page}"
        return f"on {pages} (§ {c.section})" if c.section else f"on {pages}"


def normalise(text: str) -> tuple[str, list[int]]:
    """Letters and digits only, case-folded and NFKD-unfolded, with each kept character's offset in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch).casefold():
            if c.isalnum():
                out.append(c)
                where.append(i)
    return "".join(out), where


def quoted_span(question: str, min_words: int = MIN_QUOTE_WORDS) -> str | None:
    """The longest span in quotation marks with at least ``min_words`` words, if any."""
    spans = [next(g for g in m.groups() if g is not None).strip() for m in _QUOTED.finditer(question)]
    spans = [s for s in spans if len(s.split()) >= min_words]
    return max(spans, key=len) if spans else None


def asks_where(question: str, quote: str) -> bool:
    """Whether a question quoting ``quote`` asks where it is, rather than asking about what the quote names."""
    rest = question.replace(quote, " ")
    return bool(_ASKS_WHERE.search(rest)) or not re.search(r"\w", rest)


def defined_term(question: str) -> str | None:
    """X in "Where does the paper define X?", "Where is X defined?", "Which page defines X?"."""
    for pattern in _DEFINE:
        m = pattern.search(question)
        if m:
            quoted = quoted_span(m.group("term"), min_words=1)
            term = quoted or _TERM_TAIL.sub("", m.group("term"))
            term = re.sub(r"^(?:the|a|an)\s+", "", term.strip(" \"'“”‘’"), flags=re.IGNORECASE)
            if term and len(term.split()) <= 8:
                return term
    return None


def find_quote(library: Searchable, quote: str, limit: int = MAX_MATCHES) -> list[QuoteMatch]:
    """Passages that hold ``quote``: every exact one (in library order, up to ``limit``), else the one
    near-exact match."""
    target, _ = normalise(quote)
    if len(target) < 8:
        return []
    matches = []
    for hit in library.bm25_search(quote, CANDIDATES):
        found = match_in(hit.chunk, target)
        if found is not None:
            matches.append(found)
    matches.sort(key=lambda m: (-m.score, m.chunk.id))
    if matches and not matches[0].exact:
        return matches[:1]  # the closest stretch; weaker ones are other passages that merely look alike
    return [m for m in matches if m.exact][:limit]


def match_in(chunk: Chunk, target: str) -> QuoteMatch | None:
    """``target`` (normalised) in the chunk's text: exact, or the best near-exact stretch, or None."""
    text, where = normalise(chunk.text)
    at = text.find(target)
    if at >= 0:
        return QuoteMatch(chunk, where[at], where[at + len(target) - 1] + 1, 1.0)
    a, b, size = SequenceMatcher(None, text, target, autojunk=False).find_longest_match(0, len(text), 0, len(target))
    if size < 0.3 * len(target):
        return None
    slack = len(target) // 8 + 2
    lo = max(0, a - b - slack)
    window = text[lo:a - b + len(target) + slack]
    # runs of under MIN_RUN characters are coincidences (a stray "d" in the next word), not the quote
    blocks = [blk for blk in SequenceMatcher(None, target, window, autojunk=False).get_matching_blocks()
              if blk.size >= MIN_RUN]
    score = sum(blk.size for blk in blocks) / len(target)
    if not blocks or score < NEAR:
        return None
    first, last = lo + blocks[0].b, lo + blocks[-1].b + blocks[-1].size - 1
    return QuoteMatch(chunk, where[first], where[last] + 1, round(min(score, 0.999), 4))


def find_definition(library: Searchable, term: str) -> QuoteMatch | None:
    """The sentence that defines ``term``: it names the term and reads like a definition ("we call X",
    "X is defined as", "X: ...", "X refers to"); most cues first, then the earliest page (papers define a
    term where they first use it), then keyword rank."""
    words = re.findall(r"\w+", _fold(term))
    if not words:
        return None
    name = r"[\W_]*".join(map(re.escape, words))
    pattern = re.compile(r"(?<!\w)" + name + r"(?!\w)")
    leads = re.compile(r"^(?:(?:the|a|an|our)\s+)?" + name + r"\s*(?:\([^)]*\)\s*)?,?\s*(?:is|are|refers|means|denotes)\b")
    colon = re.compile(r"(?<!\w)" + name + r"\s*(?::|\(|, i\.e\.)")
    best: tuple[tuple[int, int, int], QuoteMatch] | None = None
    for rank, hit in enumerate(library.bm25_search(term, CANDIDATES)):
        text, cursor = hit.chunk.text, 0
        for sentence in split_sentences(text):
            span = re.compile(r"\s+".join(map(re.escape, sentence.split()))).search(text, cursor)
            if span:
                cursor = span.end()
            folded = _fold(sentence)
            if not pattern.search(folded):
                continue
            cues = sum(1 for cue in _CUES if cue.search(sentence)) + bool(leads.search(folded)) + bool(colon.search(folded))
            key = (-cues, hit.chunk.page or 0, rank)
            if cues and (best is None or key < best[0]):
                start, end = (span.start(), span.end()) if span else (0, len(text))
                best = (key, QuoteMatch(hit.chunk, start, end, 1.0))
    return best[1] if best else None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).casefold()


def locate_answer(question: str, library: Searchable, shown: str | None = None) -> Answer | None:
    """The answer to a page / quote / definition question, or None to let the normal pipeline answer it."""
    quote = quoted_span(question)
    if quote and asks_where(question, quote):
        matches = find_quote(library, quote)
        if matches:
            return located(shown or question, matches, "The quoted passage" if matches[0].exact
                           else f"A near-exact match ({matches[0].score:.0%} of the quote)")
    term = defined_term(question)
    if term:
        match = find_definition(library, term)
        if match:
            return located(shown or question, [match], f"“{term}” is defined")
    return None


def located(question: str, matches: list[QuoteMatch], what: str) -> Answer:
    """ "<what> is on p. N (§ Section) of “<paper>” [1]." with each passage as a cited context; two chunks of one
    paper at the same place (overlapping chunks) are said once."""
    places: dict[tuple[str, str], QuoteMatch] = {}
    for m in matches:
        places.setdefault((m.chunk.paper_id, m.where), m)
    matches = list(places.values())
    contexts = [Context(number=i, chunk=m.chunk, text=m.chunk.text, score=m.score, relevance=m.score)
                for i, m in enumerate(matches, start=1)]
    first = matches[0]
    verb = "" if what.endswith("defined") else " is"
    parts = [f"{what}{verb} {first.where} of “{first.chunk.title}” [1]."]
    parts += [f"It is also {m.where} of “{m.chunk.title}” [{i}]." for i, m in enumerate(matches[1:], start=2)]
    sentences = [SentenceCheck(text=p, citations=[i], support=m.score, supported=True)
                 for i, (p, m) in enumerate(zip(parts, matches, strict=True), start=1)]
    return Answer(question=question, text=" ".join(parts), contexts=contexts,
                  references=[Reference.of(c) for c in contexts], sentences=sentences, backend="quote search",
                  model="exact / near-exact match", answerability={"quote": first.score})
