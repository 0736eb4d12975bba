"""``vigkit demo`` as a person runs it: a server on a port, a page, Ctrl-C to stop; and
setting "the kit's clock" in the demo corrects the demo's own clock, never this computer's."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cryptography import x509

from tests.web.web_helpers import HttpSession, wait_until

# Until device/cli.py lists ``demo``, the module runs it exactly as ``vigkit demo`` would.
DEMO = [sys.executable, "-m", "device.cli", "demo"]
PASSPHRASE = "gentle heron under willow"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_demo_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "demo"
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    http_port = _free_port()
    cmd = [*DEMO, "--data", str(data), "--port", str(port), "--http-port", str(http_port)]
    cmd += ["--passphrase-file", str(pass_file)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _run_until_ctrl_c(proc, port, http_port, data)
    for name in ("demo-office.key", "kit-identity.age", "recipients.txt"):
        assert (data / "keys" / name).exists()
    # the demo CA signed the page's certificate and was forgotten: its key is nowhere
    assert not [
        p
        for p in data.rglob("*")
        if p.is_file() and b"PRIVATE KEY" in p.read_bytes() and p.name != "kit.key"
    ]
    assert PASSPHRASE in (data / "demo-passphrase.txt").read_text()


def _run_until_ctrl_c(proc: subprocess.Popen[str], port: int, http_port: int, data: Path) -> None:
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].strip() == f"VIG Kit demo: open https://127.0.0.1:{port}/"
        ca = data / "keys" / "tls" / "ca.crt"
        assert str(ca) in lines[1] and f"http://127.0.0.1:{http_port}/" in lines[1]
        assert lines[2].strip() == f"Passphrase: {PASSPHRASE}"
        trusting = ssl.create_default_context(cafile=str(ca))
        page = ""
        deadline = time.monotonic() + 20
        while not page and time.monotonic() < deadline:
            try:
                url = f"https://127.0.0.1:{port}/"
                with urllib.request.urlopen(url, timeout=5, context=trusting) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.1)
        assert "Unlock" in page and "encrypted" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/", timeout=5) as r:
            landing = r.read().decode()
        assert f'href="https://127.0.0.1:{port}/"' in landing
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/vigkit-ca.crt") as r:
            offered = r.read()
        assert x509.load_pem_x509_certificate(ca.read_bytes()) == x509.load_der_x509_certificate(
            offered
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _stand_in(folder: Path, name: str, calls: Path) -> None:
    """A program that only writes down that it was called (and how), then succeeds."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _kit_ms(page: str) -> int:
    found = re.search(r'data-kit-ms="(\d+)"', page)
    assert found, "the Settings page shows the kit's clock"
    return int(found.group(1))


def test_setting_the_clock_in_the_demo_never_touches_this_computer(tmp_path: Path) -> None:
    port = _free_port()
    calls = tmp_path / "calls.txt"
    stand_ins = tmp_path / "bin"
    for name in ("timedatectl", "date", "hwclock"):
        _stand_in(stand_ins, name, calls)
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    data = tmp_path / "demo"
    cmd = [*DEMO, "--data", str(data), "--port", str(port), "--http-port", str(_free_port())]
    env = {**os.environ, "PATH": f"{stand_ins}:{os.environ.get('PATH', '')}"}
    with subprocess.Popen(
        [*cmd, "--passphrase-file", str(pass_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            wait_until(lambda: (data / "keys" / "tls" / "ca.crt").exists(), 30, "the demo's CA")
            phone = HttpSession(f"https://127.0.0.1:{port}", cafile=data / "keys/tls/ca.crt")
            wait_until(lambda: _answers(phone), timeout=30, what="the demo's page")
            assert phone.unlock(PASSPHRASE) == 302
            two_hours_ahead = int(time.time() * 1000) + 2 * 3_600_000
            status, answer = phone.post_json("/settings/clock", {"phone_ms": str(two_hours_ahead)})
            assert status == 200 and answer["set"] is True, answer
            shown = _kit_ms(phone.page("/settings"))
            assert abs(shown - two_hours_ahead) < 60_000, "the page shows the corrected time"
            status, check = phone.post_json("/settings/clock", {"phone_ms": str(two_hours_ahead)})
            assert status == 200 and check["set"] is False, "already right: nothing to set"
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
    assert not calls.exists(), calls.read_text()
    assert abs(time.time() * 1000 - two_hours_ahead) > 3_600_000, "this computer's clock held"


def _answers(phone: HttpSession) -> bool:
    try:
        return phone.request("/unlock")[0] == 200
    except OSError:
        return False
