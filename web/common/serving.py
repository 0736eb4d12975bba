"""Serving the page with waitress so that recording always comes first.

Three things matter on a Pi that is filming while a phone plays a film:

- **Nothing decrypted on disk.** waitress spills a response buffer larger than
  ``outbuf_overflow`` (1 MiB by default) into a temporary *file*: a film streamed to a
  phone that reads slowly would leave plaintext on the card. Here a worker blocks once
  ``OUTBUF_HIGH_WATERMARK`` bytes wait for the socket, and the overflow limit is far above
  that, so the buffer never reaches a file. Request bodies are capped well below
  ``inbuf_overflow`` for the same reason.
- **Recording has priority.** The page's threads (waitress's workers and its socket loop)
  run at a lower scheduling priority (nice ``PAGE_NICE``): when the CPU is short, Linux
  gives it to the camera, microphone and muxer threads first. Linux keeps a nice value
  per thread and a new thread inherits its creator's, so a recording started from the page
  must not start its threads on a page thread: ``FullPriority`` runs those calls on a
  thread made at start-up at normal priority. (A page thread holding the GIL can still
  delay the recorder for a moment; the capture queue absorbs that, and the heavy work on
  both sides — H.264, AAC, ChaCha20 — runs in C.)
- **Enough threads, mostly asleep.** A film's range is answered whole (see
  ``web.common.ranges``), so a phone that pauses a video keeps one worker waiting on its
  socket until it reads again or goes; a waiting worker costs no CPU. Eight workers: two
  phones each with a playing and a paused answer, the status polls, the preview and a
  seek's new answer while the old one is being dropped.
- **No one fills the page with idle connections.** The connection limit, the limit per
  address and the idle timeout are ``web.common.limits``; connections over an address's
  share are closed as they arrive.
"""

from __future__ import annotations

import logging
import os
import queue
import resource
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import waitress
from waitress.channel import HTTPChannel

from device.threads import BackgroundThread
from web.common.limits import LIMITS, ConnectionLimits

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "FullPriority",
    "KitServer",
    "LowPriority",
    "lower_this_thread",
    "make_server",
    "server_settings",
]

PAGE_NICE = 10  # CFS gives a nice-0 thread about 9x the CPU of a nice-10 one
THREADS = 8
OUTBUF_HIGH_WATERMARK = 1 << 20  # a worker waits for the phone beyond this
OUTBUF_OVERFLOW = 64 << 20  # never reached: the watermark stops writers long before
MAX_REQUEST_BODY = 64 << 10  # forms are small; waitress keeps bodies under this in memory
FRONT_ADDRESS = "127.0.0.1"  # the TLS front's connections come from here
LOOP_WAKE_S = 0.5  # the socket loop's longest nap; ``stop`` wakes it at once
T = TypeVar("T")
log = logging.getLogger(__name__)


def lower_this_thread(nice: int = PAGE_NICE) -> None:
    """Raise the calling thread's nice value to at least ``nice`` (never lowers it)."""
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:  # not Linux, or not allowed: priority is a preference, not a need
        pass


class LowPriority:
    """WSGI middleware: each worker thread lowers its own priority at its first request."""

    def __init__(self, app: WSGIApplication, nice: int = PAGE_NICE) -> None:
        self._app = app
        self._nice = nice
        self._done = threading.local()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not getattr(self._done, "lowered", False):
            lower_this_thread(self._nice)
            self._done.lowered = True
        return self._app(environ, start_response)


