"""``vigkit record`` and ``vigkit recover``: headless recording and sealing, for bench-top
checks, tests and benchmarks. Both use the same parts as the appliance; ``record`` files
its film as the button does (the current case, or Unassigned), or into ``--case``."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from device import config
from device.cases import check_can_film, schema
from device.cases.store import CASE_ID_PREFIX
from device.commands.common import load_identity_files, on_stop_signals, read_recipient_args
from device.errors import CaseError, VigKitError
from device.kit.assembly import Kit, load_recipients, open_kit
from device.library import Library
from device.recording.recorder import Filing, RecorderState
from device.recording.recovery import EMPTY, FAILED, SEALED, SealReport, seal_interrupted
from device.recording.repair import repair_damaged


def add_record_arguments(rec: argparse.ArgumentParser) -> None:
    rec.add_argument("--data", type=Path, required=True, help="the data folder")
    rec.add_argument("--seconds", type=float, required=True, help="length of film to record")
    rec.add_argument("--camera", choices=["synthetic", "picamera2"], default="synthetic")
    rec.add_argument("--mic", default="synthetic", help="synthetic, none, or a device name")
    rec.add_argument("--size", default="640x360", help="picture size, WxH")
    rec.add_argument("--fps", type=int, default=30)
    rec.add_argument("--bitrate", type=int, default=2_000_000, help="H.264 bits per second")
    rec.add_argument(
        "--reserve-mb",
        type=int,
        default=500,
        help="stop cleanly when free space falls to this many MB (at least 10)",
    )
    rec.add_argument(
        "--fast",
        action="store_true",
        help="synthetic sources as fast as possible instead of real time",
    )
    rec.add_argument(
        "-r",
        "--recipient",
        action="append",
        default=[],
        help="an age1… public key to encrypt to (repeatable)",
    )
    rec.add_argument(
        "-R",
        "--recipients-file",
        type=Path,
        action="append",
        default=[],
        help="a recipients file, as age reads it (repeatable)",
    )
    rec.add_argument(
        "--case",
        metavar="CODE",
        help="film into this case (its code, or its id case-…): refused without its consent;"
        " without --case, into the current case or Unassigned, as the button does",
    )
    rec.add_argument(
        "-i",
        "--identity",
        type=Path,
        action="append",
        default=[],
        help="a key file, to find --case by its code (the office key works)",
    )
    rec.add_argument(
        "--passphrase-file",
        type=Path,
        help="the kit passphrase, to find --case by its code with the kit's own key",
    )
    rec.set_defaults(func=record_command)


def add_recover_arguments(recover: argparse.ArgumentParser) -> None:
    recover.add_argument("--data", type=Path, required=True)
    recover.add_argument(
        "-i",
        "--identity",
        type=Path,
        action="append",
        default=[],
        help="a key file (the office key works as well as the kit's)",
    )
    recover.add_argument(
        "--passphrase-file", type=Path, help="the kit passphrase: opens keys/kit-identity.age"
    )
    recover.add_argument(
        "--reserve-mb",
        type=int,
        default=500,
        help="seal only while this many MB stay free besides the sealed copy (default 500)",
    )
    recover.set_defaults(func=recover_command)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise VigKitError(f"--size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise VigKitError(f"--size {text!r}: width and height must be even and positive")
    return w, h


def record_command(args: argparse.Namespace) -> int:
    width, height = _size(args.size)
    cfg = config.load(
        overrides={
            "data_dir": args.data,
            "camera": args.camera,
            "microphone": args.mic,
            "width": width,
            "height": height,
            "fps": args.fps,
            "bitrate": args.bitrate,
            "fast": args.fast,
            "storage_reserve_mb": args.reserve_mb,
        }
    )
    kit = open_kit(cfg, read_recipient_args(args.recipient, args.recipients_file))
    stopped = threading.Event()

    def on_signal() -> None:
        stopped.set()
        kit.recorder.stop(reason="stopped by a signal", wait=False)

    on_stop_signals(on_signal)
    try:
        if kit.microphone is None:
            print("vigkit: no microphone: recording picture only", file=sys.stderr)
        filing = _case_filing(kit, args)
        rec_id = kit.recorder.start(max_seconds=args.seconds, filing=filing)
        print(f"vigkit: recording {rec_id}", file=sys.stderr, flush=True)
        while not kit.recorder.wait(0.2):
            pass
        status = kit.recorder.status
        if status.state == RecorderState.FAULT:
            raise VigKitError(f"the recording stopped: {status.fault}")
        row = kit.library.index.get(rec_id)
        print(f"{rec_id}\t{row.duration_s:.2f} s\t{row.size} bytes\t{row.stop_reason}")
        if row.mic_lost:
            print("vigkit: the microphone was lost during the recording", file=sys.stderr)
        return 0
    finally:
        kit.close()


def _case_filing(kit: Kit, args: argparse.Namespace) -> Filing | None:
    """``--case``: file the film into that case, refused (as the page's Record is) when
    the case has no consent or is closed. None: the kit's own filing, as the button."""
    if not args.case:
        return None
    case_id = _find_case(kit, args)
    check_can_film(kit.cases, case_id, f"case {args.case.strip().upper()}")
    registry = kit.cases.registry
    return lambda rec_id: registry.file_recording(rec_id, case_id)


def _find_case(kit: Kit, args: argparse.Namespace) -> str:
    """The opaque id of ``--case``: given as an id, or found by its code (which is
    encrypted, so that needs a key)."""
    wanted = str(args.case).strip()
    if wanted.startswith(CASE_ID_PREFIX) and kit.cases.registry.get(wanted) is not None:
        return wanted
    schema.code_of(wanted)  # a name or a path is refused before any key is asked for
    paths = list(args.identity)
    if args.passphrase_file:
        paths.append(kit.library.data.kit_identity_file)
    if not paths:
        raise CaseError(
            f"finding case {wanted.upper()} needs a key: case codes are kept encrypted",
            hint="Give the kit passphrase with --passphrase-file, or the office key with -i.",
        )
    case = kit.cases.find_by_code(wanted, load_identity_files(paths, args.passphrase_file))
    if case is None:
        raise CaseError(
            f"there is no case {wanted.upper()} on this kit",
            hint="Check the code; without --case the film goes into the current case.",
        )
    return case.id


def recover_command(args: argparse.Namespace) -> int:
    library = Library(args.data)
    try:
        library.mark_interrupted()
        paths = list(args.identity)
        if args.passphrase_file:
            paths.append(library.data.kit_identity_file)
        if not paths:
            raise VigKitError(
                "recover needs a key to open the films",
                hint="Give the office key with -i, or the kit passphrase with --passphrase-file.",
            )
        identities = load_identity_files(paths, args.passphrase_file)
        recipients, reserve = load_recipients(library), max(0, args.reserve_mb) * 1_000_000
        reports = seal_interrupted(library, identities, recipients, reserve_bytes=reserve)
        # and the films sync found damaged on the card, as the page does once unlocked
        reports += repair_damaged(library, identities, recipients, reserve_bytes=reserve)
        return _print_reports(reports)
    finally:
        library.close()


def _print_reports(reports: list[SealReport]) -> int:
    """One line a film; 1 if any could not be sealed (the others are sealed all the same)."""
    for r in reports:
        if r.outcome == SEALED:
            lost = f", lost about {r.lost_s:.1f} s to damage" if r.lost_s else ""
            print(f"{r.recording_id}\tsealed: kept {r.kept_s:.1f} s ({r.kept_bytes} bytes){lost}")
        elif r.outcome == EMPTY:
            print(f"{r.recording_id}\t{r.problem}")
        else:
            print(f"vigkit: {r.recording_id} was not sealed: {r.problem}", file=sys.stderr)
    if not reports:
        print("No interrupted or damaged recordings: nothing to do.")
    return 1 if any(r.outcome == FAILED for r in reports) else 0
