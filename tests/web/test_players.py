"""Independent players on the film's URL: ffprobe/ffmpeg and GStreamer, over real HTTP.

The film is recorded, encrypted to a file (ciphertext only on disk) with its encrypted
fragment index, and served as the kit serves it (``web.films.open_film_file`` and
``web.ranges.serve_file_like``, pooled readers included) by waitress on loopback. FFmpeg
reads it as a plain progressive MP4 and decodes it without a word; GStreamer's
discoverer states the duration and its playbin seeks into the middle (a real flushing
seek through ``souphttpsrc`` Range requests, via tests/web/gst_seek.py).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request
from werkzeug.wrappers import Response

from device import age
from device.library import DataDir
from tests.media.media_helpers import record
from tests.needs import missing
from web.common.films import Layouts, open_film_file
from web.common.ranges import serve_file_like
from web.common.serving import make_server

SECONDS = 12.0
REC_ID = "20260101T000000Z-abcd"
GST_SEEK = Path(__file__).with_name("gst_seek.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        missing(f"{tool} is not installed (scripts/bootstrap.sh installs it)")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    recording = record(SECONDS)
    identity = age.X25519Identity.generate()
    data = DataDir(tmp_path_factory.mktemp("players") / "data")
    data.recordings.mkdir(parents=True, exist_ok=True)
    data.film(REC_ID).write_bytes(age.encrypt_bytes(recording.data, [identity.recipient()]))
    index = age.encrypt_bytes(recording.index.to_json().encode(), [identity.recipient()])
    data.derived(REC_ID, "index").write_bytes(index)
    layouts = Layouts()
    app = Flask(__name__)

    @app.route("/recordings/<rec_id>/film.mp4", methods=["GET", "HEAD"])
    def film(rec_id: str) -> Response:
        opened = open_film_file(
            data.film(rec_id), data.derived(rec_id, "index"), rec_id, identity, layouts
        )
        return serve_file_like(request, opened, opened.size)

    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve, name="waitress-players", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/recordings/{REC_ID}/film.mp4"
    finally:
        server.close()
        thread.join(5)
        layouts.clear()


def test_ffprobe_reads_the_duration_from_the_url(url: str) -> None:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert float(out.stdout) == pytest.approx(SECONDS, abs=0.05)


def test_ffmpeg_decodes_the_whole_url_without_a_word(url: str) -> None:
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", url, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_gstreamer_discovers_the_duration(url: str) -> None:
    need("gst-discoverer-1.0")
    out = subprocess.run(
        ["gst-discoverer-1.0", "-t", "30", url],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "Duration: 0:00:12.0" in out, out
    assert "video #" in out and "audio #" in out, out


def test_gstreamer_seeks_into_the_middle(url: str) -> None:
    need("gst-launch-1.0")
    bindings = "import gi; gi.require_version('Gst', '1.0')"
    if subprocess.run([SYSTEM_PYTHON, "-c", bindings], capture_output=True).returncode:
        missing("GStreamer's Python bindings are not installed (python3-gi, gir1.2-gstreamer-1.0)")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(GST_SEEK), url, "7.5"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    duration, position = (float(x) for x in done.stdout.split())
    assert duration == pytest.approx(SECONDS, abs=0.05)
    assert position == pytest.approx(7.0, abs=0.6)  # the keyframe at or before 7.5 s
