"""``vigkit setup`` run as scripted provisioning does it: its config and keys work with
``vigkit record`` and ``vigkit office decrypt`` end to end; the label has a Wi-Fi join QR
code only when asked for (``--wifi-qr``), and then it (drawn by Chromium, read by zbarimg)
holds the exact Wi-Fi string, special characters included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from device import config
from device.kit.label import escape_wifi, qr_svg, wifi_string
from tests.media.media_helpers import ffprobe
from tests.recording.conftest import VIGKIT, OfficeKey, vigkit

PASSPHRASE = "amber river candle otter"
KIT_NAME = 'Kit; "A":b\\'
WIFI_NAME = 'My, "Wi:Fi"; \\x'
WIFI_PASSWORD = 'p@ss;w,rd:"x"\\y'


def _setup(tmp_path: Path, office: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    return vigkit(
        "setup",
        "--office-recipient", office,
        "--passphrase-file", tmp_path / "pass.txt",
        "--kit-name", KIT_NAME,
        "--config", tmp_path / "etc" / "vigkit.toml",
        "--data", tmp_path / "data",
        "--label", tmp_path / "label.svg",
        *extra,
        check=False,
    )  # fmt: skip


def test_setup_then_record_then_office_decrypt(tmp_path: Path, office_key: OfficeKey) -> None:
    done = _setup(tmp_path, office_key.public, "--wifi-name", WIFI_NAME)
    assert done.returncode == 0, done.stderr
    data = tmp_path / "data"
    cfg = config.load(tmp_path / "etc" / "vigkit.toml")
    assert cfg.kit_name == KIT_NAME and cfg.wifi_name == WIFI_NAME
    assert Path(cfg.data_dir) == data.absolute()
    generated = cfg.wifi_password
    assert len(generated) == 16 and generated.isalnum()
    assert f"Password: {generated}" in done.stdout
    assert "█" not in done.stdout and "▀" not in done.stdout  # no QR code unless asked
    assert "Then open vigkit.lan (the page: https://vigkit.lan/)" in done.stdout
    label = (tmp_path / "label.svg").read_text()
    assert "<path" not in label and "<g transform" not in label  # nor on the label
    assert f">{generated}</text>" in label and ">vigkit.lan</text>" in label
    assert (tmp_path / "etc" / "vigkit.toml").stat().st_mode & 0o777 == 0o640
    assert (data / "keys" / "kit-identity.age").stat().st_mode & 0o777 == 0o600
    recipients = (data / "keys" / "recipients.txt").read_text()
    assert office_key.public in recipients and recipients.count("age1") == 2

    rec = vigkit(
        "record", "--data", data, "--seconds", "2",
        "--camera", "synthetic", "--mic", "synthetic", "--fast",
    )  # fmt: skip
    assert rec.returncode == 0, rec.stderr
    (film,) = (data / "recordings").glob("*.mp4.age")
    # The office opens it with vigkit office decrypt and with the stock age tool...
    by_office = subprocess.run(
        [*_vigkit_cmd(), "office", "decrypt", "-i", str(office_key.path), str(film)],
        capture_output=True,
        check=True,
    ).stdout
    assert by_office == office_key.decrypt(film)
    # ...and the kit's own key opens it with the passphrase chosen at setup.
    by_kit = subprocess.run(
        [
            *_vigkit_cmd(), "office", "decrypt",
            "-i", str(data / "keys" / "kit-identity.age"),
            "--passphrase-file", str(tmp_path / "pass.txt"),
            str(film),
        ],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    assert by_kit == by_office
    streams = {s["codec_type"] for s in ffprobe(by_office, "-show_streams")["streams"]}
    assert streams == {"video", "audio"}


def _vigkit_cmd() -> list[str]:
    return list(VIGKIT)


# Chromium draws the SVGs in a process of its own: the browser tests keep a session-wide
# Playwright running, and a second sync Playwright cannot start in the same thread.
_RENDER = """
import json, sys
from pathlib import Path
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium")
    for svg, png, width, height in json.loads(sys.argv[1]):
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=4)
        page.goto(Path(svg).as_uri())
        Path(png).write_bytes(page.screenshot())
        page.close()
    browser.close()
