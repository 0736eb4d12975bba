"""Clip export: encrypted MP4s that start at the chosen frame (edit list or re-encode).

Each clip is decrypted with the real ``age`` CLI into memory and read by ffmpeg/ffprobe
through pipes; the synthetic camera's frame counter says which frame is shown.
"""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.errors import ClipRangeError, NotesError, VigKitError
from device.hardware.synthetic import encode_pattern
from device.library import Library, State, new_recording_id
from device.library.exports import export_clip, open_recording
from device.library.notes import NotesStore, add_item
from device.media.clips import cut_clip
from device.media.packets import EncodedFrame
from device.recording.capture import CaptureResult
from device.recording.film import EncryptedFilm, FilmFormat
from tests.media.film_helpers import (
    FPS,
    HEIGHT,
    WIDTH,
    Key,
    make_key,
    probe,
    record_film,
    shown_frames,
)

SECONDS = 8.0
FRAME_S = 1 / FPS


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Key, str]]:
    root = tmp_path_factory.mktemp("clips")
    library = Library(root / "data")
    key = make_key(root)
    rec_id = record_film(library, key, SECONDS)
    yield library, key, rec_id
    library.close()


# (in, out): the film's very start; exactly on a keyframe; the frame just before a
# keyframe; mid-GOP; up to the very end of the film
RANGES = [(0.0, 1.5), (2.0, 3.5), (3.0 - FRAME_S, 4.0), (4.4, 5.1), (6.5, SECONDS)]


@pytest.mark.parametrize("exact", [False, True], ids=["copy", "exact"])
@pytest.mark.parametrize(("in_s", "out_s"), RANGES)
def test_exported_clip_starts_at_the_chosen_frame(
    kit: tuple[Library, Key, str], in_s: float, out_s: float, exact: bool
) -> None:
    library, key, rec_id = kit
    notes = NotesStore(library.data, library.index, library.audit)
    ids, recipients = [key.identity], [key.recipient]
    added = notes.apply(rec_id, [add_item("clips", {"in": in_s, "out": out_s})], ids, recipients)
    clip_id = added.doc["clips"][-1]["id"]

    done = export_clip(library, notes, rec_id, clip_id, ids, recipients, exact=exact)

    item = done.item("clips", clip_id)
    mp4 = key.decrypt(library.data.derived(rec_id, item["file"]))
    assert top_level(mp4) == [b"ftyp", b"moov", b"mdat"]  # streamed out, its moov still first
    shown = shown_frames(mp4)
    first, last = round(in_s * FPS + 1e-6), round(out_s * FPS + 1e-6) - 1
    assert abs(shown[0] - first) <= 1
    assert abs(shown[-1] - last) <= 1
    assert shown == list(range(shown[0], shown[-1] + 1))  # every frame, once, in order
    duration = float(probe(mp4)["format"]["duration"])
    assert abs(duration - (out_s - in_s)) <= FRAME_S
    assert item["exact"] is exact
    assert abs(item["exported_in"] - in_s) <= FRAME_S
    event = library.audit.rows()[-1]
    assert (event.event, event.recording, event.detail["file"]) == (
        "export clip",
        rec_id,
        item["file"],
    )


def test_stream_copy_relies_on_its_edit_list_and_exact_does_not(
    kit: tuple[Library, Key, str],
) -> None:
    library, key, rec_id = kit
    with open_recording(library, rec_id, [key.identity]) as (reader, index):
        copied = cut_clip(reader, index, 4.5, 5.5)
        exact = cut_clip(reader, index, 4.5, 5.5, exact=True)
    # a player that ignores edit lists shows the run-up from the keyframe at 4 s...
    assert shown_frames(copied.mp4, "-ignore_editlist", "1")[0] == 4 * FPS
    assert shown_frames(copied.mp4)[0] == round(4.5 * FPS)
    # ...but the re-encoded clip starts at the chosen frame either way, frame for frame
    expected = list(range(round(4.5 * FPS), round(5.5 * FPS)))
    assert shown_frames(exact.mp4, "-ignore_editlist", "1") == expected
    assert exact.frames == copied.frames == len(expected)
    streams = {s["codec_type"] for s in probe(copied.mp4)["streams"]}
    assert streams == {"video", "audio"}
    for clip in (copied, exact):  # progressive, moov first: every engine plays it at once
        assert top_level(clip.mp4) == [b"ftyp", b"moov", b"mdat"]


def top_level(mp4: bytes) -> list[bytes]:
    kinds, at = [], 0
    while at < len(mp4):
        size, kind = struct.unpack_from(">I4s", mp4, at)
        if size == 1:
            (size,) = struct.unpack_from(">Q", mp4, at + 8)
        kinds.append(kind)
        at += size
    return [k for k in kinds if k != b"free"]


