"""``vigkit run``: the appliance — recorder, button and LED, and the phone page, one process.

This is the composition root on a kit: settings in (``--config FILE``, then
``VIGKIT_<NAME>`` variables), then the kit (camera, microphone, recorder), the front
panel on the GPIO pins (a hold asks for a safe shutdown), and the page served by
waitress with the settings of ``web.common.serving`` (page threads yield to the recorder,
nothing decrypted is buffered to a file). SIGTERM (systemd's stop) and Ctrl-C finish any
film being recorded before the process ends.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device import config
from device.commands.common import serve_until_signal
from device.commands.page_server import PageAddress, page_server, page_url, secure_page
from device.config import Config
from device.hardware.gpio import GpioControls
from device.kit.assembly import Kit, open_kit
from device.kit.panel import Panel
from device.kit.wall_clock import TimedatectlSetter, clock_trust
from device.recording import RecorderState, Status
from device.threads import BackgroundThread

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "the kit is shutting down"


def add_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--config", type=Path, help="a TOML settings file, e.g. /etc/vigkit/vigkit.toml"
    )
    run.set_defaults(func=run_command)


class Appliance:
    """Everything ``vigkit run`` holds, built in order and closed in reverse."""

    def __init__(
        self, cfg: Config, *, shutdown: Callable[[], None], pin_factory: Any = None
    ) -> None:
        # the page's packages are loaded by the commands that serve
        from web.common.serving import FullPriority
        from web.kit import PageSettings, SyncSettings, create_app

        self.address = PageAddress(cfg.http_host, cfg.http_port, cfg.https_port, cfg.https)
        secure = secure_page(cfg.data_dir, self.address)  # a kit without its certificate stops
        self.kit: Kit = open_kit(cfg)
        self._see_time(cfg)
        self._closers: list[Callable[[], None]] = [self.kit.close]
        try:
            control = FullPriority()  # made here, on a full-priority thread's stack
            self._closers.append(control.close)
            self.controls = GpioControls(
                cfg.button_pin,
                cfg.led_pin,
                cfg.mark_pin or None,
                hold_seconds=cfg.hold_seconds,
                pin_factory=pin_factory,
            )
            self._closers.append(self.controls.close)
            # closed before the pins: the LED shows "saving" until the film is finished
            self._closers.append(lambda: self.kit.recorder.stop(reason=SHUTDOWN_REASON))
            Panel(controls=self.controls, recorder=self.kit.recorder, shutdown=shutdown)
            self.app = create_app(
                self.kit,
                settings=PageSettings(
                    set_clock=TimedatectlSetter(),  # the kit's own clock, through timedated
                    wifi_name=cfg.wifi_name,
                    wifi_password=cfg.wifi_password,
                    lock_minutes=cfg.lock_minutes,
                ),
                sync=SyncSettings(
                    remote=cfg.sync_remote,
                    rclone_config=Path(cfg.rclone_config) if cfg.rclone_config else None,
                    retention_days=cfg.retention_days,
                    clock_jump_days=cfg.clock_jump_days,
                    stall_s=cfg.sync_stall_seconds,
                ),
                idle_timeout_s=cfg.lock_minutes * 60,
                control=control,
                kit_name=cfg.kit_name,
                allow_downloads=cfg.allow_downloads,
                secure=secure,
            )
            self._closers.append(self.app.close)
            self.server = page_server(self.app, cfg.data_dir, self.address)
            self._closers.append(self.server.close)
        except BaseException:
            self.close()
            raise

    def _see_time(self, cfg: Config) -> None:
        """The kit's latest time seen moves on (on a trusted clock only) at each start
        and after each recording; off the recorder's thread (timedatectl may be slow)."""
        trust = clock_trust(self.kit.library.data, cfg.clock_jump_days)
        trust.see(datetime.now(UTC))

        def after(status: Status) -> None:
            if status.state == RecorderState.IDLE:
                see = BackgroundThread(lambda: trust.see(datetime.now(UTC)), name="vigkit-clock")
                see.start()

        self.kit.recorder.subscribe(after)

    def serve(self) -> None:
        """Serve the page on this thread until ``stop``."""
        self.server.serve()

    def stop(self) -> None:
        self.server.stop()

    def close(self) -> None:
        """Stop serving, release the pins, then finish any recording and close the kit."""
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # keep closing: the film must still be finished
                log.exception("closing %r failed", closer)


def load_settings(args: argparse.Namespace) -> Config:
    """The kit's settings: ``--config FILE``, then ``VIGKIT_<NAME>`` variables (others
    ``VIGKIT_*``, such as systemd/verify.sh's ``VIGKIT_BIN``, are not settings)."""
    return config.load(args.config, env=os.environ)


def run_command(args: argparse.Namespace) -> int:
    from device.kit.power import request_poweroff

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = load_settings(args)
    appliance = Appliance(cfg, shutdown=request_poweroff)

    try:
        print(
            f"vigkit: the page is on {page_url(appliance.address, appliance.server.port)}",
            file=sys.stderr,
            flush=True,
        )
        serve_until_signal(appliance)
        print("vigkit: stopping: saving any film being recorded", file=sys.stderr, flush=True)
    finally:
        appliance.close()
    return 0
