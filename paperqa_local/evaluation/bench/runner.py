"""Run the bench sections in order and write their figures; ``paperqa-local eval bench`` calls ``run_command``.

    paperqa-local -v eval bench                          # full run (~20-30 min on 2 cores)
    paperqa-local -v eval bench --quick                  # tiny sizes, one model, two questions
    paperqa-local -v eval bench --only index,search      # some sections
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import time
import traceback
from collections.abc import Callable
from typing import Any

from paperqa_local.evaluation.bench.context import SECTIONS, BenchConfig, BenchContext
from paperqa_local.settings import Settings

log = logging.getLogger(__name__)

NOISY_LOGGERS = ("httpx", "chromadb", "sentence_transformers", "urllib3")
# Settings flags that name where a library lives: the bench gives each library its own temporary home.
_NOT_OVERRIDES = {"home", "chroma_url", "models_dir"}


def _runner(section: str) -> Callable[[BenchContext], dict[str, Any]]:
    from paperqa_local.evaluation.bench import answer_latency, index_throughput, llamaindex_baseline, search_latency

    return {"index": index_throughput.run, "search": search_latency.run, "answer": answer_latency.run,
            "baseline": llamaindex_baseline.run}[section]


def run_bench(config: BenchConfig, sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """Run ``sections`` in order; a failing section is recorded under ``errors`` and the others still run."""
    started = time.perf_counter()
    results: dict[str, Any] = {"meta": {
        "started": dt.datetime.now().isoformat(timespec="seconds"), "mode": "quick" if config.quick else "full",
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
        "sections": list(sections), "sizes": list(config.sizes), "models": list(config.models),
        "loadavg_start": _loadavg(),
    }, "errors": {}, "section_seconds": {}}
    ctx = BenchContext(config)
    try:
        for section in SECTIONS:
            if section not in sections:
                continue
            log.info("bench section: %s", section)
            t0 = time.perf_counter()
            try:
                results[section] = _runner(section)(ctx)
            except Exception as err:  # noqa: BLE001  (one broken section must not lose the others' figures)
                log.error("section %s failed: %s", section, err)
                log.debug("%s", traceback.format_exc())
                results["errors"][section] = f"{type(err).__name__}: {err}"
            results["section_seconds"][section] = round(time.perf_counter() - t0, 1)
    finally:
        ctx.close()
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["loadavg_end"] = _loadavg()
    return results


def _loadavg() -> list[float] | None:
    """Other work on the machine skews every figure: the 1/5/15-min load average is kept with them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover  (not on every platform)
        return None


def config_from_args(args: argparse.Namespace, settings: Settings) -> tuple[BenchConfig, tuple[str, ...]]:
    """The run's configuration from ``eval bench`` flags; settings flags given apply to every library."""
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    explicit = {k[4:]: v for k, v in vars(args).items() if k.startswith("set_") and v is not None}
    kw: dict[str, Any] = {"server": not args.no_server, "progress": not args.no_progress,
                          "models_dir": settings.models_path,
                          "overrides": {k: v for k, v in explicit.items() if k not in _NOT_OVERRIDES}}
    if args.out:
        kw["out"] = args.out
    if args.sizes:
        kw["sizes"] = tuple(int(x) for x in args.sizes.split(","))
    if args.budgets:
        kw["keyword_budgets"] = tuple(int(x) for x in args.budgets.split(",") if int(x) > 0)
    if args.models:
        kw["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.questions:
        kw["n_questions"] = args.questions
    if args.keep_synthetic:
        kw["keep_synthetic"] = args.keep_synthetic
    if args.queries:
        kw["n_queries"] = kw["n_synthetic_queries"] = args.queries
    config = BenchConfig.quick_config(**kw) if args.quick else BenchConfig(**kw)
    return config, sections


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """``eval bench``: run, write bench.json/bench.md/charts to ``--out``, print the tables; 1 if a section failed."""
    from paperqa_local.evaluation.bench.report import render_markdown, write_outputs

    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config, sections = config_from_args(args, settings)
    results = run_bench(config, sections)
    paths = write_outputs(results, config.out)
    print(render_markdown(results))
    print("Written: " + ", ".join(str(p) for p in paths.values()))
    return 1 if results["errors"] else 0
