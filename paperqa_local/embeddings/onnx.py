"""ONNX Runtime int8 build of the embedding model, made locally from the bundled weights.

``build_onnx`` exports the sentence-transformers model (transformer, mean pooling and L2
normalisation in one graph) with ``torch.onnx``, lets ONNX Runtime fuse the BERT graph, and
quantizes the weights to int8 with ``quantize_dynamic``; ``make install`` runs it once
(``paperqa-local models build-onnx``) and the result is cached under the models folder, keyed by
the sha256 of the source weights. ``OnnxEmbedder`` then embeds without torch: the ``tokenizers``
fast tokenizer plus one ONNX Runtime session. Its vectors are the same model's (cosine to torch's
0.99 on average, 0.98 for one-word texts), so it reads and writes the same collection.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from paperqa_local.embedding import DEFAULT_MODEL, Embedder, resolve_model_path, served_name
from paperqa_local.errors import ModelError

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
BUILD_FILE = "build.json"
OPSET = 17
#: Bump when the export recipe changes, so older builds are rebuilt.
RECIPE = 3


def onnx_dir(models_path: Path, model: str = DEFAULT_MODEL) -> Path:
    """Where the int8 build of ``model`` lives under the models folder."""
    return Path(models_path) / "onnx" / f"{served_name(model)}-int8"


def _weights_sha(source: Path) -> str:
    files = sorted(source.glob("*.safetensors")) or sorted(source.glob("pytorch_model*.bin"))
    if not files:
        raise ModelError(f"{source}: no model weights (*.safetensors or pytorch_model.bin) to export")
    sha = hashlib.sha256()
    for file in files:
        with file.open("rb") as fh:
            while block := fh.read(1 << 20):
                sha.update(block)
    return sha.hexdigest()


def _build_key(source: Path) -> dict[str, Any]:
    return {"weights_sha256": _weights_sha(source), "recipe": RECIPE}


def is_built(models_path: Path, model: str = DEFAULT_MODEL) -> bool:
    """True when an up-to-date build of ``model`` is in ``models_path``."""
    folder = onnx_dir(models_path, model)
    try:
        record = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    key = _build_key(resolve_model_path(model))
    return (folder / MODEL_FILE).is_file() and all(record.get(k) == v for k, v in key.items())


def build_onnx(models_path: Path, model: str = DEFAULT_MODEL, force: bool = False) -> Path:
    """Export, fuse and quantize ``model`` into ``onnx_dir`` (skipped when already built); returns the folder."""
    source = resolve_model_path(model)
    folder = onnx_dir(models_path, model)
    if not force and is_built(models_path, model):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".build-") as tmp:
        work = Path(tmp)
        max_len = _export(source, work / "fp32.onnx")
        _fuse(work / "fp32.onnx", work / "fused.onnx")
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # per-channel scales keep cosine to torch ~0.99 (per-tensor: ~0.93); fused ops (com.microsoft
        # domain) defeat shape inference, so their outputs are declared float
        quantize_dynamic(work / "fused.onnx", work / MODEL_FILE, weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
        out = work / "out"
        out.mkdir()
        shutil.move(work / MODEL_FILE, out / MODEL_FILE)
        shutil.copy2(source / "tokenizer.json", out / "tokenizer.json")
        record = {**_build_key(source), "model": model, "source": str(source), "max_seq_length": max_len,
                  "dim": int(_pooling_dim(source))}
        (out / BUILD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        out.rename(folder)
    log.info("ONNX int8 build of %s in %s", model, folder)
    return folder


def _pooling_dim(source: Path) -> int:
    from paperqa_local.embedding import folder_dim

    dim = folder_dim(source)
    if dim is None:
        raise ModelError(f"{source}: no 1_Pooling/config.json (not a sentence-transformers folder?)")
    return dim


def _export(source: Path, target: Path) -> int:
    """The transformer with mean pooling and normalisation, as ONNX; returns the max sequence length."""
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    names = [type(m).__name__ for m in st]
    pooling = st[1].get_config_dict() if len(names) > 1 else {}
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens")
    if names[:2] != ["Transformer", "Pooling"] or not mean:
        raise ModelError(f"{source}: only Transformer + mean Pooling models can be built for ONNX (got {names})")

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = st[0].auto_model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    tokenize = getattr(st, "preprocess", None) or st.tokenize
    features = tokenize(["an example sentence to trace", "a second, somewhat longer example sentence"])
    inputs = tuple(features[k] for k in ("input_ids", "attention_mask", "token_type_ids"))
    axes = {"batch": 0, "seq": 1}
    dynamic = {name: {i: n for n, i in axes.items()} for name in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad():
        torch.onnx.export(Pooled().eval(), inputs, str(target), input_names=list(dynamic),
                          output_names=["sentence_embedding"], dynamic_axes={**dynamic, "sentence_embedding": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    return int(st.max_seq_length)


def _fuse(source: Path, target: Path) -> None:
    """ONNX Runtime's BERT fusions (attention, layer norm, GELU) before quantizing: fewer, larger int8 matmuls."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(str(source), model_type="bert", num_heads=0, hidden_size=0, opt_level=1)
    optimized.save_model_to_file(str(target))


class OnnxEmbedder(Embedder):
    """The int8 ONNX build through ONNX Runtime; no torch at run time."""

    backend = "onnx"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, *, models_path: Path,
                 threads: int | None = None) -> None:
        super().__init__(model, batch_size)
        self.folder = onnx_dir(models_path, model)
        self.threads = threads
        if not (self.folder / MODEL_FILE).is_file():
            raise ModelError(f"no ONNX build of embedding model '{model}' in {self.folder}: "
                             "run `paperqa-local models build-onnx` (make install does)")

    def _load(self) -> Any:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        record = json.loads((self.folder / BUILD_FILE).read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=int(record["max_seq_length"]))
        tokenizer.enable_padding()  # to the longest text of the batch, as sentence-transformers pads
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        log.info("loading ONNX embedding model %s", self.folder)
        try:
            session = ort.InferenceSession(str(self.folder / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # noqa: BLE001  (a corrupt build: say how to rebuild)
            raise ModelError(f"ONNX build in {self.folder} could not be loaded ({err}): "
                             "run `paperqa-local models build-onnx --force`") from None
        return tokenizer, session

    def _encode(self, texts: list[str]) -> np.ndarray:
        tokenizer, session = self.model
        encodings = tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return session.run(["sentence_embedding"], feeds)[0].astype(np.float32, copy=False)
