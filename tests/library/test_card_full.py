"""The index on a full card: SQLite's "database or disk is full" is ``CardFull`` — a
sentence, not a crash — and the refused transaction leaves the index as it was (the
audit chain intact). SQLite's own page limit stands in for the card's last byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.errors import CardFull, StorageFull
from device.library import Library


def test_an_audit_row_the_card_refuses_is_card_full_and_changes_nothing(tmp_path: Path) -> None:
    library = Library(tmp_path / "data")
    try:
        library.audit.append("before")
        with library.index.transaction() as db:
            (pages,) = db.execute("PRAGMA page_count").fetchone()
            db.execute(f"PRAGMA max_page_count = {pages}")
        kept = len(library.audit.rows())
        with pytest.raises(CardFull) as refused:
            for n in range(10_000):  # until a row needs a page the "card" has not got
                library.audit.append("filling", detail="x" * 500, n=n)
        assert refused.value.message == "the kit's card is full: the change was not saved"
        assert isinstance(refused.value, StorageFull) and refused.value.hint
        rows = library.audit.rows()
        assert len(rows) >= kept and library.audit.verify() == []
        assert rows[-1].event in ("filling", "before")
        with library.index.transaction() as db:  # room again: the same row goes in
            db.execute("PRAGMA max_page_count = 1073741823")
        assert library.audit.append("filling", detail="x" * 500).seq == rows[-1].seq + 1
    finally:
        library.close()
