"""The ``vigkit`` command: the kit (run, demo, record, recover) and the office's tools.

Every error the kit raises on purpose is shown as one line of what happened and one of
what to do next; a stack trace means a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from device import __version__
from device.commands import demo, office, record, run, setup, sync
from device.errors import VigKitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vigkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run.add_parser(sub)
    demo.add_parser(sub)
    record.add_parsers(sub)
    office.add_parser(sub)
    setup.add_parser(sub)
    sync.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except VigKitError as e:
        print(f"vigkit: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"vigkit: {e.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
