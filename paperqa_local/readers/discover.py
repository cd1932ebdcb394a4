"""Turn user inputs (files, folders, glob patterns) into candidate files plus path-level failures."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from paperqa_local.readers.sniff import is_pdf
from paperqa_local.records import FileFailure

JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "icon\r", ".localized"})
JUNK_DIRS = frozenset({"__macosx", "__pycache__", "node_modules"})


def is_junk(name: str, is_dir: bool = False) -> bool:
    """Hidden names, OS droppings and editor/Office temp files: skipped silently inside folders."""
    low = name.lower()
    if name.startswith(".") or low in (JUNK_DIRS if is_dir else JUNK_FILES):
        return True
    return not is_dir and (name.startswith("~$") or name.endswith("~"))


def sniffs_as_pdf(path: Path) -> bool:
    """A PDF whatever its name says (``paper``, ``download.bin``): the %PDF- magic in its first bytes."""
    try:
        with open(path, "rb") as fh:
            return is_pdf(fh.read(1024))
    except OSError:
        return False


def unsupported_reason(ext: str, supported: Iterable[str]) -> str:
    return f"unsupported file type '{ext or '(no extension)'}' (supported: {', '.join(sorted(supported))})"


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def discover(
    inputs: Sequence[str | Path], max_file_mb: float = 200.0, supported: Iterable[str] | None = None
) -> tuple[list[Path], list[FileFailure]]:
    """Expand inputs into readable candidate files and FileFailures.

    Files come absolute and de-duplicated, in the order the inputs were given and sorted within each input, so
    the result does not depend on where the inputs happen to live on disk.

    Folders are walked recursively and glob patterns ("papers/*.pdf", "**") expanded; hidden files and OS junk
    inside them are skipped silently. Missing paths, unreadable folders/files, unsupported extensions and files
    over ``max_file_mb`` become FileFailure entries instead of exceptions, so one bad input never stops a run.
    """
    if supported is None:
        from paperqa_local.readers import SUPPORTED_EXTENSIONS as supported
    exts = frozenset(supported)
    found: set[Path] = set()
    ordered: list[Path] = []
    failures: list[FileFailure] = []
    limit = max_file_mb * 1024 * 1024

    def check_file(path: Path) -> None:
        ext = path.suffix.lower()
        if ext not in exts and not (".pdf" in exts and sniffs_as_pdf(path)):
            failures.append(FileFailure(str(path), unsupported_reason(ext, exts)))
            return
        try:
            st = path.stat()
        except PermissionError:
            failures.append(FileFailure(str(path), "permission denied"))
            return
        except OSError as exc:
            failures.append(FileFailure(str(path), f"cannot open: {exc.strerror or exc}"))
            return
        if not path.is_file():
            failures.append(FileFailure(str(path), "not a regular file"))
        elif st.st_size > limit:
            failures.append(
                FileFailure(str(path), f"too large ({st.st_size / 1048576:.1f} MB > {max_file_mb:g} MB limit)")
            )
        elif not os.access(path, os.R_OK):
            failures.append(FileFailure(str(path), "permission denied"))
        else:
            found.add(path.resolve())

    def walk(folder: Path) -> None:
        def onerror(exc: OSError) -> None:
            reason = "permission denied" if isinstance(exc, PermissionError) else f"cannot list folder: {exc.strerror}"
            failures.append(FileFailure(str(exc.filename or folder), reason))

        for root, dirs, files in os.walk(folder, onerror=onerror):
            dirs[:] = sorted(d for d in dirs if not is_junk(d, is_dir=True))
            for name in sorted(files):
                if not is_junk(name):
                    check_file(Path(root) / name)

    def add(path: Path, explicit: bool) -> None:
        if path.is_dir():
            walk(path)
        elif path.exists() or path.is_symlink():
            check_file(path)
        elif explicit:
            failures.append(FileFailure(str(path), "not found"))

    for item in inputs:
        before = set(found)
        text = os.path.expanduser(str(item))
        path = Path(text)
        if _has_glob(text) and not path.exists():
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                failures.append(FileFailure(str(item), "no files match this pattern"))
            for match in matches:
                if not is_junk(Path(match).name, is_dir=Path(match).is_dir()):
                    add(Path(match), explicit=False)
        else:
            add(path, explicit=True)
        ordered += sorted(found - before)

    unique_failures = {(f.path, f.reason): f for f in failures}
    return ordered, sorted(unique_failures.values(), key=lambda f: (f.path, f.reason))
