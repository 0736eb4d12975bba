"""Opening a recorded film for playback, decrypted on the fly and only in memory.

The phone is served a *virtual* MP4 (DESIGN §7): the recorded init segment, a ``sidx``
with the true duration, then the fragments, read through ``age.Reader`` from the
encrypted ``.mp4.age``. The fragment index comes from the encrypted index file.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import av

from device import age
from device.errors import VigKitError
from device.library import Library, require_finished
from device.media import FragmentIndex, VirtualMp4
from device.media.virtual import VirtualLayout

DEFAULT_FPS = 30.0  # the kit's usual rate, if a film's own cannot be read


class Layouts:
    """The last few films' virtual-MP4 plans, so a seek does not decrypt the fragment
    index and rebuild the ``sidx`` again. Held in memory while unlocked; Lock clears it."""

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._plans: OrderedDict[tuple[str, int], VirtualLayout] = OrderedDict()

    def get(self, key: tuple[str, int]) -> VirtualLayout | None:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key: tuple[str, int], plan: VirtualLayout) -> None:
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self._keep:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


def open_film(
    library: Library, rec_id: str, identity: age.Identity, layouts: Layouts | None = None
) -> VirtualMp4:
    """A seekable view of the film; the caller closes it (which closes the file)."""
    row = library.index.get(rec_id)
    require_finished(row.state, "Wait until it is saved, then open it again.")
    data = library.data
    try:
        source = data.film(rec_id).open("rb")
    except OSError as e:
        raise _missing() from e
    try:
        reader = age.Reader(source, [identity], close_source=True)
    except BaseException:
        source.close()
        raise
    try:
        key = (rec_id, row.size or 0)
        plan = layouts.get(key) if layouts is not None else None
        if plan is None:
            try:
                index_file = data.derived(rec_id, "index").read_bytes()
            except OSError as e:
                raise _missing() from e
            index = FragmentIndex.from_json(age.decrypt_bytes(index_file, [identity]))
            plan = VirtualLayout.build(index, reader)
            if layouts is not None:
                layouts.put(key, plan)
        return VirtualMp4(plan, reader, close_source=True)
    except BaseException:
        reader.close()
        raise


def _missing() -> VigKitError:
    return VigKitError(
        "this film's files are missing from the kit", hint="The office copy may still have it."
    )


def film_fps(
    library: Library, rec_id: str, identity: age.Identity, layouts: Layouts | None = None
) -> float:
    """The film's frame rate, for the page's frame steps: read from its first fragment
    (only the init segment and about a second are decrypted, in memory)."""
    try:
        with (
            open_film(library, rec_id, identity, layouts) as film,
            av.open(film, "r", format="mp4") as container,
        ):
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
    except (av.FFmpegError, IndexError, VigKitError):
        return DEFAULT_FPS
    fps = float(rate) if rate else DEFAULT_FPS
    return fps if 1 <= fps <= 240 else DEFAULT_FPS
