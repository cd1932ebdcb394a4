"""Answer latency of the local models over the seeds questions, as a user of ``qa.stream`` sees it.

Times are wall clock from the call: the evidence event, the first token, the final answer. The
model is loaded (and run for one token) before timing, so load time is reported apart.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from tqdm import tqdm

from paperqa_local.evaluation.bench.context import WARMUP_QUESTION, BenchContext
from paperqa_local.evaluation.bench.measure import timer
from paperqa_local.evaluation.metrics import percentile

log = logging.getLogger(__name__)

GOALS = {"evidence_s": 1.0, "first_token_s": 8.0, "total_s": 25.0}


def load_model(settings: Any) -> float:
    """Load the model and generate one token; returns seconds (0 for a backend without a model)."""
    from paperqa_local.llms import get_llm
    from paperqa_local.llms.backends import BACKENDS

    if not BACKENDS[settings.llm].generates:
        return 0.0

    with timer() as t:
        llm = get_llm(settings)
        stream = llm.stream([{"role": "user", "content": "Say OK."}], max_tokens=1, temperature=0.0)
        try:
            for _ in stream:
                pass
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
    return round(t["s"], 3)


def model_overrides(model: str) -> dict[str, Any]:
    """The settings that make the pipeline answer with ``model``: a local model name, or "extractive", optionally
    with settings of its own after ``+`` ("qwen2.5-coder-1.5b-instruct-q4_k_m+prompt_lookup=10+cite_grammar=true"),
    so decoding variants are timed side by side in one run."""
    name, *extra = model.split("+")
    out: dict[str, Any] = {"llm": "extractive"} if name == "extractive" else {"llm": "local", "model": name}
    for item in extra:
        key, _, value = item.partition("=")
        out[key.strip()] = json.loads(value) if value.strip()[:1] in "0123456789-tf[{" else value.strip()
    return out


def time_stream(qa: Any, question: str, overrides: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(times in seconds from the call, final Answer) for one streamed question."""
    times: dict[str, Any] = {"evidence_s": None, "first_token_s": None, "total_s": None}
    answer = None
    start = time.perf_counter()
    for event in qa.stream(question, **overrides):
        now = round(time.perf_counter() - start, 3)
        if event.kind == "evidence" and times["evidence_s"] is None:
            times["evidence_s"] = now
        elif event.kind == "token" and times["first_token_s"] is None:
            times["first_token_s"] = now
        elif event.kind == "answer":
            answer = event.answer
    times["total_s"] = round(time.perf_counter() - start, 3)
    return times, answer


def summarize(rows: list[dict[str, Any]], goals: dict[str, float] = GOALS) -> dict[str, Any]:
    """p50/max per timing and how many questions met each goal."""
    out: dict[str, Any] = {"n": len(rows)}
    for key, limit in goals.items():
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = {
            "p50": round(percentile(values, 50), 3) if values else None,
            "max": round(float(max(values)), 3) if values else None,
            "goal": limit,
            "met": sum(1 for v in values if v <= limit),
            "of": len(rows),
        }
        out[key]["all_met"] = out[key]["met"] == len(rows) and bool(rows)
    for key in ("prompt_tokens", "completion_tokens", "gen_tokens_per_s"):
        values = [r[key] for r in rows if r.get(key)]
        out[key] = round(percentile(values, 50), 1) if values else None
    out["gold_cited"] = sum(1 for r in rows if r.get("gold_cited"))
    out["not_answered"] = sum(1 for r in rows if r.get("cannot_answer"))
    return out


def cites_gold(titles: list[str], gold: str) -> bool:
    """Whether one of the cited ``titles`` contains the gold title (case-insensitive)."""
    g = gold.lower()
    return any(g in (t or "").lower() for t in titles)


def run(ctx: BenchContext) -> dict[str, Any]:
    """Each model answers the seeds questions through ``qa.stream``, after one untimed warm-up question."""
    cfg = ctx.config
    qa = ctx.seeds_qa("embedded")
    questions = ctx.questions()
    out: dict[str, Any] = {"goals": GOALS, "questions": [{"question": q, "gold": g} for q, g in questions],
                           "models": {}}
    for model in cfg.models:
        overrides = model_overrides(model)
        entry: dict[str, Any] = {"rows": []}
        out["models"][model] = entry
        try:
            entry["load_s"] = load_model(qa.settings.with_overrides(**overrides))
            time_stream(qa, WARMUP_QUESTION, overrides)
        except Exception as err:  # noqa: BLE001  (a missing model is a figure, not a crash)
            log.warning("model %s unavailable: %s", model, err)
            entry["error"] = str(err)
            continue
        for question, gold in tqdm(questions, desc=f"answers {model}", unit="q", disable=not cfg.progress):
            times, answer = time_stream(qa, question, overrides)
            usage = answer.usage if answer else {}
            gen_s = (times["total_s"] - times["first_token_s"]) if times["first_token_s"] is not None else None
            completion = int(usage.get("completion_tokens") or 0)
            entry["rows"].append({
                "question": question, "gold": gold, **times,
                "prompt_tokens": int(usage.get("prompt_tokens") or 0), "completion_tokens": completion,
                "cached_tokens": int(usage.get("cached_tokens") or 0),
                "gen_tokens_per_s": round(completion / gen_s, 2) if gen_s and completion else None,
                "cannot_answer": bool(answer and answer.cannot_answer),
                "citations": len(answer.citations) if answer else 0,
                "unsupported": len(answer.unsupported) if answer else 0,
                "gold_cited": cites_gold([r.title for r in answer.references], gold) if answer else False,
                "pipeline_timings": dict(answer.timings) if answer else {},
                "text": answer.text if answer else "",
            })
        entry["summary"] = summarize(entry["rows"])
    return out
