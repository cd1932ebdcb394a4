"""The model's reply as text, before any check: what a token limit and a looping small model leave behind.

A 1.5B model now and then loops ("… backbone. [1] [1] [1] …" until the token limit, or one sentence again
under each passage's marker), writes a list whose items open with a marker and end without a full stop, or
is cut by the token limit inside a sentence or a marker ("… the same network structure. [4").
``runaway`` lets the backend stop a looping reply early (a loop costs the rest of the token budget: 20 s on
2 cores); ``tidy_reply`` gives the answer checks whole sentences: one per list line, each marker once, each
sentence once, no half marker, and a cut last sentence ending in "…" so that nobody reads it as finished.
"""

from __future__ import annotations

import re

from paperqa_local.text_rules import LOOSE_MARKER, MARKER_GROUP, split_sentences

#: The same marker three times in a row at the end of the reply: the model is looping.
_MARKER_LOOP = re.compile(r"(\[\d+\])(?:\s*\1){2,}\s*$")
#: A marker the token limit cut ("[4", "[1, 2").
_CUT_MARKER = re.compile(r"\s*\[[\d\s,;–-]*$")
#: The same marker again right after itself on one line ("[1] [1]").
_REPEATED_MARKER = re.compile(r"(\[(\d+)\])(?:[ \t]*\[\2\])+")
#: A list item's lead at a line's start: a bullet or "1." / "1)"; group 1 is what follows it.
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+(\S.*)$")
#: The number of a part the model answers, at a sentence's start ("(1) Yes, …", "(2) The …": the prompt numbered
#: the question's parts); group 1 is what follows it.
_PART_NUMBER = re.compile(r"^\(\d{1,2}\)\s+(\S.*)$", re.DOTALL)
#: A line that opens with a marker (a list item the model led with its passage's number).
_MARKER_LED = re.compile(rf"^\s*{MARKER_GROUP.pattern}\s*\S")
#: A sentence that ended: its full stop (or colon, semicolon), then perhaps quotes and markers.
_ENDED = re.compile(rf"[.!?:;][\"')]*(?:\s*{MARKER_GROUP.pattern})*\s*$")
#: A sentence that asks instead of saying ("In the paper that …, what mAP does AlexNet get?", "How far is that below
#: the supervised case?": the question's parts written back, with their markers): it claims nothing, so it is no
#: sentence of the answer.
_ASKS = re.compile(r"^(?:[^.!?]*\b(?:what|which|who|whom|whose|why|when|where|how)\b|(?:is|are|was|were|do|does|did|can"
                   r"|could|will|would|should|has|have)\b)[^.!?]*\?$", re.IGNORECASE)
#: A sentence that short is no loop when said twice ("Yes.").
_MIN_REPEAT_WORDS = 3


def runaway(text: str) -> bool:
    """True when the reply so far has started to loop: one marker three times in a row, or a finished sentence
    said again (what a small model does instead of stopping). Checked as the reply streams."""
    if _MARKER_LOOP.search(text):
        return True
    sentences = _bodies(text)
    if sentences and not _ENDED.search(text):
        sentences = sentences[:-1]  # the last one is still being written
    long = [s for s in sentences if len(s.split()) >= _MIN_REPEAT_WORDS]
    return len(set(long)) < len(long)


def tidy_reply(raw: str, *, truncated: bool = False, echoes: tuple[str, ...] = ()) -> list[str]:
    """The reply's sentences: one per list line, each marker and each sentence once, no cut marker, no question
    (a part of the question written back), no instruction the model wrote back (``echoes``: what the prompt told
    it, in full or up to its colon: "This question asks 2 things; answer each one, citing its passage:"), and
    (when the token limit cut it) a last sentence that ends in "…"."""
    text = raw
    for echo in echoes:  # in full, or its lead before the list it gave
        lead = echo.split(":")[0] + ":" if ":" in echo else echo
        text = text.replace(echo, "").replace(lead, "")
    text = _REPEATED_MARKER.sub(r"\1", _CUT_MARKER.sub("", text.strip()))
    if truncated and text and not (_ENDED.search(text) or text.endswith("]")):
        text = text.rstrip(" ,;:-–") + " …"
    lines: list[str] = []
    items: list[bool] = []
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        bullet = _BULLET.match(line)
        line = bullet.group(1) if bullet else line
        items.append(bool(bullet or _MARKER_LED.match(line)))
        if lines and items[-1] and not _ENDED.search(lines[-1]):
            lines[-1] += "."  # a list item ends the line before it, which the model left without a full stop
        lines.append(line)
    if lines and items[-1] and not _ENDED.search(lines[-1]) and not lines[-1].endswith("…"):
        lines[-1] += "."
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        # split per line: a marker that opens a line belongs to that line's sentence, not the one before
        for sentence in split_sentences(line):
            numbered = _PART_NUMBER.match(sentence)
            sentence = numbered.group(1) if numbered else sentence
            body = _body(sentence)
            if (len(body.split()) >= _MIN_REPEAT_WORDS and body in seen) or _asks(sentence):
                continue
            seen.add(body)
            kept.append(sentence)
    return kept


def _asks(sentence: str) -> bool:
    text = " ".join(LOOSE_MARKER.sub(" ", sentence).split())
    return text.endswith("?") and bool(_ASKS.match(text))


def _bodies(text: str) -> list[str]:
    return [_body(s) for s in split_sentences(text)]


def _body(sentence: str) -> str:
    """A sentence without its markers, for telling repeats apart."""
    return " ".join(LOOSE_MARKER.sub(" ", sentence).lower().split()).rstrip(" .…")
