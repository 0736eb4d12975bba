"""A supervisor's comments on a recording, kept by the office beside the kit's files.

One encrypted JSON file per recording, ``<id>.office-notes.age`` in the recording's kit
folder (``device.office.archive.OFFICE_SUFFIX``): the kit never makes a file of that name
and its sync sends only its own files by name, so a later sync never overwrites it, and
``vigkit office verify`` knows it as the office's own. It is encrypted to the office's
key only (the recipients derived from the key the server was started with): the kit's
public key is not in the archive, and the kit never reads the office's files anyway.

The plaintext, for anyone reading it with ``age -d``::

    {"format": "vigkit-office-notes/1",
     "comments": [{"id": "o1", "at": "2026-11-21T10:32:05+00:00", "by": "AB",
                   "about": {"kind": "mark", "id": "m1"} | null, "t": 12.5 | null,
                   "text": "..."}]}

Saving reads the latest file, adds one comment and writes it atomically (temp file of
ciphertext, fsync, rename), under a per-file lock; a file this key cannot open is never
replaced, so nobody's comments are lost to a wrong key.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device import age
from device.errors import NotesError
from device.library import atomic_write

FORMAT = "vigkit-office-notes/1"
MAX_TEXT = 4000  # characters: a few paragraphs
MAX_BY = 40
MAX_COMMENTS = 1000  # per recording; far more than a supervision ever needs
ABOUT_KINDS = {"mark": "marks", "clip": "clips", "still": "stills"}

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


def load(path: Path, identities: Sequence[age.Identity]) -> list[dict[str, Any]]:
    """The comments in ``path`` (none if there is no file yet), oldest first."""
    try:
        ciphertext = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        doc = json.loads(age.decrypt_bytes(ciphertext, identities))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(doc)
        comments = doc["comments"]
        if not isinstance(comments, list):
            raise ValueError(comments)
    except (ValueError, KeyError) as e:  # JSON, UnicodeDecodeError, the layout
        raise NotesError(
            "the office's comments on this recording are damaged",
            hint="Restore the file from the office's backup; no new comment was saved.",
        ) from e
    return [c for c in comments if isinstance(c, dict)]


def add(
    path: Path,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    *,
    text: str,
    by: str = "",
    about: dict[str, str] | None = None,
    t: float | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Add one comment and save; returns every comment. NotesError for bad input."""
    text = text.strip()
    by = by.strip()
    if not text:
        raise NotesError("write the comment first", hint="Type it in the box, then save.")
    if len(text) > MAX_TEXT:
        raise NotesError(f"a comment can be at most {MAX_TEXT:,} characters")
    if len(by) > MAX_BY:
        raise NotesError(f"the initials or name can be at most {MAX_BY} characters")
    if t is not None and (not math.isfinite(t) or t < 0):
        raise NotesError("the time in the film must be a number of seconds from the start")
    with _lock_for(path):
        comments = load(path, identities)
        if len(comments) >= MAX_COMMENTS:
            raise NotesError(f"this recording already has {MAX_COMMENTS} comments")
        comment = {
            "id": f"o{1 + max((_number(c.get('id')) for c in comments), default=0)}",
            "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "by": by,
            "about": about,
            "t": None if t is None else round(t, 3),
            "text": text,
        }
        comments.append(comment)
        doc = {"format": FORMAT, "comments": comments}
        payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        atomic_write(path, age.encrypt_bytes(payload, recipients))
    return comments


def _number(comment_id: Any) -> int:
    text = str(comment_id)
    return int(text[1:]) if text[:1] == "o" and text[1:].isdigit() else 0
