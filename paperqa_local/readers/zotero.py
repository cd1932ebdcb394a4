"""A Zotero data directory -> ``LibraryEntry``s, read-only.

Zotero keeps ``zotero.sqlite`` open (and locked) while it runs, and the library is the
researcher's: it is copied to a temporary file and that copy is opened read-only. Stored
attachments are ``storage/<attachment key>/<file>`` (path ``storage:<file>``); linked files
keep their absolute path. Items in the trash are left out; a collection is named by its path
("Reading/Transformers"), so filtering by a parent collection includes its sub-collections.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from paperqa_local.errors import ReaderError
from paperqa_local.readers.common import one_line
from paperqa_local.readers.entries import LibraryEntry, arxiv_id_of, year_of

log = logging.getLogger(__name__)

DATABASE = "zotero.sqlite"
VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "conferenceName", "bookTitle", "university",
                "institution", "repository")
NOT_PAPERS = ("attachment", "note", "annotation")
_SQL_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)")


def read_zotero(folder: str | Path) -> list[LibraryEntry]:
    """Every regular item (and standalone file) of a Zotero data directory, with its attachments."""
    folder = Path(folder).expanduser().absolute()
    if not (folder / DATABASE).is_file():
        raise ReaderError(f"{folder}: no {DATABASE} here (Zotero's data directory: Settings → Advanced → "
                          "Files and Folders)")
    with _snapshot(folder / DATABASE) as db:
        try:
            return _entries(db, folder)
        except sqlite3.DatabaseError as err:
            raise ReaderError(f"{folder / DATABASE}: not a Zotero database ({err})") from None


@contextmanager
def _snapshot(database: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a temporary copy (with its write-ahead log, if Zotero left one)."""
    with tempfile.TemporaryDirectory(prefix="paperqa-zotero-") as tmp:
        copy = Path(tmp) / DATABASE
        shutil.copyfile(database, copy)
        wal = database.with_name(DATABASE + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(DATABASE + "-wal"))
        with closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as db:
            yield db


def _entries(db: sqlite3.Connection, folder: Path) -> list[LibraryEntry]:
    trashed = {r[0] for r in db.execute("SELECT itemID FROM deletedItems")} if _has(db, "deletedItems") else set()
    items = {item_id: key for item_id, key, kind in db.execute(
        "SELECT i.itemID, i.key, t.typeName FROM items i JOIN itemTypes t ON t.itemTypeID = i.itemTypeID"
        " ORDER BY i.itemID") if item_id not in trashed and kind not in NOT_PAPERS}
    fields: dict[int, dict[str, str]] = {}
    for item_id, name, value in db.execute(
            "SELECT d.itemID, f.fieldName, v.value FROM itemData d JOIN fields f ON f.fieldID = d.fieldID"
            " JOIN itemDataValues v ON v.valueID = d.valueID"):
        fields.setdefault(item_id, {})[name] = str(value)
    files: dict[int, list[Path]] = {}
    standalone: dict[int, str] = {}
    for item_id, parent, path, key in db.execute(
            "SELECT a.itemID, a.parentItemID, a.path, i.key FROM itemAttachments a"
            " JOIN items i ON i.itemID = a.itemID ORDER BY a.itemID"):
        if item_id in trashed or parent in trashed:
            continue
        resolved = _attachment_path(path, key, folder)
        if resolved is None:
            continue
        if parent is None:  # a file added on its own: an entry of its own
            standalone[item_id] = key
            files.setdefault(item_id, []).append(resolved)
        else:
            files.setdefault(parent, []).append(resolved)
    authors = _creators(db)
    labels = _labels(db)
    entries = []
    for item_id, key in {**items, **standalone}.items():
        f = fields.get(item_id, {})
        year = year_of(f.get("date"))
        collections, tags = labels.get(item_id, ([], []))
        entries.append(LibraryEntry(
            key=key,
            title=one_line(f.get("title", "")),
            authors=authors.get(item_id, []),
            year=year,
            date=_date(f.get("date")),
            venue=next((f[v] for v in VENUE_FIELDS if f.get(v)), None),
            doi=f.get("DOI") or None,
            url=f.get("url") or None,
            arxiv_id=next((a for a in (arxiv_id_of(f.get(n)) for n in ("archiveID", "url", "extra")) if a), None),
            collections=collections,
            tags=tags,
            files=files.get(item_id, []),
        ))
    return entries


def _creators(db: sqlite3.Connection) -> dict[int, list[str]]:
    """Item -> author names in order (editors etc. only when an item names no author)."""
    by_item: dict[int, list[tuple[str, str]]] = {}
    for item_id, first, last, mode, kind in db.execute(
            "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic"
            " JOIN creators c ON c.creatorID = ic.creatorID"
            " LEFT JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID ORDER BY ic.itemID, ic.orderIndex"):
        name = (last or "") if mode == 1 else " ".join(x for x in (first, last) if x)
        if name.strip():
            by_item.setdefault(item_id, []).append((kind or "author", one_line(name)))
    return {item_id: [n for k, n in people if k == "author"] or [n for _, n in people]
            for item_id, people in by_item.items()}


def _labels(db: sqlite3.Connection) -> dict[int, tuple[list[str], list[str]]]:
    """Item -> (collection paths, tags)."""
    out: dict[int, tuple[list[str], list[str]]] = {}
    rows = list(db.execute("SELECT collectionID, collectionName, parentCollectionID FROM collections"))
    names = {cid: name for cid, name, _ in rows}
    parents = {cid: parent for cid, _, parent in rows}

    def path(cid: int) -> str:
        parts, seen = [], set()
        while cid is not None and cid in names and cid not in seen:
            seen.add(cid)
            parts.append(names[cid])
            cid = parents.get(cid)
        return "/".join(reversed(parts))

    for item_id, cid in db.execute("SELECT itemID, collectionID FROM collectionItems ORDER BY orderIndex"):
        out.setdefault(item_id, ([], []))[0].append(path(cid))
    for item_id, name in db.execute(
            "SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID ORDER BY t.name"):
        out.setdefault(item_id, ([], []))[1].append(name)
    return {k: (list(dict.fromkeys(c)), list(dict.fromkeys(t))) for k, (c, t) in out.items()}


def _attachment_path(path: str | None, key: str, folder: Path) -> Path | None:
    """The file of an attachment row; None for links to web pages and base-directory paths we cannot see."""
    if not path:
        return None
    if path.startswith("storage:"):
        return folder / "storage" / key / path.removeprefix("storage:")
    if path.startswith("attachments:"):
        log.info("Zotero attachment %s is relative to a base directory set in Zotero's preferences: skipped", key)
        return None
    linked = Path(path).expanduser()
    return linked if linked.is_absolute() else None


def _date(value: str | None) -> str | None:
    """Zotero's stored date "2017-06-00 June 2017" -> "2017-06"; "0000-00-00 spring" -> None."""
    m = _SQL_DATE.match(value or "")
    if not m or m.group(1) == "0000":
        year = year_of(value)
        return str(year) if year else None
    y, mo, d = m.groups()
    return y if mo == "00" else (f"{y}-{mo}" if d == "00" else f"{y}-{mo}-{d}")


def _has(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None
