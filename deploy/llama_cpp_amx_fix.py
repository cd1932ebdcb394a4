"""Fix ggml's AMX kernels in llama.cpp's sources (llama-cpp-python's sdist) before they are compiled.

Why: on CPUs with AMX (Xeon Sapphire Rapids and later, the machines here) ggml multiplies Q4_K/Q6_K
weights with AMX tiles, which reads prompts about 1.6x faster than its AVX-512 path. But GCC drops the
stores that fill the tile configuration, a local on the stack, before ``ldtilecfg`` reads it: the
first batched decode then dies with a general protection fault (ggml-org/llama.cpp#20824, seen with
GCC 12). Kept in static storage, the configuration is written before it is loaded.

Usage: ``python deploy/llama_cpp_amx_fix.py SOURCE_DIR`` (the unpacked sdist, or its vendor/llama.cpp).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The kernels' file, under the llama.cpp tree.
KERNELS = "ggml/src/ggml-cpu/amx/mmq.cpp"
LOCAL = "    alignas(64) tile_config_t tc = {};\n"
STATIC = "    alignas(64) static thread_local tile_config_t tc = {};  // static: GCC keeps the stores ldtilecfg reads\n"


def fix(root: Path) -> str:
    """Apply the fix under ``root``; a line saying what was done. ValueError when the sources differ."""
    found = sorted(root.glob(f"**/{KERNELS}"))
    if len(found) != 1:
        raise ValueError(f"{root}: expected one {KERNELS}, found {len(found)}")
    path = found[0]
    text = path.read_text()
    if STATIC in text:
        return f"{path}: already fixed"
    if text.count(LOCAL) != 1:
        raise ValueError(f"{path}: the tile configuration line was not found (llama.cpp changed; check the fix)")
    path.write_text(text.replace(LOCAL, STATIC))
    return f"{path}: AMX tile configuration kept in static storage"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: llama_cpp_amx_fix.py SOURCE_DIR", file=sys.stderr)
        return 2
    try:
        print(fix(Path(argv[1])))
    except (OSError, ValueError) as err:
        print(f"llama_cpp_amx_fix: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
