"""How many connections the page takes, from whom, and for how long: one place, so that
whichever server serves the page (waitress today) and the hotspot's firewall
(``scripts/setup-hotspot.sh``, whose numbers a test compares with these) agree.

waitress's defaults (100 connections, an idle one kept 120 s) let anyone on the Wi-Fi
take the page down with ~100 idle connections. Here:

- ``CONNECTION_LIMIT``: far more than two phones use (a browser opens about six per
  site), and idle connections cost no thread, only a little memory each;
- ``PER_SOURCE``: the most one address may hold; the rest are closed as they arrive, so
  one stranger cannot fill the limit (the hotspot's nftables rules refuse them earlier);
- ``CHANNEL_TIMEOUT_S``: an idle connection (no request in progress) is closed after
  this; a paused film's answer is a request in progress and stays;
- ``OPEN_FILES``: the open-file limit the server raises itself to, so the connection
  limit is reached before the process runs out of descriptors;
- ``WHOLE_FILES_AT_ONCE``: answers that send a whole film (a request without ``Range``:
  a download, a script) hold a worker thread until the client has read it all; only
  this many at once, so the players' ranges and the status polls always find a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIMITS", "WHOLE_FILES_AT_ONCE", "ConnectionLimits"]

WHOLE_FILES_AT_ONCE = 2  # of the server's eight workers (web.common.serving)


@dataclass(frozen=True)
class ConnectionLimits:
    connection_limit: int = 512
    per_source: int = 32
    channel_timeout_s: float = 15.0
    cleanup_interval_s: float = 5.0  # how often idle connections are looked for
    open_files: int = 4096


LIMITS = ConnectionLimits()
