"""``paperqa-local eval retrieval|qa|verify|run|bench|calibrate``: the benchmarks from the command line.

``eval run CONFIG.toml`` reproduces a figure with one command: the file names the benchmark,
its data (paths relative to the repository root) and the settings it was measured with;
flags given on the command line win over the file. ``eval bench`` measures indexing, search and
answer latency beside a plain LlamaIndex (``make bench``).
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

SPLITS = ("tune", "heldout", "all")  # evaluation/splits.py (not imported here: the CLI starts fast)
CALIBRATION_KINDS = ("verify", "verdict", "answerability")
RUN_KEYS = {"kind", "name", "dataset", "beir", "split", "modes", "limit", "corpus", "out", "index_home",
            "question_suffix", "variants"}
PATH_KEYS = ("dataset", "beir", "corpus", "index_home", "out")


def add_eval_parser(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> argparse.ArgumentParser:
    """Register ``eval`` and its sub-commands on the main parser; handlers are ``run(args, settings) -> int``."""
    parents = parents or []
    p = subparsers.add_parser("eval", help="Benchmarks: retrieval (BEIR), answer quality, latency",
                              description="Benchmarks: retrieval (BEIR), answer quality, latency", parents=parents)
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
    q.add_argument("--split", default="all", choices=SPLITS, help="tune / held-out part (default all)")
    _common(q)
    q.set_defaults(func=run_qa)

    v = sub.add_parser("verify", parents=parents, help="SciFact claim verification: label accuracy, evidence F1")
    v.add_argument("--beir", required=True, type=Path, help="SciFact in BEIR layout (queries.jsonl with metadata)")
    v.add_argument("--split", default="all", choices=SPLITS, help="tune / held-out part of the claims (default all)")
    v.add_argument("--resume", action="store_true", help="skip ids already in the output's items.jsonl")
    _common(v)
    v.set_defaults(func=run_verify)

    k = sub.add_parser("calibrate", parents=parents, help="fit decision offsets/weights on a tune run's items",
                       description="Fit a scored decision on the items of a --split tune run and record it in "
                                   "calibration.json under the items' model; held-out items are refused.")
    k.add_argument("calibrate_kind", choices=CALIBRATION_KINDS, metavar="KIND", help="verify | verdict | answerability")
    k.add_argument("--items", required=True, type=Path, nargs="+", help="items.jsonl of --split tune run(s)")
    k.add_argument("--calibration-file", type=Path, help="where to write (default paperqa_local/calibration.json)")
    k.add_argument("--json", action="store_true", help="print the result as JSON")
    k.set_defaults(func=run_calibrate)

    c = sub.add_parser("run", parents=parents, help="run a benchmark described by a TOML file (evals/configs/)")
    c.add_argument("eval_config", type=Path, metavar="CONFIG.toml")
    c.add_argument("--resume", action="store_true", help="(qa, verify) skip ids already answered")
    c.add_argument("--split", help="the config's split: (qa, verify) tune | heldout | all")
    _common(c)
    c.set_defaults(func=run_config)
    _bench_parser(sub, parents)
    return p


def _bench_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    from paperqa_local.evaluation.bench.context import SECTIONS

    b = sub.add_parser("bench", parents=parents, help="indexing, search and answer latency vs plain LlamaIndex",
                       description="Indexing, search and answer figures of one run, beside a plain LlamaIndex; "
                                   "settings flags apply to every library it builds (--max-tokens: answer length)")
    b.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of sections: {','.join(SECTIONS)}")
    b.add_argument("--quick", action="store_true", help="tiny sizes: seconds, for smoke tests")
    b.add_argument("--out", type=Path, help="output folder (default bench-output/)")
    b.add_argument("--no-server", action="store_true", help="skip the `chroma run` server measurements")
    b.add_argument("--sizes", help="synthetic library sizes in chunks, e.g. 1000,10000,100000")
    b.add_argument("--budgets", help="keyword budgets BM25 and hybrid are also measured at, e.g. 5000,2000 (0: none)")
    b.add_argument("--models", help="local models (or 'extractive'), comma separated")
    b.add_argument("--questions", type=int, help="how many seeds questions to answer")
    b.add_argument("--queries", type=int, help="how many search queries per measurement")
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    b.add_argument("--keep-synthetic", type=Path, help="keep the synthetic libraries in this folder; a later run "
                   "with it measures them without rebuilding (embedded store)")
    b.set_defaults(func=run_bench)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=int, help="only the first N queries/questions")
    p.add_argument("--out", type=Path, help="output folder (default eval-output/<name>-<time>)")
    p.add_argument("--index-home", type=Path, help="library home for the benchmark corpus "
                                                   "(default <home>/eval/<corpus>-<hash>)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--no-progress", action="store_true")


# ----------------------------------------------------------------------------- handlers
def run_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.retrieval_eval import run_retrieval_eval
    from paperqa_local.evaluation.workspace import output_dir

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
                          question_suffix=args.question_suffix, progress=not args.no_progress, split=args.split)
    _print(summary, args.json)
    return 0


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.verify_eval import run_verify_eval

    summary = run_verify_eval(args.beir, split=args.split, limit=args.limit, settings=settings, resume=args.resume,
                              out=args.out, index_home=args.index_home, progress=not args.no_progress)
    _print(summary, args.json)
    return 0


def run_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.calibrate import calibrate
    from paperqa_local.verdicts import CALIBRATION_FILE

    result = calibrate(args.calibrate_kind, args.items, settings=settings,
                       path=args.calibration_file or CALIBRATION_FILE)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['kind']} / {result['model']}: tune accuracy {result['accuracy_before']:.3f} -> "
              f"{result['accuracy_after']:.3f} on {result['rows']} items; {result['values']}")
        if "cross_validated_accuracy" in result:
            print(f"chosen: {result['method']} (5-fold cross-validated accuracy on the tune items: "
                  + ", ".join(f"{m} {a:.3f}" for m, a in result["cross_validated_accuracy"].items()) + ")"
                  + (f"; features: {', '.join(result['features']) or 'none'}" if "features" in result else ""))
        print(f"written to {result['calibration_file']}", file=sys.stderr)
    return 0


def run_bench(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.evaluation.bench.runner import run_command

    return run_command(args, settings)


def run_config(args: argparse.Namespace, settings: Settings) -> int:
    """Settings: CLI flags > the config's [settings] > the usual TOML/env/defaults."""
    cfg, overrides = load_eval_config(args.eval_config)
    if args.split:
        cfg["split"] = args.split
    explicit = {k[4:]: v for k, v in vars(args).items() if k.startswith("set_") and v is not None}
    settings = settings.with_overrides(**overrides).with_overrides(**explicit)
    name = cfg.get("name") or Path(args.eval_config).stem
    limit = args.limit if args.limit is not None else (cfg.get("limit") or None)
    out = args.out or cfg.get("out")
    index_home = args.index_home or cfg.get("index_home")
    kind = cfg.get("kind")
    if kind == "retrieval":
        from paperqa_local.evaluation.retrieval_eval import run_retrieval_eval, run_retrieval_sweep
        from paperqa_local.evaluation.workspace import output_dir

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
        split = cfg.get("split", "all")
        tag = f"{name}-{settings.llm}" if split == "all" else f"{name}-{split}-{settings.llm}"
        result = run_qa_eval(cfg["dataset"], corpus=cfg.get("corpus"), settings=settings, limit=limit,
                             resume=args.resume, out=out or f"eval-output/{tag}", index_home=index_home,
                             question_suffix=cfg.get("question_suffix"), name=tag, progress=not args.no_progress,
                             split=split)
    elif kind == "verify":
        from paperqa_local.evaluation.verify_eval import run_verify_eval

        beir = cfg.get("beir") or cfg.get("dataset")
        if not beir:
            raise SettingsError(f"{args.eval_config}: [eval] needs 'dataset' (a BEIR folder with claim metadata)")
        split = cfg.get("split", "all")
        result = run_verify_eval(beir, split=split, limit=limit, settings=settings, resume=args.resume,
                                 out=out or f"eval-output/{name}-{split}-{settings.llm}", index_home=index_home,
                                 name=f"{name}-{split}-{settings.llm}", progress=not args.no_progress)
    else:
        raise SettingsError(f"{args.eval_config}: [eval] kind must be 'retrieval', 'qa' or 'verify' (got {kind!r})")
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

