"""The ``vigkit`` command: the kit (run, demo, record, recover) and the office's tools.

Every error the kit raises on purpose is shown as one line of what happened and one of
what to do next; a stack trace means a bug.

Starting is kept cheap: the table below declares every subcommand by name, module and
help line, and only the module of the subcommand being run is imported (the others get
a bare parser, enough for ``vigkit --help``). So ``vigkit office decrypt`` never loads
PyAV, numpy or Flask, which the kit's own commands need.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from device import __version__
from device.errors import ConfigError, VigKitError

# sysexits.h EX_CONFIG: the settings are wrong; vigkit.service does not restart on it
EXIT_CONFIG = 78

DESCRIPTION = "VIG Kit: the kit (run, demo, record, recover) and the office's tools."


class Command:
    """A subcommand: its name, its module, the module's function that adds its arguments
    to its parser, and its help line. (A plain class: importing typing for a NamedTuple
    would cost more start-up time than the whole parser.)"""

    def __init__(self, name: str, module: str, adder: str, help: str) -> None:
        self.name = name
        self.module = module  # in device.commands, imported only when this command runs
        self.adder = adder
        self.help = help


COMMANDS = (
    Command(
        "run", "run", "add_arguments", "the kit: recorder, button and phone page (systemd runs it)"
    ),
    Command("demo", "demo", "add_arguments", "try the phone page with a synthetic camera"),
    Command(
        "record",
        "record",
        "add_record_arguments",
        "record a film with no web page (tests, bench checks)",
    ),
    Command(
        "recover",
        "record",
        "add_recover_arguments",
        "seal every interrupted recording in a data dir, and repair films damaged on the card",
    ),
    Command(
        "office",
        "office",
        "add_arguments",
        "the office's tools: keys, decryption, verify and export",
    ),
    Command("setup", "setup", "add_arguments", "set up a kit: keys, passphrase, Wi-Fi, label"),
    Command("sync", "sync", "add_arguments", "send recordings to the office's storage, verified"),
    Command(
        "tls", "tls", "add_arguments", "the kit's certificate for its secure page: request, install"
    ),
)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, telling its help formatter the terminal's width: left to find
    it out, the formatter imports shutil, and with it bz2 and lzma (a third of the
    time ``vigkit --help`` took). Subcommands' parsers are of this class too."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(self.prog, width=_columns() - 2)


def _columns() -> int:
    """The width shutil.get_terminal_size would give: $COLUMNS, the terminal's, or 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (AttributeError, ValueError, OSError):
        return 80


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the named subcommand's module is imported."""
    parser = _Parser(prog="vigkit", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"vigkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else _chosen(argv)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        if argv is None or command.name == chosen:
            _adder(command)(p)
    return parser


def _adder(command: Command) -> Callable[[argparse.ArgumentParser], None]:
    module = importlib.import_module(f"device.commands.{command.module}")
    adder: Callable[[argparse.ArgumentParser], None] = getattr(module, command.adder)
    return adder


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except VigKitError as e:
        print(f"vigkit: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"vigkit: {e.hint}", file=sys.stderr)
        # a bad setting will not mend itself: systemd must not restart the kit in a loop
        return EXIT_CONFIG if isinstance(e, ConfigError) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
