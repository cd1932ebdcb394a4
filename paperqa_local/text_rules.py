"""The one home of the text rules: sentences, content words, numbers, citation markers, the lexical blend.

Evidence selection, answer checking, the extractive backend, the metrics and the UI all read
text the same way, so a rule changed here changes everywhere at once. A regex sentence
splitter is enough for abstracts and model answers, and is ~100x faster than a statistical
one on the hot path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set

import numpy as np

# --- citation markers ---------------------------------------------------------------------
_SEP = r"[,;–-]"  # between numbers in one marker: [1, 2], [1; 2], [1-3], [1–3]
#: One canonical marker ``[n]`` (what ``answer.parse_markers`` writes); group 1 is the number.
MARKER = re.compile(r"\[(\d+)\]")
#: A marker as written in prose: ``[1]``, ``[1, 2]``, ``[1-3]``.
MARKER_GROUP = re.compile(rf"\[\d+(?:\s*{_SEP}\s*\d+)*\]")
#: A marker as small models write it (inner spaces, "and", leading space); group 1 is the number list.
LOOSE_MARKER = re.compile(rf"\s*\[(\s*\d+(?:\s*(?:{_SEP}|and)\s*\d+)*\s*)\]")

# --- sentences and words --------------------------------------------------------------------
#: Where a sentence may end: a full stop (and the markers after it, group 1) before a capital, digit or bracket.
_SENT_END = re.compile(rf"(?<=[.!?])((?:\s*{MARKER_GROUP.pattern})*\s+)(?=[\"'(\[]?[A-Z0-9])")
#: A full stop that ends an abbreviation, not a sentence ("e.g. Adam", "vs. CLIP"; "CF." and "VS." are acronyms) ...
_ABBREV_END = re.compile(r"\b(?:[Ee]\.g|[Ii]\.e|[Vv]s|[Cc]f|approx)\.$")
#: ... one that does so before a citation only ("Levy et al. (2021)", "et al. [3]"; "… by Lu et al. Traditional …"
#: ends there) ...
_CITATION_END = re.compile(r"\b(?:et al|resp)\.$")
#: ... and one that does so before a number ("Fig. 3", "Eq. (2)", "Sec. IV", "it ranked No. 5"; "No. The study …" and
#: a verdict's "No. 30% of patients …" are two sentences).
_ABBREV_BEFORE_NUMBER = re.compile(r"\b(?:Figs?|Eqs?|Secs?|Sect|Tabs?|Refs?)\.$|\w\s+Nos?\.$")
_NUMBERED = re.compile(r"[(\[]?[A-Z]?\d|[IVX]+\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]+|\d+(?:\.\d+)?%?")
#: The words a question opens with: question words and auxiliaries.
QUESTION_WORDS = (r"(?:what|which|who|whom|whose|why|when|where|how|is|are|was|were|do|does|did|can|could|will|would"
                  r"|should|has|have)")
#: A keyword query that names a quantity and asks nothing else ("Unicron speedup?", "nasnet top-1 accuracy"): it
#: asks for the number, not whether; group 1 is the quantity.
KEYWORD_QUANTITY = re.compile(
    rf"^(?![^?]*\b{QUESTION_WORDS}\b)[^?]*?\b((?:top-[15] )?(?:speed-?ups?|speed|accuracy|latency|throughput|size"
    r"|scores?|error|perplexity|parameters|flops|memory|reduction))\W*$", re.IGNORECASE)
#: A number: "1,000,000" (thousands groups), "0.5", "42"; "1,2" is two numbers.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?")

STOPWORDS = frozenset(
    """a an the and or but if of to in on for with by from as at into over under about than then that this these
    those it its is are was were be been being has have had do does did can could should would may might will
    shall we our they their he she his her you your i me my not no nor so such which who whom whose what when
    where why how all any both each few more most other some only own same too very also via using use used
    based paper propose proposed show shows shown method methods approach results work new between while""".split()
)

#: Weight of question-word overlap added to a sentence's cosine when ranking evidence sentences.
LEXICAL_WEIGHT = 0.15


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping trailing citation markers with their sentence."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    parts = _SENT_END.split(text)  # piece, the break after it, piece, ...
    out: list[str] = []
    for i in range(0, len(parts), 2):
        piece, brk = parts[i].strip(), parts[i - 1] if i else ""
        if not piece:
            continue
        if out and _joins(out[-1], brk, piece):
            out[-1] = f"{out[-1]}{brk.rstrip()} {piece}"  # the break's markers stay ("et al. [3] …")
        else:
            out.append(piece)
    return out


def _joins(before: str, brk: str, after: str) -> bool:
    """The full stop ending ``before`` ends an abbreviation, so ``before`` and ``after`` are one sentence."""
    if _ABBREV_END.search(before):
        return True
    if _CITATION_END.search(before):
        return bool(brk.strip()) or after[0] in "([" or after[0].isdigit()
    return bool(_ABBREV_BEFORE_NUMBER.search(before) and _NUMBERED.match(after))


def content_words(text: str, min_len: int = 2) -> set[str]:
    """Lower-cased words that carry meaning: stopwords and tokens shorter than ``min_len`` dropped."""
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) >= min_len}


def numbers(text: str) -> set[str]:
    """Numbers as written, without thousands separators (so 1,000 == 1000)."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


