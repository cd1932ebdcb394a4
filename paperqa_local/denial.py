"""A yes/no question the evidence answers "no" in so many words: it states an asked thing as not so.

The 1.5B model cannot say "no": asked "Does SCAR need a retain set?" over a passage that says SCAR works
"without using a retain set", it either restates the question as a "Yes, …" or writes the cannot-answer
sentinel, and its scored verdict says "yes" (quality.md, twenty-fourth pass). What it cannot read, a rule
can when the passage is explicit: a sentence among the question's best evidence sentences that puts one of
the question's own terms right after a negation ("without X", "does not require X", "X-free", "rather than
X") or before a removal ("X … can be safely removed") answers "no", and that sentence, quoted verbatim with
its marker, is the answer's evidence. Only such a sentence decides: a "no" the passage implies by other
words ("lazier", "two blocks") is left to the model. A sentence that states an aim, a hypothesis, an open
question or a study group ("compared with women without hypothyroidism") is no finding and denies nothing.
The rule speaks only where the model's answer already failed (it refused, or its "yes" failed the sentence
checks): clinical abstracts are full of incidental negations, and on PubMedQA's tune part overriding "yes"
answers the checks had passed turned nine right answers wrong for two mended (quality.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import numpy as np

from paperqa_local.answerability import mentions, paper_forms, question_names
from paperqa_local.claim_verification import ranked_sentences
from paperqa_local.evidence import Evidence
from paperqa_local.results import EvidenceSentence
from paperqa_local.text_rules import STOPWORDS

#: Sentences read for a denial: the question's best few evidence sentences (a denial further down the
#: ranking is more often about something else).
SENTENCES_READ = 3
#: Content words after a negation that it reaches ("without explicitly modifying the training objective").
REACH = 3
#: Words before a removal that it reaches ("the positional encoding, a crucial component …, can be removed").
REACH_BACK = 12

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[.,;:()!?]")
#: Words that negate what follows them ("not only", "no more than" and the like do not: ``_NOT_NEGATING``).
_NEGATORS = frozenset({"not", "no", "never", "without", "nor", "neither", "cannot"})
_CONTRACTED = re.compile(r"n[’']t\b", re.IGNORECASE)  # "doesn't" reads as "does not"
_INSTEAD = re.compile(r"\b(?:rather than|instead of)\b", re.IGNORECASE)
_NOT_NEGATING = re.compile(r"\b(?:not|no)\s+(?:only|just|merely|simply|least|matter|more than|less than|longer than|"
                           r"fewer than|doubt|exception)\b|\bwhether or not\b|\bif not\b|\bno\.", re.IGNORECASE)
#: "X can (safely) be removed / is unnecessary": what comes before is stated as not needed.
_REMOVED = re.compile(r"\b(?:can|could|may)\s+(?:\w+\s+){0,2}be\s+(?:\w+\s+)?(?:removed|dropped|omitted|discarded|"
                      r"eliminated)\b|\b(?:is|are)\s+(?:\w+\s+)?(?:unnecessary|not necessary|not needed|not required)\b",
                      re.IGNORECASE)
#: A question asked of every case, and a sentence that makes an exception or a majority of it.
_EVERY = re.compile(r"\b(?:every|always|all (?:of )?(?:the )?\w+s)\b", re.IGNORECASE)
_EXCEPTION = re.compile(r"\b(?:except(?: for)?|apart from|all but|(?:a|the) majority of|(?:on|in) most)\b", re.IGNORECASE)
#: Groups compared ("with and without X", "did and did not receive X"): neither side is denied.
_BOTH_WAYS = re.compile(r"\b(?:with|and|or)\s+(?:and|or)\s+without\b|\b(?:did|do|does|had|have|was|were|is|are|could|can)"
                        r"\s+(?:and|or)\s+(?:did|do|does|had|have|was|were|is|are|could|can)\s*(?:not|n't)\b",
                        re.IGNORECASE)
#: A sentence that states an aim, a hypothesis, an open question or a study group, not a finding: its negations
#: say what was not known or who was in the control group, never that the asked thing is not so.
_NOT_A_FINDING = re.compile(r"\b(?:whether|hypothes\w*|unknown|not (?:yet |been )*(?:known|clear|clarified|"
                            r"studied|investigated|established)|remains? unclear|(?:no|few|limited) (?:studies|research)|"
                            r"controls?|recruited|enrolled|included|were compared|(?:aim|purpose|objective) of)\b|"
                            r"^\W*(?:to|we) (?:assess|evaluate|investigate|determine|examine|compare|test|demonstrate|"
                            r"explore|study)\b", re.IGNORECASE)
_FREE = re.compile(r"\b([A-Za-z]+)-free\b", re.IGNORECASE)
_CLAUSE_END = frozenset(".;:!?") | {"but", "while", "whereas", "although", "though"}
_BREAK = _CLAUSE_END | frozenset(",()") | {"and", "which", "that"}  # a negation reaches forward within a phrase
#: Verbs and fillers too common for a negation of them alone to answer a question about something.
_GENERIC = STOPWORDS | frozenset({"use", "uses", "used", "using", "need", "needs", "needed", "require", "requires",
                                  "required", "requiring", "make", "makes", "have", "has", "having", "get", "work",
                                  "works", "explicitly", "any", "model", "models", "method", "methods", "also",
                                  "approach", "additional", "extra", "even", "much", "significant", "significantly",
                                  "further", "new", "well", "still", "always", "based"})
_SUFFIXES = ("ations", "ation", "ness", "ings", "ing", "ity", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A word cut to its root for matching ("smoothness" ~ "smooth", "training" ~ "trained")."""
    w = word.lower()
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)]
    return w[:-1] if len(w) >= 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w


