"""``paperqa-local models build-onnx`` and ``paperqa-local serve-embeddings``."""

from __future__ import annotations

import argparse
import sys

from paperqa_local.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081


def add_build_onnx_parser(models_sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    p = models_sub.add_parser("build-onnx", parents=parents, help="build the ONNX Runtime int8 embedding model "
                              "(embed_backend = onnx) into the models folder; skipped when up to date")
    p.add_argument("--force", action="store_true", help="rebuild even when an up-to-date build exists")
    p.set_defaults(func=cmd_build_onnx)


def add_serve_parser(sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    help_ = "Serve the embedding model as an OpenAI-compatible /v1/embeddings endpoint"
    description = (f"{help_}. --host and --port say where it listens (default {DEFAULT_HOST}:{DEFAULT_PORT}; "
                   "only when given on this command line: the UI's values in settings are not used).")
    p = sub.add_parser("serve-embeddings", help=help_, description=description, parents=parents, allow_abbrev=False)
    p.add_argument("--workers", type=int, default=1, help="worker processes, one model each (default 1)")
    p.add_argument("--threads", type=int, help="CPU threads per worker (default: the cores shared among workers)")
    p.set_defaults(func=cmd_serve)


def cmd_build_onnx(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.embeddings.onnx import build_onnx, is_built

    fresh = args.force or not is_built(settings.models_path, settings.embed_model)
    if fresh:
        print(f"building the ONNX int8 model of {settings.embed_model} (about a minute)...", file=sys.stderr)
    folder = build_onnx(settings.models_path, settings.embed_model, force=args.force)
    print(f"{settings.embed_model} (onnx int8): {folder}" + ("" if fresh else " (up to date)"))
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from paperqa_local.embeddings.server import serve

    host = getattr(args, "set_host", None) or DEFAULT_HOST  # the shared --host/--port flags, given here
    port = getattr(args, "set_port", None) or DEFAULT_PORT
    print(f"serving {settings.embed_model} ({settings.embed_backend}) at http://{host}:{port}/v1 "
          f"with {args.workers} worker(s)", file=sys.stderr)
    serve(settings, host=host, port=port, workers=args.workers, threads=args.threads)
    return 0
