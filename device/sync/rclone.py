"""The rclone engine: copy a list of files to the remote, check them there, ask it things.

rclone already speaks SFTP, SMB, S3, WebDAV, OneDrive and plain folders, so the kit never
talks to a server itself. Each call runs one ``rclone`` process under ``setpriv
--pdeathsig KILL``: if ``vigkit sync`` is killed, its rclone dies with it instead of writing
on behind the back of the next run. rclone's JSON log gives progress; its words on failure
go to :mod:`device.sync.diagnose` to become an error a person can act on.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.errors import RcloneMissing, RemoteUnreachable, SyncError, SyncInterrupted
from device.sync.diagnose import diagnose
from device.threads import BackgroundThread

# Retries kept short: a sync that fails is simply run again later (the timer is the
# retry), and files that arrived are not sent twice, so waiting minutes on a dead server
# helps nobody. Low-level retries still ride out a single dropped request.
RETRY_FLAGS = (
    "--retries=1",
    "--retries-sleep=1s",
    "--low-level-retries=2",
    "--contimeout=15s",
    "--timeout=60s",
)


@dataclass(frozen=True)
class Transfer:
    """rclone's running totals for one copy."""

    done: int
    total: int
    current: str


@dataclass
class Outcome:
    returncode: int
    stdout: str
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """What ``rclone check`` found for each file name."""

    same: frozenset[str]
    differ: frozenset[str]
    missing: frozenset[str]