def asked_terms(question: str) -> set[str]:
    """The question's own content words (stemmed) that a denial may negate: not its opener or common verbs."""
    words = {w.lower() for w in _WORD.findall(question) if w[0].isalnum()}
    parts = {p for w in words for p in w.split("-")} | words
    return {stem(w) for w in parts if w not in _GENERIC and len(w) >= 3}


def negated_terms(question: str, sentence: str) -> list[str]:
    """The question's terms that ``sentence`` states as not so (in its words, lower case), or the exception it
    makes to a question asked of every case ("on every dataset?" against "except for sculptures"); [] when
    none or when the question itself asks about a negation ("Does X work without labels?")."""
    if _negations(question) or _NOT_A_FINDING.search(sentence):
        return []
    terms = asked_terms(question)
    reached = _negations(sentence)
    # a term the sentence also states plainly is a compared group ("women with … and without hypothyroidism")
    plain = Counter(stem(w) for w in _words(sentence)) - Counter(stem(w) for w in reached)
    denied = [w for w in reached if stem(w) in terms and not plain[stem(w)]]
    if not denied and _EVERY.search(question):
        exception = _EXCEPTION.search(sentence)
        shared = terms & {stem(w) for w in _words(sentence)}
        if exception and len(shared) >= 2:  # an exception about the asked thing, not any limit anywhere
            denied = [exception.group(0).lower()]
    return denied


def _words(sentence: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(sentence) if w[0].isalnum()]


def _negations(text: str) -> list[str]:
    """The words of ``text`` a negation reaches: up to ``REACH`` content words after a negator or "rather
    than", up to ``REACH_BACK`` before a removal, and the X of "X-free", stopping at a clause break."""
    text = _BOTH_WAYS.sub(" ", _NOT_NEGATING.sub(" ", _CONTRACTED.sub(" not", text)))
    reached: list[str] = [m.group(1).lower() for m in _FREE.finditer(text)]
    spans = [(m.end(), 1) for m in _INSTEAD.finditer(text)]
    spans += [(m.start(), -1) for m in _REMOVED.finditer(text)]
    tokens = [(m.start(), m.group(0)) for m in _WORD.finditer(text)]
    spans += [(at + len(tok), 1) for at, tok in tokens if tok.lower() in _NEGATORS]
    for at, direction in spans:
        seq = [t for start, t in tokens if start >= at] if direction > 0 else \
            [t for start, t in reversed(tokens) if start < at]
        reach = REACH if direction > 0 else REACH_BACK
        taken = 0
        for tok in seq:
            low = tok.lower()
            if low in _CLAUSE_END or (direction > 0 and low in _BREAK and taken):  # back: over an apposition
                break
            if low in STOPWORDS or not tok[0].isalnum() or low.endswith("ly"):  # "without explicitly modifying"
                continue
            reached.extend(dict.fromkeys([low, *low.split("-")]))
            taken += 1
            if taken >= reach:
                break
    return reached


def denying_sentence(question: str, evidence: Evidence,
                     embed: Callable[[list[str]], np.ndarray]) -> tuple[EvidenceSentence, list[str]] | None:
    """The best of the question's top evidence sentences that states an asked term as not so, with those
    terms; a question that names something (``question_names``) is denied only by a sentence of a paper
    that mentions it."""
    names = question_names(question)
    forms = paper_forms(evidence.contexts) if names else {}
    for ranked in ranked_sentences(question, evidence, embed)[:SENTENCES_READ]:
        if names and not any(mentions(n, forms.get(ranked.paper_id, set())) for n in names):
            continue
        terms = negated_terms(question, ranked.sentence)
        if terms:
            return ranked, terms
    return None
