"""HTTP Range responses over a seekable reader, as phones need to play and seek a film.

Safari opens a video with ``Range: bytes=0-1`` and gives up unless it gets exactly a
206 with ``Content-Range``, ``Accept-Ranges: bytes`` and an exact ``Content-Length``;
every player seeks with ranges. Werkzeug's ``make_conditional`` does the range
arithmetic; this module feeds it a reader it can seek (so a 64 KiB range of a 1 GB film
decrypts about 64 KiB) and settles the cases where Werkzeug's answer is not ours:

- a malformed ``Range`` (or another unit, or ``last < first``) is ignored, as RFC 9110
  §14.2 says, and the whole file is sent with 200 — Werkzeug would answer 416;
- a suffix longer than the film (``bytes=-N``, N > size) is the whole film as a 206, as
  RFC 9110 §14.1.3 says — Werkzeug would answer 416;
- several ranges (``bytes=0-1,5-9``) are also answered with the whole file and 200,
  which RFC 9110 allows and every client handles — Werkzeug would answer 416;
- a range that starts at or past the end is a 416 with ``Content-Range: bytes */SIZE``.

A range is always answered whole. RFC 9110 lets a server send less than was asked, and
this module once cut every answer at 1 MiB, but WebKit (Safari's engine) then reads on
from where the short answer ended and its next seek lands seconds away, and ffmpeg takes
the short answer for the whole file (issue #13). A phone that pauses holds its worker
until it reads again or goes (``web.common.serving`` has threads for that).

A whole film (no ``Range``: players always send one, downloads and scripts do not) holds
its worker until the client has read it all, so a page allows only
``WHOLE_FILES_AT_ONCE`` of them at a time (a slot of ``PageApp.whole_files``, given
back when the body ends, is closed or dropped); one more is a 503 that says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import IO, cast

from flask import current_app
from werkzeug.datastructures import Range
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import FileWrapper

from device.media.source import RangeSource
from web.common.page import PageApp

# The first block is one age chunk, so a cold range's first bytes leave after about one
# chunk's decryption; the blocks after it are larger: a quarter of the trips through
# Python per MB (about 20% less CPU per MB here, docs/performance.md "Playback").
BLOCK_SIZE = 64 * 1024
STREAM_BLOCK_SIZE = 256 * 1024


def serve_file_like(
    request: Request,
    fileobj: RangeSource,
    size: int,
    *,
    mimetype: str = "video/mp4",
) -> Response:
    """Answer GET/HEAD for ``fileobj`` (seekable, ``size`` bytes), honouring one byte range.

    The response owns ``fileobj`` and closes it when the
    body is done or abandoned.
    """
    # FileWrapper (not wsgi.file_wrapper) so Werkzeug's range wrapper can seek it: a
    # server's own wrapper may lack ``seekable`` and be read from the start instead.
    body = _Blocks(cast(IO[bytes], fileobj), BLOCK_SIZE)
    response = Response(body, mimetype=mimetype, direct_passthrough=True)
    response.headers["Cache-Control"] = "no-store"
    response.content_length = size
    environ = dict(request.environ)
    wanted = _single_byte_range(environ.pop("HTTP_RANGE", None), size)
    if wanted is not None:
        environ["HTTP_RANGE"] = wanted
    try:
        response = response.make_conditional(environ, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        body.close()
        return _not_satisfiable(size)
    if response.status_code == 200 and request.method == "GET":
        return _whole(response, body)
    return response


def _whole(response: Response, body: FileWrapper) -> Response:
    """The whole-film ``response``, if a slot is free; else a 503 in words."""
    app = current_app
    if not isinstance(app, PageApp):  # a bare Flask app (tests): no limit
        return response
    slot = app.whole_files
    if not slot.acquire(blocking=False):
        body.close()
        return _busy()
    response.response = _Held(body, slot)
    return response


class _Held:
    """A whole film's body that gives its slot back once: at its end, closed or dropped."""

    def __init__(self, body: Iterable[bytes], slot: threading.BoundedSemaphore) -> None:
        self._body = body
        self._slot: threading.BoundedSemaphore | None = slot

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self.close()

    def close(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot.release()
            getattr(self._body, "close", lambda: None)()

    def __del__(self) -> None:
        self.close()


def _busy() -> Response:
    response = Response(
        "The kit is already sending whole films to other phones. Play the film on the page,"
        " or try again in a minute.\n",
        status=503,
        mimetype="text/plain",
    )
    response.headers["Retry-After"] = "60"
    response.headers["Cache-Control"] = "no-store"
    return response


class _Blocks(FileWrapper):
    """Werkzeug's ``FileWrapper`` reading a small first block, then larger ones."""

    def __next__(self) -> bytes:
        block = super().__next__()
        self.buffer_size = STREAM_BLOCK_SIZE
        return block


def _single_byte_range(header: str | None, size: int) -> str | None:
    """The Range header for Werkzeug to honour, or None to send the whole film with 200."""
    parsed: Range | None = parse_range_header(header)
    if header is None or parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    start, end = parsed.ranges[0]
    if start < 0 and end is None and -start > size:
        return "bytes=0-"
    return header


def _not_satisfiable(size: int) -> Response:
    response = Response(
        "The requested range lies outside the film.\n", status=416, mimetype="text/plain"
    )
    response.headers["Content-Range"] = f"bytes */{size}"
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "no-store"
    return response
