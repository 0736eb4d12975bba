"""Playback seen from inside a browser: which frame the player shows, seeking and playing,
and a plain progressive MP4 of a film served statically as the anchor to compare with.

Which frame is shown is read as a person would see it: the page draws the ``<video>``
into a canvas and hands back the luma of the synthetic camera's frame-counter band,
which ``read_frame_number`` (the same decoder the media tests use) turns into a number.
A canvas with nothing drawn (transparent) is no frame: the read waits for a picture.

The anchor (``faststart``) is ffmpeg's ``-movflags +faststart`` copy of the very bytes
the kit serves, written into an anonymous in-memory file (``memfd``: seekable, as
faststart needs, and never on a disk), then held in this process and served by Werkzeug
with its Range support, as a static file server would.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from werkzeug.serving import make_server
from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from device.hardware.synthetic import read_frame_number
from tests.browser.engines import Phone
from web.common.serving import lower_this_thread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

VIDEO = "document.querySelector('video')"

# the counter band's luma (BT.601 weights: the band is black or white, any weights do)
_BAND = """
(video, rows) => {
  const w = video.videoWidth, h = video.videoHeight, band = Math.min(rows(h), h);
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  g.drawImage(video, 0, 0, w, h);
  const px = g.getImageData(0, 0, w, band).data;
  if (px[3] === 0) return null;  // nothing drawn: WebKit may have no picture yet
  const luma = new Array(w * band);
  for (let i = 0; i < luma.length; i++)
    luma[i] = Math.round(0.299 * px[4 * i] + 0.587 * px[4 * i + 1] + 0.114 * px[4 * i + 2]);
  return { w, h, band, luma };
}"""
_SEEK = """
(t, video) => new Promise(done => {
  video.pause();
  video.addEventListener('seeked', () => done(video.currentTime), { once: true });
  video.currentTime = t;
})"""


def frame_shown(phone: Phone, selector: str = "video") -> int:
    """The synthetic frame number the player shows now (once it has a frame to show)."""
    video = f"document.querySelector({selector!r})"
    phone.wait_for(f"() => {video}.readyState >= 2")
    rows = "h => Math.max(12, Math.floor(h / 12))"  # counter_geometry's band height
    # WebKitGTK fires ``seeked`` (readyState 4) a moment before the picture can be drawn
    drawn = phone.wait_for(f"() => ({_BAND})({video}, {rows})", timeout_s=10)
    luma = np.full((drawn["h"], drawn["w"]), 128, np.uint8)
    luma[: drawn["band"]] = np.asarray(drawn["luma"], np.uint8).reshape(drawn["band"], -1)
    return read_frame_number(luma)


def first_frame(phone: Phone, selector: str = "video") -> int:
    """The film's first frame number: the frame shown once the player has sought to 0 s.

    Read after a seek, not as the page opens: Chromium (156) with ``preload="metadata"``
    may stop loading once it has the metadata and the first seconds (``readyState`` 4,
    ``networkState`` idle) before any decoded frame has reached its compositor, and then
    draws nothing at all — the canvas stays transparent — until a seek or play wakes the
    pipeline. Seen under load on the film page: nothing drawn for 30 s, drawn at once
    after a seek to 0. A seek has every engine decode the frame before ``seeked``."""
    seek(phone, 0, selector)
    return frame_shown(phone, selector)


def seek(phone: Phone, t: float, selector: str = "video", timeout_s: float = 15) -> float:
    """Pause, seek to ``t`` and wait for ``seeked``: where the player landed."""
    landed: float = phone.run(
        f"t => ({_SEEK})(t, document.querySelector({selector!r}))", t, timeout_s=timeout_s
    )
    return landed


def metadata(phone: Phone) -> float:
    """Wait until the player knows the film's length; that length in seconds."""
    duration: float = phone.wait_for(
        f"() => {VIDEO} && {VIDEO}.readyState >= 1 && {VIDEO}.duration"
    )
    return duration


COPY = ["ffmpeg", "-v", "error", "-y", "-i", "pipe:0", "-map", "0", "-c", "copy"]


def faststart(mp4: bytes) -> bytes:
    """A progressive MP4 (moov first) of ``mp4``, made without touching a disk."""
    out = os.memfd_create("faststart")
    try:
        subprocess.run(
            [*COPY, "-movflags", "+faststart", "-f", "mp4", f"/proc/self/fd/{out}"],
            input=mp4,
            check=True,
            capture_output=True,
            pass_fds=[out],
            timeout=300,
        )
        size = os.fstat(out).st_size
        return os.pread(out, size, 0)
    finally:
        os.close(out)


