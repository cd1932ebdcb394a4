"""The shipped Q4_K_M models run re-encoded as Q8_0: made once beside the original, remade when the
original changes, and never a reason for the local backend to fail."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from paperqa_local.errors import ModelError
from paperqa_local.llms import get_llm
from paperqa_local.llms.local import LocalLLM, local_model_path
from paperqa_local.llms.models import model_path
from paperqa_local.llms.requantize import is_current, requantize, requantized_path, runnable
from paperqa_local.settings import Settings

FAST = "qwen2.5-coder-0.5b-instruct-q4_k_m"
MESSAGES = [{"role": "system", "content": "You are a terse assistant. Answer in one short sentence."},
            {"role": "user", "content": "What color is the sky on a clear day?"}]


@pytest.fixture
def shipped(tmp_path: Path, fast_model: Path) -> Path:
    """A models folder of its own holding the installed 0.5B model (linked, not copied)."""
    folder = tmp_path / "models"
    folder.mkdir()
    link = model_path(FAST, folder)
    link.symlink_to(fast_model)
    return link


@pytest.mark.integration
def test_a_shipped_model_runs_re_encoded_and_answers_alike(shipped: Path, tmp_path: Path) -> None:
    assert Settings.load(home=tmp_path / "home").requantize == "none"  # the shipped file, unless asked
    settings = Settings.load(home=tmp_path / "home", models_dir=shipped.parent, model=FAST, n_ctx=2048,
                             requantize="q8_0")
    path = local_model_path(settings)
    assert path == requantized_path(shipped, "q8_0") == shipped.parent / f"{FAST}.q8_0.gguf"
    assert not list(shipped.parent.glob("*.partial"))
    made = path.stat().st_mtime_ns
    assert local_model_path(settings) == path and path.stat().st_mtime_ns == made  # made once

    llm = get_llm(settings)
    assert isinstance(llm, LocalLLM) and llm.path == path and llm.model == FAST  # calibrations keep their key
    assert llm._llm.metadata["general.file_type"] == "7"  # llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0
    assert "blue" in llm.complete(MESSAGES, max_tokens=24, temperature=0.0).lower()
    shipped_llm = get_llm(settings.with_overrides(requantize="none"))
    assert shipped_llm is not llm and shipped_llm.path == shipped


@pytest.mark.integration
def test_a_changed_original_is_re_encoded(shipped: Path) -> None:
    target = requantize(shipped, "q8_0")
    assert is_current(shipped, "q8_0")
    made = target.stat().st_mtime_ns
    assert requantize(shipped, "q8_0") == target and target.stat().st_mtime_ns == made
    # the copy was made from another file (say, before a reinstall): it is made again
    (target.with_name(target.name + ".source")).write_text('{"encoding": "q8_0", "source_size": 1}\n')
    assert not is_current(shipped, "q8_0")
    assert requantize(shipped, "q8_0") == target and is_current(shipped, "q8_0")
    assert target.stat().st_mtime_ns != made


def test_without_room_the_shipped_file_runs_with_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(b"GGUF" + bytes(4096))
    monkeypatch.setattr(shutil, "disk_usage", lambda _: SimpleNamespace(total=10**9, used=10**9, free=1024))
    with caplog.at_level(logging.WARNING):
        assert runnable(source, "q8_0") == source
    assert "using model.gguf as shipped" in caplog.text and "MiB free" in caplog.text
    assert not requantized_path(source, "q8_0").exists()


def test_a_file_llama_cpp_cannot_read_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "broken.gguf"
    source.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelError, match=r"^broken\.gguf: llama\.cpp could not re-encode it as q8_0$"):
        requantize(source, "q8_0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.gguf"]


def test_a_model_given_by_path_runs_as_given_and_unknown_encodings_are_named(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    with caplog.at_level(logging.INFO):
        assert local_model_path(Settings.load(home=tmp_path / "home", model=str(own), requantize="q8_0")) == own
    assert "mine.gguf" not in caplog.text  # not even tried: only the shipped catalog files are re-encoded
    with pytest.raises(ModelError, match="unknown encoding 'q3'"):
        requantize(own, "q3")
    assert not list(tmp_path.glob("*.q8_0.gguf"))


@pytest.mark.integration
def test_models_install_makes_the_copy_and_models_list_names_it(shipped: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from paperqa_local.cli import main

    flags = ["--home", str(tmp_path / "home"), "--models-dir", str(shipped.parent)]
    assert main(["models", "install", FAST, *flags]) == 0
    assert "runs as" not in capsys.readouterr().out and not is_current(shipped, "q8_0")  # default: as shipped
    flags.append("--requantize=q8_0")
    assert main(["models", "install", FAST, *flags]) == 0
    copy = requantized_path(shipped, "q8_0")
    assert f"{FAST} runs as: {copy}" in capsys.readouterr().out and is_current(shipped, "q8_0")
    assert main(["models", "list", *flags]) == 0
    assert f"{FAST}: installed, runs as {copy.name}" in capsys.readouterr().out
    assert main(["models", "list", *flags, "--requantize", "none"]) == 0
    assert f"{FAST}: installed  " in capsys.readouterr().out
