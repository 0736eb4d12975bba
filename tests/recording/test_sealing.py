"""Sealing has one owner at a time and survives being killed at any step.

Overlapping seals (two unlocks, an unlock and `vigkit recover`) take turns under one file
lock; a `recover` killed after each step (SIGKILL from a hook the test sets in the
child process: a power cut at exactly that point) is finished by the next run. Every run
must end with exactly one `<id>.mp4.age` that the real `age` decrypts and ffmpeg decodes,
whose size and hash are the index's, beside the untouched original."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from device import age
from device.library import Library, State
from device.recording.recovery import SEALED, seal_interrupted
from tests.mediacheck import ffmpeg_decodes
from tests.recording.conftest import VIGKIT, OfficeKey, films, vigkit
from tests.recording.sealing_helpers import interrupted_film

STEPS = [
    "original moved aside",
    "copying",
    "sealed copy written",
    "sealed copy renamed",
    "fragment index written",
    "index updated",
]
RACES = 10
KILL_AT = """
import os, signal, sys
from device.cli import main
from device.recording import recovery
def kill_at(step):
    if step == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)
recovery.after_step = kill_at
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory, office_key: OfficeKey) -> Path:
    """A data folder with one interrupted film of a few MB (copied for every run)."""
    data = tmp_path_factory.mktemp("interrupted") / "kit"
    interrupted_film(data, age.parse_recipients(office_key.public), seconds=6, bitrate=4_000_000)
    return data


def _copy(interrupted: Path, tmp_path: Path) -> tuple[Path, str, bytes]:
    data = tmp_path / "kit"
    shutil.copytree(interrupted, data)
    (film,) = films(data)
    return data, film.name.split(".")[0], film.read_bytes()


def _check_sealed(data: Path, rec_id: str, office_key: OfficeKey, original: bytes) -> None:
    recordings = data / "recordings"
    assert films(data) == [recordings / f"{rec_id}.mp4.age"]
    assert not list(recordings.glob(".*.sealing"))
    assert (recordings / f"{rec_id}.interrupted.mp4.age").read_bytes() == original
    film = (recordings / f"{rec_id}.mp4.age").read_bytes()
    library = Library(data, kit_lock=False)
    try:
        row = library.index.get(rec_id)
    finally:
        library.close()
    assert row.state == State.RECOVERED
    assert (row.size, row.sha256) == (len(film), hashlib.sha256(film).hexdigest())
    assert ffmpeg_decodes(office_key.decrypt(recordings / f"{rec_id}.mp4.age")) == (0, "")


@pytest.mark.parametrize("step", STEPS)
def test_recover_killed_at_each_step_is_finished_by_the_next_run(
    tmp_path: Path, interrupted: Path, office_key: OfficeKey, step: str
) -> None:
    data, rec_id, original = _copy(interrupted, tmp_path)
    args = ["recover", "--data", str(data), "-i", str(office_key.path), "--reserve-mb", "10"]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, step, *args], capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = vigkit(*args)
    assert "Traceback" not in again.stderr
    if step == "index updated":  # the index said *recovered*: the job was done
        assert "nothing to do" in again.stdout
    else:
        assert "sealed: kept" in again.stdout
    _check_sealed(data, rec_id, office_key, original)


@pytest.mark.parametrize("run", range(RACES))
def test_overlapping_seals_leave_exactly_one_sealed_film(
    tmp_path: Path, interrupted: Path, office_key: OfficeKey, run: int
) -> None:
    """Three seals at once on one film, as two unlocks and the worker once could."""
    data, rec_id, original = _copy(interrupted, tmp_path)
    identities = age.parse_identities(office_key.path.read_text())
    library = Library(data, kit_lock=False)
    library.mark_interrupted()
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def seal() -> None:
        start.wait()
        reports = seal_interrupted(library, identities, age.parse_recipients(office_key.public))
        outcomes.extend(r.outcome for r in reports)

    try:
        threads = [threading.Thread(target=seal) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    finally:
        library.close()
    assert outcomes == [SEALED]  # one sealed it; the others found nothing left to do
    _check_sealed(data, rec_id, office_key, original)


def test_a_seal_without_room_for_the_film_and_the_reserve_says_so(
    tmp_path: Path, interrupted: Path, office_key: OfficeKey
) -> None:
    """A 16 MB card (a private tmpfs), a 10 MB reserve and a 1.6 MB film: with a 5 MB
    file taking the room the seal refuses in words and touches nothing; once that file
    is gone, the same command seals."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to make a small private disk")
    (film,) = films(interrupted)
    original = film.read_bytes()
    recover = [*VIGKIT, "recover", "--data", "$1/kit", "-i", str(office_key.path)]
    command = " ".join(f'"{a}"' if a != "$1/kit" else '"$1/kit"' for a in recover)
    script = (
        'set -e; mount -t tmpfs -o size=16m tmpfs "$1"; cp -r "$3" "$1/kit"; '
        'head -c 5000000 /dev/zero > "$1/filler"; '
        f'{command} --reserve-mb 10 2>&1 || echo "exit $?"; ls -A "$1/kit/recordings"; '
        f'rm "$1/filler"; {command} --reserve-mb 10 2>&1; cp -r "$1/kit" "$2"'
    )
    card, out = tmp_path / "card", tmp_path / "copied"
    card.mkdir()
    unshare = ["unshare", "--map-root-user", "--mount", "bash", "-c", script, "bash"]
    done = subprocess.run(
        [*unshare, str(card), str(out), str(interrupted)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    refused, _, sealed = done.stdout.partition("exit 1\n")
    assert "not enough room on the card to repair" in refused, done.stdout
    assert "Traceback" not in done.stdout
    assert ".sealing" not in sealed.split("sealed: kept")[0]  # no temp file was left
    assert "sealed: kept" in sealed
    rec_id = film.name.split(".")[0]
    _check_sealed(out, rec_id, office_key, original)
