"""Calibrate the scored decisions on a tuning run's items, never on held-out ones.

``paperqa-local eval calibrate KIND --items RUN/items.jsonl [...]`` reads the items ``--split tune``
runs wrote and records what it fits in ``calibration.json`` (``verdicts.save_calibration``),
under the model the items name:

- ``verify`` (SciFact items): per-label offsets on the model's SUPPORT/CONTRADICT/NEI
  log-probabilities (``verdicts.fit_offsets``) or a linear score over them and the decision's features
  (``verdicts.fit_linear``: the features the run recorded, ``claim_verification.claim_features``, chosen
  forward), whichever 5-fold cross-validation inside the tune rows finds more accurate; for a backend
  without probabilities (extractive), the evidence-similarity ``threshold`` above which it says SUPPORT;
- ``verdict`` (PubMedQA items): the same choice for the yes/no/maybe log-probabilities of ``answer.verdict``;
- ``answerability`` (seeds or PubMedQA items): the logistic answer-or-refuse weights over
  relevance, coverage, missing names and, when present, the model's probability (``answerability.fit_answerability``).

Every row must say ``"split": "tune"``: a file with held-out (or unmarked) rows is refused, so
the held-out figures stay honest. Accuracy on the tune rows before (as the run decided) and
after (with the fitted values) is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from paperqa_local.answerability import FEATURES, answerable, fit_answerability
from paperqa_local.errors import PaperQAError
from paperqa_local.evaluation.splits import TUNE
from paperqa_local.evaluation.verify_metrics import NEI
from paperqa_local.evaluation.workspace import read_items
from paperqa_local.settings import Settings
from paperqa_local.verdicts import (
    CALIBRATION_FILE,
    calibration,
    cross_validated,
    decide,
    fit_linear,
    fit_offsets,
    linear_inputs,
    save_calibration,
)

KINDS = ("verify", "verdict", "answerability")
Row = dict[str, Any]


def tune_rows(items: str | Path, kind: str) -> list[Row]:
    """The answered rows of a tuning run's items file (latest per id); refuses any other part."""
    path = Path(items).expanduser()
    if not path.is_file():
        raise PaperQAError(f"{path}: items file not found")
    latest = {r["id"]: r for r in read_items(path) if "id" in r}
    rows = [r for r in latest.values() if not r.get("error")]
    if not rows:
        raise PaperQAError(f"{path}: no answered items")
    held = [r["id"] for r in latest.values() if r.get("split") != TUNE]
    if held:
        raise PaperQAError(f"{path}: {len(held)} item(s) are not from the tune part (e.g. {held[0]!r}, split "
                           f"{latest[held[0]].get('split')!r}); calibrate only on a run with --split tune")
    needed = "claim" if kind == "verify" else "question"
    if any(needed not in r for r in rows):
        raise PaperQAError(f"{path}: not {'verify' if kind == 'verify' else 'qa'} items ({kind} needs rows with "
                           f"'{needed}')")
    return rows


