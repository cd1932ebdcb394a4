"""Checks on one answer sentence beyond "is it similar to what it cites": hedges and attribution.

A small model asked about something the passages lack often writes a hedge ("… is not
specified in the given passage") and cites the passage anyway; such a sentence states what
the papers do NOT say, so it never counts as a supported claim. A sentence can also be
similar to the passage it cites and still be wrong about who did what: a number taken from
one paper and given to another paper's method. Those are attribution errors: a number the
cited passages do not hold, a named method/model that only other passages mention, or a result
(or a choice question's pick) whose subject is a method the cited papers do not report on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from paperqa_local.answerability import mentions, question_names, word_forms
from paperqa_local.text_rules import (
    LOOSE_MARKER,
    STOPWORDS,
    content_words,
    lexical_overlap,
    numbers,
    result_numbers,
    stated_numbers,
)

_PLACE = r"(?:in|by|within|from)\s+(?:the\s+)?(?:given\s+|provided\s+|above\s+|cited\s+)?(?:passages?|context|texts?|abstracts?|papers?|sources?|excerpts?|information)"
_HEDGE = re.compile(
    r"\b(?:is|are|was|were|has|have)\s+(?:not|n't)\s+(?:been\s+)?(?:explicitly\s+|directly\s+|clearly\s+)?"
    r"(?:specified|mentioned|stated|provided|given|reported|described|discussed|included|detailed|disclosed|available)\b"
    rf"|\b(?:does|do|did)\s+not\s+(?:explicitly\s+|directly\s+)?(?:specify|mention|state|provide|report|describe|say|include|give|discuss|contain)\b"
    rf"|\bno\s+(?:specific\s+|explicit\s+|further\s+)?(?:information|details?|mention)\b"
    rf"|\bnot\s+(?:possible|able)\s+to\s+(?:determine|tell|say)\b|\bcannot\s+be\s+determined\b"
    rf"|\b(?:unclear|unknown)\s+{_PLACE}|\bthe\s+passages?\s+only\s+(?:mention|describe|discuss|state)s?\b",
    re.IGNORECASE,
)
_VERDICT = re.compile(r"^\W*(?:yes|no|maybe)\b", re.IGNORECASE)
_VERDICT_WORDS = frozenset({"yes", "no", "maybe"})
# Names of methods, models and datasets: an inner capital or digit (ConvNeXt, SN-Netv2, ResNet-50), an acronym,
# or a run of capitalised words ("Moment Probing").
_NAME = re.compile(r"\b(?:[A-Z][a-z]*[A-Z0-9][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[A-Z]{2,}[a-z0-9]*(?:-[A-Za-z0-9]+)*"
                   r"|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
#: The words that hold a sentence's subject ("The Perceiver reports …", "Patternformer reaches …").
_SUBJECT_WORDS = 3
_OPENERS = frozenset("the this these that those a an in on for with by our we it its their".split())


@dataclass(frozen=True)
class Attribution:
    """Why a sentence is not rightly attributed to what it cites ("" when it is)."""

    missing_numbers: tuple[str, ...] = ()
    foreign_names: tuple[str, ...] = ()
    foreign_subjects: tuple[str, ...] = ()  # a result or pick given to a method the cited papers do not report on
    crossed: tuple[str, ...] = ()  # a number a cited "…, respectively" list gives to another of its items

    @property
    def ok(self) -> bool:
        return not (self.missing_numbers or self.foreign_names or self.foreign_subjects or self.crossed)

    def reason(self) -> str:
        bits = []
        if self.missing_numbers:
            bits.append("numbers not in the cited passages: " + ", ".join(self.missing_numbers))
        if self.foreign_names:
            bits.append("names only other passages mention: " + ", ".join(self.foreign_names))
        if self.foreign_subjects:
            bits.append("a subject the cited papers do not report on: " + ", ".join(self.foreign_subjects))
        if self.crossed:
            bits.append("a number the cited passage gives to another item of its list: " + ", ".join(self.crossed))
        return "; ".join(bits)


class Papers(NamedTuple):
    """The cited papers as ``attribution`` reads them: the ``word_forms`` of their whole texts (a passage shows a
    paper's best sentences only; a name may sit in another), the names the cited and the other evidence
    papers go by (``answerability.title_name``), and the words of the other evidence papers' titles."""

    cited: set[str]
    cited_names: frozenset[str] = frozenset()
    other_names: frozenset[str] = frozenset()
    other_titles: frozenset[str] = frozenset()  # the ``word_forms`` of the other evidence papers' titles


def is_hedge(sentence: str) -> bool:
    """True when the sentence says what the passages do not state instead of stating something."""
    return bool(_HEDGE.search(sentence))


def names(text: str) -> set[str]:
    """Method/model/dataset-like names in ``text``, lower-cased (a leading "The"/"In"... is not part of one)."""
    out = set()
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        while len(words) > 1 and words[0].lower() in _OPENERS:
            words = words[1:]
        if len(words) > 1 or not words[0][:1].isupper() or not words[0][1:].islower():
            out.add(" ".join(words).lower())
    return out


def attribution(sentence: str, cited: Sequence[str], others: Sequence[str], question: str = "",
                papers: Papers | None = None) -> Attribution:
    """Check that the sentence's numbers and names come from the passages it cites.

    ``cited``/``others``: the cited passages' texts (titles included) and the other passages'; ``papers`` the
    same papers whole (built from the passages when not given).
    A number counts when a cited passage or the question holds it (spelled out or not); a name fails only when it is
    absent from the cited passages and the question but present in another passage (taken from
    the wrong paper). Two subject rules, for a sentence stating a result or picking an option of a choice
    question ("Which is faster, A or B?"):

    - a name the question asks about ("Patternformer") among its first ``_SUBJECT_WORDS`` words fails when the
      cited papers never mention it: "Patternformer reports 80.66% [4]" gives it a number from the paper of
      [4], and "FlashAttention-2 gives 1.5X-55X [3]" one from a paper that is not about it ("Kaplan et al."
      is an author, not a method);
    - a sentence opening with another evidence paper's own name, which the question names too, fails when no
      cited paper goes by it, even when the cited paper mentions it: "REST achieves 87% higher acceptance
      rates [1]" where [1] is DReSD's paper reporting its gain over REST.

    And for any sentence: one whose subject is a name the question asks about alone (written with a capital:
    "top-1" is a metric; "A and B improve …" speaks of two) fails when the cited papers never mention it but another
    evidence paper's title holds it: "SPAM resets the model to an EMA of itself [2]" where [2] is the Elastic Reset
    paper, which never mentions SPAM; the sentence speaks of the other paper's method and cites one silent on it.
    And a number a cited "…, respectively" list gives to another of its items fails (``respective_mismatch``).
    """
    sentence = LOOSE_MARKER.sub("", sentence)
    allowed_numbers = stated_numbers(question).union(*(stated_numbers(p) for p in cited))
    missing = sorted(numbers(sentence) - allowed_numbers)
    own = names(question).union(*(names(p) for p in cited))
    cited_text = " ".join(cited).lower()
    elsewhere = " ".join(others).lower()
    foreign = {n for n in names(sentence) - own if n not in cited_text and n in elsewhere}
    papers = papers or Papers(word_forms(" ".join(cited)))
    unmentioned = [n for n in dict.fromkeys(question_names(question)) if not mentions(n, papers.cited)]
    subjects = {n.lower() for n in unmentioned  # another evidence paper's method, any sentence
                if n[:1].isupper() and _sole_subject(n, sentence) and mentions(n, papers.other_titles)}
    if result_numbers(sentence) or picks_between(question):
        head = " ".join(sentence.split()[:_SUBJECT_WORDS])  # the sentence's subject, not an object
        forms = word_forms(_AUTHORS.sub("", head))
        subjects |= {n.lower() for n in unmentioned if mentions(n, forms)}
        subjects |= {n.lower() for n in papers.other_names - papers.cited_names
                     if _opens_with(n, sentence) and re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", question)}
    return Attribution(tuple(missing), tuple(sorted(foreign)), tuple(sorted(subjects)), respective_mismatch(sentence, cited))


#: "… 35%, 36%, 30%, 32%, and 45% …": a run of numbers, which a "…, respectively" list pairs with its items in order.
_NUMBER_RUN = re.compile(r"\d+(?:\.\d+)?%?(?:,?\s+(?:and\s+)?\d+(?:\.\d+)?%?)+")
_RUN_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _listed(head: str) -> list[str]:
    """The names ``head`` ends with ("… compared with FC-DenseNet-103, DenseNet-264, and SSD-VGG"): each comma
    piece's last word, back to the first piece of more than three words; "A and B" without commas is two."""
    pieces = [p.strip() for p in head.split(",")]
    if len(pieces) == 1:
        pieces = re.split(r"\s+and\s+", pieces[0])
    items: list[str] = []
    for piece in reversed(pieces):
        words = re.sub(r"^and\s+", "", piece).split()
        if not words:
            break
        items.insert(0, words[-1])
        if len(words) > 3:
            break
    # names only ("ResNet-50", "SSD-VGG"): "… reach 81.2% and 83.5% top-1 accuracy, respectively" lists no items
    named = all(any(c.isupper() for c in i) and not _RUN_NUMBER.match(i) for i in items)
    return items if len(items) > 1 and named else []


def respective_mismatch(sentence: str, passages: Sequence[str]) -> tuple[str, ...]:
    """The numbers ``sentence`` gives to an item of a cited "A, B and C reach 1, 2 and 3, respectively" list other
    than the one the list gives them to: "35% … compared with ResNet-50" where the passage says "35%, 36%, 30% …
    compared with FC-DenseNet-103, DenseNet-264, ResNet-50 …, respectively" (a small model often reads such a list at
    the wrong position)."""
    said = result_numbers(sentence)
    if not said:
        return ()
    crossed: list[str] = []
    for passage in passages:
        for line in re.split(r"(?<=[.;])\s+", passage):
            at = line.lower().find("respectively")
            if at < 0:
                continue
            head = line[:at].rstrip(" ,")
            names = _listed(head)
            runs = [_RUN_NUMBER.findall(r.group(0)) for r in _NUMBER_RUN.finditer(head)]
            values = next((r for r in runs if len(r) == len(names)), None)
            if not names or not values:
                continue
            named = [k for k, n in enumerate(names) if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", sentence)]
            given = [k for k, v in enumerate(values) if v in said]
            if len(named) == 1 and given and named[0] not in given:
                crossed.extend(values[k] for k in given)
    return tuple(dict.fromkeys(crossed))


#: "Kaplan et al." names authors, not a method the cited paper must report on.
_AUTHORS = re.compile(r"\b[A-Z][\w-]*\s+et\s+al\b\.?")
#: What a sentence says its subject did: "REST achieves …", "LowFormer is faster …".
SUBJECT_VERB = (r"(?:'s)?\s+(?:\w+ly\s+)?(?:achieves?|reach(?:es)?|gets|obtains|attains|yields|improves|outperforms"
                 r"|surpasses|beats|is|are|was|were|has|have|runs|gives|provides|reports|shows|delivers|requires|needs"
                 r"|uses|speeds|accelerates|reduces|increases|trains|scores|performs|offers|brings)\b")


def _sole_subject(name: str, sentence: str) -> bool:
    """The sentence opens with ``name`` ("The" before it allowed) and not with "``name`` and/or …" ("SCoRe and
    Thought Rollback improve …": two subjects)."""
    return bool(re.match(r"\s*(?:the\s+)?" + re.escape(name) + r"(?:'s)?(?![\w-])(?!\s*,?\s*(?:and|or|&|/)\b)",
                         sentence, re.IGNORECASE))


#: A sentence opening "It …" / "Its …" speaks of the subject of the sentence before it.
_IT = re.compile(r"\s*(?:(It)|(Its))(?![\w-])")


def opening_name(sentence: str, question: str) -> str:
    """The question's name ``sentence`` opens with ("LowFormer achieves …"); "" when it opens with none."""
    return next((n for n in question_names(question) if n[:1].isupper() and _sole_subject(n, sentence)), "")


def opens_with_it(sentence: str) -> bool:
    """``sentence`` opens with "It" or "Its": its subject is the sentence before it's."""
    return bool(_IT.match(sentence))


def read_it(sentence: str, subject: str) -> str:
    """``sentence`` with an opening "It"/"Its" read as ``subject``: "It reaches 80.67% … [3]" after "LowFormer
    achieves …" gives LowFormer that number, which the attribution rules then check against [3]."""
    match = _IT.match(sentence) if subject else None
    if not match:
        return sentence
    start = match.start(1) if match.group(1) else match.start(2)
    return sentence[:start] + (subject if match.group(1) else f"{subject}'s") + sentence[match.end():]


def _opens_with(name: str, sentence: str) -> bool:
    """The sentence opens with ``name`` as written, then a verb: ``name`` is what the sentence is about."""
    return bool(re.match(r"\s*" + re.escape(name) + SUBJECT_VERB, sentence))


#: "Which one of A and B …": options offered by name.
_WHICH_ONE = re.compile(r"\bwhich (?:one|of)\b", re.IGNORECASE)
#: Two names offered with "or" ("Which is faster, LowFormer or InceptionNeXt?").
_OPTIONS = re.compile(r"([\w-]+)\s+or\s+(?:the\s+)?([\w-]+)")


def picks_between(question: str) -> bool:
    """The question offers named options to pick from: "which one/of …", or "A or B" with both names."""
    if _WHICH_ONE.search(question):
        return True
    asked = set(question_names(question))
    return any(a in asked and b in asked for a, b in _OPTIONS.findall(question))


def support_score(sentence: str, passages: list[str], sentence_vec: np.ndarray, passage_vecs: np.ndarray,
                  question_words: frozenset[str] = frozenset(), choice: bool = False) -> float:
    """How well the cited passages back the sentence, 0..1 (numbers and names are ``attribution``'s job).

    Only what the sentence adds to the question counts for the word overlap: a small model
    asked about something the papers lack tends to restate the question and cite a passage,
    and those words match the passage without being supported by it. A yes/no/maybe verdict
    that restates a yes/no question is the exception: it asserts the question's claim, so all
    of its words must be found in the passages; so is the answer to a ``choice`` question ("Which
    one of A and B needs no retain set?"): "A needs no retain set" pairs the question's own words, and
    the answer to "Which paper …?": "The paper splits … [1]" says that [1] is the one.
    Single digits count as words ("uses only 3 augmentations" adds the 3 to the question).
    """
    if not passages:
        return 0.0
    cos = float(np.max(passage_vecs @ sentence_vec)) if len(passage_vecs) else 0.0
    pool = set().union(*(content_words(p, min_len=1) | stated_numbers(p) for p in passages))  # "three" states 3
    words = content_words(sentence, min_len=1)
    verdict = bool(_VERDICT.match(sentence))
    if verdict:
        words -= _VERDICT_WORDS  # "yes" is what the sentence decides, not a fact to find in a passage
    novel = words - question_words
    if novel and not (verdict or choice) and not novel - restated(sentence, question_words):
        novel = set()  # only other forms of the question's words: a restatement (a verdict's or a pick's: below)
    if not novel:
        if not ((verdict or choice) and words):  # nothing beyond the question itself: not an answer
            return round(0.5 * min(max(cos, 0.0), 1.0) * 0.5, 4)
        # "Yes, <the question's claim>" answers a yes/no question: the passages must hold the whole claim
        novel = words
    lexical = len(novel & pool) / len(novel)
    score = 0.5 * max(cos, 0.0) + 0.5 * lexical
    return round(min(score, 1.0), 4)


#: An acronym spelled out: "Large Language Models (LLMs)".
_SPELLED_OUT = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,8})\(([A-Z][A-Za-z]*[A-Z])s?\)")


@lru_cache(maxsize=64)
def _asked_forms(question_words: frozenset[str]) -> frozenset[str]:
    return frozenset(word_forms(" ".join(question_words | STOPWORDS)))  # "uses" adds no more than "use" does


def restated(sentence: str, question_words: frozenset[str]) -> set[str]:
    """The words of ``sentence`` that only restate the question: its words in another form ("uses", "LLMs" for
    "use", "LLM"; a stopword's: "uses"), and the words spelling out an acronym the question uses ("Large Language
    Models (LLMs)")."""
    asked = _asked_forms(question_words)
    out = {w for w in content_words(sentence, min_len=1) if mentions(w, asked)}
    for m in _SPELLED_OUT.finditer(sentence):
        letters = [c for c in m.group(2) if c.isupper()]
        before = m.group(1).split()[-len(letters):]
        if (mentions(m.group(2), asked) and len(before) == len(letters)
                and all(w[0].lower() == c.lower() for w, c in zip(before, letters, strict=True))):
            out |= {w.lower() for w in before}
    return out


def is_choice(question: str) -> bool:
    """The question offers options to pick from ("Which one of A and B …?", "Is A or B faster?"); looser than
    ``picks_between`` (any "or"), which is what the support score was chosen with."""
    return bool(_WHICH_ONE.search(question) or re.search(r"\bor\b", question, re.IGNORECASE))


#: "A does X, while B does Y": two claims joined by a contrast, each of which must be stated by what is cited.
_CONTRAST = re.compile(r"[,;]?\s+(?:while|whereas)\s+|;\s+", re.IGNORECASE)
#: A clause is stated when the cited passages hold at least this share of its words beyond the question's.
CLAUSE_STATED = 0.5


def contrast_clauses(sentence: str) -> list[str]:
    """The clauses of a contrast ("A reaches 80.4%, while B reaches 80.67%"), each opening with a capitalised
    subject of its own ("the Perceiver" too), first letter raised; [] for any other sentence (a trailing "while
    still being able to …" is no claim of its own)."""
    clauses = _clauses(sentence)
    if len(clauses) < 2 or not all(_named_subject(c) for c in clauses):
        return []
    return [c[:1].upper() + c[1:] for c in clauses]


def _clauses(sentence: str) -> list[str]:
    """A sentence cut at its contrasts (``_CONTRAST``), markers dropped."""
    return [c.strip() for c in _CONTRAST.split(LOOSE_MARKER.sub("", sentence)) if c.strip()]


def _named_subject(clause: str) -> bool:
    """The clause opens with a capitalised subject ("Bag of Tricks reaches …", "the Perceiver uses …"), not a
    pronoun or a preposition (``_OPENERS``)."""
    words = clause.split()
    if len(words) > 1 and words[0].lower() == "the":
        words = words[1:]
    return bool(words) and words[0][:1].isupper() and words[0].lower() not in _OPENERS


def unstated_clause(sentence: str, passages: Sequence[str], question_words: frozenset[str] = frozenset()) -> str:
    """The clause of a contrast ("ReST focuses on machine translation, while ReST-MCTS* uses tree search [1]")
    that names a subject and whose own words the cited passages do not hold ("" when every clause is
    stated). The sentence's score is an average over its words, so one well-supported clause can carry
    another taken from an uncited paper."""
    clauses = _clauses(sentence)
    if len(clauses) < 2:
        return ""
    cited = " ".join(passages)
    for clause in clauses:
        novel = content_words(clause) - question_words
        # only a clause with a subject of its own ("ReST focuses on …"), not a trailing "while still being able to …"
        if names(clause) and len(novel) >= 2 and lexical_overlap(novel, cited) < CLAUSE_STATED:
            return clause
    return ""
