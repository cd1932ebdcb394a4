"""The llama.cpp build: the AMX fix applied to its sources, and used where the CPU has AMX."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from paperqa_local.llms.models import model_path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("llama_cpp_amx_fix", ROOT / "deploy" / "llama_cpp_amx_fix.py")
amx_fix = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(amx_fix)

SHIPPED = """inline void ggml_tile_config_init(void) {
    static thread_local bool done = false;

    if (done) {
        return;
    }

    alignas(64) tile_config_t tc = {};
    tc.palette_id = 1;
    tc.start_row = 0;

    _tile_loadconfig(&tc);
    done = true;
}
"""


def _sources(root: Path, text: str) -> Path:
    path = root / "vendor" / "llama.cpp" / amx_fix.KERNELS
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_fix_keeps_the_tile_configuration_static_and_loads_it_on_every_call(tmp_path: Path) -> None:
    path = _sources(tmp_path, SHIPPED)
    assert amx_fix.main(["fix", str(tmp_path)]) == 0
    fixed = path.read_text()
    assert "    alignas(64) static thread_local tile_config_t tc = {};\n" in fixed
    assert "    alignas(64) tile_config_t tc = {};" not in fixed
    assert "done" not in fixed  # no once-per-thread shortcut left
    assert fixed.index("tc.palette_id = 1;") < fixed.index("_tile_loadconfig(&tc);\n}")
    unfixed = fixed
    for old, new in amx_fix.EDITS:
        unfixed = unfixed.replace(new, old)
    assert unfixed == SHIPPED  # nothing else touched
    assert "already fixed" in amx_fix.fix(tmp_path)  # `make install` run again
    assert path.read_text() == fixed


@pytest.mark.parametrize("text", [None, "// llama.cpp moved the tile configuration elsewhere\n"])
def test_fix_refuses_sources_it_does_not_know(tmp_path: Path, text: str | None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    if text is not None:
        _sources(tmp_path, text)
    assert amx_fix.main(["fix", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(tmp_path) in err  # one line naming the tree or file
    assert ("not found" in err) if text else ("found 0" in err)


def _cpu_has_amx() -> bool:
    try:
        return " amx_int8" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.integration
@pytest.mark.skipif(not _cpu_has_amx(), reason="this CPU has no AMX")
def test_installed_llama_cpp_reads_prompts_with_amx(models_dir: Path) -> None:
    """On an AMX CPU the build has ggml's AMX kernels and a batched prompt read through them survives (the
    unfixed kernels die with a protection fault here; run in a child so a crash fails this test alone)."""
    import llama_cpp

    assert "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode()
    script = (
        "import llama_cpp, sys\n"
        "llm = llama_cpp.Llama(sys.argv[1], n_ctx=512, n_threads=2, verbose=False)\n"
        "tokens = llm.tokenize(b'Residual networks ease the training of very deep models. ' * 20)\n"
        "llm.eval(tokens)\n"
        "print(llm.n_tokens)\n"
    )
    gguf = model_path("qwen2.5-coder-0.5b-instruct-q4_k_m", models_dir)
    run = subprocess.run([sys.executable, "-c", script, str(gguf)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"batched decode failed ({run.returncode}): {run.stderr[-400:]}"
    assert int(run.stdout.split()[-1]) > 100


ONNX_THEN_LLM = """
import sys
from pathlib import Path
from paperqa_local.embeddings import make_embedder
from paperqa_local.llms import get_llm
from paperqa_local.settings import Settings

home, models, onnx_models = (Path(a) for a in sys.argv[1:4])
llm = get_llm(Settings.load(home=home, models_dir=models, model="qwen2.5-coder-0.5b-instruct-q4_k_m", n_ctx=1024))
embedder = make_embedder(Settings.load(home=home, models_dir=onnx_models, embed_backend="onnx"))
for question in ("What color is the sky on a clear day?", "What color is fresh grass?", "What color is snow?"):
    embedder.embed([question] * 32)  # a query's vectors, then its answer, on this one thread
    messages = [{"role": "system", "content": "You are a terse assistant. Answer in one short sentence."},
                {"role": "user", "content": question}]
    print(llm.complete(messages, max_tokens=16, temperature=0.0).replace(chr(10), " "))
"""


@pytest.mark.integration
def test_the_onnx_embedder_and_the_local_model_take_turns_on_one_thread(home: Path, models_dir: Path,
                                                                        tmp_path: Path) -> None:
    """With embed_backend = onnx, each question's vectors and its answer are computed on one thread. On AMX CPUs
    onnxruntime's int8 GEMM loads its own tile shapes there; ggml, which loaded its shapes once per thread, then
    answered every later question with garbage. Any CPU runs it: it is how the product is used."""
    from paperqa_local.embeddings.onnx import build_onnx, is_built

    onnx_models = models_dir
    if not is_built(models_dir):
        onnx_models = tmp_path / "models"
        build_onnx(onnx_models)
    run = subprocess.run([sys.executable, "-c", ONNX_THEN_LLM, str(home), str(models_dir), str(onnx_models)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-400:]
    answers = run.stdout.strip().lower().splitlines()[-3:]
    assert len(answers) == 3
    assert ["blue" in answers[0], "green" in answers[1], "white" in answers[2]] == [True] * 3, answers