def calibrate(kind: str, items: str | Path | Sequence[str | Path], *, settings: Settings | None = None,
              path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """Fit ``kind`` on the items' tune rows, save it under their model, and report accuracy before/after.

    ``items``: one items file or several (say, the seeds and PubMedQA tune runs of one model, for answerability).
    """
    if kind not in KINDS:
        raise PaperQAError(f"calibrate: KIND must be one of {', '.join(KINDS)} (got {kind!r})")
    files = [items] if isinstance(items, (str, Path)) else list(items)
    rows = [r for file in files for r in tune_rows(file, kind)]
    models = sorted({str(r.get("model") or "") for r in rows})
    if len(models) != 1 or not models[0]:
        raise PaperQAError(f"{', '.join(map(str, files))}: items must come from one model "
                           f"(found {', '.join(models) or 'none'})")
    model = models[0]
    fit: Callable[..., tuple[dict[str, float], list[tuple[bool, bool]], dict[str, Any]]] = _FITS[kind]
    values, outcomes, info = fit(rows, settings or Settings(), calibration(kind, model, path))
    save_calibration(kind, model, values, path)
    n = len(outcomes)
    return {"kind": kind, "model": model, "items": [str(f) for f in files], "rows": n, "values": calibration(kind, model, path),
            "accuracy_before": round(sum(b for b, _ in outcomes) / n, 4),
            "accuracy_after": round(sum(a for _, a in outcomes) / n, 4), "calibration_file": str(path), **info}


# ----------------------------------------------------------------------------- fits
# Each returns (values to save, [(right before, right after) per row scored], what was chosen and why).
def _fit_verify(rows: list[Row], settings: Settings, old: dict[str, float]) -> tuple[dict, list, dict]:
    if any(r.get("logprobs") for r in rows):
        if not any("features" in r for r in rows if r.get("logprobs")):
            raise PaperQAError("verify: these items come from the whole-evidence label prompt (no 'features'); "
                               "re-run `eval run evals/configs/scifact_verify.toml --split tune` and calibrate on it")
        return _fit_scored([(r["logprobs"], r.get("features") or {}, r["label_gold"], r["label_pred"])
                            for r in rows if r.get("logprobs")])
    scored = [(float(r.get("probabilities", {}).get("similarity", 0.0)), r["label_gold"]) for r in rows]
    threshold = fit_threshold(scored)
    return {"threshold": threshold}, [(r["label_pred"] == g, ("SUPPORT" if s >= threshold else NEI) == g)
                                      for r, (s, g) in zip(rows, scored, strict=True)], {"method": "threshold"}


def _fit_verdict(rows: list[Row], settings: Settings, old: dict[str, float]) -> tuple[dict, list, dict]:
    scored = [r for r in rows if r.get("label_gold") and (r.get("verdict") or {}).get("logprobs")]
    if not scored:
        raise PaperQAError("verdict: no item has a scored verdict (answer.verdict with logprobs); run PubMedQA "
                           "with a backend that gives token probabilities (llm = local)")
    return _fit_scored([(r["verdict"]["logprobs"], r["verdict"].get("features") or {}, r["label_gold"],
                         r["verdict"]["label"]) for r in scored])


#: (log-probabilities, features, gold label, label the run chose)
Scored = tuple[dict[str, float], dict[str, float], str, str]


def _fit_scored(rows: list[Scored]) -> tuple[dict, list, dict]:
    """Nothing (the model's own arg-max), offsets, or a linear score over log-probabilities and features:
    whichever is most accurate on tune rows it was not fitted on (5-fold cross-validation inside the tune
    part; a tie keeps the simpler); then fitted on all of them. The linear score's features are chosen the
    same way, forward: the one that most raises the cross-validated accuracy joins, until none does."""
    offsets_rows = [(lp, gold) for lp, _, gold, _ in rows]

    def linear(train: list) -> dict[str, float]:
        return fit_linear([(linear_inputs(lp, feats), gold) for (lp, feats), gold in train])

    def with_features(names: Sequence[str]) -> list:
        return [((lp, {n: feats[n] for n in names if n in feats}), gold) for lp, feats, gold, _ in rows]

    def linear_cv(names: Sequence[str]) -> float:
        return cross_validated(with_features(names), linear, lambda x, v: decide(x[0], v, x[1]).label)

    candidates = sorted({n for _, feats, _, _ in rows for n in feats})
    chosen: list[str] = []
    linear_accuracy = linear_cv(chosen)
    while candidates:
        trials = {n: linear_cv([*chosen, n]) for n in candidates}
        best = max(candidates, key=lambda n: (trials[n], -candidates.index(n)))
        if trials[best] <= linear_accuracy:
            break
        chosen.append(best)
        candidates.remove(best)
        linear_accuracy = trials[best]
    cv = {"none": sum(decide(lp).label == gold for lp, gold in offsets_rows) / len(rows),
          "offsets": cross_validated(offsets_rows, fit_offsets, lambda lp, v: decide(lp, v).label),
          "linear": linear_accuracy}
    method = max(cv, key=lambda m: (cv[m], -list(cv).index(m)))
    values = {"none": dict, "offsets": lambda: fit_offsets(offsets_rows),
              "linear": lambda: linear(with_features(chosen))}[method]()
    outcomes = [(chosen_label == gold, decide(lp, values, feats).label == gold)
                for lp, feats, gold, chosen_label in rows]
    info = {"method": method, "cross_validated_accuracy": {m: round(a, 4) for m, a in cv.items()}}
    if method == "linear":
        info["features"] = chosen
    return values, outcomes, info


def _fit_answerability(rows: list[Row], settings: Settings, old: dict[str, float]) -> tuple[dict, list, dict]:
    scored = [r for r in rows if {"relevance", "coverage"} <= set(r.get("answerability") or {})]
    if len({bool(r["answerable"]) for r in scored}) < 2:
        raise PaperQAError("answerability: the items need both answerable and unanswerable questions with "
                           "answerability scores (PubMedQA alone has no unanswerable ones: use the seeds items)")
    features = [f for f in FEATURES if any(f in r["answerability"] for r in scored)]
    # questions below the relevance gate have no model score: they keep the threshold rule, as in the product
    weights = fit_answerability([(r["answerability"], bool(r["answerable"])) for r in scored
                                 if all(f in r["answerability"] for f in features)], features)

    def decision(r: Row, w: dict[str, float]) -> bool:
        return answerable(r["answerability"], w, settings)

    return weights, [(decision(r, old) == bool(r["answerable"]), decision(r, weights) == bool(r["answerable"]))
                     for r in scored], {"method": "logistic"}


_FITS = {"verify": _fit_verify, "verdict": _fit_verdict, "answerability": _fit_answerability}


def fit_threshold(scored: list[tuple[float, str]], positive: str = "SUPPORT", negative: str = NEI) -> float:
    """The similarity threshold (``>=`` says ``positive``) with the best accuracy on (score, gold) pairs.

    Candidates are the midpoints between neighbouring scores (and just outside them); ties go to the
    lowest. Labels other than the two (CONTRADICT for a backend that cannot say it) are wrong either way.
    """
    values = sorted({s for s, _ in scored})
    if not values:
        return 0.0
    candidates = [values[0] - 1e-3, *((a + b) / 2 for a, b in zip(values, values[1:], strict=False)), values[-1] + 1e-3]

    def right(t: float) -> int:
        return sum((s >= t and g == positive) or (s < t and g == negative) for s, g in scored)

    return round(max(candidates, key=lambda t: (right(t), -t)), 4)
