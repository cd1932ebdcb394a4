"""Prompt templates live in ``prompts/``; this loads them and checks their variables.

A user folder (``settings.prompts_dir``) overrides file by file. A template that lacks a
required variable or uses an unknown one fails at start-up, not mid-answer.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paperqa_local.errors import PromptError

if TYPE_CHECKING:
    from paperqa_local.results import Context

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "prompts"

# The one "cannot answer" sentinel, honoured end to end (prompt -> parser -> every surface).
CANNOT_ANSWER = "NOT ANSWERED"
# What the optional per-passage summary writes for a passage that does not bear on the question.
IRRELEVANT = "IRRELEVANT"
# Values every template may use without the caller passing them.
CONSTANTS = {"cannot_answer": CANNOT_ANSWER, "irrelevant": IRRELEVANT}

# name -> (required variables, allowed variables)
SPECS: dict[str, tuple[set[str], set[str]]] = {
    "system": (set(), {"cannot_answer"}),
    "answer": ({"context", "question"}, {"context", "question", "cannot_answer"}),
    "condense": ({"history", "question"}, {"history", "question"}),
    "evidence_summary": ({"passage", "question", "irrelevant"}, {"passage", "question", "title", "location", "irrelevant"}),
    "passage": ({"number", "text"}, {"number", "title", "location", "text"}),
    "history_turn": ({"user", "assistant"}, {"user", "assistant"}),
    "verdict": ({"context", "question"}, {"context", "question"}),
    "verify": ({"context", "question"}, {"context", "question"}),
    "label_instruction": (set(), set()),
    "parts_instruction": ({"parts"}, {"parts", "count"}),
}


@dataclass(frozen=True)
class Prompts:
    """The loaded templates; ``render`` fills one with checked variables."""

    templates: dict[str, str]
    sources: dict[str, Path]

    def render(self, name: str, **values: object) -> str:
        values = {**CONSTANTS, **values}
        allowed = SPECS[name][1]
        return self.templates[name].format(**{k: v for k, v in values.items() if k in allowed}).strip()

    def passages(self, contexts: Sequence[Context]) -> str:
        """The numbered evidence block of the answer prompt: one ``passage`` template per context."""
        return "\n\n".join(
            self.render("passage", number=c.number, title=c.chunk.title, location=c.chunk.location, text=c.text)
            for c in contexts
        )


def _variables(text: str, path: Path) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as err:
        raise PromptError(f"{path}: bad template ({err}); write literal braces as {{{{ and }}}}") from None


def load_prompts(user_dir: Path | str | None = None) -> Prompts:
    """Load every template, user folder first; raise PromptError naming the file on a problem."""
    folders = [Path(user_dir).expanduser()] if user_dir else []
    if user_dir and not folders[0].is_dir():
        raise PromptError(f"{folders[0]}: prompts folder not found")
    folders.append(DEFAULT_DIR)
    templates: dict[str, str] = {}
    sources: dict[str, Path] = {}
    for name, (required, allowed) in SPECS.items():
        path = next((f / f"{name}{ext}" for f in folders for ext in (".txt", ".md") if (f / f"{name}{ext}").is_file()), None)
        if path is None:
            raise PromptError(f"prompt '{name}' not found in {', '.join(map(str, folders))}")
        text = path.read_text(encoding="utf-8")
        used = _variables(text, path)
        if missing := required - used:
            raise PromptError(f"{path}: missing variable(s) {', '.join('{' + m + '}' for m in sorted(missing))}")
        if unknown := used - allowed:
            raise PromptError(f"{path}: unknown variable(s) {', '.join('{' + u + '}' for u in sorted(unknown))}")
        templates[name] = text
        sources[name] = path
    return Prompts(templates, sources)
