"""HTTP Range serving, as Safari, Chrome and FFmpeg-based players ask for a film.

A small Flask app serves a seekable reader through ``serve_file_like``. The reader
counts what is read from it, so the tests can tell a streamed range from a film read
whole into memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import ClassVar

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from device import age
from device.media import open_virtual_mp4
from tests.media.media_helpers import ffprobe, record
from web.common.ranges import BLOCK_SIZE, STREAM_BLOCK_SIZE, serve_file_like

SIZE = 3 * 1024 * 1024 + 17
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


class CountingReader(io.BytesIO):
    """BytesIO that remembers how many bytes were read from it and whether it was closed."""

    opened: ClassVar[list[CountingReader]] = []

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0
        self.was_closed = False
        CountingReader.opened.append(self)

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def close(self) -> None:
        self.was_closed = True
        super().close()


@pytest.fixture
def client() -> Iterator[FlaskClient]:
    app = Flask(__name__)

    @app.route("/film.mp4", methods=["GET", "HEAD"])
    def film() -> Response:
        return serve_file_like(request, CountingReader(DATA), SIZE)

    CountingReader.opened.clear()
    with app.test_client() as client:
        yield client


def _get(client: FlaskClient, range_header: str | None, method: str = "GET") -> Response:
    headers = {} if range_header is None else {"Range": range_header}
    return client.open("/film.mp4", method=method, headers=headers)


def _check_common(response: Response) -> None:
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),  # Safari's probe
        ("bytes=1000-", 1000, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=100-199", 100, 199),
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE - 1),
        (f"bytes=0-{SIZE * 2}", 0, SIZE - 1),  # clipped to the end
        (f"bytes=-{SIZE * 2}", 0, SIZE - 1),  # a suffix longer than the file is all of it
    ],
)
def test_one_range_is_a_206(client: FlaskClient, range_header: str, start: int, end: int) -> None:
    response = _get(client, range_header)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.get_data() == DATA[start : end + 1]
    _check_common(response)


@pytest.mark.parametrize(
    "range_header",
    [
        None,
        "bytes=0-1,5-9",  # several ranges: we send the whole film (RFC 9110 allows it)
        "bytes=abc",
        "bytes=5-2",
        "bytes=--1",
        "items=0-1",
        "bytes",
        "",
        "bytes=0-1,",
        "bytes=-0",  # Werkzeug's parser calls it malformed; RFC 9110 would allow a 416
    ],
)
def test_no_or_ignored_range_is_the_whole_film(
    client: FlaskClient, range_header: str | None
) -> None:
    response = _get(client, range_header)
    assert response.status_code == 200
    assert "Content-Range" not in response.headers
    assert response.headers["Content-Length"] == str(SIZE)
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.get_data() == DATA
    _check_common(response)


@pytest.mark.parametrize(
    "range_header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", f"bytes={SIZE}-{SIZE}"]
)
def test_impossible_range_is_a_416(client: FlaskClient, range_header: str) -> None:
    response = _get(client, range_header)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{SIZE}"
    _check_common(response)
    assert CountingReader.opened[0].was_closed


@pytest.mark.parametrize(
    ("range_header", "status", "length"), [(None, 200, SIZE), ("bytes=0-1", 206, 2)]
)
def test_head_sends_headers_only(
    client: FlaskClient, range_header: str | None, status: int, length: int
) -> None:
    response = _get(client, range_header, method="HEAD")
    assert response.status_code == status
    assert response.headers["Content-Length"] == str(length)
    assert response.get_data() == b""
    assert CountingReader.opened[0].bytes_read == 0


def test_a_range_is_streamed_not_read_whole(client: FlaskClient) -> None:
    start = 2 * 1024 * 1024
    response = _get(client, f"bytes={start}-{start + 64 * 1024 - 1}")
    assert response.get_data() == DATA[start : start + 64 * 1024]
    response.close()
    reader = CountingReader.opened[0]
    assert reader.bytes_read <= 64 * 1024 + BLOCK_SIZE
    assert reader.was_closed


def test_the_first_bytes_leave_after_one_small_block_then_larger_ones(client: FlaskClient) -> None:
    start = 100_000
    response = _get(client, f"bytes={start}-")
    pieces = [len(piece) for piece in response.response]
    response.close()
    assert pieces[0] <= BLOCK_SIZE  # a cold seek waits for one age chunk, not more
    assert max(pieces) == STREAM_BLOCK_SIZE
    assert sum(pieces) == SIZE - start


def test_safari_probe_then_a_seek_over_an_encrypted_film() -> None:
    recording = record(3.0)
    identity = age.X25519Identity.generate()
    ciphertext = age.encrypt_bytes(recording.data, [identity.recipient()])
    app = Flask(__name__)
    readers: list[age.Reader] = []

    @app.route("/film.mp4")
    def film() -> Response:
        readers.append(age.Reader(io.BytesIO(ciphertext), [identity]))
        virtual = open_virtual_mp4(recording.index, readers[-1], close_source=True)
        return serve_file_like(request, virtual, virtual.size)

    with app.test_client() as client:
        probe = client.get("/film.mp4", headers={"Range": "bytes=0-1"})
        size = int(probe.headers["Content-Range"].rpartition("/")[2])
        assert (probe.status_code, probe.get_data()) == (206, b"\x00\x00")
        head = client.get("/film.mp4", headers={"Range": "bytes=0-99999"})
        tail = client.get("/film.mp4", headers={"Range": "bytes=100000-"})
        body = head.get_data() + tail.get_data()
        head.close()
        tail.close()
    assert len(body) == size
    assert all(reader.closed for reader in readers[1:])
    probed = ffprobe(body, "-show_format")
    assert float(probed["format"]["duration"]) == pytest.approx(3.0, abs=0.1)
