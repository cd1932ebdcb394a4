"""A minimal Zotero data directory for tests, built with the table and column names Zotero itself uses."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


class ZoteroBuilder:
    """A minimal Zotero data directory: ``zotero.sqlite`` with the tables (and column names) Zotero uses."""

    SCHEMA = """
    CREATE TABLE itemTypes (itemTypeID INTEGER PRIMARY KEY, typeName TEXT UNIQUE);
    CREATE TABLE items (itemID INTEGER PRIMARY KEY, itemTypeID INT, libraryID INT DEFAULT 1, key TEXT UNIQUE);
    CREATE TABLE fields (fieldID INTEGER PRIMARY KEY, fieldName TEXT UNIQUE);
    CREATE TABLE itemDataValues (valueID INTEGER PRIMARY KEY, value UNIQUE);
    CREATE TABLE itemData (itemID INT, fieldID INT, valueID INT, PRIMARY KEY (itemID, fieldID));
    CREATE TABLE creators (creatorID INTEGER PRIMARY KEY, firstName TEXT, lastName TEXT, fieldMode INT);
    CREATE TABLE creatorTypes (creatorTypeID INTEGER PRIMARY KEY, creatorType TEXT);
    CREATE TABLE itemCreators (itemID INT, creatorID INT, creatorTypeID INT, orderIndex INT);
    CREATE TABLE itemAttachments (itemID INTEGER PRIMARY KEY, parentItemID INT, linkMode INT, contentType TEXT,
                                  path TEXT);
    CREATE TABLE collections (collectionID INTEGER PRIMARY KEY, collectionName TEXT, parentCollectionID INT);
    CREATE TABLE collectionItems (collectionID INT, itemID INT, orderIndex INT DEFAULT 0);
    CREATE TABLE tags (tagID INTEGER PRIMARY KEY, name TEXT UNIQUE);
    CREATE TABLE itemTags (itemID INT, tagID INT, type INT DEFAULT 0);
    CREATE TABLE deletedItems (itemID INTEGER PRIMARY KEY);
    INSERT INTO creatorTypes VALUES (1, 'author'), (2, 'editor');
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True)
        self.linked: Path | None = None
        with self._db() as db:
            db.executescript(self.SCHEMA)

    def _db(self) -> contextlib.closing[sqlite3.Connection]:
        return contextlib.closing(sqlite3.connect(self.folder / "zotero.sqlite", isolation_level=None))

    @staticmethod
    def _id(db: sqlite3.Connection, table: str, column: str, value: str) -> int:
        db.execute(f"INSERT OR IGNORE INTO {table} ({column}) VALUES (?)", (value,))
        return db.execute(f"SELECT rowid FROM {table} WHERE {column} = ?", (value,)).fetchone()[0]

    def collection(self, name: str, parent: int | None = None) -> int:
        with self._db() as db:
            return db.execute("INSERT INTO collections (collectionName, parentCollectionID) VALUES (?, ?)",
                              (name, parent)).lastrowid

    def item(self, key: str, kind: str, fields: dict[str, str], authors: list[tuple[str | None, str]] = (),
             collections: list[int] = (), tags: list[str] = ()) -> int:
        with self._db() as db:
            item = db.execute("INSERT INTO items (itemTypeID, key) VALUES (?, ?)",
                              (self._id(db, "itemTypes", "typeName", kind), key)).lastrowid
            for name, value in fields.items():
                db.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item, self._id(db, "fields", "fieldName", name),
                                                                     self._id(db, "itemDataValues", "value", value)))
            for order, (first, last) in enumerate(authors):
                creator = db.execute("INSERT INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                                     (first or "", last, 0 if first else 1)).lastrowid
                db.execute("INSERT INTO itemCreators VALUES (?, ?, 1, ?)", (item, creator, order))
            db.executemany("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)",
                           [(c, item) for c in collections])
            db.executemany("INSERT INTO itemTags (itemID, tagID) VALUES (?, ?)",
                           [(item, self._id(db, "tags", "name", t)) for t in tags])
            return item

    def attachment(self, parent: int | None, key: str, path: str, item: int | None = None) -> None:
        item = item or self.item(key, "attachment", {"title": Path(path).name})
        with self._db() as db:
            db.execute("INSERT INTO itemAttachments VALUES (?, ?, ?, ?, ?)",
                       (item, parent, 0 if path.startswith("storage:") else 2, "application/pdf", path))

    def stored(self, parent: int, key: str, name: str, data: bytes) -> None:
        (self.folder / "storage" / key).mkdir(parents=True)
        (self.folder / "storage" / key / name).write_bytes(data)
        self.attachment(parent, key, f"storage:{name}")

    def attach_file(self, item: int, path: str, data: bytes) -> None:
        """A standalone file: the item is its own attachment."""
        with self._db() as db:
            key = db.execute("SELECT key FROM items WHERE itemID = ?", (item,)).fetchone()[0]
        (self.folder / "storage" / key).mkdir(parents=True)
        (self.folder / "storage" / key / path.removeprefix("storage:")).write_bytes(data)
        self.attachment(None, key, path, item=item)

    def trash(self, key: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO deletedItems SELECT itemID FROM items WHERE key = ?", (key,))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """What a running Zotero does: an exclusive lock on its database."""
        with self._db() as db:
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")
            yield
            db.execute("ROLLBACK")
