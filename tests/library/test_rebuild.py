"""The kit's index rebuilt from the files on the card: what the names alone tell, the
set-aside copy that is never deleted, and the time it takes for 200 films."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from device import age, cases
from device.cases import CaseStore, finish_erasures
from device.errors import LibraryError
from device.library import Library, State, health, rebuilt_words

KEY = age.X25519Identity.generate()
TINY = age.encrypt_bytes(b"\x00" * 200, [KEY.recipient()])  # stands in for any ciphertext


def _damage_header(db: Path) -> None:
    with db.open("r+b") as f:
        f.write(b"\xff" * 100)


def _truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])


DAMAGE: dict[str, Callable[[Path], None]] = {
    "header": _damage_header,
    "truncated": _truncate,
    "deleted": Path.unlink,
}


def _ids(n: int) -> list[str]:
    return [f"20261120T{i // 60:02d}{i % 60:02d}00Z-{i:012x}" for i in range(n)]


def _put(rec: Path, rec_id: str, *kinds: str) -> None:
    for kind in kinds:
        (rec / f"{rec_id}.{kind}.age").write_bytes(TINY)


def _kit_with(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    """A data folder whose index lists ``n`` finished films (tiny ciphertext each)."""
    data = tmp_path / "data"
    library = Library(data)
    ids = _ids(n)
    try:
        for rec_id in ids:
            _put(library.data.recordings, rec_id, "mp4", "index", "notes")
            library.index.add(rec_id, "2026-11-20T10:00:00+00:00", 0, True)
            library.index.update(rec_id, state=State.COMPLETE, size=len(TINY))
    finally:
        library.close()  # the WAL is folded into kit.sqlite, so damage reaches the rows
    return data, ids


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_or_deleted_index_is_set_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    data, ids = _kit_with(tmp_path, 4)
    rec = data / "recordings"
    (rec / f"{ids[0]}.interrupted.mp4.age").write_bytes(TINY)  # sealed after a power cut
    (rec / f"{ids[1]}.index.age").unlink()  # cut off before its fragment index: unsealed
    _put(rec, "20261120T090000Z-00000000abcd", "notes", "thumbs")  # sidecars, no film
    (rec / f"{ids[2]}.notes.age.damaged").write_bytes(b"junk")  # set aside earlier
    (rec / f"{ids[3]}.index.age").rename(rec / f"{ids[3]}.index.age.damaged")  # finished
    DAMAGE[damage](data / "kit.sqlite")
    library = Library(data)
    try:
        rows = {row.id: row for row in library.index.all()}
        assert library.rebuilt is not None
        assert {i: rows[i].state for i in ids} == {
            ids[0]: State.RECOVERED,
            ids[1]: State.INTERRUPTED,
            ids[2]: State.COMPLETE,
            ids[3]: State.COMPLETE,
        }
        assert len(rows) == 4  # sidecars without a film list nothing
        assert rows[ids[2]].size == len(TINY) and rows[ids[2]].started_at.startswith("2026-11-20T")
        assert all(row.held for row in rows.values())  # until the cases' copy is read back
        aside = sorted(p.name for p in data.glob("kit.sqlite.damaged-*"))
        if damage == "deleted":
            assert aside == [] and library.rebuilt.set_aside == ""
        else:
            assert aside and aside[0] == library.rebuilt.set_aside  # kept, never deleted
        events = [r.event for r in library.audit.rows()]
        assert events == ["index rebuilt"] and library.audit.verify() == []
        words = rebuilt_words(library.index)
        assert words is not None and "rebuilt from the films on the card" in words
        assert (rec / f"{ids[2]}.notes.age.damaged").exists()
    finally:
        library.close()
    again = Library(data)  # a sound index is left alone the next time
    try:
        assert again.rebuilt is None and len(again.index.all()) == 4
    finally:
        again.close()


def test_an_index_missing_from_an_empty_kit_is_simply_new(tmp_path: Path) -> None:
    library = Library(tmp_path / "data")
    try:
        assert library.rebuilt is None and rebuilt_words(library.index) is None
    finally:
        library.close()
    (tmp_path / "data" / "kit.sqlite").unlink()
    (tmp_path / "data" / "cases").mkdir()
    (tmp_path / "data" / "cases" / "case-0123456789ab.age").write_bytes(TINY)
    library = Library(tmp_path / "data")  # a case and no film yet: still worth rebuilding
    try:
        assert library.rebuilt is not None and library.rebuilt.films == 0
    finally:
        library.close()


def test_the_audit_chain_and_kit_id_come_back_from_the_outbox(tmp_path: Path) -> None:
    """What sync last sent (plain: ids, hashes, audit rows) is on the card in the outbox:
    the chain goes on from there, so the office's copy still verifies."""
    data, ids = _kit_with(tmp_path, 2)
    library = Library(data)
    try:
        for event in ("unlock", "record start", "record stop"):
            library.audit.append(event, ids[0])
        rows = library.audit.rows()
        kit_id = library.index.kit_id()
        outbox = data / "outbox"
        outbox.mkdir()
        doc = {"format": "vigkit-audit/1", "kit": kit_id, "rows": [r.__dict__ for r in rows[:2]]}
        (outbox / "audit.json").write_text(json.dumps(doc))
        manifest = {
            "recording": ids[0],
            "kit": kit_id,
            "duration_s": 12.5,
            "files": [{"name": f"{ids[0]}.mp4.age", "size": len(TINY), "sha256": "ab" * 32}],
        }
        (outbox / f"{ids[0]}.manifest.json").write_text(json.dumps(manifest))
    finally:
        library.close()
    _damage_header(data / "kit.sqlite")
    library = Library(data)
    try:
        assert library.index.kit_id() == kit_id  # sync goes on into the same office folder
        chain = library.audit.rows()
        assert [r.event for r in chain] == ["unlock", "record start", "index rebuilt"]
        assert chain[:2] == rows[:2] and library.audit.verify() == []
        assert chain[2].detail["after_row"] == 2
        assert chain[2].detail["audit_aside"] is None  # the damaged header: unreadable
        film = library.index.get(ids[0])
        assert (film.sha256, film.duration_s) == ("ab" * 32, 12.5)  # as the kit recorded
        words = rebuilt_words(library.index) or ""
        assert "could not be read" in words and library.rebuilt is not None
        assert library.rebuilt.set_aside in words
    finally:
        library.close()


