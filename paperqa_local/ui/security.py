"""The UI's safety rules: who may bind where, and how uploads are stored.

Kept free of Gradio so the rules are unit-tested on their own.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import unicodedata
from pathlib import Path

from paperqa_local.errors import LibraryError, SettingsError
from paperqa_local.records import file_sha256

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 120


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str) -> tuple[str, str]:
    """``user:password`` -> (user, password); the password may itself contain ':'."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SettingsError("--auth: expected USER:PASSWORD with both parts non-empty")
    return user, password


def check_bind(host: str, auth: str | None, no_auth: bool) -> tuple[str, str] | None:
    """Refuse to serve an unauthenticated UI beyond this machine unless the user says so.

    Returns the parsed credentials (or None). Raises SettingsError with a one-line reason.
    """
    if auth and no_auth:
        raise SettingsError("--auth and --no-auth: give one or the other, not both")
    creds = parse_auth(auth) if auth else None
    if not is_loopback(host) and creds is None and not no_auth:
        raise SettingsError(
            f"--host {host}: refusing to serve the UI beyond this machine without a password; "
            "add --auth USER:PASSWORD (or --no-auth to allow anyone on the network)"
        )
    return creds


def safe_filename(name: str, default: str = "upload") -> str:
    """A file name with no directories, no hidden/relative parts and only portable characters.

    ``../../etc/passwd`` -> ``passwd``; ``C:\\x\\Über paper.pdf`` -> ``Uber_paper.pdf``.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).strip("._-")
    base = re.sub(r"\.{2,}", ".", base)
    if not base:
        return default
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10:
        stem = stem[: MAX_NAME - len(ext) - 1].rstrip("._-") or default
        return f"{stem}.{ext.lower()}"
    return base[:MAX_NAME]


def check_size(path: Path, max_mb: float, shown_name: str | None = None) -> None:
    """Raise LibraryError when a file is over the upload cap."""
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise LibraryError(f"{shown_name or path.name}: {size / 1048576:.1f} MB is over the {max_mb:g} MB upload limit")


def store_upload(src: Path, uploads_dir: Path, original_name: str, max_mb: float) -> Path:
    """Copy an upload to ``uploads_dir/<sha256[:12]>-<safe name>``.

    The content-hash prefix means two different papers that share a name never overwrite each
    other, and the same paper uploaded twice lands on the same path (so it is not re-indexed).
    """
    src = Path(src)
    check_size(src, max_mb, original_name)
    uploads_dir.mkdir(parents=True, exist_ok=True)
    target = uploads_dir / f"{file_sha256(src)[:12]}-{safe_filename(original_name)}"
    resolved = target.resolve()
    if resolved.parent != uploads_dir.resolve():  # belt and braces: never outside uploads/
        raise LibraryError(f"{original_name}: unsafe file name")
    if not target.exists():
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(target)
    return target
