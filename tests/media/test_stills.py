"""Stills: the frame asked for, as an encrypted JPEG, noted in the notes and the audit log."""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import pytest

from device.errors import ClipRangeError
from device.hardware.synthetic import read_frame_number
from device.library import Library
from device.library.exports import export_still, open_recording
from device.library.notes import NotesStore
from device.media.stills import grab_still
from tests.media.film_helpers import FPS, HEIGHT, WIDTH, Key, make_key, record_film

SECONDS = 5.0


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Key, str]]:
    root = tmp_path_factory.mktemp("stills")
    library = Library(root / "data")
    key = make_key(root)
    yield library, key, record_film(library, key, SECONDS)
    library.close()


def decoded(jpeg: bytes) -> av.VideoFrame:
    with av.open(io.BytesIO(jpeg)) as container:
        return next(container.decode(video=0))


# the first frame; a keyframe; the frame just before a keyframe; mid-GOP; the last frame
@pytest.mark.parametrize("frame", [0, 2 * FPS, 2 * FPS - 1, 3 * FPS + 13, round(SECONDS * FPS) - 1])
def test_a_still_is_the_frame_asked_for(kit: tuple[Library, Key, str], frame: int) -> None:
    library, key, rec_id = kit
    notes = NotesStore(library.data, library.index, library.audit)
    t_s = frame / FPS + 0.01  # a phone's time lies somewhere inside the frame
    done = export_still(
        library, notes, rec_id, t_s, [key.identity], [key.recipient], caption="a shared smile"
    )
    still = done.doc["stills"][-1]
    assert (still["caption"], round(still["t"] * FPS)) == ("a shared smile", frame)
    jpeg = key.decrypt(library.data.derived(rec_id, still["file"]))  # the real age CLI
    picture = decoded(jpeg)
    assert (picture.width, picture.height) == (WIDTH, HEIGHT)
    assert read_frame_number(picture.to_ndarray(format="gray")) == frame
    row = library.audit.rows()[-1]
    assert (row.event, row.detail["file"]) == ("export still", still["file"])


@pytest.mark.parametrize("t_s", [-0.5, SECONDS, SECONDS + 3])
def test_a_time_outside_the_film_is_refused(kit: tuple[Library, Key, str], t_s: float) -> None:
    library, key, rec_id = kit
    with (
        open_recording(library, rec_id, [key.identity]) as (reader, index),
        pytest.raises(ClipRangeError, match="no frame at"),
    ):
        grab_still(reader, index, t_s)


def test_a_damaged_fragment_index_is_rebuilt_from_the_film(
    kit: tuple[Library, Key, str],
) -> None:
    library, key, rec_id = kit
    path = library.data.derived(rec_id, "index")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # cut short, as by a power cut
    try:
        notes = NotesStore(library.data, library.index, library.audit)
        frame = 2 * FPS + 5
        done = export_still(
            library, notes, rec_id, frame / FPS + 0.01, [key.identity], [key.recipient]
        )
        jpeg = key.decrypt(library.data.derived(rec_id, done.doc["stills"][-1]["file"]))
        assert read_frame_number(decoded(jpeg).to_ndarray(format="gray")) == frame
        damaged = path.with_name(f"{path.name}.damaged")
        assert damaged.read_bytes() == whole[: len(whole) // 2]  # kept for the office
    finally:
        path.write_bytes(whole)
