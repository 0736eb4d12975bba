"""``vigkit office …``: what the organisation's office runs (keygen, decrypt, encrypt,
verify, retention, export, annotations, supervision, serve, and the kits' CA).

Each command imports what it needs when it runs: ``decrypt`` and ``encrypt`` must start
as fast as ``age`` does, so this module loads nothing heavy at import.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a command runs: this module must load fast
    from device.office.archive import KitFolder
    from device.office.cases import ArchiveCases
    from device.office.kit_register import Register


def _path(text: str) -> os.PathLike[str]:
    """argparse's type for the paths of every command but ``decrypt`` and ``encrypt``: they
    take plain strings and start without pathlib (~4 ms with urllib.parse and ipaddress),
    so it is imported only when one of the others parses a path."""
    from pathlib import Path

    return Path(text)


KITS_HELP = "the office's register of kits (default: vigkit-kits.txt beside the office key)"
KITS_NEEDED = "the office's register of kits, vigkit-kits.txt (kept beside the office key)"


def add_arguments(office: argparse.ArgumentParser) -> None:
    osub = office.add_subparsers(dest="office_command", metavar="COMMAND", required=True)

    keygen = osub.add_parser("keygen", help="make an organisation key (readable by age)")
    keygen.add_argument("-o", "--output", type=_path, help="write the key here (not stdout)")
    keygen.set_defaults(func=keygen_command)

    _add_decrypt(osub)
    _add_encrypt(osub)

    ver = osub.add_parser("verify", help="check a synced archive is complete and untouched")
    ver.add_argument("archive", type=_path, help="the folder the kits sync into (or one kit's)")
    ver.add_argument("--kits", type=_path, help=KITS_NEEDED)
    ver.set_defaults(func=verify_command)
    _add_kit(osub)
    _add_ca(osub)

    ret = osub.add_parser(
        "retention", help="apply the kits' erase requests and erase-by dates to the archive"
    )
    ret.add_argument("archive", type=_path, help="the folder the kits sync into (or one kit's)")
    ret.add_argument("--kits", type=_path, help=KITS_NEEDED)
    ret.add_argument(
        "--dry-run", action="store_true", help="say what would be removed; change nothing"
    )
    ret.set_defaults(func=retention_command)

    exp = osub.add_parser("export", help="decrypt the marked clips and stills, with a sheet")
    exp.add_argument("archive", type=_path, help="the folder the kits sync into (or one kit's)")
    exp.add_argument(
        "-i", "--identity", type=_path, action="append", required=True, help="the office key file"
    )
    exp.add_argument("--passphrase-file", type=_path, help="passphrase for a protected key file")
    exp.add_argument(
        "--case", help="this case's journey: every cycle's clips, stills, questions, reflections"
    )
    exp.add_argument("--kits", type=_path, help=KITS_HELP)
    exp.add_argument("-o", "--output", type=_path, required=True, help="an empty folder")
    exp.add_argument(
        "--force", action="store_true", help="write into a folder that already has files"
    )
    exp.set_defaults(func=export_command)

    _add_case_exports(osub)

    srv = osub.add_parser("serve", help="watch and comment on the archive's films in a browser")
    srv.add_argument("archive", type=_path, help="the folder the kits sync into (or one kit's)")
    srv.add_argument(
        "-i", "--identity", type=_path, action="append", required=True, help="the office key file"
    )
    srv.add_argument("--passphrase-file", type=_path, help="passphrase for a protected key file")
    srv.add_argument("--kits", type=_path, help=KITS_HELP)
    srv.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this computer only)"
    )
    srv.add_argument(
        "--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free)"
    )
    srv.set_defaults(func=serve_command)


def _add_case_exports(osub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``annotations`` and ``supervision``: one case's marks and clips, for research or
    for the supervisor (device.office.annotations, device.office.supervision)."""
    for name, helps, func in (
        ("annotations", "a case's marks and clips as CSV and ELAN (.eaf) files",
         annotations_command),
        ("supervision", "the clips and marks of a case flagged for supervision, with a sheet",
         supervision_command),
    ):  # fmt: skip
        cmd = osub.add_parser(name, help=helps)
        cmd.add_argument("archive", type=_path, help="the folder the kits sync into (or one kit's)")
        cmd.add_argument(
            "-i", "--identity", type=_path, action="append", required=True,
            help="the office key file",
        )  # fmt: skip
        cmd.add_argument(
            "--passphrase-file", type=_path, help="passphrase for a protected key file"
        )
        cmd.add_argument("--case", required=True, help="the case code (e.g. F-0231)")
        cmd.add_argument("--kits", type=_path, help=KITS_HELP)
        cmd.add_argument(
            "-o", "--out", "--output", dest="output", type=_path, required=True,
            help="an empty folder",
        )  # fmt: skip
        cmd.add_argument(
            "--force", action="store_true", help="write into a folder that already has files"
        )
        cmd.set_defaults(func=func)


