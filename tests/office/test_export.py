"""``vigkit office export``: plain clips and stills out of the archive, with a contact sheet.

Plain output goes to a folder in RAM that is removed after each test."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import CASE, KitFiles


def ffprobe_ok(path: Path) -> str:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
         str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_export_decrypts_clips_and_stills_with_a_contact_sheet(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    out = ram_dir / "review"
    done = vigkit("office", "export", archive, "-i", office_key.path, "--case", CASE, "-o", out)
    # the case's journey: its three films (one with a clip and a still) in cycle 2
    assert "Exported 2 file(s) from 3 recording(s)" in done.stdout
    folder = out / f"{CASE}_cycle-2_{kit.film}"
    clip = folder / "clip-01-Taking-turns-with-the-blocks.mp4"
    still = folder / "still-01.jpg"
    assert ffprobe_ok(clip) == "h264"
    assert still.read_bytes()[:3] == b"\xff\xd8\xff"
    sheet = (out / "contact-sheet.html").read_text()
    for text in ("F-0231, cycle 2", "Taking turns with the blocks", "Guiding",
                 "Looking up – a smile", "How do we take turns?", "Being attentive",
                 f'src="{CASE}_cycle-2_{kit.film}/still-01.jpg"'):  # fmt: skip
        assert text in sheet, text
    pdf = (out / "contact-sheet.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"/Subtype /Image" in pdf


def test_another_case_code_finds_nothing(
    archive: Path, office_key: OfficeKey, ram_dir: Path
) -> None:
    done = vigkit(
        "office", "export", archive, "-i", office_key.path, "--case", "X-999", "-o", ram_dir / "o",
        check=False,
    )  # fmt: skip
    assert done.returncode == 1 and "there is no case X-999 in" in done.stderr


def test_refuses_a_folder_with_files_unless_forced(
    archive: Path, office_key: OfficeKey, ram_dir: Path
) -> None:
    (ram_dir / "keep.txt").write_text("someone's work")
    refused = vigkit("office", "export", archive, "-i", office_key.path, "-o", ram_dir, check=False)
    assert refused.returncode == 1 and "already has files in it" in refused.stderr
    assert "--force" in refused.stderr
    assert sorted(p.name for p in ram_dir.iterdir()) == ["keep.txt"]
    forced = vigkit("office", "export", archive, "-i", office_key.path, "-o", ram_dir, "--force")
    assert forced.returncode == 0
    assert (ram_dir / "keep.txt").read_text() == "someone's work"
    assert (ram_dir / "contact-sheet.pdf").exists()


def test_a_wrong_key_is_refused_plainly(archive: Path, ram_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    vigkit("office", "keygen", "-o", other)
    done = vigkit("office", "export", archive, "-i", other, "-o", ram_dir / "o", check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "office key" in done.stderr
