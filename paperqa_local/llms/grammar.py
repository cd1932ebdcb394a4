"""Cited by construction: a GBNF grammar that lets llama.cpp write only sentences ending in markers of
the passages it was given (or the cannot-answer sentinel).

The post-checks in ``answer.py`` still run (a marker can be the wrong one); the grammar removes the
failure modes they can only repair: uncited sentences and markers that point at no passage. A
period inside a sentence is allowed only before a digit ("80.4"); a sentence ends with its markers
and its full stop in either order ("… 75% [1]." or "… 75%. [1]", the order the model itself prefers),
so where the model would end a sentence, the marker is the one way on. (Allowing a period before any
non-space, as a first version did, let the 1.5B model escape into "map..ResNet" and "._in" runs
that never cited and ran to the token limit: docs/results/quality.md.) A sentence may also open
with markers (small models like to start with "[1]"); ``answer.keep_subject`` moves them to its end.
"""

from __future__ import annotations

from collections.abc import Sequence


def citation_grammar(numbers: Sequence[int], sentinel: str, max_sentences: int = 6) -> str:
    """GBNF for "sentence [n]… sentence [m]." answers over passages ``numbers``, or ``sentinel`` alone."""
    if not numbers:
        raise ValueError("citation_grammar needs at least one passage number")
    alternatives = " | ".join(f'"{n}"' for n in sorted(set(numbers)))
    more = " (sep sentence)?" * (max_sentences - 1)
    return "\n".join([
        f"root ::= refuse | sentence{more}",
        f'refuse ::= "{sentinel}"',
        r'sep ::= " " | "\n" | "\n\n"',  # between sentences, as the model lays them out
        "sentence ::= lead? words (cites end | end cites)",
        r'lead ::= "[" num "]" ("[" num "]")* " "',
        "words ::= wchar+",
        r'wchar ::= [^\[\]\n.!?] | "." [0-9]',
        r'cites ::= " [" num "]" ("[" num "]")*',
        r"end ::= [.!?]",
        f"num ::= {alternatives}",
    ]) + "\n"
