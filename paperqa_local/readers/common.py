"""Helpers every reader shares: decoding bytes safely, one-line errors, tidy titles."""

from __future__ import annotations

import logging
import re

from paperqa_local.errors import ReaderError

log = logging.getLogger(__name__)

TITLE_MAX = 200  # characters kept of a title taken from running text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls, minus \t \n \f \r
_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def reader_error(path: str, reason: str) -> ReaderError:
    """A one-line ``ReaderError("<path>: <reason>")`` that also carries ``.path`` and ``.reason``."""
    reason = " ".join(str(reason).split())[:300] or "unreadable"
    err = ReaderError(f"{path}: {reason}")
    err.path = path  # type: ignore[attr-defined]
    err.reason = reason  # type: ignore[attr-defined]
    return err


def _control_ratio(text: str) -> float:
    sample = text[:200_000]
    return len(_CONTROL.findall(sample)) / max(len(sample), 1)


def _looks_like_text(text: str) -> bool:
    """Few control characters and mostly printable ASCII: what text in a Western code page looks like."""
    sample = text[:200_000]
    ascii_ok = sum(1 for c in sample if " " <= c <= "~" or c in "\t\n\r\f")
    return _control_ratio(sample) < 0.005 and ascii_ok / max(len(sample), 1) > 0.8


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 written without a BOM: ASCII-range text then has a NUL in every other byte."""
    head = data[:4096]
    if len(head) < 8 or b"\x00" not in head:
        return None
    for encoding, nul_at in (("utf-16-le", 1), ("utf-16-be", 0)):
        nuls = head[nul_at::2].count(0) / max(len(head[nul_at::2]), 1)
        if nuls > 0.9 and head[1 - nul_at::2].count(0) == 0:
            try:
                return data[: len(data) // 2 * 2].decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def decode_text(data: bytes) -> str:
    """Bytes -> str, or ``ReaderError(reason)`` for binary junk and undecodable text.

    UTF-8 (with or without BOM) and UTF-16 (BOM-marked, or recognised by its NUL bytes) are read as such; legacy
    cp1252/latin-1 is accepted only when the result reads like text, so a binary file renamed to .txt is refused
    instead of indexed as noise.
    """
    if not data:
        raise ReaderError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReaderError("not valid UTF-16 text") from exc
    elif (utf16 := _bomless_utf16(data)) is not None:
        text = utf16
    else:
        if b"\x00" in data[:65536]:
            raise ReaderError("binary file, not text (contains NUL bytes)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
            for enc in ("cp1252", "latin-1"):
                try:
                    candidate = data.decode(enc)
                except UnicodeDecodeError:
                    continue
                if _looks_like_text(candidate):
                    log.warning("file is not UTF-8; read it as %s", enc)
                    text = candidate
                    break
            else:
                raise ReaderError("not UTF-8 text") from None
    if _control_ratio(text) >= 0.005:
        raise ReaderError("binary file, not text (too many control characters)")
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReaderError("empty file (only whitespace)")
    return text


def tidy(text: str) -> str:
    """Trailing spaces off, runs of blank lines collapsed to one."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def one_line(text: str, limit: int = TITLE_MAX) -> str:
    """Collapse whitespace and cut at a word boundary, so a title fits on one line."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut if len(cut) > limit // 2 else text[:limit]).rstrip(" ,;:-") + "…"


_LATEX_ESCAPE = re.compile(r"\\([%&_#$])")


def unescape_latex(text: str) -> str:
    r"""arXiv abstracts keep LaTeX escapes ("75\%"); users and BM25 want "75%"."""
    return _LATEX_ESCAPE.sub(r"\1", text)
