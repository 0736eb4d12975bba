"""A byte flipped on the card after recording (issue #15, finding 4): salvage keeps every
authentic chunk; a film loses only the fragment the damaged chunk touched and still plays
to its end, at the office (``vigkit office decrypt --salvage``, a whole process) and on
the kit (sealing an interrupted film that is damaged too)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from device.cases.erase import erase_recordings
from device.library import Library, State
from device.recording.recovery import SEALED, seal_interrupted
from tests.media.film_helpers import FPS, Key, make_key, record_film, shown_frames
from tests.mediacheck import ffmpeg_decodes, stream_duration
from tests.recording.conftest import VIGKIT
from tests.recording.damage_helpers import chunks_of, flip_byte

SECONDS = 20.0


@dataclass(frozen=True)
class DamagedFilm:
    key: Key
    kit: Path  # the data folder it was recorded in
    rec_id: str
    whole: Path  # the film as recorded
    damaged: Path  # a copy with one byte flipped in its middle chunk
    chunk: int


@pytest.fixture(scope="module")
def damaged_film(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DamagedFilm]:
    folder = tmp_path_factory.mktemp("damaged-film")
    key = make_key(folder)
    library = Library(folder / "kit")
    try:
        rec_id = record_film(library, key, SECONDS)
        whole = library.data.film(rec_id)
    finally:
        library.close()
    damaged = folder / f"{rec_id}.mp4.age"
    shutil.copy(whole, damaged)
    chunk = chunks_of(damaged) // 2
    flip_byte(damaged, chunk)
    yield DamagedFilm(key, folder / "kit", rec_id, whole, damaged, chunk)


def test_office_salvage_keeps_all_but_the_damaged_seconds(damaged_film: DamagedFilm) -> None:
    key, damaged = damaged_film.key, damaged_film.damaged
    stopped = subprocess.run(["age", "-d", "-i", key.path, damaged], capture_output=True)
    assert stopped.returncode != 0  # age stops at the damaged chunk
    done = subprocess.run(  # to stdout, into memory: no plaintext on disk
        [*VIGKIT, "office", "decrypt", "--salvage", "-i", key.path, damaged],
        capture_output=True,
        check=True,
        timeout=300,
    )
    film, said = done.stdout, done.stderr.decode()
    assert "Traceback" not in said
    assert ffmpeg_decodes(film) == (0, "")
    shown = shown_frames(film)  # a gap shows the last frame before it until the next
    assert shown == sorted(shown)
    recorded = shown_frames(key.decrypt(damaged_film.whole))
    age_kept = len(set(shown_frames(stopped.stdout))) if stopped.stdout else 0
    missing = sorted(set(recorded) - set(shown))
    kept = len(set(shown))
    assert missing == list(range(missing[0], missing[0] + len(missing)))  # one stretch
    assert 0 < len(missing) <= 2 * FPS  # the fragment (1 s) the chunk touched, at most two
    assert shown[-1] == recorded[-1]  # it plays to the end
    assert stream_duration(film) == pytest.approx(SECONDS, abs=0.2)  # the gap keeps its time
    assert "lost about 1.0 s at 0:" in said and f"kept {kept / FPS:.1f} s" in said
    print(
        f"\nsalvage of a {SECONDS:.0f} s film with byte flipped in chunk {damaged_film.chunk}: "
        f"kept {kept / FPS:.2f} s ({kept} of {len(recorded)} frames), lost "
        f"{len(missing) / FPS:.2f} s; age -d stopped after {age_kept / FPS:.2f} s. "
        f"vigkit said: {said}"
    )


def test_the_kit_seals_an_interrupted_film_that_is_damaged_too(
    damaged_film: DamagedFilm, tmp_path: Path
) -> None:
    data, rec_id, key = tmp_path / "kit", damaged_film.rec_id, damaged_film.key
    shutil.copytree(damaged_film.kit, data)
    film = data / "recordings" / f"{rec_id}.mp4.age"
    body = damaged_film.damaged.read_bytes()
    film.write_bytes(body[: len(body) - 100])  # a power cut: no final chunk, no index
    (data / "recordings" / f"{rec_id}.index.age").unlink()
    library = Library(data)
    try:
        library.index.update(rec_id, state=State.INTERRUPTED)
        (report,) = seal_interrupted(library, [key.identity], [key.recipient])
        row = library.index.get(rec_id)
        audit = library.audit.rows()[-1]
    finally:
        library.close()
    assert (report.outcome, row.state) == (SEALED, State.RECOVERED)
    assert report.lost_s == pytest.approx(1.0, abs=0.1)
    assert audit.event == "recording sealed" and audit.detail["lost_s"] == report.lost_s
    sealed = key.decrypt(film)  # the real age opens it whole
    assert ffmpeg_decodes(sealed) == (0, "")
    kept = len(set(shown_frames(sealed)))
    assert report.kept_s == pytest.approx(kept / FPS, abs=0.05)
    assert SECONDS - 3 <= kept / FPS < SECONDS  # the damaged second and the cut-off end
    assert row.duration_s == pytest.approx(report.kept_s + report.lost_s)
    print(
        f"\nkit seal of an interrupted, damaged {SECONDS:.0f} s film: kept {report.kept_s} s,"
        f" lost {report.lost_s} s to the damage"
    )


def test_erasing_a_recording_removes_its_damaged_files_too(tmp_path: Path) -> None:
    library = Library(tmp_path / "kit")
    try:
        rec_id = "20261121T100000Z-0123456789ab"
        library.index.add(rec_id, "2026-11-21T10:00:00+00:00", 0, True)
        library.index.update(rec_id, state=State.COMPLETE)
        names = ["mp4.age", "mp4.age.damaged", "notes.age", "notes.age.damaged-2"]
        for name in names:
            (library.data.recordings / f"{rec_id}.{name}").write_bytes(b"ciphertext")
        assert erase_recordings(library, [rec_id], why="asked by the family") == len(names)
        assert not list(library.data.recordings.iterdir())
    finally:
        library.close()
