"""The cases' registry copy (``registry.json``) off the recording's start path: a press
files the film into its case in the index at once, but the copy's atomic write (two
fsyncs, slow on an SD card) happens on its own thread, never before the first frame.
The copy still catches up: soon after, at the kit's shutdown, or at the next start-up."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from device import age
from device.cases import CaseStore, mirror
from device.kit.assembly import Kit
from device.library import Library
from tests.recording.conftest import wait_for
from tests.web.web_helpers import consented_case, make_kit

real_atomic_write = mirror.atomic_write


def _films_in_copy(data: Path) -> dict[str, Any]:
    films: dict[str, Any] = json.loads((data / mirror.NAME).read_bytes())["films"]
    return films


def test_start_returns_while_the_copy_is_still_being_written(
    kit: Kit, office: age.X25519Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = consented_case(kit, office)
    writers: list[str] = []
    release = threading.Event()

    def blocking_write(path: Path, data: bytes, mode: int = 0o600) -> None:
        writers.append(threading.current_thread().name)
        release.wait(30)  # a card that takes its time
        real_atomic_write(path, data, mode)

    monkeypatch.setattr(mirror, "atomic_write", blocking_write)
    started: list[str] = []
    press = threading.Thread(target=lambda: started.append(kit.recorder.start(max_seconds=1)))
    try:
        press.start()
        press.join(5)
        assert not press.is_alive(), "start waited for registry.json to be written"
        (rec_id,) = started
        wait_for(lambda: writers == ["vigkit-registry-mirror"])
        assert kit.library.index.get(rec_id).case_id == case.id  # filed at once, in the index
        assert rec_id not in _films_in_copy(kit.library.data.root)  # the copy: not yet
    finally:
        release.set()
        press.join(5)
    wait_for(lambda: _films_in_copy(kit.library.data.root).get(rec_id) == [case.id, 1, 0])
    assert kit.recorder.wait(30)


def test_a_copy_the_thread_could_not_write_is_written_at_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = make_kit(tmp_path / "kit")  # with a consented current case
    failed = threading.Event()

    def failing_on_the_thread(path: Path, data: bytes, mode: int = 0o600) -> None:
        if threading.current_thread().name == "vigkit-registry-mirror":
            failed.set()
            raise OSError("the card did not answer")
        real_atomic_write(path, data, mode)

    monkeypatch.setattr(mirror, "atomic_write", failing_on_the_thread)
    try:
        case_id = kit.cases.registry.current()
        rec_id = kit.recorder.start(max_seconds=0.5)
        assert failed.wait(10) and kit.recorder.wait(30)
        assert rec_id not in _films_in_copy(kit.library.data.root)
    finally:
        kit.close()
    assert _films_in_copy(kit.library.data.root)[rec_id] == [case_id, 1, 0]


def test_a_copy_behind_the_index_catches_up_at_the_next_start(tmp_path: Path) -> None:
    """A power cut after a film was filed and before the thread wrote the copy: the index
    has the film's case, the copy does not. The next start-up writes it."""
    data = tmp_path / "kit"
    Library(data).close()
    rec_id = "20261121T103205Z-00000000beef"
    library = Library(data)
    try:
        library.index.add(rec_id, "2026-11-21T10:32:05+00:00", 0, False)
        CaseStore(library)  # as every start-up (open_kit, vigkit sync) makes one
    finally:
        library.close()
    assert _films_in_copy(data)[rec_id] == [None, None, 0]
    db = sqlite3.connect(data / "kit.sqlite")  # what file_recording did before the cut
    with db:
        db.execute("INSERT INTO cases (id, seq, consent_on) VALUES ('case-00000000abcd', 1, 'x')")
        db.execute("UPDATE recordings SET case_id = 'case-00000000abcd', cycle = 1")
    db.close()
    assert _films_in_copy(data)[rec_id] == [None, None, 0]
    library = Library(data)
    try:
        CaseStore(library)  # as every start-up (open_kit, vigkit sync) makes one
    finally:
        library.close()
    assert _films_in_copy(data)[rec_id] == ["case-00000000abcd", 1, 0]