@pytest.mark.parametrize(
    ("in_s", "out_s", "words"),
    [
        (3.0, 2.0, "out point is not after its in point"),
        (2.0, 2.0, "out point is not after its in point"),
        (2.0, SECONDS + 1, "after the end of the film"),
        (SECONDS + 1, SECONDS + 2, "starts after the film ends"),
        (-1.0, 1.0, "starts before the film"),
        (0.0, 5.0, "at most 4 s"),
    ],
)
def test_bad_in_and_out_points_say_what_is_wrong(
    kit: tuple[Library, Key, str], in_s: float, out_s: float, words: str
) -> None:
    library, key, rec_id = kit
    with (
        open_recording(library, rec_id, [key.identity]) as (reader, index),
        pytest.raises(ClipRangeError, match=words) as caught,
    ):
        cut_clip(reader, index, in_s, out_s, max_s=4.0)
    assert isinstance(caught.value, VigKitError) and caught.value.hint


def test_exports_are_numbered_encrypted_files_and_notes_refuse_bad_clips(
    kit: tuple[Library, Key, str],
) -> None:
    library, key, rec_id = kit
    notes = NotesStore(library.data, library.index, library.audit)
    ids, recipients = [key.identity], [key.recipient]
    with pytest.raises(NotesError, match="after its Start"):
        notes.apply(rec_id, [add_item("clips", {"in": 3.0, "out": 2.0})], ids, recipients)
    with pytest.raises(NotesError, match="at most 120 seconds"):
        notes.apply(rec_id, [add_item("clips", {"in": 0.0, "out": 200.0})], ids, recipients)
    doc = notes.apply(rec_id, [add_item("clips", {"in": 1.0, "out": 2.0})], ids, recipients).doc
    clip_id = doc["clips"][-1]["id"]
    first = export_clip(library, notes, rec_id, clip_id, ids, recipients).item("clips", clip_id)
    again = export_clip(library, notes, rec_id, clip_id, ids, recipients).item("clips", clip_id)
    number = int(first["file"].split("-")[1].split(".")[0])
    assert again["file"] == f"clip-{number + 1}.mp4"
    path: Path = library.data.derived(rec_id, again["file"])
    assert path.name == f"{rec_id}.clip-{number + 1}.mp4.age"
    assert path.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert not list(library.data.recordings.glob(".*.tmp"))  # no temp file left behind


FILLER = b"\x00\x00\x01\x0c"  # an H.264 filler NAL unit: decoders skip it


def _heavy_film(library: Library, key: Key, seconds: int, bytes_per_frame: int) -> str:
    """A film of the synthetic pattern with every frame padded by filler to
    ``bytes_per_frame``, muxed by the kit's EncryptedFilm (no sound)."""
    rec_id = new_recording_id()
    library.index.add(rec_id, "2026-11-21T10:00:00+00:00", 0, False)
    film = EncryptedFilm(
        library.data, rec_id, [key.recipient], FilmFormat(WIDTH, HEIGHT, FPS), has_audio=False
    )
    units = encode_pattern(WIDTH, HEIGHT, FPS, 400_000)
    for n in range(seconds * FPS):
        unit = units[n % len(units)]
        pad = max(0, bytes_per_frame - len(unit.data) - len(FILLER) - 1)
        data = unit.data + FILLER + b"\xff" * pad + b"\x80"
        film.muxer.add_video(EncodedFrame(data, unit.keyframe, round(n * 1e6 / FPS)))
    size, sha = film.finish(CaptureResult(first_us=0, last_us=seconds * 1_000_000))
    library.index.update(rec_id, state=State.COMPLETE, duration_s=seconds, size=size, sha256=sha)
    return rec_id


def test_a_long_clip_streams_into_its_file_and_is_never_held_whole_in_memory(
    tmp_path: Path,
) -> None:
    """A 20 s clip of a 1 MB/s film: the export's Python allocations peak far below the
    clip's 20 MB (it used to be built whole in memory, then encrypted)."""
    library = Library(tmp_path / "data")
    key = make_key(tmp_path)
    try:
        rec_id = _heavy_film(library, key, 22, 1_000_000 // FPS)
        notes = NotesStore(library.data, library.index, library.audit)
        ids, recipients = [key.identity], [key.recipient]
        added = notes.apply(rec_id, [add_item("clips", {"in": 1.0, "out": 21.0})], ids, recipients)
        clip_id = added.doc["clips"][-1]["id"]
        tracemalloc.start()
        try:
            done = export_clip(library, notes, rec_id, clip_id, ids, recipients)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        clip = library.data.derived(rec_id, done.item("clips", clip_id)["file"])
        size = clip.stat().st_size
        assert size > 19_000_000
        assert peak < size / 5, f"{peak / 1e6:.1f} MB held for a {size / 1e6:.1f} MB clip"
        assert len(shown_frames(key.decrypt(clip))) == 20 * FPS
    finally:
        library.close()
