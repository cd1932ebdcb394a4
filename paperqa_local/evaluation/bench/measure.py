"""Timing helpers of the bench: a timer, latency percentiles, rates and ratios."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from paperqa_local.evaluation.metrics import mean, percentile

NAN = float("nan")


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["s"]`` holds the seconds."""
    box = {"s": 0.0}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def latency_stats(seconds: list[float]) -> dict[str, float]:
    """p50/p95/mean/max in milliseconds (NaN when there is nothing to summarise)."""
    if not seconds:
        return {"n": 0, "p50_ms": NAN, "p95_ms": NAN, "mean_ms": NAN, "max_ms": NAN}
    ms = [s * 1000.0 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(mean(ms) or 0.0, 2), "max_ms": round(max(ms), 2)}


def rate(count: int, seconds: float) -> float:
    """Items per second (NaN for no time)."""
    return round(count / seconds, 2) if seconds > 0 else NAN


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` rounded, or ``None`` when either is missing, zero or NaN."""
    if a is None or b is None or not b or a != a or b != b:
        return None
    return round(a / b, 3)
