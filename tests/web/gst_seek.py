"""Seek a URL with GStreamer's playbin and print where it landed (run by system Python).

Usage: python3 gst_seek.py URL SECONDS. Prints ``duration position`` in seconds after a
flushing key-unit seek, or an error and exit 1. Run with the Debian interpreter, which
has the GObject introspection bindings (python3-gi, gir1.2-gstreamer-1.0); the
project's virtual environment does not need them. Picture and sound go to fakesinks.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

TIMEOUT = 30 * Gst.SECOND


def wait(bus: Gst.Bus, kinds: Gst.MessageType) -> Gst.Message:
    message = bus.timed_pop_filtered(TIMEOUT, kinds | Gst.MessageType.ERROR)
    if message is None:
        sys.exit("gst_seek: timed out")
    if message.type == Gst.MessageType.ERROR:
        sys.exit(f"gst_seek: {message.parse_error()[0].message}")
    return message


def main(url: str, seconds: float) -> None:
    Gst.init(None)
    playbin = Gst.ElementFactory.make("playbin", None)
    playbin.set_property("uri", url)
    playbin.set_property("video-sink", Gst.ElementFactory.make("fakesink", None))
    playbin.set_property("audio-sink", Gst.ElementFactory.make("fakesink", None))
    bus = playbin.get_bus()
    playbin.set_state(Gst.State.PAUSED)
    wait(bus, Gst.MessageType.ASYNC_DONE)
    _, duration = playbin.query_duration(Gst.Format.TIME)
    flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT
    if not playbin.seek_simple(Gst.Format.TIME, flags, round(seconds * Gst.SECOND)):
        sys.exit("gst_seek: the seek was refused")
    wait(bus, Gst.MessageType.ASYNC_DONE)
    _, position = playbin.query_position(Gst.Format.TIME)
    playbin.set_state(Gst.State.NULL)
    print(duration / Gst.SECOND, position / Gst.SECOND)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
