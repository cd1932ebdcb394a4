"""The shipped Q4_K_M models re-encoded once as Q8_0 (setting ``requantize``), for CPUs with AMX.

Why: the registry packages carry Q4_K_M files only. On a 2-core CPU with AMX, llama.cpp reads a prompt about
25% faster and generates about 14% faster from Q8_0 weights (its AMX int8 tiles take Q8_0 as stored); without
AMX it is 1.6x slower (measured in docs/results/quality.md, seventeenth pass). Q8_0 holds each Q4_K value to
within 1/254 of its block's largest value, an eighth of the Q4 step, so answers change only where rounding tips
a near tie (perplexity unchanged); the tune parts lost more such answers than they gained, so it is opt-in.

The copy sits beside the original as ``<name>.q8_0.gguf``, written to a ``.partial`` file and renamed,
under the models folder's install lock; a sidecar records the source's size and mtime, so a reinstalled
source is re-encoded. A folder that cannot be written to (or too little disk) keeps the shipped file,
with a warning: the answer comes from the shipped file, never not at all.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import time
from pathlib import Path

from paperqa_local.errors import ModelError

log = logging.getLogger(__name__)

#: Encodings a shipped model may be re-encoded to, and llama.cpp's file-type constant for each.
ENCODINGS = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0"}


def requantized_path(source: Path, encoding: str) -> Path:
    """Where the re-encoded copy of ``source`` lives (beside it)."""
    return source.with_name(f"{source.stem}.{encoding}.gguf")


def is_current(source: Path, encoding: str) -> bool:
    """Whether the re-encoded copy exists and was made from ``source`` as it is now (size and mtime)."""
    target = requantized_path(source, encoding)
    try:
        record = json.loads(_sidecar(target).read_text(encoding="utf-8"))
        st = source.stat()
    except (OSError, ValueError):
        return False
    return target.is_file() and record == _source_record(st, encoding)


def requantize(source: Path, encoding: str) -> Path:
    """The re-encoded copy of ``source`` (made now when missing or stale); ModelError (one line) on failure."""
    from paperqa_local.llms.models import install_lock

    if encoding not in ENCODINGS:
        raise ModelError(f"requantize: unknown encoding '{encoding}' (choose one of {', '.join(ENCODINGS)} or none)")
    target = requantized_path(source, encoding)
    if is_current(source, encoding):  # every model load asks: no lock when nothing is to be made
        return target
    with install_lock(target):
        if is_current(source, encoding):
            return target
        need = 2 * source.stat().st_size + 64 * 2**20  # Q8_0 is ~1.7x the Q4_K_M file
        free = shutil.disk_usage(target.parent).free
        if free < need:
            raise ModelError(f"{target.parent}: {free / 2**20:.0f} MiB free, re-encoding {source.name} as "
                             f"{encoding} needs {need / 2**20:.0f} MiB")
        log.warning("re-encoding %s as %s once (seconds; the copy is kept beside it)", source.name, encoding)
        partial = target.with_name(target.name + ".partial")
        started = time.perf_counter()
        try:
            _quantize(source, partial, encoding)
            os.replace(partial, target)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()
        _sidecar(target).write_text(json.dumps(_source_record(source.stat(), encoding)) + "\n", encoding="utf-8")
        log.info("%s written in %.1f s", target.name, time.perf_counter() - started)
    return target


def runnable(source: Path, encoding: str) -> Path:
    """The file to load: the re-encoded copy, or ``source`` itself (with a warning) when it cannot be made."""
    try:
        return requantize(source, encoding)
    except (ModelError, OSError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        log.warning("using %s as shipped: %s", source.name, reason)
        return source


def _quantize(source: Path, dest: Path, encoding: str) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, ENCODINGS[encoding])
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    from llama_cpp._utils import suppress_stdout_stderr

    with suppress_stdout_stderr(disable=log.isEnabledFor(logging.DEBUG)):  # llama.cpp logs every tensor
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(dest).encode(), ctypes.byref(params))
    if failed:
        raise ModelError(f"{source.name}: llama.cpp could not re-encode it as {encoding}")


def _source_record(st: os.stat_result, encoding: str) -> dict[str, object]:
    return {"encoding": encoding, "source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns}


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".source")
