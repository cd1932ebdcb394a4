"""``paperqa-local eval retrieval|qa|run``: the benchmarks from the command line.

``eval run CONFIG.toml`` reproduces a figure with one command: the file names the benchmark,
its data (paths relative to the repository root) and the settings it was measured with;
flags given on the command line win over the file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from paperqa_local.errors import SettingsError
from paperqa_local.settings import Settings

RUN_KEYS = {"kind", "name", "dataset", "beir", "split", "modes", "limit", "corpus", "out", "index_home",
            "question_suffix", "variants"}
PATH_KEYS = ("dataset", "beir", "corpus", "index_home", "out")


def add_eval_parser(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
    """Register ``eval`` and its sub-commands on the main parser; handlers are ``run(args, settings) -> int``."""
    parents = parents or []
    p = subparsers.add_parser("eval", help="Benchmarks: retrieval (BEIR) and answer quality",
                              description="Benchmarks: retrieval (BEIR) and answer quality", parents=parents)
    sub = p.add_subparsers(dest="eval_command", required=True, metavar="BENCHMARK")

    r = sub.add_parser("retrieval", parents=parents, help="nDCG@10, Recall@10/100, MRR, latency per mode (BEIR)")
    r.add_argument("--beir", required=True, type=Path, help="dataset folder: corpus.jsonl, queries.jsonl, qrels/")
    r.add_argument("--split", default="train", help="qrels split (qrels/<split>.tsv)")
    r.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated: bm25,dense,hybrid")
    _common(r)
    r.set_defaults(func=run_retrieval)

    q = sub.add_parser("qa", parents=parents, help="answer quality: labels, key facts, citations, abstention")
    q.add_argument("--dataset", required=True, type=Path, help="questions JSONL (PubMedQA or seeds format)")
    q.add_argument("--corpus", type=Path, help="corpus.jsonl or paper files/folder (default: beside the dataset, "
                                               "else the library in --home)")
    q.add_argument("--resume", action="store_true", help="skip ids already in the output's items.jsonl")
    q.add_argument("--question-suffix", help="text appended to each question (e.g. a label instruction)")
    _common(q)
    q.set_defaults(func=run_qa)

    c = sub.add_parser("run", parents=parents, help="run a benchmark described by a TOML file (evals/configs/)")
    c.add_argument("eval_config", type=Path, metavar="CONFIG.toml")
    c.add_argument("--resume", action="store_true", help="(qa) skip ids already answered")
    _common(c)
    c.set_defaults(func=run_config)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, help="only the first N queries/questions")
    p.add_argument("--out", type=Path, help="output folder (default eval-output/<name>-<time>)")
    p.add_argument("--index-home", type=Path, help="library home for the benchmark corpus "
                                                   "(default <home>/eval/<corpus>-<hash>)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--no-progress", action="store_true")


# ----------------------------------------------------------------------------- handlers
def run_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.common import output_dir
    from paperqa_local.evaluation.retrieval_eval import run_retrieval_eval

    modes = [m.strip() for m in str(args.modes).split(",") if m.strip()]
    name = f"{Path(args.beir).resolve().name}-{args.split}"
    out = output_dir(args.out, name)
    result = run_retrieval_eval(args.beir, split=args.split, modes=modes, limit=args.limit, settings=settings,
                                out=out, index_home=args.index_home, name=name, progress=not args.no_progress)
    _print(result, args.json)
    return 0


def run_qa(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.qa_eval import run_qa_eval

    summary = run_qa_eval(args.dataset, corpus=args.corpus, settings=settings, limit=args.limit,
                          resume=args.resume, out=args.out, index_home=args.index_home,
                          question_suffix=args.question_suffix, progress=not args.no_progress)
    _print(summary, args.json)
    return 0


def run_config(args: argparse.Namespace, settings: Settings) -> int:
    """Settings: CLI flags > the config's [settings] > the usual TOML/env/defaults."""
    cfg, overrides = load_eval_config(args.eval_config)
    explicit = {k[4:]: v for k, v in vars(args).items() if k.startswith("set_") and v is not None}
    settings = settings.with_overrides(**overrides).with_overrides(**explicit)
    name = cfg.get("name") or Path(args.eval_config).stem
    limit = args.limit if args.limit is not None else (cfg.get("limit") or None)
    out = args.out or cfg.get("out")
    index_home = args.index_home or cfg.get("index_home")
    kind = cfg.get("kind")
    if kind == "retrieval":
        from paperqa_local.evaluation.common import output_dir
        from paperqa_local.evaluation.retrieval_eval import run_retrieval_eval, run_retrieval_sweep

        beir = cfg.get("beir") or cfg.get("dataset")
        if not beir:
            raise SettingsError(f"{args.eval_config}: [eval] needs 'dataset' (a BEIR folder)")
        common = {"split": cfg.get("split", "train"), "modes": cfg.get("modes", ["bm25", "dense", "hybrid"]),
                  "limit": limit, "settings": settings, "index_home": index_home, "progress": not args.no_progress}
        if cfg.get("variants"):
            variants = {v.get("name") or f"variant {i}": {k: x for k, x in v.items() if k != "name"}
                        for i, v in enumerate(cfg["variants"], start=1)}
            result = run_retrieval_sweep(beir, variants, out=output_dir(out or f"eval-output/{name}", name),
                                         name=name, **common)
        else:
            result = run_retrieval_eval(beir, out=output_dir(out or f"eval-output/{name}", name), name=name, **common)
    elif kind == "qa":
        from paperqa_local.evaluation.qa_eval import run_qa_eval

        if not cfg.get("dataset"):
            raise SettingsError(f"{args.eval_config}: [eval] needs 'dataset' (a questions JSONL)")
        result = run_qa_eval(cfg["dataset"], corpus=cfg.get("corpus"), settings=settings, limit=limit,
                             resume=args.resume, out=out or f"eval-output/{name}-{settings.llm}",
                             index_home=index_home, question_suffix=cfg.get("question_suffix"),
                             name=f"{name}-{settings.llm}", progress=not args.no_progress)
    else:
        raise SettingsError(f"{args.eval_config}: [eval] kind must be 'retrieval' or 'qa' (got {kind!r})")
    _print(result, args.json)
    return 0


def load_eval_config(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """([eval] with paths made absolute, [settings] overrides) from a benchmark TOML file.

    Relative paths are relative to the repository root: the nearest folder above the file
    that holds ``pyproject.toml`` (else the file's own folder).
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise SettingsError(f"{file}: eval config not found")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SettingsError(f"{file}: not valid TOML ({err})") from None
    cfg = dict(data.get("eval", {}))
    unknown = sorted(set(cfg) - RUN_KEYS)
    if unknown:
        raise SettingsError(f"{file}: unknown [eval] key(s): {', '.join(unknown)}")
    root = next((d for d in file.parents if (d / "pyproject.toml").is_file()), file.parent)
    for key in PATH_KEYS:
        if cfg.get(key):
            cfg[key] = str((root / Path(cfg[key]).expanduser()).resolve())
    overrides = dict(data.get("settings", {}))
    if overrides.get("prompts_dir"):
        overrides["prompts_dir"] = str((root / Path(overrides["prompts_dir"])).resolve())
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"{file}: unknown setting(s) in [settings]: {', '.join(unknown)}")
    return cfg, overrides


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    report = Path(result.get("out", "")) / ("sweep.md" if result.get("kind") == "sweep" else "report.md")
    if report.is_file():
        print(report.read_text(encoding="utf-8").split("\n## ")[0].rstrip())
    print(f"\nresults in {result.get('out')}", file=sys.stderr)

