"""Cited by construction: a GBNF grammar that lets llama.cpp write only sentences ending in markers of
the passages it was given (or the cannot-answer sentinel).

The post-checks in ``answer.py`` still run (a marker can be the wrong one); the grammar removes the
failure modes they can only repair: uncited sentences and markers that point at no passage. A
period inside a sentence ("80.4", "Fig.2") is allowed when no space follows it, so a sentence can
only end after its markers. A sentence may also open with markers (small models like to start with
"[1]"); ``answer.keep_subject`` moves them to its end.
"""

from __future__ import annotations

from collections.abc import Sequence


def citation_grammar(numbers: Sequence[int], sentinel: str, max_sentences: int = 6) -> str:
    """GBNF for "sentence [n]… sentence [m]." answers over passages ``numbers``, or ``sentinel`` alone."""
    if not numbers:
        raise ValueError("citation_grammar needs at least one passage number")
    alternatives = " | ".join(f'"{n}"' for n in sorted(set(numbers)))
    more = ' (" " sentence)?' * (max_sentences - 1)
    return "\n".join([
        f"root ::= refuse | sentence{more}",
        f'refuse ::= "{sentinel}"',
        "sentence ::= lead? words cites end",
        r'lead ::= "[" num "]" ("[" num "]")* " "',
        "words ::= wchar+",
        r'wchar ::= [^\[\]\n.!?] | [.!?] [^ \n\[\]]',
        r'cites ::= " [" num "]" ("[" num "]")*',
        r"end ::= [.!?]",
        f"num ::= {alternatives}",
    ]) + "\n"
