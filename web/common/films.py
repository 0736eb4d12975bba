"""Opening a recorded film for playback, decrypted on the fly and only in memory.

The phone is served a *virtual* progressive MP4 (issue #13): ``ftyp``, a ``moov`` built
in memory from the fragment index's sample tables, then an ``mdat`` whose bytes are the
recorded samples, read through ``age.Reader`` from the encrypted ``.mp4.age``. The
fragment index comes from the encrypted index file.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import av

from device import age
from device.errors import VigKitError
from device.library import Library, require_finished
from device.library.damaged import DAMAGE, set_aside
from device.media import FragmentIndex, VirtualMp4, progressive, scan_file
from device.media.virtual import VirtualLayout
from web.common.errors import Missing

DEFAULT_FPS = 30.0  # the kit's usual rate, if a film's own cannot be read
FilmKey = tuple[str, int, int, int]  # recording id, and the film file's inode, size, mtime


class Layouts:
    """The last few films' virtual-MP4 plans and a few opened readers of each, so a seek
    neither decrypts the fragment index again nor opens the film's header (an X25519
    exchange per recipient) and authenticates its last chunk on every range request.

    Held in memory while unlocked; ``clear`` (Lock, or the idle timeout) forgets it all.
    Entries are keyed by the film file's identity on disk (inode, size, mtime): a film
    that is sealed, replaced or removed is never served from an old reader.
    """

    def __init__(self, keep: int = 4, idle_readers: int = 2) -> None:
        self._keep = keep
        self._idle_readers = idle_readers
        self._lock = threading.Lock()
        self._plans: OrderedDict[FilmKey, VirtualLayout] = OrderedDict()
        self._idle: dict[FilmKey, list[VirtualMp4]] = {}
        self._generation = 0

    def get(self, key: FilmKey) -> VirtualLayout | None:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key: FilmKey, plan: VirtualLayout) -> None:
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self._keep:
                old, _ = self._plans.popitem(last=False)
                _close_all(self._idle.pop(old, []))

    def borrow(self, key: FilmKey) -> Borrowed | None:
        """An opened reader of this film that no request is using, if one is at rest."""
        with self._lock:
            readers = self._idle.get(key)
            if not readers:
                return None
            return Borrowed(readers.pop(), key, self._generation, self)

    def lend(self, key: FilmKey, film: VirtualMp4) -> Borrowed:
        """Serve a newly opened reader; it comes back to rest here when its answer ends."""
        with self._lock:
            return Borrowed(film, key, self._generation, self)

    def give_back(self, key: FilmKey, generation: int, film: VirtualMp4) -> None:
        with self._lock:
            current = generation == self._generation and key in self._plans
            readers = self._idle.setdefault(key, []) if current else []
            if current and len(readers) < self._idle_readers:
                readers.append(film)
                return
        film.close()

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._plans.clear()
            idle, self._idle = self._idle, {}
        for readers in idle.values():
            _close_all(readers)


class Borrowed(io.RawIOBase):
    """A pooled reader lent to one response: closing it puts the reader back to rest."""

    def __init__(self, film: VirtualMp4, key: FilmKey, generation: int, home: Layouts) -> None:
        super().__init__()
        self._film = film
        self._key = key
        self._generation = generation
        self._home = home
        self.size = film.size
        film.seek(0)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._film.seek(offset, whence)

    def tell(self) -> int:
        return self._film.tell()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._film.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._home.give_back(self._key, self._generation, self._film)
        super().close()


def _close_all(readers: list[VirtualMp4]) -> None:
    for reader in readers:
        reader.close()


def open_film(
    library: Library, rec_id: str, identity: age.Identity, layouts: Layouts | None = None
) -> VirtualMp4 | Borrowed:
    """A seekable view of the film; the caller closes it (which closes the file, or
    puts a pooled reader back to rest)."""
    row = library.index.get(rec_id)
    require_finished(row.state, "Wait until it is saved, then open it again.")
    data = library.data
    index_path = data.derived(rec_id, "index")
    return open_film_file(
        data.film(rec_id), index_path, rec_id, identity, layouts, on_damaged=set_aside
    )


def open_film_file(
    path: Path,
    index_path: Path,
    rec_id: str,
    identity: age.Identity,
    layouts: Layouts | None = None,
    *,
    missing: Callable[[], VigKitError] | None = None,
    on_damaged: Callable[[Path], object] | None = None,
) -> VirtualMp4 | Borrowed:
    """The same from a film file and its fragment index file wherever they are (the
    office's synced archive: web.office); ``missing`` makes the error for absent files,
    ``on_damaged`` is called with a damaged index file (the kit sets it aside)."""
    gone = missing or _missing_from_kit
    try:
        st = path.stat()
    except OSError as e:
        raise gone() from e
    key: FilmKey = (rec_id, st.st_ino, st.st_size, st.st_mtime_ns)
    if layouts is not None and (borrowed := layouts.borrow(key)) is not None:
        return borrowed
    try:
        source = path.open("rb")
    except OSError as e:
        raise gone() from e
    try:
        reader = age.Reader(source, [identity], close_source=True)
    except BaseException:
        source.close()
        raise
    try:
        plan = layouts.get(key) if layouts is not None else None
        if plan is None:
            index = read_index(index_path, reader, identity, on_damaged)
            plan = progressive.build(index, reader)
            if layouts is not None:
                layouts.put(key, plan)
        film = VirtualMp4(plan, reader, close_source=True)
    except BaseException:
        reader.close()
        raise
    return film if layouts is None else layouts.lend(key, film)


def read_index(
    index_path: Path,
    film: age.Reader,
    identity: age.Identity,
    on_damaged: Callable[[Path], object] | None = None,
) -> FragmentIndex:
    """The film's fragment index; a missing or damaged index file is rebuilt by scanning
    the film (on the kit a damaged one is set aside as ``<name>.damaged``, never deleted;
    the office's archive is left as synced)."""
    try:
        return FragmentIndex.from_json(age.decrypt_bytes(index_path.read_bytes(), [identity]))
    except FileNotFoundError:
        pass  # e.g. a film copied in without its index
    except DAMAGE:
        if on_damaged is not None:
            with contextlib.suppress(FileNotFoundError):
                on_damaged(index_path)
    index = scan_file(film)
    film.seek(0)
    return index


def _missing_from_kit() -> VigKitError:
    return Missing(
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
