"""Decisions scored from the model's probabilities, not parsed from its free text.

A 1.5B model asked "yes, no or maybe?" writes "yes" to nearly everything; its first-token
probabilities still rank the options usefully once each option's prior bias is removed.
So a decision is: the log-probability of each option's first token given the evidence
(one forward pass, ``LLM.first_token_logprobs``), plus a per-option offset calibrated on
the tuning part of a labelled set (``calibration.json``: per decision kind and model), then
the arg-max. The same mechanism decides whether the evidence answers a question at all.

Backends without token probabilities (extractive, most endpoints) fall back to evidence
similarity with a threshold from the same file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

#: Decision kinds: the options (label -> first-token spellings) the model's reply may start with.
OPTIONS: dict[str, dict[str, list[str]]] = {
    "verdict": {"yes": ["yes", "Yes", "YES"], "no": ["no", "No", "NO"], "maybe": ["maybe", "Maybe", "MAYBE"]},
    "verify": {"SUPPORT": ["SUPPORT", "Support", "support"], "CONTRADICT": ["CONTRADICT", "Contradict", "contradict"],
               "NOT_ENOUGH_INFO": ["NEI", "Nei", "nei"]},
}


@dataclass
class Decision:
    """The chosen label and the calibrated probability of every option."""

    label: str
    probabilities: dict[str, float] = field(default_factory=dict)
    scored: bool = True  # False: decided by the similarity fallback, no model probabilities
    logprobs: dict[str, float] = field(default_factory=dict)  # the model's, before offsets (what calibration fits)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "scored": self.scored, "logprobs": {k: round(v, 4) for k, v in self.logprobs.items()}}


def decide(logprobs: dict[str, float], offsets: dict[str, float] | None = None) -> Decision:
    """Arg-max of log-probability + offset; probabilities renormalised over the options."""
    offsets = offsets or {}
    adjusted = {k: v + offsets.get(k, 0.0) for k, v in logprobs.items()}
    top = max(adjusted.values())
    z = sum(math.exp(v - top) for v in adjusted.values())
    probs = {k: math.exp(v - top) / z for k, v in adjusted.items()}
    label = max(adjusted, key=lambda k: (adjusted[k], k))
    return Decision(label, probs, logprobs=dict(logprobs))


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def calibration(kind: str, model: str, path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """Offsets (or thresholds) calibrated for this decision kind and model; empty when none were."""
    table = _load(path).get(kind, {})
    return dict(table.get(model) or table.get("*") or {})


def save_calibration(kind: str, model: str, values: dict[str, float], path: Path = CALIBRATION_FILE) -> Path:
    """Record calibrated values (the eval harness does this on a tuning part, never on held-out data)."""
    data = dict(_load(path))
    data.setdefault(kind, {})[model] = {k: round(float(v), 4) for k, v in values.items()}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _load.cache_clear()
    return path


def fit_offsets(rows: list[tuple[dict[str, float], str]], grid: tuple[float, ...] = tuple(x / 4 for x in range(-16, 17)),
                rounds: int = 3) -> dict[str, float]:
    """Per-option offsets that maximise accuracy on ``rows`` of (log-probabilities, gold label).

    Coordinate ascent over a grid, the first option fixed at 0 (only differences matter);
    ties keep the smaller offset, so an uninformative option is not pushed around.
    """
    if not rows:
        return {}
    labels = list(rows[0][0])
    offsets = dict.fromkeys(labels, 0.0)

    def accuracy(off: dict[str, float]) -> float:
        return sum(decide(lp, off).label == gold for lp, gold in rows) / len(rows)

    for _ in range(rounds):
        for label in labels[1:]:
            best = max(grid, key=lambda x: (accuracy({**offsets, label: x}), -abs(x)))
            offsets[label] = best
    return offsets
