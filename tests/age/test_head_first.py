"""HeadFirstWriter: a file whose start is rewritten after the rest streamed out (an MP4's
moov filled in last) is a plain age file that the real ``age`` opens, at every size
around the chunk and head boundaries; only the head may be rewritten."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from device import age
from device.age import CHUNK_SIZE
from tests.age.conftest import run_age

HEAD = 2 * CHUNK_SIZE
SIZES = [0, 1, 100, CHUNK_SIZE, HEAD - 1, HEAD, HEAD + 1, 3 * CHUNK_SIZE + 5, 5 * CHUNK_SIZE]


@pytest.mark.parametrize("size", SIZES)
def test_age_opens_a_file_whose_head_was_written_last(
    age_cli: str, identity: age.X25519Identity, key_file: Path, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    placeholder = min(size, 1000)
    out = tmp_path / "clip.age"
    with out.open("wb") as f:
        writer = age.HeadFirstWriter(f, [identity.recipient()], HEAD)
        writer.write(b"\0" * placeholder)  # room kept, as a muxer keeps it for its moov
        for at in range(placeholder, size, 7000):  # the rest streams in muxer-sized pieces
            writer.write(data[at : at + 7000])
        end = writer.tell()
        writer.seek(0)
        writer.write(data[:placeholder])  # filled in at the end
        writer.seek(end)
        writer.close()
    assert run_age("-d", "-i", key_file, out) == data
    assert age.decrypt_bytes(out.read_bytes(), [identity]) == data


def test_only_the_head_can_be_rewritten(identity: age.X25519Identity) -> None:
    writer = age.HeadFirstWriter(io.BytesIO(), [identity.recipient()], CHUNK_SIZE)
    writer.write(os.urandom(3 * CHUNK_SIZE))
    writer.seek(CHUNK_SIZE + 10)
    with pytest.raises(io.UnsupportedOperation):
        writer.write(b"x")
    with pytest.raises(ValueError, match="whole number"):
        age.HeadFirstWriter(io.BytesIO(), [identity.recipient()], 1000)
