"""On a real, installed kit (opt-in): the service, the hotspot, the polkit rule, the camera
and microphone over a 60 s recording, the button and the LED.

Run as root on the Pi, from the checkout used for scripts/install.sh, after
``vigkit setup`` and ``scripts/setup-hotspot.sh``, with a person at the kit:

    sudo VIGKIT_ON_PI=1 .venv/bin/python -m pytest tests/deploy/test_on_pi.py -s -v

It stops vigkit.service for the hardware tests (they need the camera and the pins) and
starts it again at the end. Everywhere else these tests are skipped, and say why.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from device import config

pytestmark = [
    pytest.mark.on_pi,
    pytest.mark.skipif(
        os.environ.get("VIGKIT_ON_PI") != "1",
        reason="needs a Raspberry Pi kit installed with scripts/install.sh: set VIGKIT_ON_PI=1",
    ),
]
VIGKIT = "/opt/vigkit/venv/bin/vigkit"
CONFIG = Path("/etc/vigkit/vigkit.toml")


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=180, check=check)


def test_the_service_is_running_and_the_page_answers() -> None:
    assert sh("systemctl", "is-active", "vigkit.service").stdout.strip() == "active"
    assert sh("systemctl", "is-enabled", "vigkit-sync.timer").stdout.strip() == "enabled"
    with urllib.request.urlopen("http://127.0.0.1/generate_204", timeout=10) as answer:
        assert answer.status == 204
    # the page itself over HTTPS, its certificate checked against the installed CA
    ca = Path("/var/lib/vigkit/keys/tls/ca.crt")
    context = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen("https://10.42.0.1/unlock", timeout=10, context=context) as page:
        assert page.status == 200 and "Strict-Transport-Security" in page.headers
    exposure = sh("systemd-analyze", "security", "vigkit.service", check=False).stdout
    print(exposure.strip().splitlines()[-1])


def test_the_hotspot_is_up_at_its_fixed_address() -> None:
    active = sh("nmcli", "--terse", "--fields", "NAME", "connection", "show", "--active").stdout
    assert "vigkit-hotspot" in active.split()
    pmf = sh("nmcli", "--get-values", "802-11-wireless-security.pmf", "connection", "show",
             "vigkit-hotspot").stdout.strip()  # fmt: skip
    assert pmf in ("1", "disable")
    assert "10.42.0.1/24" in sh("ip", "-4", "addr", "show").stdout
    assert _resolve_at("10.42.0.1", "vigkit.lan") == "10.42.0.1"
    assert _resolve_at("10.42.0.1", "connectivitycheck.gstatic.com") == "10.42.0.1"


def _resolve_at(server: str, name: str) -> str:
    """One DNS A query to the hotspot's dnsmasq (no dig on a stock Pi)."""
    query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query, (server, 53))
        answer = s.recv(512)
    return ".".join(str(b) for b in answer[-4:])  # the last answer's A record


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("org.freedesktop.timedate1.set-time", True),
        ("org.freedesktop.login1.power-off", True),
        ("org.freedesktop.login1.reboot", False),
        ("org.freedesktop.timedate1.set-timezone", False),
    ],
)
def test_polkit_allows_the_kit_user_only_its_two_actions(action: str, allowed: bool) -> None:
    check = sh(
        "runuser", "-u", "vigkit", "--", "sh", "-c",
        f"pkcheck --action-id {action} --process $$", check=False,
    )  # fmt: skip
    assert (check.returncode == 0) == allowed, check.stderr


@pytest.fixture(scope="module")
def service_stopped() -> Iterator[None]:
    sh("systemctl", "stop", "vigkit.service")
    try:
        yield
    finally:
        sh("systemctl", "start", "vigkit.service")


def test_a_60_second_recording_with_camera_and_microphone(service_stopped: None) -> None:
    cfg = config.load(CONFIG)
    data = Path(cfg.data_dir)
    before = set((data / "recordings").glob("*.mp4.age"))
    done = sh(
        "runuser", "-u", "vigkit", "--", VIGKIT, "record", "--data", str(data),
        "--seconds", "60", "--camera", "picamera2", "--mic", cfg.microphone or "",
        "--size", "1920x1080",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (film,) = set((data / "recordings").glob("*.mp4.age")) - before
    assert film.stat().st_size > 1_000_000  # a minute of 1080p, encrypted
    assert "without sound" not in done.stderr.lower()


def test_the_button_and_the_led(service_stopped: None) -> None:
    from device.hardware.base import LedPattern
    from device.hardware.gpio import GpioControls

    cfg = config.load(CONFIG)
    controls = GpioControls(cfg.button_pin, cfg.led_pin, hold_seconds=cfg.hold_seconds)
    pressed = threading.Event()
    controls.on_press(pressed.set)
    try:
        controls.show(LedPattern.RECORDING)
        print("\nThe LED should now be on. Press the record button once (20 s)...")
        assert pressed.wait(20), "no button press arrived: check the wiring (docs/build.md)"
        controls.show(LedPattern.OFF)
        time.sleep(0.5)
    finally:
        controls.close()
