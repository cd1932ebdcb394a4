"""Fix ggml's AMX kernels in llama.cpp's sources (llama-cpp-python's sdist) before they are compiled.

Why: on CPUs with AMX (Xeon Sapphire Rapids and later, the machines here) ggml multiplies K-quant
weights with AMX tiles, which reads prompts about 1.6x faster than its AVX-512 path. Two faults in how
it sets up the tiles (``ggml_tile_config_init``) are mended here:

- GCC drops the stores that fill the tile configuration, a local on the stack, before ``ldtilecfg``
  reads it: the first batched decode dies with a general protection fault (ggml-org/llama.cpp#20824,
  seen with GCC 12). Kept in static storage, the configuration is written before it is loaded.
- The configuration is loaded once per thread, but the tile shapes belong to the thread, not to ggml:
  onnxruntime's int8 GEMM (the ONNX embedder) loads its own on the same Python thread, after which
  ggml multiplied with the wrong shapes and the model wrote garbage. Loaded on every call, ggml's
  shapes are the ones in force (one instruction per multiply; onnxruntime checks its own the same way).

Usage: ``python deploy/llama_cpp_amx_fix.py SOURCE_DIR`` (the unpacked sdist, or its vendor/llama.cpp).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The kernels' file, under the llama.cpp tree.
KERNELS = "ggml/src/ggml-cpu/amx/mmq.cpp"

#: (shipped text, fixed text): each shipped text must occur exactly once.
EDITS = (
    ("""inline void ggml_tile_config_init(void) {
    static thread_local bool done = false;

    if (done) {
        return;
    }

    alignas(64) tile_config_t tc = {};
""", """inline void ggml_tile_config_init(void) {
    // loaded on every call: other AMX code on this thread (onnxruntime's int8 GEMM) loads its own shapes;
    // static: GCC drops the stores to a local before ldtilecfg reads it (#GP)
    alignas(64) static thread_local tile_config_t tc = {};
"""),
    ("""    _tile_loadconfig(&tc);
    done = true;
}
""", """    _tile_loadconfig(&tc);
}
"""),
)


def fix(root: Path) -> str:
    """Apply the fix under ``root``; a line saying what was done. ValueError when the sources differ."""
    found = sorted(root.glob(f"**/{KERNELS}"))
    if len(found) != 1:
        raise ValueError(f"{root}: expected one {KERNELS}, found {len(found)}")
    path = found[0]
    text = path.read_text()
    if all(text.count(new) == 1 for _, new in EDITS):
        return f"{path}: already fixed"
    for old, new in EDITS:
        if text.count(old) != 1:
            raise ValueError(f"{path}: the tile configuration code was not found (llama.cpp changed; check the fix)")
        text = text.replace(old, new)
    path.write_text(text)
    return f"{path}: AMX tile configuration kept in static storage and loaded on every call"


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
