"""Timeline thumbnails: keyframes only, 192 px wide JPEGs, kept in one encrypted file."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import av
import pytest

from device.hardware.synthetic import read_frame_number
from device.library import Library
from device.library.exports import open_recording
from device.library.thumbs import load_thumbnails, save_thumbnails, unpack_thumbnails
from device.media.thumbnails import Thumbnail, make_thumbnails
from tests.media.film_helpers import FPS, Key, make_key, record_film

SECONDS = 9.0


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, Key, str]]:
    root = tmp_path_factory.mktemp("thumbs")
    library = Library(root / "data")
    key = make_key(root)
    yield library, key, record_film(library, key, SECONDS)
    library.close()


def picture(jpeg: bytes) -> av.VideoFrame:
    with av.open(io.BytesIO(jpeg)) as container:
        return next(container.decode(video=0))


def test_thumbnails_are_keyframes_every_two_seconds(kit: tuple[Library, Key, str]) -> None:
    library, key, rec_id = kit
    with open_recording(library, rec_id, [key.identity]) as (reader, _):
        thumbs = make_thumbnails(reader)
        wide = make_thumbnails(reader, every_s=1.0, width=320)
    assert [t.t_s for t in thumbs] == [0.0, 2.0, 4.0, 6.0, 8.0]
    for thumb in thumbs:
        frame = picture(thumb.jpeg)
        assert (frame.width, frame.height) == (192, 108)
    # at full width the frame counter is readable: each is the keyframe at its time
    assert [t.t_s for t in wide] == [float(s) for s in range(9)]
    assert [read_frame_number(picture(t.jpeg).to_ndarray(format="gray")) for t in wide] == [
        s * FPS for s in range(9)
    ]


def test_thumbnails_are_stored_encrypted_and_load_back(kit: tuple[Library, Key, str]) -> None:
    library, key, rec_id = kit
    assert load_thumbnails(library.data, rec_id, [key.identity]) is None  # not made yet
    with open_recording(library, rec_id, [key.identity]) as (reader, _):
        thumbs = make_thumbnails(reader)
    save_thumbnails(library.data, rec_id, thumbs, [key.recipient])
    path = library.data.derived(rec_id, "thumbs")
    assert path.name == f"{rec_id}.thumbs.age"
    assert path.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert load_thumbnails(library.data, rec_id, [key.identity]) == thumbs
    # the documented container, read back from what the real age CLI decrypts
    plain = key.decrypt(path)
    magic, version, count = struct.unpack_from(">8sBI", plain)
    assert (magic, version, count) == (b"VIGTHUMB", 1, len(thumbs))
    assert unpack_thumbnails(plain) == thumbs


def test_a_film_with_no_fragments_has_no_thumbnails() -> None:
    assert make_thumbnails(io.BytesIO(b"")) == []
    assert Thumbnail(1.5, b"x") == Thumbnail(1.5, b"x")
