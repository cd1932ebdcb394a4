"""Settings precedence and prompt validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperqa_local.cli import build_parser, settings_from_args
from paperqa_local.errors import PromptError, SettingsError
from paperqa_local.prompts import CANNOT_ANSWER, load_prompts
from paperqa_local.settings import Settings


def test_precedence_defaults_toml_env_overrides(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "settings.toml").write_text("k = 4\nchunk_size = 300\n[retrieval]\nrrf_k = 10\n")
    assert Settings.load(home=home).k == 4
    assert Settings.load(home=home).rrf_k == 10
    monkeypatch.setenv("PAPERQA_K", "5")
    assert Settings.load(home=home).k == 5
    assert Settings.load(home=home, k=7).k == 7
    assert Settings.load(home=home).chunk_size == 300


def test_bad_values_name_the_field(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="k"):
        Settings.load(home=home, k=0)
    monkeypatch.setenv("PAPERQA_NOPE", "1")
    with pytest.raises(SettingsError, match="PAPERQA_NOPE"):
        Settings.load(home=home)
    monkeypatch.delenv("PAPERQA_NOPE")
    (home / "settings.toml").write_text("k = [")
    with pytest.raises(SettingsError, match="settings.toml"):
        Settings.load(home=home)


def test_collection_name_changes_with_embedding_and_chunking(home: Path) -> None:
    base = Settings.load(home=home)
    assert base.collection_name != base.with_overrides(chunk_size=128).collection_name
    assert base.collection_name == Settings.load(home=home, k=9).collection_name
    # existing libraries must keep opening: the name of the default collection is pinned
    assert base.collection_name == "papers-all-minilm-l6-v2-256-32-f35e59b325"


def test_field_tags_drive_reopen_collection_and_ui() -> None:
    assert Settings.fields_tagged("reopen") == {"home", "chroma_url", "embed_model", "embed_batch_size",
                                                "chunk_size", "chunk_overlap", "embed_backend", "embed_base_url",
                                                "embed_api_model", "embed_concurrency", "search_ef"}
    assert Settings.fields_tagged("collection") == {"embed_model", "chunk_size", "chunk_overlap"}
    with pytest.raises(KeyError, match="unknown settings tag"):
        Settings.fields_tagged("reopens")
    ui = Settings.ui_fields()
    assert set(ui) == {"llm", "model", "openai_base_url", "openai_model", "k", "temperature", "max_tokens"}
    sliders = {name: spec for name, spec in ui.items() if spec["control"] == "slider"}
    assert set(sliders) == {"k", "temperature", "max_tokens"}
    for name, spec in sliders.items():  # a slider never offers a value that validation refuses
        for value in (spec["min"], spec["max"]):
            assert getattr(Settings(**{name: value}), name) == value
    assert Settings().sentence_cache == 20000


def test_save_persists_selected_fields(home: Path) -> None:
    Settings.load(home=home, temperature=0.3, k=9).save(["temperature", "k"])
    again = Settings.load(home=home)
    assert again.temperature == 0.3 and again.k == 9


def test_cli_flags_from_settings_fields(home: Path) -> None:
    args = build_parser().parse_args(["--home", str(home), "search", "q", "-k", "3", "--llm", "extractive"])
    s = settings_from_args(args)
    assert (s.home, s.k, s.llm) == (home, 3, "extractive")


def test_prompts_load_and_validate(tmp_path: Path) -> None:
    prompts = load_prompts()
    assert CANNOT_ANSWER in prompts.render("system")
    assert "[1] A" in prompts.render("answer", context="[1] A", question="q?")
    (tmp_path / "answer.txt").write_text("only {question}")
    with pytest.raises(PromptError, match=r"answer.txt: missing variable\(s\) \{context\}"):
        load_prompts(tmp_path)
    (tmp_path / "answer.txt").write_text("{context} {question} {nonsense}")
    with pytest.raises(PromptError, match="unknown"):
        load_prompts(tmp_path)
    (tmp_path / "answer.txt").write_text("Mine: {context}\n{question}")
    assert load_prompts(tmp_path).render("answer", context="c", question="q").startswith("Mine:")