class FullPriority:
    """One thread, made now at the caller's priority, that runs the calls given to it.

    The page starts and stops recordings through it, so the recorder's threads are born
    at full priority even though the request came in on a low-priority page thread.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = BackgroundThread(self._run, name="vigkit-control")
        self._thread.start()

    def __call__(self, call: Callable[[], T]) -> T:
        future: Future[T] = Future()
        self._calls.put((call, future))
        return future.result()

    def close(self) -> None:
        self._calls.put(None)
        self._thread.join_within()

    def _run(self) -> None:
        while (item := self._calls.get()) is not None:
            call, future = item
            try:
                future.set_result(call())
            except BaseException as e:  # handed to the caller, which raises it
                future.set_exception(e)


def server_settings(
    host: str,
    port: int,
    *,
    threads: int = THREADS,
    limits: ConnectionLimits = LIMITS,
    behind_front: bool = False,
) -> dict[str, Any]:
    """waitress settings for the kit (see the module docstring for why). ``behind_front``:
    the TLS front (``web.common.tls_front``) on this machine passes every request on, so its
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` say who asked and how, and are trusted
    from it alone."""
    front = (
        {
            "trusted_proxy": FRONT_ADDRESS,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
        }
        if behind_front
        else {}
    )
    return front | {
        "connection_limit": limits.connection_limit,
        "channel_timeout": limits.channel_timeout_s,
        "cleanup_interval": limits.cleanup_interval_s,
        "host": host,
        "port": port,
        "threads": threads,
        "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
        "outbuf_overflow": OUTBUF_OVERFLOW,
        "max_request_body_size": MAX_REQUEST_BODY,
        "expose_tracebacks": False,
        "ident": "vigkit",
        "clear_untrusted_proxy_headers": True,
    }


class KitServer:
    """waitress with the kit's settings, that another thread or a signal can stop."""

    def __init__(
        self,
        app: WSGIApplication,
        host: str,
        port: int,
        *,
        threads: int = THREADS,
        limits: ConnectionLimits = LIMITS,
        behind_front: bool = False,
    ) -> None:
        raise_open_files(limits.open_files)
        settings = server_settings(
            host, port, threads=threads, limits=limits, behind_front=behind_front
        )
        self._server = waitress.create_server(LowPriority(app), **settings)
        # behind the front every connection comes from it; the front counts per phone
        exempt = frozenset({FRONT_ADDRESS}) if behind_front else frozenset()
        self._server.channel_class = PerSourceChannels(self._server._map, limits.per_source, exempt)
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def serve(self) -> None:
        """Answer requests on this thread (lowered to the page's priority) until ``stop``."""
        lower_this_thread()
        while not self._stop.is_set():
            self._server.asyncore.loop(
                timeout=LOOP_WAKE_S, map=self._server._map, use_poll=True, count=1
            )

    def stop(self) -> None:
        """Make ``serve`` return soon; safe from a signal handler or any thread."""
        self._stop.set()
        self._server.pull_trigger()

    def close(self) -> None:
        """Close the listening socket, every connection and the worker threads."""
        self._stop.set()
        self._server.task_dispatcher.shutdown(timeout=5)
        self._server.asyncore.close_all(self._server._map)


class PerSourceChannels:
    """waitress's channel maker, refusing an address more than ``per_source`` connections.

    Called by waitress's server for each accepted connection, as its ``channel_class``."""

    def __init__(
        self, channels: dict[int, Any], per_source: int, exempt: frozenset[str] = frozenset()
    ) -> None:
        self._map = channels
        self._per_source = per_source
        self._exempt = exempt

    def __call__(self, server: Any, conn: Any, addr: Any, adj: Any, map: Any) -> Any:
        source = addr[0] if isinstance(addr, tuple) else addr
        if source in self._exempt:
            return HTTPChannel(server, conn, addr, adj, map=map)
        channels = [c for c in list(self._map.values()) if isinstance(c, HTTPChannel)]
        held = sum(1 for c in channels if c.addr[0] == source)
        if held >= self._per_source:
            log.debug("%s already holds %d connections: refused another", source, held)
            conn.close()
            return None
        return HTTPChannel(server, conn, addr, adj, map=map)


def raise_open_files(wanted: int) -> None:
    """Raise this process's soft open-file limit towards ``wanted`` (never lowers it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def make_server(app: WSGIApplication, host: str, port: int, *, threads: int = THREADS) -> KitServer:
    """A server for ``app`` whose page threads yield to the recorder."""
    return KitServer(app, host, port, threads=threads)