@dataclass
class FilmRequest:
    method: str
    range: str | None
    status: str = ""
    sent: int = 0
    path: str = ""
    # wall-clock times (``time.time``, the clock a page's ``performance.timeOrigin`` +
    # ``now()`` reads), so a bench can ask what had been sent when the page saw an event
    start: float = field(default_factory=time.time)  # when the request came in
    first: float = 0.0  # when the app gave its first body bytes (0: none yet)
    end: float = 0.0  # when the body was done or dropped (0: still going)
    sent_at: list[tuple[float, int]] = field(default_factory=list)  # (time, sent by then)

    def sent_by(self, when: float) -> int:
        """Bytes the app had given for this answer by the wall-clock time ``when``."""
        at = bisect.bisect_right(self.sent_at, (when, math.inf))
        return self.sent_at[at - 1][1] if at else 0


@dataclass
class FilmLog:
    """WSGI middleware: each request for a ``.mp4``, its Range and the bytes sent."""

    app: WSGIApplication
    requests: list[FilmRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not environ.get("PATH_INFO", "").endswith(".mp4"):
            return self.app(environ, start_response)
        entry = FilmRequest(
            environ["REQUEST_METHOD"], environ.get("HTTP_RANGE"), path=environ["PATH_INFO"]
        )
        with self.lock:
            self.requests.append(entry)

        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            entry.status = status
            return start_response(status, headers, *exc)

        return self._count(entry, self.app(environ, start))

    @staticmethod
    def _count(entry: FilmRequest, body: Iterable[bytes]) -> Iterator[bytes]:
        try:
            for chunk in body:
                now = time.time()
                entry.first = entry.first or now
                entry.sent += len(chunk)
                entry.sent_at.append((now, entry.sent))
                yield chunk
        finally:
            entry.end = time.time()
            close = getattr(body, "close", None)
            if close is not None:
                close()

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def snapshot(self) -> list[FilmRequest]:
        with self.lock:
            return list(self.requests)


PLAYER = (
    '<!doctype html><meta name="viewport" content="width=device-width">'
    '<video src="/films/{name}.mp4" muted playsinline preload="metadata" controls></video>'
)
BLANK = '<!doctype html><meta name="viewport" content="width=device-width"><title>films</title>'


@dataclass
class StaticFilms:
    """Films served as a static file server would (Werkzeug's ``send_file``, with HTTP
    Range), each at ``/films/<name>.mp4`` and in a bare player page at ``/play/<name>``;
    ``/`` is a blank page. A film is bytes, or a path to open for each request (an
    in-memory file: ``/proc/self/fd/N`` of a memfd). ``log`` counts each film request."""

    films: dict[str, bytes | Path]
    url: str = ""
    log: FilmLog = field(init=False)

    def __post_init__(self) -> None:
        self.log = FilmLog(self._app)

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self._respond(Request(environ))
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts == [""]:
            return Response(BLANK, mimetype="text/html")
        if len(parts) == 2 and parts[0] == "play" and parts[1] in self.films:
            return Response(PLAYER.format(name=parts[1]), mimetype="text/html")
        name = parts[1].removesuffix(".mp4") if len(parts) == 2 else ""
        if parts[0] != "films" or name not in self.films:
            return Response("not here", 404)
        film = self.films[name]
        # a path, not an open file: Werkzeug then knows the size, so it can answer ranges
        body = io.BytesIO(film) if isinstance(film, bytes) else film
        return send_file(body, request.environ, mimetype="video/mp4", conditional=True, max_age=0)


@contextmanager
def serve_static(films: dict[str, bytes | Path], nice: int = 0) -> Iterator[StaticFilms]:
    """Serve ``films`` on a free port; its threads at ``nice`` (a bench gives the kit's
    page priority, so both servers yield alike to whatever else the machine runs)."""
    static = StaticFilms(films)
    server = make_server("127.0.0.1", 0, static.log, threaded=True)

    def serve() -> None:
        lower_this_thread(nice)  # each request's thread is made here and inherits it
        server.serve_forever()

    thread = threading.Thread(target=serve, name="static-films", daemon=True)
    thread.start()
    static.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield static
    finally:
        server.shutdown()
        thread.join(10)
