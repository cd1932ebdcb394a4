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

_CAPITALISED = re.compile(r"(?<=\s)[A-Z][A-Za-z0-9-]+")
_POINTS_BACK = re.compile(r"\b(?:it|its|they|them|their|this|these)\b", re.IGNORECASE)
#: "the Air variant", "the Base version": a name for a part of the thing the conversation is about.
_PART_NOUN = r"(?:variant|version|configuration|setting|size|mode)s?"  # not "the BERT model": that names BERT


def _part_of(name: str, question: str) -> bool:
    return bool(re.search(rf"\bthe\s+{re.escape(name)}\s+{_PART_NOUN}\b", question, re.IGNORECASE))


def _names(text: str) -> list[str]:
    """The question's names; in a title-case question ("What is Reconstructive Neuron Pruning?") its capitalised
    words after the first, which ``question_names`` reads as style."""
    return question_names(text) or _CAPITALISED.findall(text)


def carry_names(rewritten: str, turns: Sequence[tuple[str, str]], question: str) -> str:
    """``rewritten`` with the names of the conversation's subject (the last user turns, back to one that does not
    point back) appended where it lacks them, when
    ``question`` (the follow-up as the user wrote it) names nothing of its own ("the Air variant" names a part
    of what was discussed, not its own) or points back with a pronoun ("How fast does it train ResNet-50?":
    ResNet-50 is a condition, "it" is still what was discussed)."""
    own = [n for n in question_names(question) if not _part_of(n, question)]
    if not turns or (own and not _POINTS_BACK.search(question)):
        return rewritten
    pool = word_forms(rewritten)
    discussed: list[str] = []
    for asked, _ in reversed(turns):  # back to the turn that set the subject (one that does not point back)
        discussed += _names(asked)
        if not _POINTS_BACK.search(asked):
            break
    lost = [n for n in dict.fromkeys(discussed) if not mentions(n, pool)]
    if not lost:
        return rewritten
    return f"{rewritten.rstrip()} ({' '.join(lost)})"
