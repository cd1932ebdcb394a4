"""Collections and tags (from Zotero / BibTeX libraries) as search filters.

Labels are stored per file key in the manifest (``Manifest.set_labels``), so they follow the
file bookkeeping: an entry removed from its library takes its labels with it. Names match
case-insensitively; a collection is stored as its path ("Reading/Transformers"), so a filter
matches the path, its last part, or a parent (a parent collection includes its sub-collections).
"""

from __future__ import annotations

from collections.abc import Iterable

from paperqa_local.errors import LibraryError

KINDS = ("collection", "tag")


def matches(kind: str, label: str, name: str) -> bool:
    """Does the stored ``label`` of ``kind`` answer to the filter ``name``?"""
    label, name = label.casefold(), name.strip().strip("/").casefold()
    if kind != "collection":
        return label == name
    return label == name or label.startswith(name + "/") or label.endswith("/" + name) or f"/{name}/" in label


def names(rows: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    """{"collection": [...], "tag": [...]}: every label name, sorted, once each."""
    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for _, kind, name in rows:
        if name not in out[kind]:
            out[kind].append(name)
    return {k: sorted(v, key=str.casefold) for k, v in out.items()}


def select(rows: Iterable[tuple[str, str, str]], collection: str | None = None,
           tag: str | None = None) -> set[str] | None:
    """Ids of the papers in ``collection`` and with ``tag`` (None: no filter asked).

    A name no paper carries is an error that lists the known names: a typo must not read as
    "nothing in your library answers this".
    """
    wanted = {k: v.strip() for k, v in (("collection", collection), ("tag", tag)) if v and v.strip()}
    if not wanted:
        return None
    rows = list(rows)
    papers: set[str] | None = None
    for kind, name in wanted.items():
        found = {pid for pid, k, label in rows if k == kind and matches(kind, label, name)}
        if not found:
            known = names(rows)[kind]
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "none yet"
            raise LibraryError(f"no paper has the {kind} '{name}' (known: {shown}; they come from "
                               "`paperqa-local index --bibtex FILE` or `--zotero DIR`)")
        papers = found if papers is None else papers & found
    return papers
