"""The one home of every setting.

Precedence, lowest to highest: defaults < TOML file < env ``PAPERQA_*`` < explicit
overrides (CLI flags, ``PaperQA(**overrides)``, UI). The TOML file is
``--config``/``PAPERQA_CONFIG`` when given, else ``<home>/settings.toml`` if it exists.
Fields are described as data: descriptions double as CLI help and UI labels, and
``json_schema_extra`` tags say what a field drives (see ``TAGS``), so no other module keeps a
hand list of field names.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from paperqa_local import offline  # noqa: F401  (sets offline env first)
from paperqa_local.errors import SettingsError

ENV_PREFIX = "PAPERQA_"
SETTINGS_FILE = "settings.toml"

# The one place each default model name is written; other modules import these.
DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

#: Field tags (``json_schema_extra`` keys) and what they drive.
TAGS = {
    "reopen": "changing it reopens the library (PaperQA.update_settings)",
    "collection": "part of the collection key: changing it builds a new collection, never mixes vectors",
    "ui": "shown in the UI's Settings tab; the value is the control: {'control': kind, 'min', 'max', 'step'}",
}
_REOPEN = {"reopen": True}
_COLLECTION = {"reopen": True, "collection": True}


def _slider(lo: float, hi: float, step: float) -> dict[str, Any]:
    """UI-friendly slider range (narrower than what validation allows)."""
    return {"ui": {"control": "slider", "min": lo, "max": hi, "step": step}}


def _ui(control: str) -> dict[str, Any]:
    return {"ui": {"control": control}}


def default_home() -> Path:
    return Path(user_data_dir("paperqa_local", appauthor=False))


class Settings(BaseModel):
    """Typed settings; see the module docstring for where values come from."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- library ---------------------------------------------------------
    home: Path = Field(default_factory=default_home, description="Library home (Chroma, manifest, models, settings)",
                       json_schema_extra=_REOPEN)
    chroma_url: str | None = Field(None, description="Chroma server URL (http://host:port); embedded store when empty",
                                   json_schema_extra=_REOPEN)
    embed_model: str = Field(DEFAULT_EMBED_MODEL, json_schema_extra=_COLLECTION,
                             description=f"Embedding model: '{DEFAULT_EMBED_MODEL}' (bundled) or a local folder")
    embed_batch_size: int = Field(64, ge=1, le=4096, description="Chunks per embedding batch", json_schema_extra=_REOPEN)
    embed_backend: Literal["local", "onnx", "openai"] = Field(
        "local", json_schema_extra=_REOPEN,
        description="Who computes embed_model's vectors: in-process sentence-transformers (local), its ONNX Runtime int8 "
                    "build (onnx; made by `paperqa-local models build-onnx`) or an OpenAI-compatible /v1/embeddings "
                    "endpoint (openai); the same model's vectors, so backends share a collection")
    embed_base_url: str = Field("http://127.0.0.1:8081/v1", json_schema_extra=_REOPEN,
                                description="OpenAI-compatible embeddings endpoint (embed_backend = openai)")
    embed_api_model: str | None = Field(None, json_schema_extra=_REOPEN,
                                        description="Model name at the embeddings endpoint (default: embed_model's name)")
    embed_concurrency: int = Field(4, ge=1, le=64, json_schema_extra=_REOPEN,
                                   description="Embedding requests in flight at once (embed_backend = openai)")
    chunk_size: int = Field(256, ge=32, le=4096, description="Chunk size in tokens (tiktoken cl100k)",
                            json_schema_extra=_COLLECTION)
    chunk_overlap: int = Field(32, ge=0, le=1024, description="Overlap between chunks in tokens",
                               json_schema_extra=_COLLECTION)
    max_file_mb: float = Field(200.0, gt=0, description="Files larger than this are refused")

    # --- retrieval -------------------------------------------------------
    k: int = Field(6, ge=1, le=100, description="Passages given to the model", json_schema_extra=_slider(1, 20, 1))
    candidates: int = Field(50, ge=1, le=1000, description="Candidates fetched from each retriever before fusion")
    search_ef: int = Field(400, ge=10, le=10000, json_schema_extra=_REOPEN,
                           description="How wide a vector search looks (Chroma's HNSW ef_search; its default, 100, "
                           "missed near neighbours, differently after each load). Stored on the collection; Chroma "
                           "applies it when it next loads the index (a running server: after a restart)")
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode")
    fusion: Literal["rrf", "weighted"] = Field(
        "weighted", description="How dense and BM25 rankings are fused: weighted min-max scores or reciprocal ranks")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (fusion = rrf)")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in fusion")
    bm25_weight: float = Field(1.5, ge=0, description="Weight of the BM25 ranking in fusion")
    keyword_budget: int = Field(5_000, ge=0, description="Keyword search scores at most this many postings in "
                                "full; past it, candidates come from the query's rarest words and are re-scored "
                                "with the whole query (0: no limit; 5,000 leaves SciFact's rankings as they are and "
                                "keeps 10^6-chunk searches within 100 ms: docs/results/scale.md)")
    parallel_search: bool = Field(False, description="Hybrid search runs its keyword half on a thread beside the "
                                  "dense half; off by default: no faster on 2 cores (docs/results/scale.md)")
    per_paper_cap: int = Field(2, ge=1, description="At most this many passages from one paper")
    rerank_depth: int = Field(12, ge=0, le=200, description="Fused candidates re-ranked by their best sentence (0: off)")
    sentence_weight: float = Field(2.0, ge=0, description="Weight of the best-sentence cosine in the re-rank")
    sentence_cache: int = Field(20000, ge=0, description="Sentence vectors kept in memory for the re-rank and "
                                "evidence (sweeps over many questions raise it)")

    # --- evidence and answer --------------------------------------------
    evidence_budget: int = Field(1200, ge=64, description="Token budget for the passages sent to the model")
    min_relevance: float = Field(0.30, ge=-1, le=1, description="Below this best dense similarity the papers do not answer")
    min_coverage: float = Field(0.02, ge=0, le=1, description="Below this share of the question's rare terms in one passage the papers do not answer")
    max_missing: float = Field(0.16, ge=0, le=1.01, description="At or above this share of the question's IDF weight on names no passage mentions (PaLM, GSM8K) the papers do not answer")
    max_unstated: float = Field(1.0, ge=0, le=1.01, description="At or above this share of the kinds of detail the question asks for (epochs, learning rate, GPUs, latency: asked_details.py) that no passage about its subject states, the papers do not answer (1.0: when none is stated)")
    max_apart: float = Field(0.16, ge=0, le=1.01, description="A yes/no question with at least this share of its IDF weight on names that no evidence paper mentions together with its other names (\"Is RESTGPT built on GPT-4?\" where RESTGPT's paper never names GPT-4) is not answered: no paper states the relation asked about (tune parts: unanswerable 0.35-0.52, every answerable yes/no question 0; docs/results/quality.md)")
    min_identify_coverage: float = Field(0.2, ge=0, le=1, description="A question asking which paper or method fits a description (\"Which paper proposes …?\") whose best passage holds less of its rare terms is not answered: any paper named would be a wrong one (tune parts: right answers at 0.25 and above; an off-topic one at 0.14)")
    support_threshold: float = Field(0.45, ge=0, le=1, description="Sentence support score below which a sentence is flagged")
    score_refusals: bool = Field(False, description="Read the local model's probability of answering also for "
                                 "questions the thresholds refuse (tune runs, so the answerability calibration "
                                 "learns from them; one extra prompt evaluation per refusal); a yes/no question's verdict is "
                                 "then scored too, so the model's raw verdict is measured on every question")
    question_parts: bool = Field(True, description="Split a multi-part question: passages are sought for each part and the model is asked to answer each (chosen on the seeds tune part: docs/results/quality.md)")
    complete_answers: bool = Field(True, description="Add, quoted, the best evidence sentence for what the answer leaves out: a paper the question names (a name only that evidence paper mentions), a part of the question, an asked number; a refusal made only by a number the passage does not state becomes the sentence stating it, one of a comparison of named papers each paper's best sentence; an answer with no number to a question asking only numbers says so (completeness.py)")
    summarize_evidence: bool = Field(False, description="Summarise each passage with the LLM first (slow on CPU)")
    cite_grammar: bool = Field(False, description="A grammar lets the model write only sentences that end in markers of the given passages (local; openai with openai_grammar_field); measured in docs/results/quality.md")
    prompts_dir: Path | None = Field(None, description="Folder with your own prompt files")

    # --- language model --------------------------------------------------
    llm: Literal["local", "openai", "extractive"] = Field("local", description="Answer backend",
                                                          json_schema_extra=_ui("radio"))
    model: str = Field(DEFAULT_LOCAL_MODEL, description="Local model name or path to a GGUF file",
                       json_schema_extra=_ui("installed_models"))
    models_dir: Path | None = Field(None, description="Where GGUF models live (default: models/ in the per-user data dir, shared by all homes)")
    requantize: Literal["none", "q8_0"] = Field(
        "none", description="Local model: run a shipped Q4_K_M model as shipped (none) or re-encoded once as Q8_0 "
        "(beside it, made by `models install` or at first use): on a CPU with AMX ~20% quicker answers at the same "
        "perplexity, without AMX 1.6x slower; not the default: the tune parts lost more answers than they gained "
        "(docs/results/quality.md, seventeenth pass). A GGUF given by path always runs as given")
    n_ctx: int = Field(4096, ge=512, description="Local model context window")
    n_threads: int | None = Field(None, ge=1, description="CPU threads for the local model (default all cores)")
    flash_attn: bool = Field(True, description="Local model: llama.cpp's fused attention kernel (on CPUs too: 7% faster "
                             "prompts at equal answer quality, measured in docs/results/quality.md)")
    prompt_lookup: int = Field(0, ge=0, le=32, description="Local model: prompt-lookup decoding, tokens drafted from the prompt per step (0: off; measured in docs/results/bench.md)")
    openai_base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint",
                                 json_schema_extra=_ui("textbox"))
    openai_model: str = Field(DEFAULT_OPENAI_MODEL, description="Model name at the OpenAI-compatible endpoint",
                              json_schema_extra=_ui("textbox"))
    openai_api_key_env: str = Field("OPENAI_API_KEY", description="Env var that holds the API key")
    openai_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the endpoint")
    openai_repeat_penalty: float | None = Field(None, gt=0, description="Sent as llama.cpp's repeat_penalty "
                                                "(llama_cpp.server defaults to 1.1, which changes greedy answers; "
                                                "1.0 answers as the local backend does); unset: not sent, "
                                                "as hosted APIs reject it")
    openai_grammar_field: str | None = Field(None, description="With cite_grammar: the request field the endpoint "
                                             "takes a GBNF grammar in ('grammar' for llama.cpp's servers, "
                                             "'guided_grammar' for vLLM); unset: none is sent and the answer's "
                                             "post-checks alone keep citations honest")
    openai_concurrency: int = Field(8, ge=1, le=256, description="Requests to the OpenAI-compatible endpoint in "
                                    "flight at once (also how many UI questions are answered at once)")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature",
                               json_schema_extra=_slider(0.0, 1.5, 0.05))
    max_tokens: int = Field(256, ge=16, le=8192, description="Answer length limit in tokens",
                            json_schema_extra=_slider(32, 2048, 32))

    # --- web UI ----------------------------------------------------------
    host: str = Field("127.0.0.1", description="UI bind address")
    port: int = Field(7860, ge=0, le=65535, description="UI port")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file the UI accepts")

    # --- derived -----------------------------------------------------------
    @property
    def models_path(self) -> Path:
        return self.models_dir or default_home() / "models"

    @property
    def collection_name(self) -> str:
        """Changing a ``collection`` field (embedding model, chunking) builds a new collection, never mixes vectors.

        Readable part plus a hash of the values in field order (``papers-all-minilm-l6-v2-256-32-<hash>``);
        the scheme is fixed so existing libraries keep opening.
        """
        values = [str(getattr(self, name)) for name in _tagged(type(self), "collection")]
        digest = hashlib.sha256("|".join([*values, "v2"]).encode()).hexdigest()[:10]
        stems = ["".join(c if c.isalnum() else "-" for c in Path(v).name.lower())[:30].strip("-") for v in values]
        return "-".join(["papers", *stems, digest])

    @property
    def ui_concurrency(self) -> int:
        """UI questions answered at once: one llama.cpp context generates one at a time, an endpoint many."""
        return 1 if self.llm == "local" else self.openai_concurrency

    @classmethod
    def fields_tagged(cls, tag: str) -> set[str]:
        """Names of the fields carrying ``tag`` (one of ``TAGS``), e.g. ``fields_tagged("reopen")``."""
        return set(_tagged(cls, tag))

    @classmethod
    def ui_fields(cls) -> dict[str, dict[str, Any]]:
        """The Settings tab, in field order: name -> its control ({'control': 'slider', 'min': ..., ...})."""
        return {name: dict(_extra(field)["ui"]) for name, field in cls.model_fields.items() if "ui" in _extra(field)}

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some fields changed (validated); ``None`` values are ignored."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(clean) - set(type(self).model_fields))
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
        try:
            return type(self).model_validate({**self.model_dump(), **clean})
        except ValidationError as err:
            raise SettingsError(_one_line(err)) from None

    @classmethod
    def load(cls, config: Path | str | None = None, **overrides: Any) -> Settings:
        """Defaults < TOML < env PAPERQA_* < overrides."""
        overrides = {k: v for k, v in overrides.items() if v is not None}
        env = _from_env()
        home = Path(overrides.get("home") or env.get("home") or default_home()).expanduser()
        config = config or os.environ.get(ENV_PREFIX + "CONFIG")
        toml_path = Path(config).expanduser() if config else home / SETTINGS_FILE
        from_file: dict[str, Any] = {}
        if config and not toml_path.is_file():
            raise SettingsError(f"{toml_path}: settings file not found")
        if toml_path.is_file():
            try:
                from_file = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
                raise SettingsError(f"{toml_path}: not valid TOML ({err})") from None
            from_file = _flatten(from_file)
        merged = {**from_file, **env, **overrides, "home": home}
        try:
            return cls.model_validate(merged)
        except ValidationError as err:
            source = f"{toml_path}: " if from_file else ""
            raise SettingsError(source + _one_line(err)) from None

    def save(self, fields: list[str] | None = None) -> Path:
        """Persist (some) settings to ``<home>/settings.toml`` so the UI remembers them."""
        path = self.home / SETTINGS_FILE
        existing: dict[str, Any] = {}
        if path.is_file():
            existing = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        data = self.model_dump(mode="json", exclude={"home"})
        chosen = {k: data[k] for k in (fields or data) if data.get(k) is not None}
        existing.update(chosen)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in sorted(existing.items())), encoding="utf-8")
        return path


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _tagged(cls: type[Settings], tag: str) -> list[str]:
    if tag not in TAGS:
        raise KeyError(f"unknown settings tag {tag!r}; known: {', '.join(TAGS)}")
    return [name for name, field in cls.model_fields.items() if _extra(field).get(tag)]


def _from_env() -> dict[str, Any]:
    fields = Settings.model_fields
    out: dict[str, Any] = {}
    for key, value in os.environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in fields:
            raise SettingsError(f"{key}: no such setting (see 'paperqa-local --help')")
        out[name] = value
    return out


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Allow TOML tables ([retrieval] k = 8) as well as top-level keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value))
        else:
            flat[key] = value
    return flat


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _one_line(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "settings"
        parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
    return "; ".join(parts)
