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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

#: Decision kinds: the options (label -> first-token spellings) the model's reply may start with.
OPTIONS: dict[str, dict[str, list[str]]] = {
    "verdict": {"yes": ["yes", "Yes", "YES"], "no": ["no", "No", "NO"], "maybe": ["maybe", "Maybe", "MAYBE"]},
    "verify": {"SUPPORT": ["SUPPORT", "Support", "support"], "CONTRADICT": ["CONTRADICT", "Contradict", "contradict"],
               # "NOT …": the model often begins "NOT ENOUGH INFO" (or the system prompt's "NOT ANSWERED")
               "NOT_ENOUGH_INFO": ["NEI", "Nei", "nei", "NOT ENOUGH INFO", "Not enough", "not enough"]},
}


@dataclass
class Decision:
    """The chosen label and the calibrated probability of every option."""

    label: str
    probabilities: dict[str, float] = field(default_factory=dict)
    scored: bool = True  # False: decided by the similarity fallback, no model probabilities
    logprobs: dict[str, float] = field(default_factory=dict)  # the model's, before calibration (what it fits)
    features: dict[str, float] = field(default_factory=dict)  # the other inputs a linear calibration reads

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
                "scored": self.scored, "logprobs": {k: round(v, 4) for k, v in self.logprobs.items()},
                "features": {k: round(v, 4) for k, v in self.features.items()}}


def decide(logprobs: dict[str, float], values: dict[str, float] | None = None,
           features: dict[str, float] | None = None) -> Decision:
    """Arg-max over the options; probabilities renormalised over them.

    ``values`` (``calibration.json``) are either per-option offsets added to the log-probabilities
    (``{"yes": 0.0, "no": 0.5}``) or a fitted linear score per option (``fit_linear``): keys ``"LABEL"`` (its
    bias) and ``"LABEL*INPUT"`` (a weight), where the inputs are the options' log-probabilities
    (``"lp:LABEL"``) and the decision's other ``features`` (say, the best evidence sentence's similarity).
    A linear calibration whose inputs are not all given decides by the model's log-probabilities alone.
    """
    values = values or {}
    inputs = linear_inputs(logprobs, features)
    weighted = {k.split("*", 1)[1] for k in values if "*" in k}
    if weighted and weighted <= set(inputs):
        # options the fit never saw (no bias of their own) cannot win
        adjusted = {k: values[k] + sum(values.get(f"{k}*{name}", 0.0) * x for name, x in inputs.items())
                    for k in logprobs if k in values}
    elif weighted:  # an input the calibration reads is missing: the model's own arg-max, uncalibrated
        adjusted = dict(logprobs)
    else:
        adjusted = {k: v + values.get(k, 0.0) for k, v in logprobs.items()}
    top = max(adjusted.values())
    z = sum(math.exp(v - top) for v in adjusted.values())
    probs = {k: math.exp(v - top) / z for k, v in adjusted.items()}
    label = max(adjusted, key=lambda k: (adjusted[k], k))
    return Decision(label, probs, logprobs=dict(logprobs), features=dict(features or {}))


def linear_inputs(logprobs: dict[str, float], features: dict[str, float] | None = None) -> dict[str, float]:
    """What a linear calibration reads: each option's log-probability, then the other features."""
    return {**{f"lp:{k}": v for k, v in logprobs.items()}, **(features or {})}


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def calibration(kind: str, model: str, path: Path = CALIBRATION_FILE) -> dict[str, float]:
    """Offsets, linear weights or thresholds calibrated for this decision kind and model; empty when none
    were, or when the tuning part chose none (``calibrate._fit_scored``)."""
    table = _load(path).get(kind, {})
    return dict(table[model] if model in table else table.get("*") or {})  # {}: calibrated to nothing


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


def fit_linear(rows: list[tuple[dict[str, float], str]], l2: float = 0.01, steps: int = 2000,
               lr: float = 0.5) -> dict[str, float]:
    """A multinomial logistic regression over ``rows`` of (inputs, gold label), in ``decide``'s key format.

    Inputs are standardised for the fit and the weights mapped back to raw units; L2 keeps a weight that
    the tuning part cannot pin down near zero. The inputs are every row's (rows lacking one are left out);
    the labels are the gold labels seen, in first-seen order (``decide`` never picks one the fit did not see).
    """
    names = list(dict.fromkeys(n for r, _ in rows for n in r))
    rows = [(r, g) for r, g in rows if all(n in r for n in names)]  # a row missing an input teaches nothing
    if not rows:
        return {}
    labels = list(dict.fromkeys(g for _, g in rows))
    x = np.array([[r[n] for n in names] for r, _ in rows], dtype=float)
    y = np.zeros((len(rows), len(labels)))
    y[np.arange(len(rows)), [labels.index(g) for _, g in rows]] = 1.0
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mean) / std
    w = np.zeros((xs.shape[1], len(labels)))
    b = np.zeros(len(labels))
    for _ in range(steps):
        z = xs @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / len(rows)
        w -= lr * (xs.T @ g + l2 * w)
        b -= lr * g.sum(axis=0)
    raw = w / std[:, None]
    bias = b - mean @ raw
    out = {label: float(bias[j]) for j, label in enumerate(labels)}
    out.update({f"{label}*{n}": float(raw[i, j]) for j, label in enumerate(labels) for i, n in enumerate(names)})
    return out


def cross_validated(rows: list[tuple[dict[str, float], str]], fit: Callable[[list], dict[str, float]],
                    score: Callable[[dict[str, float], dict[str, float]], str], folds: int = 5) -> float:
    """Accuracy of ``fit`` on rows it was not fitted on (``folds``-fold, rows dealt in turn): how a choice
    between calibrations is made on the tuning part alone."""
    right = 0
    for k in range(folds):
        train = [r for i, r in enumerate(rows) if i % folds != k]
        values = fit(train)
        right += sum(score(inputs, values) == gold for i, (inputs, gold) in enumerate(rows) if i % folds == k)
    return right / len(rows) if rows else 0.0