def _add_kit(osub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kit = osub.add_parser("kit", help="the office's register of its kits' signing keys")
    ksub = kit.add_subparsers(dest="kit_command", metavar="COMMAND", required=True)
    add = ksub.add_parser("add", help="enrol a kit: its id and the key vigkit setup printed")
    add.add_argument("name", help="the kit's id: its folder in the archive (kit-…)")
    add.add_argument("public_key", help="the kit's signing key, vigkit-ed25519:…")
    add.add_argument("--kits", type=_path, required=True, help="the register (vigkit-kits.txt)")
    add.set_defaults(func=kit_add_command)


def _add_ca(osub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ca init`` and ``ca issue``: the organisation's CA for its kits' HTTPS pages
    (device.commands.office_ca)."""
    ca = osub.add_parser("ca", help="the organisation's certificate authority for its kits")
    csub = ca.add_subparsers(dest="ca_command", metavar="COMMAND", required=True)
    init = csub.add_parser(
        "init", help="make the CA once (keep its folder offline); prints its fingerprint"
    )
    init.add_argument(
        "--ca", type=_path, required=True, metavar="DIR", help="a new folder for ca.crt and ca.key"
    )
    init.add_argument(
        "--organisation", metavar="NAME", help="the organisation's name (phones show it)"
    )
    init.add_argument(
        "--passphrase-file", type=_path, metavar="FILE", help="the passphrase for the CA's key"
    )
    init.set_defaults(func=ca_init_command)
    issue = csub.add_parser("issue", help="a kit's certificate for its names and 10.42.0.1")
    issue.add_argument(
        "--ca", type=_path, required=True, metavar="DIR", help="the folder ca init made"
    )
    issue.add_argument(
        "--kit", required=True, metavar="KIT-ID", help="the kit's id, as vigkit setup printed it"
    )
    issue.add_argument(
        "--csr", type=_path, metavar="FILE",
        help="the kit's request (vigkit tls request); without it, a key is made here",
    )  # fmt: skip
    issue.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="where KIT-ID.crt goes"
    )
    issue.add_argument(
        "--passphrase-file", type=_path, metavar="FILE", help="the passphrase for the CA's key"
    )
    issue.add_argument(
        "--days", type=int, metavar="N", help="how long it lasts (default and most: 825)"
    )
    issue.add_argument("--force", action="store_true", help="replace KIT-ID.crt (and .key)")
    issue.set_defaults(func=ca_issue_command)


def ca_init_command(args: argparse.Namespace) -> int:
    from device.commands.office_ca import init_command

    return init_command(args)


def ca_issue_command(args: argparse.Namespace) -> int:
    from device.commands.office_ca import issue_command

    return issue_command(args)


def kit_add_command(args: argparse.Namespace) -> int:
    from device.office.kit_register import add_kit

    add_kit(args.kits, args.name, args.public_key)
    print(f"{args.name} is enrolled in {args.kits}: its signed files will be trusted.")
    return 0


def _register(
    kits: os.PathLike[str] | None, key_files: list[os.PathLike[str]] | None = None
) -> Register:
    """The register given with --kits, or the one beside the office key; without one,
    the command stops here, before it reads or writes anything."""
    from pathlib import Path

    from device.office.kit_register import required

    return required(Path(kits) if kits else None, [Path(k) for k in key_files or []])


def _add_decrypt(osub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dec = osub.add_parser(
        "decrypt",
        help="decrypt a file, like age -d",
        description="Decrypt an age file, as age -d does: with a key file, or with the "
        "passphrase of a passphrase-encrypted file.",
    )
    dec.add_argument(
        "-i",
        "--identity",
        action="append",
        help="a key file (repeatable): the office key, or the kit's key with its passphrase",
    )
    dec.add_argument(
        "--passphrase-file",
        help="a file holding a passphrase: it opens a passphrase-encrypted file (as age -d "
        "asks for one), or else the passphrase-protected key file given with -i",
    )
    dec.add_argument("-o", "--output", help="write here (default: stdout)")
    dec.add_argument(
        "--salvage",
        action="store_true",
        help="keep every complete part of a file that was cut short",
    )
    dec.add_argument("input", nargs="?", help="the .age file (default: stdin)")
    dec.set_defaults(func=decrypt_command)


def _add_encrypt(osub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    enc = osub.add_parser("encrypt", help="encrypt a file to public keys, like age -r")
    enc.add_argument(
        "-r",
        "--recipient",
        action="append",
        default=[],
        help="an age1… public key to encrypt to (repeatable)",
    )
    enc.add_argument(
        "-R",
        "--recipients-file",
        action="append",
        default=[],
        help="a recipients file, as age reads it (repeatable)",
    )
    enc.add_argument("-a", "--armor", action="store_true", help="write ASCII armor (text)")
    enc.add_argument("-o", "--output", help="write here (default: stdout)")
    enc.add_argument("input", nargs="?", help="the file (default: stdin)")
    enc.set_defaults(func=encrypt_command)


def decrypt_command(args: argparse.Namespace) -> int:
    from device.commands import crypt

    return crypt.decrypt_command(args)


def encrypt_command(args: argparse.Namespace) -> int:
    from device.commands import crypt

    return crypt.encrypt_command(args)


def keygen_command(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from device import age
    from device.errors import VigKitError
    from device.library import atomic_writer

    identity = age.X25519Identity.generate()
    public = str(identity.recipient())
    text = (
        f"# created: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"# public key: {public}\n{identity}\n"
    )
    if args.output is None:
        sys.stdout.write(text)
        print(f"Public key: {public}", file=sys.stderr)
        return 0
    out = args.output  # a Path (_path)
    if out.exists():
        raise VigKitError(
            f"{out} already exists; it was not overwritten",
            hint="Choose another file name: replacing a key makes its files unreadable.",
        )
    with atomic_writer(out, 0o600) as f:
        f.write(text.encode())
    print(f"Public key: {public}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from device.office.archive import open_archive
    from device.office.verify import FLAGGED, OK, PROBLEMS, verify
    from device.sync.progress import Bar

    kits = open_archive(args.archive, _register(args.kits))
    bar = Bar()
    report = verify(kits, lambda done, total, name: bar.update("Checking", done, total))
    bar.finish()
    for kit in report.kits:
        print(
            f"{kit.name}: {kit.recordings} recording(s), {kit.files_ok} file(s) intact, "
            f"audit log of {kit.audit_rows} row(s)"
        )
        for line in kit.problems:
            print(f"  PROBLEM: {line}")
        for line in kit.erased:
            print(f"  ERASED: {line}")
        for line in kit.flags:
            print(f"  FLAG: {line}")
        for line in kit.notes:
            print(f"  note: {line}")
    words = {
        OK: "The archive is complete and untouched.",
        FLAGGED: "The archive is complete and untouched; some things need a look (see FLAG).",
        PROBLEMS: "The archive has problems (see PROBLEM): get those files from the kit again "
        "if it still has them (the kit checks each film before it sends it, so a film that "
        "differs was damaged after it arrived); vigkit office decrypt --salvage keeps every "
        "readable part of a damaged film.",
    }
    print(words[report.status])
    return report.status


def retention_command(args: argparse.Namespace) -> int:
    import contextlib
    from datetime import UTC, datetime

    from device.office import retention as ret
    from device.office.archive import open_archive
    from device.sync.erasures import ERASURES_NAME

    register = _register(args.kits)  # only what a kit signed is acted on
    lock = contextlib.nullcontext() if args.dry_run else ret.ArchiveLock(args.archive)
    try:
        with lock:
            kits = open_archive(args.archive, register)
            _left_out(kits)
            refused = [line for k in kits for line in k.unreadable if ERASURES_NAME in line]
            due = ret.plan(kits, datetime.now(UTC).date())
            if args.dry_run:
                for item in due:
                    print(f"would remove {item.kit.name}/{item.recording}: {item.reason}")
                    print(f"  {len(item.files)} file(s): {', '.join(item.files)}")
                print(f"Dry run: {ret.counted(due)} would be removed; nothing was changed.")
                return ret.OK
            outcome = ret.apply(due, lambda: datetime.now(UTC))
    except ret.RetentionBusy as e:
        print(f"vigkit: {e.message}\n  {e.hint}", file=sys.stderr)
        return ret.BUSY
    for item in outcome.removed:
        where = f"{item.kit.name}/{item.recording}"
        print(f"removed {where} ({len(item.files)} file(s)): {item.reason}")
    for line in outcome.problems + refused:
        print(f"  PROBLEM: {line}")
    print(f"{ret.counted(outcome.removed)} removed; each is in its kit's office-audit.jsonl.")
    return ret.PROBLEMS if outcome.problems or refused else ret.OK


def export_command(args: argparse.Namespace) -> int:
    # imported here: the PDF library is only needed at the office, not by every vigkit
    from device.errors import ArchiveError
    from device.office.contact_sheet import write_html, write_pdf
    from device.office.export import export, plan, plan_case
    from device.sync.progress import Bar

    cases = _case_reader(args)
    identities = cases.identities
    if args.case:  # the case's journey, every cycle, from its case record
        recordings = plan_case(cases, args.case)
    else:  # every recording's clips and stills, named by the case each was filed in
        kits = list(cases.recordings.kits().values())
        recordings = plan(kits, identities, cases.filing())
    if not recordings:
        raise ArchiveError(
            f"there are no exported clips or stills in {args.archive}",
            hint="Clips and stills are made on the kit's page.",
        )
    bar = Bar()
    files = export(
        recordings,
        identities,
        args.output,
        force=args.force,
        progress=lambda done, total, name: bar.update("Decrypting", done, total),
    )
    bar.finish()
    sheets = [write_html(recordings, args.output), write_pdf(recordings, args.output)]
    print(f"Exported {len(files)} file(s) from {len(recordings)} recording(s) to {args.output}")
    print(f"Contact sheet: {sheets[0]} and {sheets[1]}")
    return 0


def _left_out(kits: list[KitFolder]) -> None:
    """What is not signed by an enrolled kit is left out: say so before using the rest."""
    for kit in kits:
        for line in kit.unreadable:
            print(f"  left out: {line}", file=sys.stderr)


def _case_reader(args: argparse.Namespace) -> ArchiveCases:
    """The archive, and its cases, through the office's register (export, annotations,
    supervision): the register and the output folder are checked before anything is
    written or decrypted, and what was left out unsigned is said first."""
    from device.commands.common import load_identity_files
    from device.office.cases import ArchiveCases
    from device.office.export import check_output
    from device.office.recordings import ArchiveRecordings

    register = _register(args.kits, args.identity)
    check_output(args.output, args.force)  # before any decryption: fail fast
    identities = load_identity_files(args.identity, args.passphrase_file)
    archive = ArchiveRecordings(args.archive, register)
    _left_out(archive.scan())
    return ArchiveCases(archive, identities)


def annotations_command(args: argparse.Namespace) -> int:
    from device.office.annotation_export import write_annotations

    files = write_annotations(_case_reader(args), args.case, args.output, force=True)
    print(f"Wrote {files[0]} and {len(files) - 1} ELAN file(s) (one per film with marks or clips)")
    print("ELAN opens each film's .eaf; it looks for the film as <film id>.mp4 beside it.")
    return 0


def supervision_command(args: argparse.Namespace) -> int:
    from device.office.supervision import supervision_pack

    pack = supervision_pack(_case_reader(args), args.case, args.output, force=True)
    print(
        f"Supervision pack: {pack.clips_written} clip(s) from {len(pack.films)} film(s) "
        f"and {args.output / 'supervision.html'}"
    )
    if pack.left_out:
        print(
            f"Left out {len(pack.left_out)} film(s) whose case's consent does not include "
            f"a supervisor: {', '.join(pack.left_out)}"
        )
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from device.commands.office_serve import serve  # the web page is needed by this command only

    register = _register(args.kits, args.identity)
    return serve(
        args.archive,
        args.identity,
        args.passphrase_file,
        host=args.host,
        port=args.port,
        register=register,
    )
