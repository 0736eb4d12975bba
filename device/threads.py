"""Background threads that stop when asked and say so when they will not.

Every thread the kit starts (camera, microphone, LED, buttons, mux, the recorder's
finishing thread, sync, thumbnails, the page's control thread) is a ``BackgroundThread``,
modelled on gpiozero's ``GPIOThread``: a daemon thread with a ``stopping`` event, and a
``join_within`` that logs a warning naming the thread when it is still running after its
time. A thread that will not stop is a bug worth seeing in the log, never a hang: the
kit must still finish the film and close its files.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["BackgroundThread", "OnDemandWorker"]

log = logging.getLogger(__name__)

JOIN_S = 5.0  # long enough for any of the kit's loops to notice ``stopping``


class BackgroundThread(threading.Thread):
    """A daemon thread running ``target(*args)``, with a ``stopping`` event it may watch.

    ``stopping`` is a new event unless one is given (a class that already owns the event
    its loop waits on passes it in). ``join_s`` is how long ``stop`` and ``join_within``
    wait by default.
    """

    def __init__(
        self,
        target: Callable[..., object],
        *args: object,
        name: str,
        stopping: threading.Event | None = None,
        join_s: float = JOIN_S,
    ) -> None:
        super().__init__(target=target, args=args, name=name, daemon=True)
        self.stopping = stopping if stopping is not None else threading.Event()
        self.join_s = join_s

    def stop(self, timeout: float | None = None) -> bool:
        """Set ``stopping`` and wait for the thread to end; see ``join_within``."""
        self.stopping.set()
        return self.join_within(timeout)

    def join_within(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` (default ``join_s``) s for the end; True if it ended.

        A thread still running after that is logged as a warning. Called on the thread
        itself (a callback that closes its own source) or before ``start``, it returns at
        once: there is nothing to wait for.
        """
        if self.ident is None or self is threading.current_thread():
            return not self.is_alive()
        wait = self.join_s if timeout is None else timeout
        self.join(wait)
        if self.is_alive():
            log.warning("the %s thread did not stop within %.1f s", self.name, wait)
            return False
        return True


class OnDemandWorker:
    """One background thread, started on the first ``kick``, that runs ``work`` per kick.

    For the page's slow chores (repairing films after a power cut, making thumbnails): a
    request or a status change kicks it and returns at once; kicks that arrive while
    ``work`` runs fold into one more round. ``wake_every_s`` also runs ``work`` that often
    unkicked. ``on_start`` runs first on the new thread (e.g. to lower its priority). An
    exception in ``work`` is logged and the thread waits for the next kick.
    """

    def __init__(
        self,
        work: Callable[[], None],
        *,
        name: str,
        join_s: float = JOIN_S,
        wake_every_s: float | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self._work = work
        self._name = name
        self._join_s = join_s
        self._wake_every_s = wake_every_s
        self._on_start = on_start
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: BackgroundThread | None = None

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def kick(self) -> None:
        """Run ``work`` soon on the worker thread (started now if it is not running)."""
        if self._closed.is_set():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = BackgroundThread(self._run, name=self._name, join_s=self._join_s)
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """No more rounds; wait for the one under way (``join_s``)."""
        self._closed.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join_within()

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while not self._closed.is_set():
            self._wake.wait(self._wake_every_s)
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                self._work()
            except Exception:  # e.g. the library closing under it; try again on the next kick
                log.exception("the %s thread stopped a round", self._name)
