"""``vigkit sync``: send the kit's encrypted files to the office, verified, then tidy.

This is a composition root: it reads the settings (``--config FILE``, then ``VIGKIT_…``),
opens the data dir beside a running ``vigkit run`` (the kit's lock is not needed; sync
has its own, see device.sync.state.SyncLock) and runs the sync with a progress bar.
``--auto`` is for the systemd timer: quiet, and an unreachable office is not a failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from device import config
from device.cases import Registry as CaseRegistry
from device.config import Config
from device.errors import ConfigError, RemoteUnreachable, SyncBusy, SyncNotConfigured
from device.kit import wall_clock
from device.library import Library
from device.sync import Erased, Progress, Rclone, Retention, Syncer, SyncResult, read_status
from device.sync.progress import Bar

PHASES = {
    "looking": "Looking",
    "sending": "Sending",
    "verifying": "Verifying",
    "manifests": "Manifests",
    "tidying": "Tidying",
}


def add_arguments(sync: argparse.ArgumentParser) -> None:
    sync.add_argument(
        "--config", type=Path, help="a TOML settings file, e.g. /etc/vigkit/vigkit.toml"
    )
    sync.add_argument(
        "--auto",
        action="store_true",
        help="for the timer: quiet; an unreachable office is not an error",
    )
    what = sync.add_mutually_exclusive_group()
    what.add_argument(
        "--retention-only", action="store_true", help="only remove what retention allows"
    )
    what.add_argument("--status", action="store_true", help="show each recording's sync state")
    sync.set_defaults(func=sync_command)


def sync_command(args: argparse.Namespace) -> int:
    cfg = config.load(args.config, env=os.environ)
    library = Library(cfg.data_dir, kit_lock=False)
    try:
        CaseRegistry(library.index)  # after a rebuilt index: films get their case back first
        trust = wall_clock.clock_trust(library.data, cfg.clock_jump_days)
        retention = Retention(library=library, retention_days=cfg.retention_days, trust=trust)
        if args.status:
            return _show_status(library)
        if args.retention_only:
            _report_erased(retention.run(), quiet=False)
            _report_held(retention)
            return 0
        return _sync(cfg, library, retention, auto=args.auto)
    finally:
        library.close()


def _sync(cfg: Config, library: Library, retention: Retention, *, auto: bool) -> int:
    if not cfg.sync_remote:
        if auto:
            print("vigkit sync: sync_remote is not set; nothing to do", file=sys.stderr)
            return 0
        raise SyncNotConfigured("sync is off: no sync_remote is set")
    rclone_config = Path(cfg.rclone_config) if cfg.rclone_config else None
    if rclone_config is not None and not rclone_config.is_file():
        raise ConfigError(
            f"the rclone config file {rclone_config} does not exist",
            hint="Check rclone_config in the settings; see docs/office.md for an example.",
        )
    syncer = Syncer(
        library=library,
        remote=cfg.sync_remote,
        rclone=Rclone(config=rclone_config, stall_s=cfg.sync_stall_seconds),
        retention=retention,
        lock_wait_s=0.0 if auto else 30.0,
    )
    bar = Bar(quiet=auto)

    def show(p: Progress) -> None:
        if p.phase in PHASES:
            unit = "bytes" if p.phase == "sending" else "files"
            bar.update(PHASES[p.phase], p.done, p.total, unit)

    try:
        result = syncer.run(progress=show)
    except (RemoteUnreachable, SyncBusy) as e:
        bar.finish()
        if not auto:
            raise
        print(f"vigkit sync: {e.message}; will try again later", file=sys.stderr)
        return 0
    finally:
        bar.finish()
    _report(result, quiet=auto)
    return 0


def _report(result: SyncResult, *, quiet: bool) -> None:
    if result.resumed_after and not quiet:
        print(f"vigkit: the sync started {result.resumed_after} did not finish; carried on")
    if quiet:
        if result.sent or result.erased:
            print(f"vigkit sync: {len(result.sent)} file(s) sent and verified", file=sys.stderr)
    elif result.sent:
        print(
            f"vigkit: {len(result.sent)} file(s) sent and verified; "
            f"{len(result.synced)} recording(s) now safe at the office"
        )
    elif not (result.unsent or result.not_listed or result.damaged):
        print("vigkit: the office already has everything this kit has sent")
    _report_left(result, quiet=quiet)
    _report_erased(result.erased, quiet=quiet)
    for rec_id in result.damaged:  # said even from the timer: someone must look at it
        print(
            f"vigkit: {rec_id} was damaged on the card after recording and was NOT sent. "
            "Unlock the kit's page: it keeps every readable second in a repaired copy, "
            "which the next sync sends (the damaged file stays on the kit).",
            file=sys.stderr,
        )


def _report_left(result: SyncResult, *, quiet: bool) -> None:
    """What is on the card and not at the office, compared file by file, never assumed."""
    out = sys.stderr if quiet else sys.stdout
    if result.not_listed:
        print(
            f"vigkit: {len(result.not_listed)} film(s) on the card are not in the kit's list, "
            "so they were not sent: restart the kit to list them again",
            file=out,
        )
    if result.unsent:
        print(f"vigkit: {len(result.unsent)} file(s) are not at the office yet", file=out)
    if result.held and not quiet:
        print(
            f"vigkit: {len(result.held)} film(s) held as Unassigned stay on the kit until "
            "they are assigned to a case"
        )


def _report_erased(erased: list[Erased], *, quiet: bool) -> None:
    for e in erased:
        line = f"vigkit: removed {e.recording} from the kit ({e.reason})"
        print(line, file=sys.stderr if quiet else sys.stdout)


def _report_held(retention: Retention) -> None:
    """Say why nothing was erased on this clock, and which films wait for the page."""
    trust = retention.clock_trust()
    if not trust.ok:
        print(f"vigkit: nothing was erased: {trust.reason}.")
        print("  Set the kit's clock from the phone (Settings page), then run this again.")
        return
    for row, reason in retention.waiting():
        print(f"vigkit: {row.id}: {reason}; confirm on the Settings page (Erase now)")


def _show_status(library: Library) -> int:
    status = read_status(library)
    if status.running:
        print("A sync is running now.")
    if status.last_error:
        print(f"The last sync did not finish: {status.last_error}")
    elif status.last_ok_at:
        print(f"The last sync finished at {status.last_ok_at}.")
    for rec in status.recordings:
        print(f"{rec.id}  {rec.words}")
    return 0
