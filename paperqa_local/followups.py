"""Follow-up questions: the model's stand-alone rewrite keeps the conversation's names.

A 1.5B model rewrites "How does it recover performance after the blocks are shared?" (after "What does
FoldGPT combine to compress LLMs?") as "How does it improve performance after sharing blocks?": the
pronoun stays and the name the question is about is gone, so retrieval lands anywhere. Names are what
retrieval and the answerability checks key on, so a rewrite that drops the names of the conversation's
last questions (back to the one that set the subject) gets them back, in parentheses, unless the follow-up
names something else and does not point back ("it", "their"). A name
that only picks out a part of what was discussed ("What does *the Air variant* add?" after "What is
Chain-of-Model learning?") names nothing else: the conversation's names still come back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from paperqa_local.answerability import mentions, question_names, word_forms
from paperqa_local.claim_checks import SUBJECT_VERB
from paperqa_local.text_rules import LOOSE_MARKER, QUESTION_WORDS, split_sentences

_CAPITALISED = re.compile(r"(?<![.?!]\s)(?<=\s)(?!I\b)[A-Z][A-Za-z0-9-]+")  # not "Which" opening a second sentence
_POINTS_BACK = re.compile(r"\b(?:it|its|they|them|their|this|these)\b|\b(?:that|those|the\s+same)\s+(?:paper|work|method"
                          r"|model|approach|study|network|architecture|one)s?\b", re.IGNORECASE)  # "what does that paper use …"
#: "what is speculative decoding?": a definition asked of a bare phrase of two to four words (no article, no
#: pronoun) starts a new subject; "what is the speedup?" and "what is it?" stay on the one discussed.
_NEW_SUBJECT = re.compile(r"^\s*(?:what\s+(?:is|are)|what's|define)\s+"
                          r"(?!(?:the|a|an|this|that|these|those|its|their|it|they|more|most|else|new|novel"
                          r"|different|better|best|worse|missing|needed|used|proposed)\b)"
                          r"[\w-]+(?:\s+[\w-]+){1,3}\s*\??\s*$", re.IGNORECASE)
#: "the Air variant", "the Base version": a name for a part of the thing the conversation is about.
_PART_NOUN = r"(?:variant|version|configuration|setting|size|mode)s?"  # not "the BERT model": that names BERT


def _part_of(name: str, question: str) -> bool:
    return bool(re.search(rf"\bthe\s+{re.escape(name)}\s+{_PART_NOUN}\b", question, re.IGNORECASE))


#: Where the question proper starts: its first question word or auxiliary.
_QUESTION_START = re.compile(rf"\b{QUESTION_WORDS}\b", re.IGNORECASE)


def _points_back(question: str, own: list[str]) -> bool:
    """A pronoun points back to the conversation ("How fast does it train ResNet-50?", "How much faster than
    ConvNeXt was their model?") unless the question puts a name of its own up front ("ok and the DropBlock paper -
    how much does it improve …?": "it" is DropBlock)."""
    if not _POINTS_BACK.search(question):
        return False
    asking = _QUESTION_START.search(question)
    start = asking.start() if asking else 0
    return not any(0 <= question.find(n) < start for n in own)


def _names(text: str) -> list[str]:
    """The question's names; in a title-case question ("What is Reconstructive Neuron Pruning?") its capitalised
    words after the first, which ``question_names`` reads as style."""
    return question_names(text) or _CAPITALISED.findall(text)


#: An answer's opening subject, up to its verb (``claim_checks.SUBJECT_VERB``'s, or one saying what a paper does):
#: "Stitchable Neural Networks proposes …", "SN-Net is …".
_ANSWER_SUBJECT = re.compile(r"((?!(?:The|This|These|It|Its|They|Yes|No|In|On|For|With|By|Our|We|An?)\b)[A-Z][\w:-]*"
                             r"(?:\s+[\w:-]+){0,9}?)(?:" + SUBJECT_VERB
                             + r"|\s+(?:proposes|introduces|presents|describes|develops|stitches|splits|combines|learns"
                             r"|finds)\b)")


#: A paper's title in quotes in an answer's first sentence ('"Transitive Invariance for …" [1].', the answer to
#: "Which paper …?" that only pointed at a passage; 'Yes, there is a paper …: "Towards Garment …" [1].').
_QUOTED_TITLE = re.compile(r'["“]([^"”]{6,300})["”]')


def _answer_subject(answer: str) -> list[str]:
    """What an answer's first sentence is about, when it opens with it (a refusal opens "The indexed papers …")."""
    first = (split_sentences(answer) or [answer])[0].lstrip()
    match = _ANSWER_SUBJECT.match(first) or _QUOTED_TITLE.search(first)
    return [match.group(1)] if match else []


#: A question's opening question words ("Which paper", "Why were", "What is"), before what it describes.
_ASKING = re.compile(rf"^\s*(?:(?:which|what)\s+(?:paper|work|method|model|study|approach)s?\b|{QUESTION_WORDS}\b)"
                     rf"(?:\s+{QUESTION_WORDS}\b)?(?:\s+there\s+(?:an?|any)\s+(?:paper|work|method|model|study|approach)"
                     r"s?(?:\s+(?:that|which|on|about))?\b)?\s*", re.IGNORECASE)


#: "I remember a paper that …", "I'm looking for a paper on …": the user's opening, before the description.
_RECALLING = re.compile(r"^\s*(?:i|we)(?:\s+am|'m)?\s+(?:remember|recall|saw|read|looking\s+for|look\s+for)\s+"
                        r"(?:a|an|the|one|some)\s+(?:paper|work|study|method|model|approach)s?"
                        r"(?:\s+(?:that|which|about|on|where))?\b\s*", re.IGNORECASE)


def _description(question: str) -> str:
    """What a question describes, without its question words: "mines millions of objects from videos …" of "Which
    paper mines millions of objects from videos …?"; of "I remember a paper that builds … . Which one is it?", the
    sentence that describes ("builds …"), not the one that only asks."""
    sentences = split_sentences(question) or [question]
    told = max(sentences, key=lambda t: len(t.split()))  # the describing sentence, not "Which one is it?"
    return _RECALLING.sub("", _ASKING.sub("", told, count=1), count=1).strip().rstrip("?.! ").strip()


def _unresolved(rewritten: str) -> bool:
    """The rewrite still points back ("What network does it train …?", "Can it make a ResNet-50 beat …?"), before
    naming anything that pronoun could stand for ("… the SewFactory dataset, and which model was trained on it?")."""
    pointer = _POINTS_BACK.search(rewritten)
    if not pointer:
        return False
    return not any(0 <= rewritten.find(n) < pointer.start() for n in question_names(rewritten))


#: What ``carry_names`` appends after a rewrite's question mark: "… image pairs? (Transitive Invariance for …)". It
#: is the subject, for the search; the completeness rules read it as no part asked.
CARRIED = re.compile(r"(?<=[?.!])\s*\([^()]*\)[?.!]?\s*$")


def _carry(rewritten: str, subject: str) -> str:
    return f"{rewritten.rstrip()} ({subject})"


def carry_names(rewritten: str, turns: Sequence[tuple[str, str]], question: str) -> str:
    """``rewritten`` with the names of the conversation's subject (the last user turns, back to one that does not
    point back; when those name nothing, what that turn's answer opens with, a name or a quoted title; when that
    gives nothing either and the rewrite still says "it", that turn's own description) appended where it lacks
    them, when ``question`` (the follow-up as the user wrote it) names nothing of its own ("the Air variant"
    names a part of what was discussed, not its own) and asks no definition of a new subject ("what is
    speculative decoding?"), or points back with a pronoun ("How fast does it train ResNet-50?": ResNet-50 is a
    condition, "it" is still what was discussed; not when a name of its own comes first: "the DropBlock paper -
    how much does it improve …?")."""
    rewritten = LOOSE_MARKER.sub("", rewritten)  # a marker copied from an answer in the history cites nothing here
    own = [n for n in question_names(question) if not _part_of(n, question)]
    if not turns or _NEW_SUBJECT.match(question) or (own and not _points_back(question, own)):
        return rewritten
    pool = word_forms(rewritten)
    discussed: list[str] = []
    setting = turns[0]
    for setting in reversed(turns):  # back to the turn that set the subject (one that does not point back)
        discussed += _names(setting[0])
        if not _POINTS_BACK.search(setting[0]):
            break
    if not discussed:  # "Which paper proposes stitching …?" names nothing: its answer's subject is the subject
        discussed = _answer_subject(setting[1])
    if not discussed and _unresolved(rewritten):  # nothing named at all, and the rewrite kept "it":
        described = _description(setting[0])  # the user's own words for the subject ("mines millions of objects …")
        return _carry(rewritten, described) if described else rewritten
    lost = [n for n in dict.fromkeys(discussed) if not mentions(n, pool) and n.lower() not in rewritten.lower()]
    if not lost:
        return rewritten
    return _carry(rewritten, " ".join(lost))
