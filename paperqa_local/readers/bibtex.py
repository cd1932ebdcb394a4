"""BibTeX / BibLaTeX libraries (Zotero, Better BibTeX, JabRef, Mendeley exports) -> ``LibraryEntry``s.

Parsing is bibtexparser's (v2, MIT). LaTeX is decoded only in the fields shown to people
(title, names, venue): decoding a ``file`` field would turn ``C\\:\\\\Users`` into garbage.
Attachments come from ``file = {...}``: several separated by ';', each a bare path or
Zotero's ``Description:path:mime`` (JabRef's ``:path:PDF``), with ``\\:``/``\\;`` escapes;
relative paths are taken from the .bib file's folder.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from paperqa_local.errors import ReaderError
from paperqa_local.readers.common import decode_text, one_line
from paperqa_local.readers.entries import LibraryEntry, arxiv_id_of, split_labels, year_of

log = logging.getLogger(__name__)

VENUE_FIELDS = ("journaltitle", "journal", "booktitle", "eventtitle", "school", "institution")
LABEL_FIELDS = {"tags": ("keywords", "mendeley-tags"), "collections": ("groups", "collections")}
FILE_FIELDS = ("file", "pdf")
_UNESCAPED = {";": re.compile(r"(?<!\\);"), ":": re.compile(r"(?<!\\):")}
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def read_bibtex(path: str | Path) -> list[LibraryEntry]:
    """Every entry of a .bib file (entries without attachments included: the caller decides)."""
    import bibtexparser

    path = Path(path).expanduser().absolute()
    try:
        text = decode_text(path.read_bytes())
    except OSError as err:
        raise ReaderError(f"{path}: {err.strerror or err}") from None
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        log.warning("%s: skipped an unreadable block near line %s", path.name, getattr(block, "start_line", "?"))
    if not library.entries and library.failed_blocks:
        raise ReaderError(f"{path}: no readable BibTeX entry")
    return [entry_of(e.key, {f.key.lower(): str(f.value) for f in e.fields}, path.parent) for e in library.entries]


def entry_of(key: str, fields: dict[str, str], folder: Path) -> LibraryEntry:
    """One entry from its (lower-cased) fields; relative attachment paths are under ``folder``."""
    names, more = authors_of(fields.get("author", ""))
    year = year_of(fields.get("year")) or year_of(fields.get("date"))
    venue = next((decode(fields[f]) for f in VENUE_FIELDS if fields.get(f)), None)
    doi = _DOI_PREFIX.sub("", fields.get("doi", "").strip()) or None
    kind = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    arxiv = (arxiv_id_of(fields.get("eprint"), eprint=True) if kind == "arxiv" else None) or next(
        (a for a in (arxiv_id_of(fields.get(f)) for f in ("url", "journal", "note", "howpublished")) if a), None)
    return LibraryEntry(
        key=key,
        title=one_line(decode(fields.get("title", ""))),
        authors=names,
        author_count=len(names) + 1 if more else None,
        year=year,
        date=fields.get("date") or (str(year) if year else None),
        venue=venue or None,
        doi=doi,
        url=fields.get("url") or None,
        arxiv_id=arxiv,
        tags=[t for f in LABEL_FIELDS["tags"] for t in split_labels(decode(fields.get(f, "")))],
        collections=[c for f in LABEL_FIELDS["collections"] for c in split_labels(decode(fields.get(f, "")))],
        files=[p for f in FILE_FIELDS for p in file_paths(fields.get(f, ""), folder)],
    )


def authors_of(value: str) -> tuple[list[str], bool]:
    """("First von Last", ...) from a BibTeX name list; True when it ends in "and others"."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    if not value.strip():
        return [], False
    names: list[str] = []
    more = False
    for raw in split_multiple_persons_names(value):
        if raw.strip().lower() == "others":
            more = True
            continue
        try:
            parts = parse_single_name_into_parts(raw)
            words = [*parts.first, *parts.von, *parts.last] + ([f", {' '.join(parts.jr)}"] if parts.jr else [])
            name = " ".join(words).replace(" , ", ", ")
        except Exception:  # noqa: BLE001  (an odd name is kept as written, never fatal)
            name = raw
        name = one_line(decode(name))
        if name:
            names.append(name)
    return names, more


def file_paths(value: str, folder: Path) -> list[Path]:
    """The attachment paths of a ``file`` field, absolute."""
    paths = []
    for item in _UNESCAPED[";"].split(value):
        parts = [_unescape(p) for p in _UNESCAPED[":"].split(item.strip())]
        if len(parts) >= 3:  # Description:path:mime (the path may hold an unescaped Windows drive colon)
            raw = ":".join(parts[1:-1])
        elif len(parts) == 2:  # "desc:path", or "C:/path" written without escapes
            raw = ":".join(parts) if len(parts[0]) == 1 else parts[1]
        else:
            raw = parts[0]
        raw = raw.replace("$\\backslash$", "\\").strip()
        if raw:
            paths.append(_resolve(raw, folder))
    return list(dict.fromkeys(paths))


def decode(value: str) -> str:
    """LaTeX accents and braces to text ({\\"u} -> ü, {BERT} -> BERT)."""
    if "\\" not in value and "{" not in value and "$" not in value:
        return value.strip()
    from pylatexenc.latex2text import LatexNodes2Text

    try:
        return LatexNodes2Text(math_mode="verbatim").latex_to_text(value).strip()
    except Exception:  # noqa: BLE001  (malformed LaTeX: keep the words, drop the braces)
        return value.replace("{", "").replace("}", "").strip()


def _unescape(text: str) -> str:
    return re.sub(r"\\([:;\\])", r"\1", text)


def _resolve(raw: str, folder: Path) -> Path:
    """Absolute path: as written, else under the .bib's folder (Mendeley drops the leading '/')."""
    path = Path(raw).expanduser()
    if path.is_absolute():
        return path
    if not (folder / path).exists() and Path("/" + raw).exists():
        return Path("/" + raw)
    return (folder / path).absolute()
