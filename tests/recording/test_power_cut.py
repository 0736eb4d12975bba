"""Nothing lost: a killed recorder and a full card each leave a film that plays.

SIGKILL stands in for a power cut at the process level (the kernel still writes what it
was given); the recorder fdatasyncs about once a second so a real power cut loses about
the same. Each killed film must be found, sealed by `vigkit recover`, decrypt with the
real `age`, and decode start to end, with at most 2 s missing before the kill.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from device import age
from tests.mediacheck import ffmpeg_decodes, stream_duration
from tests.recording.conftest import VIGKIT, OfficeKey, films, vigkit

KILLS = 20


@pytest.mark.parametrize("run", range(KILLS))
def test_a_killed_recording_is_sealed_and_loses_at_most_2_s(
    tmp_path: Path, office_key: OfficeKey, run: int
) -> None:
    data = tmp_path / "kit"
    proc = subprocess.Popen(
        [*VIGKIT, "record", "--data", str(data), "--seconds", "120", "-r", office_key.public],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "recording" in proc.stderr.readline()
    started = time.monotonic()
    time.sleep(random.Random(run).uniform(1.5, 8.0))
    proc.kill()
    recorded_for = time.monotonic() - started
    proc.wait(10)
    proc.stderr.close()

    sealed = vigkit("recover", "--data", data, "-i", office_key.path)
    assert "sealed: kept" in sealed.stdout
    (film,) = films(data)
    mp4 = office_key.decrypt(film)  # check=True: the sealed file authenticates whole
    assert ffmpeg_decodes(mp4) == (0, "")
    kept = stream_duration(mp4)
    assert kept >= recorded_for - 2.0, f"kept {kept:.2f} s of {recorded_for:.2f} s"
    # the original is kept untouched beside the sealed film, and is still unfinished
    (original,) = (data / "recordings").glob("*.interrupted.mp4.age")
    unfinished = subprocess.run(
        ["age", "-d", "-i", str(office_key.path), str(original)], capture_output=True
    )
    assert unfinished.returncode != 0
    again = vigkit("recover", "--data", data, "-i", office_key.path)
    assert "nothing to do" in again.stdout


def test_a_full_card_ends_the_recording_cleanly(tmp_path: Path, office_key: OfficeKey) -> None:
    """A 40 MB card (a private tmpfs) with a 10 MB reserve: the recording stops by itself
    before the card is full, with a whole film and a plain reason."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to make a small private disk")
    out = tmp_path / "copied"
    script = (
        'set -e; mount -t tmpfs -o size=40m tmpfs "$1"; '
        '"${@:4}" --data "$1/kit" || echo "exit $?"; cp -r "$1/kit" "$2"; echo "copied to $3"'
    )
    card = tmp_path / "card"
    card.mkdir()
    done = subprocess.run(
        [
            "unshare",
            "--map-root-user",
            "--mount",
            "bash",
            "-c",
            script,
            "bash",
            str(card),
            str(out),
            "copy",
            *VIGKIT,
            "record",
            "--seconds",
            "3000",
            "--fast",
            "--bitrate",
            "4000000",
            "--reserve-mb",
            "10",
            "-r",
            office_key.public,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "the storage card is full" in done.stdout
    assert "exit" not in done.stdout
    (film,) = films(out)
    mp4 = office_key.decrypt(film)
    assert ffmpeg_decodes(mp4) == (0, "")
    assert stream_duration(mp4) > 20


def test_no_room_to_start_says_so(tmp_path: Path, office_key: OfficeKey) -> None:
    done = vigkit(
        "record",
        "--data",
        tmp_path / "kit",
        "--seconds",
        "1",
        "--reserve-mb",
        "100000000",
        "-r",
        office_key.public,
        check=False,
    )
    assert done.returncode == 1
    assert "less than a minute of space is left" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_kit_passphrase_seals_as_well_as_the_office_key(
    tmp_path: Path, office_key: OfficeKey
) -> None:
    data = tmp_path / "kit"
    (data / "keys").mkdir(parents=True)
    kit = age.X25519Identity.generate()
    (data / "keys" / "kit-identity.age").write_bytes(
        age.wrap_identity(kit, "maple harbour quietly sings", work_factor=12)
    )
    (data / "keys" / "recipients.txt").write_text(f"{office_key.public}\n{kit.recipient()}\n")
    passphrase = tmp_path / "pass"
    passphrase.write_text("maple harbour quietly sings\n")
    with subprocess.Popen(
        [*VIGKIT, "record", "--data", str(data), "--seconds", "60"], stderr=subprocess.PIPE
    ) as proc:
        assert proc.stderr is not None
        proc.stderr.readline()
        time.sleep(2.5)
        proc.kill()
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    refused = vigkit("recover", "--data", data, "--passphrase-file", wrong, check=False)
    assert refused.returncode == 1 and "passphrase" in refused.stderr.lower()
    sealed = vigkit("recover", "--data", data, "--passphrase-file", passphrase)
    assert "sealed: kept" in sealed.stdout
    (film,) = films(data)
    assert ffmpeg_decodes(office_key.decrypt(film)) == (0, "")
