"""``vigkit demo`` as a person runs it: a server on a port, a page, Ctrl-C to stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
    cmd = [*DEMO, "--data", str(data), "--port", str(port), "--passphrase-file", str(pass_file)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        _run_until_ctrl_c(proc, port)
    for name in ("demo-office.key", "kit-identity.age", "recipients.txt"):
        assert (data / "keys" / name).exists()
    assert PASSPHRASE in (data / "demo-passphrase.txt").read_text()


def _run_until_ctrl_c(proc: subprocess.Popen[str], port: int) -> None:
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].strip() == f"VIG Kit demo: open http://127.0.0.1:{port}/"
        assert lines[1].strip() == f"Passphrase: {PASSPHRASE}"
        page = ""
        deadline = time.monotonic() + 20
        while not page and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    page = r.read().decode()
            except OSError:
                time.sleep(0.1)
        assert "Unlock" in page and "encrypted" in page
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
