"""Media test helpers: a write-only sink, an in-memory recording, ffprobe over stdin.

Nothing here writes media to disk: MP4 bytes live in memory and reach ffprobe through a
pipe, as the kit's rule (no plaintext media on disk, ever) demands of tests too.
"""

from __future__ import annotations

import io
import json
import queue
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device.hardware.synthetic import SyntheticCamera, SyntheticMicrophone, VirtualClock
from device.media import FragmentIndex, IndexingWriter, Mp4Muxer
from device.media.packets import AudioBlock, EncodedFrame


class WriteOnly:
    """Like the age writer: write/flush only, not seekable; remembers any seek attempt."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self.seeks: list[tuple[Any, ...]] = []
        self.flushes = 0

    def write(self, data: bytes) -> int:
        return self._buffer.write(data)

    def flush(self) -> None:
        self.flushes += 1

    def seekable(self) -> bool:
        return False

    def seek(self, *args: Any) -> int:
        self.seeks.append(args)
        raise io.UnsupportedOperation("seek")

    def tell(self) -> int:
        self.seeks.append(("tell",))
        raise io.UnsupportedOperation("tell")

    def getvalue(self) -> bytes:
        return self._buffer.getvalue()


@dataclass
class Recording:
    data: bytes
    index: FragmentIndex
    muxer: Mp4Muxer
    out: WriteOnly
    mic: SyntheticMicrophone | None
    camera: SyntheticCamera


def record(
    seconds: float,
    *,
    width: int = 320,
    height: int = 180,
    fps: int = 30,
    audio: bool = True,
    unplug_at_s: float | None = None,
) -> Recording:
    """Record ``seconds`` as fast as possible, merging camera and mic by timestamp."""
    clock = VirtualClock()
    camera = SyntheticCamera(width, height, fps, clock=clock)
    mic = SyntheticMicrophone(clock=clock) if audio else None
    out = WriteOnly()
    writer = IndexingWriter(out)
    muxer = Mp4Muxer(writer, width=width, height=height, fps=fps, audio=audio)
    frames: queue.Queue[EncodedFrame] = queue.Queue()
    blocks: queue.Queue[AudioBlock] = queue.Queue()
    camera.open()
    camera.start_encoding(frames.put_nowait)
    assert clock.anchor_us is not None
    start_us = clock.anchor_us
    end_us = start_us + round(seconds * 1_000_000)
    if mic is not None:
        unplug_us = None if unplug_at_s is None else start_us + round(unplug_at_s * 1e6)
        mic.start(_unplugging_sink(mic, blocks, unplug_us), start_us)
    merge = _Merge(muxer, blocks, mic)
    while (frame := frames.get(timeout=10)).timestamp_us < end_us:
        merge.audio_until(frame.timestamp_us)
        muxer.add_video(frame)
    camera.close()
    if mic is not None:
        mic.stop()
        merge.audio_until(end_us - 1, wait=False)
    muxer.close()
    return Recording(out.getvalue(), writer.index, muxer, out, mic, camera)


def _unplugging_sink(
    mic: SyntheticMicrophone, blocks: queue.Queue[AudioBlock], unplug_us: int | None
) -> Callable[[AudioBlock], None]:
    """Queue each block; pull the (virtual) plug once a block reaches ``unplug_us``."""

    def sink(block: AudioBlock) -> None:
        blocks.put_nowait(block)
        if unplug_us is not None and block.timestamp_us >= unplug_us:
            mic.trigger_fake_unplug()

    return sink


class _Merge:
    """Feeds the muxer every audio block up to a video timestamp, waiting if needed."""

    def __init__(self, muxer: Mp4Muxer, blocks: queue.Queue[AudioBlock], mic: Any) -> None:
        self._muxer, self._blocks, self._mic = muxer, blocks, mic
        self._head: AudioBlock | None = None

    def audio_until(self, timestamp_us: int, *, wait: bool = True) -> None:
        while self._mic is not None:
            if self._head is None:
                try:
                    self._head = self._blocks.get(timeout=0.02 if wait else 0)
                except queue.Empty:
                    if not wait or self._mic.failed:
                        return
                    continue
            if self._head.timestamp_us > timestamp_us:
                return
            self._muxer.add_audio(self._head)
            self._head = None


def ffprobe(data: bytes, *args: str) -> dict[str, Any]:
    """Run ffprobe on in-memory MP4 bytes through its stdin; return its JSON."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, "-i", "pipe:0"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed
