"""``python -m evals.bench``: indexing, search and answer figures of one run, beside a plain LlamaIndex.

Prints the tables and writes bench.json, bench.md and PNG charts to ``--out`` (bench-output/).
Figures are measurements of this run on this machine, never pass/fail assertions.

    python -m evals.bench                         # full run (~20-30 min on 2 cores)
    python -m evals.bench --quick                 # tiny sizes, one model, two questions
    python -m evals.bench --only index,search     # some sections
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.bench_common import ROOT, SECTIONS, BenchConfig, BenchContext

log = logging.getLogger("evals.bench")


def _runner(section: str) -> Callable[[BenchContext], dict[str, Any]]:
    from evals import bench_answer, bench_baseline, bench_index, bench_search

    return {"index": bench_index.run, "search": bench_search.run, "answer": bench_answer.run,
            "baseline": bench_baseline.run}[section]


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of sections: {','.join(SECTIONS)}")
    p.add_argument("--quick", action="store_true", help="tiny sizes: seconds, for smoke tests")
    p.add_argument("--out", type=Path, default=ROOT / "bench-output", help="output folder (default bench-output/)")
    p.add_argument("--no-server", action="store_true", help="skip the `chroma run` server measurements")
    p.add_argument("--sizes", help="synthetic library sizes in chunks, e.g. 1000,10000,100000")
    p.add_argument("--models", help="local models (or 'extractive'), comma separated")
    p.add_argument("--questions", type=int, help="how many seeds questions to answer")
    p.add_argument("--queries", type=int, help="how many search queries per measurement")
    p.add_argument("--max-tokens", type=int, help="answer length limit")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> tuple[BenchConfig, tuple[str, ...]]:
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    kw: dict[str, Any] = {"out": args.out, "server": not args.no_server, "progress": not args.no_progress}
    if args.sizes:
        kw["sizes"] = tuple(int(x) for x in args.sizes.split(","))
    if args.models:
        kw["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.questions:
        kw["n_questions"] = args.questions
    if args.queries:
        kw["n_queries"] = kw["n_synthetic_queries"] = args.queries
    if args.max_tokens:
        kw["max_tokens"] = args.max_tokens
    config = BenchConfig.quick_config(**kw) if args.quick else BenchConfig(**kw)
    return config, sections


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config, sections = config_from_args(args)
    from evals.bench_report import render_markdown, write_outputs

    results = run_bench(config, sections)
    paths = write_outputs(results, config.out)
    print(render_markdown(results))
    print("Written: " + ", ".join(str(p) for p in paths.values()))
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
