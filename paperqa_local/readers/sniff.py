"""What a file really is, from its first bytes: names lie (a web page saved as .txt, a PDF without .pdf)."""

from __future__ import annotations

import re

_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(rb"<(?:html|head|body|title|meta|div|p|script|style|link)\b[^>]*>", re.IGNORECASE)


def is_pdf(data: bytes) -> bool:
    """The %PDF- magic near the start (some writers put a few bytes of junk before it)."""
    return b"%PDF-" in data[:1024]


def _ascii_head(data: bytes, size: int = 4096) -> bytes:
    """The start of the file as bytes a regex can read, also when it is UTF-16 text."""
    head = data[:size]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "ignore").encode("ascii", "ignore")
        except UnicodeError:
            return b""
    return head


def is_html(data: bytes) -> bool:
    """A doctype/<html>/<head> start, or a page that is mostly markup at its top."""
    head = _ascii_head(data)
    if _HTML_START.match(head):
        return True
    stripped = head.lstrip()
    return stripped.startswith(b"<") and len(_HTML_TAGS.findall(head)) >= 3


def sniff(data: bytes, ext: str) -> str:
    """The reader key (an extension) the content calls for; ``ext`` when the content agrees or says nothing."""
    if is_pdf(data):
        return ".pdf"
    if ext in (".txt", ".md", ".markdown", "") and is_html(data):
        return ".html"
    return ext
