"""The encrypted notes sidecar: validation, consent, marks, concurrent edits, atomic saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from device import age
from device.errors import NoIdentityMatch, NotesError, NotFound, VigKitError
from device.library import Library, write_encrypted_json
from device.library.notes import (
    DEFAULT_PRINCIPLES,
    NotesStore,
    add_item,
    delete_item,
    load_principles,
    restore_item,
    save_principles,
    set_field,
    update_item,
)
from device.recording.film import EMPTY_NOTES

REC = "20261121T103205Z-7f3a"


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[tuple[Library, NotesStore, age.X25519Identity]]:
    library = Library(tmp_path / "data")
    library.index.add(REC, "2026-11-21T10:32:05+00:00", 0, True)
    key = age.X25519Identity.generate()
    # the empty sidecar the recorder writes when filming starts (schema version 1)
    write_encrypted_json(library.data, REC, "notes", EMPTY_NOTES, [key.recipient()])
    yield library, NotesStore(library.data, library.index, library.audit), key
    library.close()


Kit = tuple[Library, NotesStore, age.X25519Identity]


def apply(kit: Kit, *ops: dict[str, Any]) -> Any:
    _, store, key = kit
    return store.apply(REC, ops, [key], [key.recipient()])


def stored(kit: Kit) -> dict[str, Any]:
    library, _, key = kit
    ciphertext = library.data.derived(REC, "notes").read_bytes()
    return json.loads(age.decrypt_bytes(ciphertext, [key]))


def test_notes_start_empty_and_keep_what_is_typed(kit: Kit) -> None:
    notes = kit[1].load(REC, [kit[2]])
    assert (notes.revision, notes.consent_recorded, notes.doc["marks"]) == (0, False, [])
    apply(
        kit,
        set_field("case.code", "f-0231"),
        set_field("case.cycle", 2),
        set_field("case.question", "What would you like to be happening between you?"),
        set_field("case.notes", "Calm start; lots of turn-taking."),
    )
    doc = stored(kit)
    assert doc["version"] == 3 and doc["revision"] == 1
    assert doc["case"]["code"] == "F-0231" and doc["case"]["cycle"] == 2
    assert kit[0].data.derived(REC, "notes").read_bytes().startswith(b"age-encryption.org/v1")


@pytest.mark.parametrize("name", ["Alice", "Jo Smith", "Mrs Jones", "x", "AB-"])
def test_a_case_code_that_looks_like_a_name_is_refused(kit: Kit, name: str) -> None:
    with pytest.raises(NotesError, match="does not look like a case code") as caught:
        apply(kit, set_field("case.code", name))
    assert "never a name" in caught.value.hint
    assert stored(kit)["version"] == 1  # nothing was saved


@pytest.mark.parametrize(
    ("op", "words"),
    [
        (set_field("case.cycle", 0), "cycle must be a whole number"),
        (set_field("case.colour", "red"), "not a field of the notes"),
        (set_field("consent.given_on", "21/11/2026"), "must be a date"),
        (set_field("consent.supervisor", "yes"), "must be yes or no"),
        (add_item("marks", {"t": -1}), "before the start of the film"),
        (add_item("marks", {"t": 3, "principles": ["Being nice"]}), "not one of this kit's"),
        (add_item("marks", {"t": 3, "principles": "Guiding"}), "must be a list"),
        (add_item("marks", {"t": 3, "principle": "Guiding"}), "no field principle"),
        (add_item("marks", {"t": 3, "note": "x" * 201}), "too long: 201 characters, at most 200"),
        (add_item("marks", {"t": 3, "note": "first\nsecond"}), "note is one line"),
        (add_item("marks", {"principles": ["Guiding"]}), "needs a time"),
        (add_item("marks", {"t": 3, "supervision": True}), "does not include a supervisor"),
        (add_item("marks", {"t": 3, "supervision": "yes"}), "must be yes or no"),
        (add_item("clips", {"in": 1, "out": 2, "mark": "../x"}), "id of the mark"),
        ({"op": "restore", "list": "marks", "id": "m1"}, "can no longer be brought back"),
        (add_item("stills", {"t": 1, "file": "still-9.jpg"}), "no field file"),
        (update_item("marks", "m99", {"t": 1}), "no mark 'm99'"),
        ({"op": "rename"}, "unknown change"),
        (add_item("films", {}), "unknown list"),
    ],
)
def test_bad_edits_are_refused_in_plain_words(kit: Kit, op: dict[str, Any], words: str) -> None:
    with pytest.raises(NotesError, match=words) as caught:
        apply(kit, add_item("marks", {"t": 1.0}), op)
    assert isinstance(caught.value, VigKitError) and isinstance(caught.value, ValueError)
    assert stored(kit)["version"] == 1  # all or nothing: the first op was not kept either


def test_consent_sets_erase_by_two_months_after_the_case_closes(kit: Kit) -> None:
    library = kit[0]
    notes = apply(kit, set_field("consent.practitioner", True))
    assert not notes.consent_recorded
    notes = apply(
        kit,
        set_field("consent.given_on", "2026-11-21"),
        set_field("consent.stops_on_request", True),
        set_field("consent.training", False),
        set_field("consent.case_closed_on", "2026-12-31"),
    )
    assert notes.consent_recorded and notes.to_json()["consent_recorded"]
    assert notes.doc["consent"]["erase_by"] == "2027-02-28"  # no 31 February
    assert library.index.get(REC).erase_by == "2027-02-28"
    # a person's own date is kept even when the closing date changes later
    apply(kit, set_field("consent.erase_by", "2027-06-01"))
    notes = apply(kit, set_field("consent.case_closed_on", "2027-01-15"))
    assert notes.doc["consent"]["erase_by"] == "2027-06-01"
    assert library.index.get(REC).erase_by == "2027-06-01"
    with pytest.raises(NotesError, match="before the date consent was given"):
        apply(kit, set_field("consent.erase_by", "2026-01-01"))
    assert library.audit.rows()[-1].event == "consent saved"


def test_shared_review_done_reaches_the_index(kit: Kit) -> None:
    notes = apply(kit, set_field("review.reflections", "He looked at me when I waited."))
    assert not kit[0].index.get(REC).review_done
    notes = apply(kit, set_field("review.done", True))
    assert notes.review_done and kit[0].index.get(REC).review_done


def test_button_markers_appear_as_marks_and_can_be_tagged_or_dismissed(kit: Kit) -> None:
    library, store, key = kit
    write_encrypted_json(library.data, REC, "markers", [4.25, 9.5], [key.recipient()])
    marks = store.load(REC, [key]).to_json()["marks"]
    assert [(m["id"], m["t"], m["source"]) for m in marks] == [
        ("b1", 4.25, "button"),
        ("b2", 9.5, "button"),
    ]
    apply(kit, add_item("marks", {"t": 1.0, "principles": [DEFAULT_PRINCIPLES[2]]}))
    apply(kit, update_item("marks", "b2", {"principles": ["Guiding"]}), delete_item("marks", "b1"))
    marks = store.load(REC, [key]).to_json()["marks"]
    assert [(m["id"], m["principles"], m["source"]) for m in marks] == [
        ("m1", ["Receiving initiatives"], "phone"),
        ("b2", ["Guiding"], "button"),
    ]
    # undo brings the dismissed button mark back (and it stays back on the next load)
    apply(kit, restore_item("marks", "b1"))
    marks = store.load(REC, [key]).to_json()["marks"]
    assert [m["id"] for m in marks] == ["m1", "b1", "b2"]


def test_the_kits_principles_are_editable_and_stored_encrypted(kit: Kit) -> None:
    library, _, key = kit
    assert load_principles(library.data, [key]) == list(DEFAULT_PRINCIPLES)
    save_principles(library.data, ["Being attentive", "Waiting"], [key.recipient()])
    assert load_principles(library.data, [key]) == ["Being attentive", "Waiting"]
    assert (library.data.root / "principles.age").read_bytes().startswith(b"age-encryption")
    apply(kit, add_item("marks", {"t": 2.0, "principles": ["Waiting"]}))
    with pytest.raises(NotesError, match="no two may be the same"):
        save_principles(library.data, ["A", "A"], [key.recipient()])


def test_clips_get_ids_and_order_and_unknown_recordings_are_refused(kit: Kit) -> None:
    notes = apply(
        kit,
        add_item("clips", {"in": 3.0, "out": 5.5, "name": "Shared smile"}),
        add_item("clips", {"in": 8.0, "out": 9.0, "principles": ["Guiding"]}),
    )
    assert [(c["id"], c["order"]) for c in notes.doc["clips"]] == [("c1", 1), ("c2", 2)]
    notes = apply(kit, update_item("clips", "c2", {"order": 0}))
    assert [c["id"] for c in notes.to_json()["clips"]] == ["c2", "c1"]
    _, store, key = kit
    with pytest.raises(NotFound):
        store.apply("20261121T103205Z-0000", [], [key], [key.recipient()])


def test_marks_and_clips_carry_several_principles_a_note_and_a_supervision_flag(
    kit: Kit,
) -> None:
    library, _, key = kit
    allowed: list[str] = []
    store = NotesStore(
        library.data,
        library.index,
        library.audit,
        supervision=lambda rec_id, ids: allowed.append(rec_id) is None,
    )
    two = ["Guiding", "Being attentive"]
    mark = {"t": 4.0, "principles": [*two, "Guiding"], "note": "She waits; he looks up."}
    notes = store.apply(REC, [add_item("marks", mark)], [key], [key.recipient()])
    assert allowed == []  # the case's consent is only looked up to flag something
    assert notes.item("marks", "m1") == {
        "id": "m1",
        "t": 4.0,
        "principles": two,  # in the order tapped, each once
        "note": "She waits; he looks up.",
        "supervision": False,
        "source": "phone",
    }
    clip = {"in": 1.0, "out": 9.0, "principles": two, "mark": "m1", "supervision": True}
    notes = store.apply(
        REC,
        [add_item("clips", clip), update_item("marks", "m1", {"supervision": True})],
        [key],
        [key.recipient()],
    )
    assert allowed == [REC]
    assert notes.item("clips", "c2")["principles"] == two
    assert notes.item("clips", "c2")["supervision"] and notes.item("marks", "m1")["supervision"]
    # a kit that renamed its principles: what old marks meant stays, new names are checked
    save_principles(library.data, ["Waiting"], [key.recipient()])
    notes = store.apply(
        REC, [update_item("marks", "m1", {"principles": ["Waiting", "Guiding"]})], [key],
        [key.recipient()],
    )  # fmt: skip
    assert notes.item("marks", "m1")["principles"] == ["Waiting", "Guiding"]
    with pytest.raises(NotesError, match="'Deepening discussion' is not one of this kit"):
        store.apply(
            REC, [update_item("marks", "m1", {"principles": ["Deepening discussion"]})], [key],
            [key.recipient()],
        )  # fmt: skip
    # the default store (no rule given) lets nothing be flagged, but unflagging is allowed
    notes = apply(kit, update_item("clips", "c2", {"supervision": False}))
    assert not notes.item("clips", "c2")["supervision"]
    with pytest.raises(NotesError, match="does not include a supervisor"):
        apply(kit, update_item("clips", "c2", {"supervision": True}))
    assert apply(kit, update_item("marks", "m1", {"note": "x" * 200})).item("marks", "m1")


def test_removed_items_come_back_whole_with_undo(kit: Kit) -> None:
    clip = {"in": 2.0, "out": 4.0, "name": "Turn taking", "principles": ["Guiding"]}
    apply(kit, add_item("clips", clip), add_item("stills", {"t": 3.0, "caption": "A look"}))
    _, store, key = kit
    store.apply(
        REC,
        [update_item("clips", "c1", {"file": "clip-1.mp4", "exported_in": 2.0})],
        [key],
        [key.recipient()],
        system=True,
    )
    before = store.load(REC, [key]).item("clips", "c1")
    notes = apply(kit, delete_item("clips", "c1"), delete_item("stills", "s2"))
    assert notes.doc["clips"] == [] and notes.doc["stills"] == []
    notes = apply(kit, restore_item("clips", "c1"), restore_item("stills", "s2"))
    assert notes.item("clips", "c1") == before  # its export file and all
    assert notes.item("stills", "s2")["caption"] == "A look"
    assert notes.doc["removed"] == []
    with pytest.raises(NotesError, match="clip can no longer be brought back"):
        apply(kit, restore_item("clips", "c1"))
    # only the last few removals are kept for undo
    apply(kit, *[add_item("marks", {"t": float(n)}) for n in range(25)])
    apply(kit, *[delete_item("marks", m["id"]) for m in stored(kit)["marks"]])
    assert len(stored(kit)["removed"]) == 20


def test_notes_of_an_older_kit_open_and_are_saved_in_todays_shape(kit: Kit) -> None:
    """Version 2 notes held one ``principle`` per mark and clip: they open, read as a
    list, and the next save writes version 3."""
    library, store, key = kit
    old = {
        "version": 2,
        "revision": 4,
        "next_id": 3,
        "case": {"code": "F-0231", "cycle": 1, "question": "", "notes": "Calm."},
        "consent": None,
        "marks": [
            {"id": "m1", "t": 2.5, "principle": "Guiding", "source": "phone"},
            {"id": "b1", "t": 7.0, "principle": "", "source": "button"},
        ],
        "clips": [{"id": "c2", "name": "Smile", "principle": "Being attentive", "in": 1.0,
                   "out": 3.0, "order": 1, "file": "clip-1.mp4", "exact": False}],
        "stills": [{"id": "s3", "t": 2.0, "caption": "", "file": "still-1.jpg"}],
        "dismissed": [],
        "review": {"done": False, "reflections": ""},
    }  # fmt: skip
    write_encrypted_json(library.data, REC, "notes", old, [key.recipient()])
    doc = store.load(REC, [key]).to_json()
    assert [(m["id"], m["principles"], m["note"]) for m in doc["marks"]] == [
        ("m1", ["Guiding"], ""),
        ("b1", [], ""),
    ]
    clip = doc["clips"][0]
    assert (clip["principles"], clip["file"], clip["supervision"]) == (
        ["Being attentive"], "clip-1.mp4", False,
    )  # fmt: skip
    assert not any("principle" in item for item in [*doc["marks"], *doc["clips"]])
    apply(kit, update_item("marks", "m1", {"principles": ["Guiding", "Being attentive"]}))
    saved = stored(kit)
    assert (saved["version"], saved["revision"], saved["case"]["notes"]) == (3, 5, "Calm.")
    assert saved["marks"][0]["principles"] == ["Guiding", "Being attentive"]
    assert saved["clips"][0]["principles"] == ["Being attentive"]


def test_edits_from_two_sessions_at_once_are_all_kept(kit: Kit) -> None:
    library, _, key = kit
    phones = [NotesStore(library.data, library.index, library.audit) for _ in range(2)]
    rounds = 15

    def phone(n: int) -> None:
        for i in range(rounds):
            ops = [add_item("marks", {"t": n * 100 + i})]
            if n == 0:
                ops.append(set_field("case.notes", f"note {i}"))
            else:
                ops.append(set_field("review.reflections", f"reflection {i}"))
            phones[n].apply(REC, ops, [key], [key.recipient()])

    threads = [threading.Thread(target=phone, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = stored(kit)
    assert sorted(m["t"] for m in doc["marks"]) == sorted(
        float(n * 100 + i) for n in range(2) for i in range(rounds)
    )
    assert len({m["id"] for m in doc["marks"]}) == 2 * rounds
    assert doc["case"]["notes"] == f"note {rounds - 1}"
    assert doc["review"]["reflections"] == f"reflection {rounds - 1}"
    assert doc["revision"] == 2 * rounds


def test_a_save_that_fails_before_its_rename_leaves_the_previous_version(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(kit, set_field("case.notes", "the version to keep"))

    def power_cut(self: Path, target: Any) -> Path:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "replace", power_cut)
    with pytest.raises(OSError):
        apply(kit, set_field("case.notes", "half written"))
    monkeypatch.undo()
    doc = stored(kit)
    assert (doc["case"]["notes"], doc["revision"]) == ("the version to keep", 1)
    assert not list(kit[0].data.recordings.glob(".*.tmp"))


SAVER = f"""
import sys
from pathlib import Path
from device import age
from device.library import Library
from device.library.notes import NotesStore, set_field
library = Library(Path(sys.argv[1]))
key = age.parse_identities(sys.argv[2])[0]
store = NotesStore(library.data, library.index, library.audit)
i = store.load("{REC}", [key]).revision  # so each save's text names its revision
while True:
    i += 1
    ops = [set_field("case.notes", "x" * 15000 + str(i))]
    notes = store.apply("{REC}", ops, [key], [key.recipient()])
    print(notes.revision, flush=True)