"""


def _decode_svgs(tmp_path: Path, svgs: dict[str, tuple[str, int, int]]) -> dict[str, str]:
    """Draw each SVG in Chromium at 4x, then read its QR code with zbarimg."""
    jobs = []
    for name, (svg, width, height) in svgs.items():
        source = tmp_path / f"{name}.svg"
        source.write_text(svg)
        jobs.append((str(source), str(tmp_path / f"{name}.png"), width, height))
    subprocess.run([sys.executable, "-c", _RENDER, json.dumps(jobs)], check=True, timeout=120)
    return {
        name: subprocess.run(
            ["zbarimg", "--quiet", "--raw", png], capture_output=True, text=True, check=True
        ).stdout.rstrip("\n")
        for name, (_, png, _, _) in zip(svgs, jobs, strict=True)
    }


def test_the_label_and_page_qr_decode_to_the_exact_wifi_string(
    tmp_path: Path, office_key: OfficeKey
) -> None:
    done = _setup(
        tmp_path,
        office_key.public,
        *("--wifi-name", WIFI_NAME, "--wifi-password", WIFI_PASSWORD, "--wifi-qr"),
    )
    assert done.returncode == 0, done.stderr
    assert "█" in done.stdout or "▀" in done.stdout  # the QR code, in the terminal too
    expected = 'WIFI:T:WPA;S:My\\, \\"Wi\\:Fi\\"\\; \\\\x;P:p@ss\\;w\\,rd\\:\\"x\\"\\\\y;;'
    assert wifi_string(WIFI_NAME, WIFI_PASSWORD) == expected
    label = (tmp_path / "label.svg").read_text()
    assert "My, &quot;Wi:Fi&quot;; \\x" in label
    assert ">vigkit.lan</text>" in label  # to type; the page itself is HTTPS
    assert ">the page: https://vigkit.lan/</text>" in label and "http://vigkit" not in label
    page_qr = f'<svg xmlns="http://www.w3.org/2000/svg"{qr_svg(WIFI_NAME, WIFI_PASSWORD)[4:]}'
    decoded = _decode_svgs(tmp_path, {"label": (label, 340, 189), "page": (page_qr, 200, 200)})
    assert decoded == {"label": expected, "page": expected}


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain", "plain"),
        ('a\\b;c,d:e"f', 'a\\\\b\\;c\\,d\\:e\\"f'),
        ("DEADBEEF12", '"DEADBEEF12"'),  # all hex: quoted, or readers take it for a key
        ("café ☕", "café ☕"),
    ],
)
def test_wifi_escaping(value: str, escaped: str) -> None:
    assert escape_wifi(value) == escaped


@pytest.mark.parametrize(
    ("args", "problem", "status"),
    [
        (["--office-recipient", "AGE-SECRET-KEY-1XYZ"], "private key", 1),
        (["--office-recipient", "age1notakey"], "age1", 1),
        # the Wi-Fi answers are checked by the settings' own rules: EX_CONFIG
        (["--wifi-password", "short"], "8 to 63", 78),
        (["--wifi-name", "x" * 33], "1 to 32 bytes", 78),
    ],
)
def test_setup_refuses_bad_answers_clearly(
    tmp_path: Path, office_key: OfficeKey, args: list[str], problem: str, status: int
) -> None:
    office = office_key.public
    if args[0] == "--office-recipient":
        office, args = args[1], []
    done = _setup(tmp_path, office, *args)
    assert done.returncode == status
    assert problem in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "keys" / "kit-identity.age").exists()


def test_weak_passphrase_and_missing_answers(tmp_path: Path, office_key: OfficeKey) -> None:
    (tmp_path / "weak.txt").write_text("password123\n")
    weak = vigkit(
        "setup", "--office-recipient", office_key.public, "--passphrase-file",
        tmp_path / "weak.txt", "--kit-name", "k", "--config", tmp_path / "c.toml",
        "--data", tmp_path / "data", check=False,
    )  # fmt: skip
    assert weak.returncode == 1 and "too weak" in weak.stderr
    unanswered = vigkit(
        "setup", "--config", tmp_path / "c.toml", "--data", tmp_path / "data", check=False
    )
    assert unanswered.returncode == 1
    assert "no answer for --office-recipient" in unanswered.stderr


def test_setup_never_replaces_a_kit_key(tmp_path: Path, office_key: OfficeKey) -> None:
    assert _setup(tmp_path, office_key.public).returncode == 0
    key = (tmp_path / "data" / "keys" / "kit-identity.age").read_bytes()
    again = _setup(tmp_path, office_key.public, "--force")
    assert again.returncode == 1 and "this kit is set up" in again.stderr
    assert (tmp_path / "data" / "keys" / "kit-identity.age").read_bytes() == key