class Rclone:
    def __init__(
        self, *, config: Path | None = None, stall_s: float = 120.0, binary: str = "rclone"
    ) -> None:
        found = shutil.which(binary)
        if found is None:
            raise RcloneMissing("rclone is not installed, so the kit cannot sync")
        self._binary = found
        self._config = config
        self._stall_s = stall_s
        self._setpriv = shutil.which("setpriv")  # util-linux; absent on some systems

    def _command(self, args: Sequence[str]) -> list[str]:
        cmd = [self._binary, *args, *RETRY_FLAGS, "--use-json-log"]
        if self._config is not None:
            cmd += ["--config", str(self._config)]
        if self._setpriv is not None:
            cmd = [self._setpriv, "--pdeathsig", "KILL", "--", *cmd]
        return cmd

    def run(
        self,
        args: Sequence[str],
        *,
        on_stats: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Run rclone, feeding each stats line to ``on_stats``; never raises for a failed
        transfer (the caller decides), only when rclone could not run, was killed, or
        stalled: nothing moved for ``stall_s`` (rclone's SFTP client can wait forever on a
        connection that died at the wrong moment), in which case it is stopped."""
        try:
            proc = subprocess.Popen(
                self._command(args),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise RcloneMissing(f"rclone could not be started: {e.strerror}") from e
        with proc:  # closes the pipes however this ends
            assert proc.stdout is not None and proc.stderr is not None
            stdout = proc.stdout
            out: list[str] = []
            reader = BackgroundThread(lambda: out.append(stdout.read()), name="rclone-stdout")
            reader.start()
            watch = _Watchdog(proc, self._stall_s)
            errors: list[str] = []
            try:
                for line in proc.stderr:
                    watch.saw(_take_line(line, errors, on_stats))
                proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                watch.stop()
                reader.join_within(10)
        if watch.stalled:
            raise RemoteUnreachable(
                "the office server cannot be reached: the connection stopped "
                f"(nothing moved for {self._stall_s:.0f} s)"
            )
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            raise SyncInterrupted(f"the upload was stopped part-way (rclone was killed by {name})")
        return Outcome(proc.returncode, "".join(out), errors)

    def checked(self, args: Sequence[str], what: str) -> Outcome:
        """Run rclone; a failure becomes the error that names its cause."""
        outcome = self.run(args)
        if outcome.returncode != 0:
            raise diagnose(outcome.errors, what)
        return outcome

    def hashes(self, remote: str) -> list[str]:
        """The hash types the remote can report (MD5, SHA-1, OneDrive's QuickXorHash…):
        ``rclone check`` computes the same one on the kit's side, so any will do; with
        none (plain WebDAV), verification reads the file back."""
        features = json.loads(self.checked(["backend", "features", remote], "reach").stdout)
        return [str(h).lower() for h in features.get("Hashes") or []]

    def mkdir(self, remote: str) -> None:
        self.checked(["mkdir", remote], "reach")

    def free_bytes(self, remote: str) -> int | None:
        """Free space on the remote, when it says (not every backend does)."""
        try:
            outcome = self.run(["about", "--json", remote])
            free = json.loads(outcome.stdout).get("free") if outcome.returncode == 0 else None
        except (SyncError, ValueError):
            return None
        return int(free) if isinstance(free, int | float) else None

    def copy(
        self,
        source: Path,
        remote: str,
        names: Sequence[str],
        *,
        again: bool = False,
        progress: Callable[[Transfer], None] | None = None,
    ) -> Outcome:
        """Copy ``names`` (inside ``source``) to ``remote``. Files already there with the
        same size are skipped by rclone; ``again`` sends them regardless."""

        def stats(s: dict[str, Any]) -> None:
            if progress is not None:
                moving = s.get("transferring") or []
                current = str(moving[0].get("name", "")) if moving else ""
                progress(Transfer(int(s.get("bytes", 0)), int(s.get("totalBytes", 0)), current))

        with _names_file(names) as listing:
            # No --no-traverse: looking each name up on the server was ~0.4 s slower per
            # sync over SFTP than listing the kit's one folder (bench/sync.py).
            args = ["copy", str(source), remote, "--files-from-raw", listing]
            args += ["--stats=0.5s", "--stats-log-level=NOTICE"]
            # A file already there is skipped on its size alone: the remote is never asked
            # for a hash while copying (a file cut off mid-upload can make its server fail
            # that: "failed to calculate md5 hash … unexpected non file"), and whether it
            # really arrived is what ``check`` proves next, which re-sends any mismatch.
            args.append("--ignore-times" if again else "--size-only")
            return self.run(args, on_stats=stats)

    def check(self, source: Path, remote: str, names: Sequence[str], *, download: bool) -> Check:
        """Compare each of ``names`` on the remote with the kit's copy: by hash when the
        remote has one in common with the kit, else (``download``) by reading it back."""
        with _names_file(names) as listing:
            args = ["check", str(source), remote, "--one-way", "--files-from-raw", listing]
            args += ["--combined", "-", "--stats=0.5s", "--stats-log-level=NOTICE"]
            if download:
                args.append("--download")
            outcome = self.run(args)
        found: dict[str, set[str]] = {"=": set(), "*": set(), "+": set(), "!": set()}
        for line in outcome.stdout.splitlines():
            mark, _, name = line.partition(" ")
            if mark in found:
                found[mark].add(name)
        if outcome.returncode != 0 and not any(found.values()):
            raise diagnose(outcome.errors, "check")  # could not look at the remote at all
        wanted = set(names)
        same = found["="] & wanted
        differ = (found["*"] | found["!"]) & wanted
        return Check(frozenset(same), frozenset(differ), frozenset(wanted - same - differ))


def _take_line(
    line: str, errors: list[str], on_stats: Callable[[dict[str, Any]], None] | None
) -> object:
    """Note one line of rclone's log; returns what counts as progress in it."""
    try:
        entry = json.loads(line)
    except ValueError:
        if line.strip():  # a fatal error is printed before JSON logging starts
            errors.append(line.strip())
        return line
    if not isinstance(entry, dict):
        return line
    stats = entry.get("stats")
    if isinstance(stats, dict):
        if on_stats is not None:
            on_stats(stats)
        return tuple(stats.get(k) for k in ("bytes", "checks", "transfers", "errors"))
    if entry.get("level") in ("error", "critical"):
        obj = entry.get("object")
        errors.append(f"{obj}: {entry.get('msg', '')}" if obj else str(entry.get("msg", "")))
    return line


class _Watchdog:
    """Stops rclone when nothing has moved for ``stall_s`` seconds."""

    def __init__(self, proc: subprocess.Popen[str], stall_s: float) -> None:
        self._proc = proc
        self._stall_s = stall_s
        self._last: object = None
        self._since = time.monotonic()
        self.stalled = False
        self._thread = BackgroundThread(self._run, name="rclone-watchdog")
        self._done = self._thread.stopping
        self._thread.start()

    def saw(self, progress: object) -> None:
        if progress != self._last:
            self._last, self._since = progress, time.monotonic()

    def _run(self) -> None:
        while not self._done.wait(0.5):
            if time.monotonic() - self._since > self._stall_s and self._proc.poll() is None:
                self.stalled = True
                self._proc.kill()
                return

    def stop(self) -> None:
        self._thread.stop()


@contextlib.contextmanager
def _names_file(names: Sequence[str]) -> Iterator[str]:
    """A temporary list of file names for ``--files-from-raw`` (ids only, no personal data)."""
    fd, path = tempfile.mkstemp(prefix="vigkit-sync-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{n}\n" for n in names))
        yield path
    finally:
        Path(path).unlink()