def test_sync_does_not_rebuild_behind_a_running_kit(tmp_path: Path) -> None:
    data, _ = _kit_with(tmp_path, 1)
    running = Library(data)  # the kit, holding its lock
    try:
        (data / "kit.sqlite.gone").write_bytes(b"")
        _damage_header(data / "kit.sqlite")
        with pytest.raises(LibraryError, match="damaged or missing") as refused:
            Library(data, kit_lock=False)
        assert "Restart the kit" in refused.value.hint
    finally:
        running.close()


def test_a_locked_index_is_not_taken_for_a_damaged_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "BUSY_WAIT_S", 0.2)
    data, _ = _kit_with(tmp_path, 1)
    holder = sqlite3.connect(data / "kit.sqlite", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LibraryError, match="cannot be opened"):
            Library(data, kit_lock=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(data.glob("kit.sqlite.damaged-*"))


def _synced(data: Path, ids: list[str]) -> None:
    library = Library(data)
    try:
        for rec_id in ids:
            library.audit.append("record stop", rec_id, duration_s=60.0)
        kit_id = library.index.kit_id()
        rows = [r.__dict__ for r in library.audit.rows()]
    finally:
        library.close()
    outbox = data / "outbox"
    outbox.mkdir()
    (outbox / "audit.json").write_text(json.dumps({"kit": kit_id, "rows": rows}))
    for rec_id in ids:
        files = [{"name": f"{rec_id}.{k}.age", "size": len(TINY), "sha256": "ab" * 32}
                 for k in ("mp4", "index", "notes")]  # fmt: skip
        doc = {"recording": rec_id, "kit": kit_id, "state": "complete", "duration_s": 60.0}
        (outbox / f"{rec_id}.manifest.json").write_text(json.dumps(doc | {"files": files}))


def test_time_to_rebuild_the_index_of_200_films(tmp_path: Path) -> None:
    """A figure for docs/performance.md (printed, not asserted): 200 films, each with a
    fragment index and notes and a manifest in the outbox, 200 audit rows, the index's
    header damaged, then the kit opened (check, set aside, rebuild, audit row)."""
    data, ids = _kit_with(tmp_path, 200)
    _synced(data, ids)  # as sync leaves the outbox: a manifest per film, the audit chain
    _damage_header(data / "kit.sqlite")
    started = time.perf_counter()
    library = Library(data)
    took = time.perf_counter() - started
    try:
        assert len(library.index.all(State.COMPLETE)) == 200
        assert len(library.audit.rows()) == 201 and library.audit.verify() == []
    finally:
        library.close()
    print(f"\nrebuilding the index of {len(ids)} films took {took * 1000:.0f} ms")


def test_films_get_their_case_back_and_erased_films_stay_erased(tmp_path: Path) -> None:
    data, ids = _kit_with(tmp_path, 3)
    library = Library(data)
    try:
        store = CaseStore(library)
        consent = {"given_on": "2026-11-02", "practitioner": True, "supervisor": True,
                   "training": False, "stops_on_request": True}  # fmt: skip
        case = cases.new_case(store, "F-0231", "", consent, [KEY], [KEY.recipient()])
        cases.set_current(store, case.id, [KEY])
        for rec_id in ids[:2]:
            store.registry.assign(rec_id, case.id, 1)
        cases.erase_film(library, store.registry, ids[1])
    finally:
        library.close()
    _put(data / "recordings", ids[1], "mp4", "index")  # what a power cut left of the erase
    stranger = "20261121T000000Z-00000000beef"
    _put(data / "recordings", stranger, "mp4", "index")  # a film the registry never saw
    _damage_header(data / "kit.sqlite")
    library = Library(data)
    try:
        store = CaseStore(library)  # reads registry.json back (once)
        finish_erasures(library)  # as the kit's start-up does next
        rows = {row.id: row for row in library.index.all()}
        assert (rows[ids[0]].case_id, rows[ids[0]].held) == (case.id, False)
        assert rows[ids[1]].state == State.DELETED
        assert not list((data / "recordings").glob(f"{ids[1]}.*"))
        assert (rows[ids[2]].case_id, rows[ids[2]].held) == (None, False)  # as it was
        assert rows[stranger].held  # unknown: Unassigned, so never sent without a case
        assert store.registry.current() == case.id
        assert store.registry.get(case.id) is not None
        assert [r.kind for r in cases.all_requests(store.registry)] == ["film"]
        restored = [r for r in library.audit.rows() if r.event == "cases restored"]
        assert restored[0].detail == {"cases": 1, "films_filed": 2, "erased": 1}
    finally:
        library.close()
