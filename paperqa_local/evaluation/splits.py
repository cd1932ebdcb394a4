"""Frozen tune / held-out parts of an evaluation set, so settings are chosen on one part and reported on the other.

The rule (fixed before any result was seen, never to be changed by one): an item is in the
``tune`` part when the first 8 hex digits of ``sha256("paperqa-local split v1:" + id)``, read
as an integer, are even, else in ``heldout``. It depends on the item's id alone, so it is the
same on every machine, for every subset (``--limit``) and every order of the file, and an
item never changes part when others are added. SciFact's 809 train claims split 407 / 402,
PubMedQA's 500 questions 248 / 252. A dataset row may name its part itself (the seeds
questions carry ``"split"``, chosen by hand so that both parts hold every question type);
that wins over the hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from paperqa_local.errors import PaperQAError

TUNE, HELDOUT = "tune", "heldout"
PARTS = (TUNE, HELDOUT)
SPLITS = (TUNE, HELDOUT, "all")
SALT = "paperqa-local split v1:"

T = TypeVar("T")


def hashed_split(item_id: str) -> str:
    """``tune`` or ``heldout`` from the item's id (see the module docstring)."""
    digest = hashlib.sha256(f"{SALT}{item_id}".encode()).hexdigest()
    return TUNE if int(digest[:8], 16) % 2 == 0 else HELDOUT


def split_of(item_id: str, declared: str | None = None) -> str:
    """The item's part: the one its row declares, else the hashed one."""
    if declared:
        if declared not in PARTS:
            raise PaperQAError(f"item {item_id}: split must be {' or '.join(PARTS)} (got {declared!r})")
        return declared
    return hashed_split(item_id)


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise PaperQAError(f"split: choose from {', '.join(SPLITS)} (got {split!r})")
    return split


def select(items: Iterable[T], split: str, part: Callable[[T], str]) -> list[T]:
    """The items in ``split`` (``all``: every item), in their order."""
    check_split(split)
    return [it for it in items if split == "all" or part(it) == split]
