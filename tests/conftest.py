"""Suite-wide checks.

No plaintext at rest: when the whole session has run, every file any test left under
pytest's temporary folders is searched for the start of an MP4 (an ``ftyp`` box, a
``moof`` with its ``mfhd``) or a JPEG. Each signature is long enough that random
ciphertext cannot match it by chance, so a hit is a real leak.

No thread left running: a kit, camera, microphone, LED or server a test forgot to close
keeps its threads, and on this 2-CPU machine a leaked source spins on for the rest of the
run (one did, and slowed the suite until timed tests failed). Every thread the kit names
must be gone when the session ends.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

PLAINTEXT_SIGNATURES = {
    "an MP4 file header (ftyp)": re.compile(
        rb"\x00\x00[\x00-\x04][\x00-\xff]ftyp(?:iso|mp4|avc|dash|M4V)"
    ),
    "an MP4 fragment (moof)": re.compile(rb"moof\x00\x00\x00\x10mfhd\x00\x00\x00\x00"),
    "a JPEG image": re.compile(
        # a comment segment first (FFmpeg's "Lavc…") counts only with its length and a few
        # printable bytes: "\xff\xd8\xff\xfe" alone turned up by chance in 236 MB of age
        # ciphertext (an hour-long test film)
        rb"\xff\xd8\xff(?:\xe0\x00\x10JFIF|\xe1..Exif|\xdb\x00[\x43\x84]|\xfe\x00[\x03-\xff][\x20-\x7e]{4})",
        re.S,
    ),
}
SCAN_LIMIT = 64 << 20  # bytes read per file; films in tests are smaller
KIT_THREADS = ("synthetic-", "vigkit-", "led-", "gpio-", "waitress-", "mic-", "rclone-")


def leaked_threads(grace_s: float = 2.0) -> list[str]:
    """Threads of the kit still alive after ``grace_s`` for them to finish stopping."""
    ours = [t for t in threading.enumerate() if t.name.startswith(KIT_THREADS)]
    for t in ours:
        t.join(grace_s / max(len(ours), 1))
    return sorted(t.name for t in ours if t.is_alive())


def plaintext_leaks(root: Path) -> list[str]:
    leaks = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            with path.open("rb") as f:
                data = f.read(SCAN_LIMIT)
        except OSError:
            continue
        for what, pattern in PLAINTEXT_SIGNATURES.items():
            if pattern.search(data):
                leaks.append(f"{path}: {what}")
    return leaks


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or session.config.option.collectonly:
        return
    _fail_on(
        session,
        "PLAINTEXT LEFT ON DISK by the tests (the kit must never do this):",
        plaintext_leaks(factory.getbasetemp()),
    )
    _fail_on(
        session, "THREADS LEFT RUNNING (a test did not close what it opened):", leaked_threads()
    )


def _fail_on(session: pytest.Session, headline: str, found: list[str]) -> None:
    if not found:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n".join([headline, *found]), red=True, bold=True)