"""


def test_a_process_killed_mid_save_leaves_a_whole_version(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with_lock = Library(root)
    with_lock.index.add(REC, "2026-11-21T10:32:05+00:00", 0, True)
    with_lock.close()  # the saving process takes the data folder's lock
    key = age.X25519Identity.generate()
    for delay in (0.3, 0.45, 0.6):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(root), str(key)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        assert proc.stdout is not None
        with proc.stdout:
            first = int(proc.stdout.readline())  # saving has begun
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        library = Library(root)
        try:
            notes = NotesStore(library.data, library.index, library.audit).load(REC, [key])
            assert notes.revision >= first
            assert notes.doc["case"]["notes"] == "x" * 15000 + str(notes.revision)
        finally:
            library.close()
    library = Library(root)
    try:
        store = NotesStore(library.data, library.index, library.audit)
        store.apply(REC, [set_field("case.cycle", 1)], [key], [key.recipient()])
        assert not list(library.data.recordings.glob(".*.tmp"))  # leftover temp cleared
    finally:
        library.close()


@pytest.mark.parametrize("kind", ["notes", "markers"])
def test_a_damaged_sidecar_is_set_aside_and_the_notes_go_on(kit: Kit, kind: str) -> None:
    library, store, key = kit
    apply(kit, set_field("case.code", "F-0007"))
    write_encrypted_json(library.data, REC, "markers", [4.25], [key.recipient()])
    path = library.data.derived(REC, kind)
    half = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(half)
    notes = store.load(REC, [key])  # no error: the notes (or marks) start anew
    assert (path.parent / f"{path.name}.damaged").read_bytes() == half  # never deleted
    assert not path.exists()
    assert [m["id"] for m in notes.doc["marks"]] == ([] if kind == "markers" else ["b1"])
    apply(kit, set_field("case.code", "F-0008"))
    assert stored(kit)["case"]["code"] == "F-0008"
    path.write_bytes(half)  # damaged again: a second copy is kept beside the first
    store.load(REC, [key])
    assert (path.parent / f"{path.name}.damaged-2").read_bytes() == half


def test_notes_for_another_key_are_not_damage(kit: Kit) -> None:
    library, store, _ = kit
    with pytest.raises(NoIdentityMatch):
        store.load(REC, [age.X25519Identity.generate()])
    assert library.data.derived(REC, "notes").exists()