#: Numbers as words ("eight", "twice") and the digits they state.
SPELLED_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    " seventeen eighteen nineteen twenty".split())}
SPELLED_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
                        "ninety": "90", "hundred": "100", "thousand": "1000", "twice": "2"})
_SPELLED_RE = re.compile(r"\b(" + "|".join(SPELLED_NUMBERS) + r")\b", re.IGNORECASE)


def stated_numbers(text: str) -> set[str]:
    """``numbers`` plus those spelled out ("eight tasks" states 8, "twice as fast" 2): what a passage states."""
    return numbers(text) | {SPELLED_NUMBERS[w.lower()] for w in _SPELLED_RE.findall(text)}


#: Names with digits (ResNet-50, GPT-4, T5, ViT-H/14) state no result; nor do list enumerators ("(1) low-entropy …").
_NAMED = re.compile(r"\b[A-Za-z][\w]*-?\d[\w./-]*|\b\d+[A-Za-z]\w*-\w+|\(\d\)")


def result_numbers(text: str, spelled: bool = False) -> set[str]:
    """The numbers ``text`` states as results: digits (and, with ``spelled``, "two" …), not those inside names
    (ResNet-50, GPT-4), markers or enumerators ("(1)")."""
    bare = _NAMED.sub(" ", LOOSE_MARKER.sub(" ", text))
    digits = numbers(bare)
    # "one" is more often a pronoun ("than the one used") than a count
    return digits | (stated_numbers(bare) - digits - {"1"}) if spelled else digits


#: Words that turn a statement around ("does not reduce", "no association", "fails to", "unaffected").
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|none|without|fails?|failed|lacks?|cannot|unaffected|"
                       r"unrelated|unchanged|independent(?:ly)? of|n't)\b", re.IGNORECASE)


def negated(text: str) -> bool:
    """Whether ``text`` states something as not so (a cue word of ``_NEGATION``)."""
    return bool(_NEGATION.search(text))


def lexical_overlap(question_words: Set[str], sentence: str) -> float:
    """Share of the question's content words found in ``sentence`` (0 when the question has none)."""
    if not question_words:
        return 0.0
    return len(question_words & content_words(sentence)) / len(question_words)


def blend(cosines: np.ndarray, question_words: Set[str], sentences: Iterable[str]) -> np.ndarray:
    """Sentence scores: cosine to the question plus ``LEXICAL_WEIGHT`` x word overlap.

    The overlap rescues sentences that name the question's rare terms but embed loosely.
    """
    lexical = np.array([lexical_overlap(question_words, s) for s in sentences])
    return cosines + LEXICAL_WEIGHT * lexical
