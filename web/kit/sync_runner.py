"""The sync the page starts: one :class:`device.sync.Syncer` at a time, on a background
thread at the lowest scheduling priority (its rclone inherits it), so a recording started
meanwhile keeps the CPU. It never starts while a film is being recorded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from device.errors import ConfigError, VigKitError
from device.kit import Kit, wall_clock
from device.recording import RecorderState
from device.sync import Progress, Rclone, Retention, Syncer
from device.threads import BackgroundThread
from web.common.serving import lower_this_thread

log = logging.getLogger(__name__)

SYNC_NICE = 19  # below the page's threads, far below the recorder's
CLOSE_WAIT_S = 10.0
RECORDING = frozenset({RecorderState.RECORDING, RecorderState.FINALIZING})


@dataclass(frozen=True)
class SyncSettings:
    """What ``vigkit run`` tells the page about sync, from the kit's settings."""

    remote: str = ""  # empty: sync is not set up
    rclone_config: Path | None = None
    retention_days: float = 7.0
    clock_jump_days: float = 30.0
    stall_s: float = 120.0


class SyncRunner:
    """One in-process sync at a time; remembers how the page's last attempt ended."""

    def __init__(
        self,
        kit: Kit,
        settings: SyncSettings,
        *,
        ntp: Callable[[], bool] = lambda: False,
        on_damaged: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.kit = kit
        self._ntp = ntp
        self._on_damaged = on_damaged  # films sync found damaged: repair them now
        self._guard = threading.Lock()
        self._thread: BackgroundThread | None = None
        self.progress: Progress | None = None
        self.error = ""  # this page's last attempt, when the engine could not record it
        self.hint = ""

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> bool:
        """Start a sync on a background thread; False (and ``error`` says why) if not."""
        with self._guard:
            if self.running:
                return True  # a second tap joins the sync under way
            self.error = self.hint = ""
            if not self.settings.remote:
                return self._refuse("sync is not set up on this kit", "")
            if self.kit.recorder.status.state in RECORDING:
                return self._refuse(
                    "the kit is recording", "Sync when the film is finished and saved."
                )
            self.progress = Progress("looking", 0, 0)
            self._thread = BackgroundThread(self._run, name="vigkit-sync", join_s=CLOSE_WAIT_S)
            self._thread.start()
            return True

    def _refuse(self, message: str, hint: str) -> bool:
        self.error, self.hint = message, hint
        return False

    def _run(self) -> None:
        lower_this_thread(SYNC_NICE)
        s = self.settings
        try:
            if s.rclone_config is not None and not s.rclone_config.is_file():
                raise ConfigError(
                    f"the rclone config file {s.rclone_config} does not exist",
                    hint="Check rclone_config in the kit's settings; see docs/office.md.",
                )
            library = self.kit.library
            result = Syncer(
                library=library,
                remote=s.remote,
                rclone=Rclone(config=s.rclone_config, stall_s=s.stall_s),
                retention=self.retention(),
                lock_wait_s=0.0,
            ).run(progress=self._tell)
            if result.damaged:
                self._on_damaged()
        except VigKitError as e:  # SyncBusy included: the timer's sync is running
            self.error, self.hint = e.message, e.hint or ""
        except Exception:
            log.exception("the sync from the page failed")
            self.error = "the sync stopped unexpectedly"
            self.hint = "Nothing was lost. Try again; if it keeps happening, restart the kit."
        finally:
            self.progress = None

    def retention(self) -> Retention:
        """Retention on this kit, judging the clock as the kit's own (NTP or a phone)."""
        library = self.kit.library
        trust = wall_clock.clock_trust(library.data, self.settings.clock_jump_days, ntp=self._ntp)
        return Retention(library=library, retention_days=self.settings.retention_days, trust=trust)

    def _tell(self, progress: Progress) -> None:
        self.progress = progress

    def close(self) -> None:
        """Wait a little for a sync under way (the kit's index closes next). A sync cut
        short is safe: the next one carries on and nothing unverified was removed."""
        thread = self._thread
        if thread is not None:
            thread.join_within()
