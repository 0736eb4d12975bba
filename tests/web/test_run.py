"""``vigkit run`` as systemd runs it: a config file, gpiozero's mock pins, SIGTERM to stop.

The process records from the page with a synthetic camera and microphone; SIGTERM must
finish that film (complete, not interrupted) before the process exits 0. While it runs,
the page's threads must be at a lower scheduling priority than the recorder's.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from device.library import Library, State
from device.tls import KitTls, demo_tls
from tests.sync.conftest import clock_set_this_boot
from tests.web.web_helpers import (
    HttpSession,
    consented_case_in,
    free_port,
    make_keys,
    wait_until,
)
from web.common.serving import PAGE_NICE, FullPriority, lower_this_thread


def _config(tmp_path: Path, port: int, *, https: bool = False) -> Path:
    """The kit's settings file; ``https``: the page on ``port`` over HTTPS, as on a kit
    (the TLS front, with a certificate from a demo CA in the data dir)."""
    data = tmp_path / "data"
    consented_case_in(data, make_keys(data))  # the page films only into a consented case
    if https:
        demo_tls(data, ("localhost",), (ipaddress.IPv4Address("127.0.0.1"),))
        ports = f"https = true\nhttps_port = {port}\nhttp_port = {free_port()}"
    else:
        ports = f"https = false\nhttp_port = {port}"
    cfg = tmp_path / "vigkit.toml"
    cfg.write_text(
        f"""
data_dir = "{data}"
kit_name = "Kit seven"
camera = "synthetic"
microphone = "synthetic"
width = 320
height = 180
bitrate = 400000
storage_reserve_mb = 10
http_host = "127.0.0.1"
{ports}
lock_minutes = 5.0
button_pin = 17
led_pin = 27
"""
    )
    return cfg


def _nice_values(pid: int) -> list[int]:
    values = []
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the thread ended meanwhile
            continue
        values.append(int(fields[16]))  # field 19 of stat(5): nice
    return values


def test_run_records_from_the_page_and_sigterm_saves_the_film(tmp_path: Path) -> None:
    """Over HTTPS, as a kit serves it: the TLS front ends with the kit."""
    port = free_port()
    cfg = _config(tmp_path, port, https=True)
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    cmd = [sys.executable, "-m", "device.cli", "run", "--config", str(cfg)]
    tls = KitTls.of(tmp_path / "data")
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) as proc:
        try:
            web = HttpSession(f"https://localhost:{port}", cafile=tls.ca)
            wait_until(lambda: _answers(web), 30, "the page")
            assert "Kit seven" in web.page("/unlock")
            assert web.unlock() == 302
            status, body = web.post_json("/record", {"action": "start"})
            assert (status, body["state"]) == (200, "recording")
            wait_until(lambda: (web.status()["elapsed_s"] or 0) >= 2, 30, "two seconds of film")
            nice = _nice_values(proc.pid)
            assert PAGE_NICE in nice, nice  # the page's threads
            assert os.getpriority(os.PRIO_PROCESS, 0) in nice, nice  # the recorder's, as started
            front = [c for c in _children(proc.pid) if "nginx" in _cmdline(c)]
            assert len(front) == 1, _children(proc.pid)  # the TLS front, the kit's child
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
            assert not Path(f"/proc/{front[0]}").exists()  # nginx ended with the kit
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.stderr is not None
        log = proc.stderr.read()
    assert "Traceback" not in log, log
    library = Library(tmp_path / "data")
    try:
        (row,) = library.index.all()
        assert row.state == State.COMPLETE, row
        assert row.duration_s is not None and row.duration_s >= 1.5  # media, not wall time
        assert row.stop_reason == "the kit is shutting down"
    finally:
        library.close()


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")


def _answers(web: HttpSession) -> bool:
    try:
        return web.request("/status")[0] == 200
    except OSError:
        return False


def test_a_recording_started_from_a_page_thread_runs_at_full_priority() -> None:
    """Linux threads inherit their creator's nice value: the page must hand start/stop to
    a thread that was made at full priority."""
    control = FullPriority()
    base = _my_nice()
    seen: dict[str, int] = {}

    def page_thread() -> None:
        lower_this_thread()
        seen["page"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def start_recording() -> None:  # what Recorder.start does: it starts threads
            child = threading.Thread(target=lambda: seen.update(recorder=_my_nice()))
            child.start()
            child.join()

        control(start_recording)

    try:
        thread = threading.Thread(target=page_thread)
        thread.start()
        thread.join(10)
    finally:
        control.close()
    assert seen == {"page": max(base, PAGE_NICE), "recorder": base}


def _my_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_run_moves_the_latest_time_seen_at_start_and_after_each_recording(
    tmp_path: Path,
) -> None:
    """On a clock set this boot (here: a phone's correction with this boot's id), the
    kit's high-water mark for retention moves on at start and after a recording."""
    port = free_port()
    cfg = _config(tmp_path, port)
    data = tmp_path / "data"
    clock_set_this_boot(data)
    mark = data / "clock-seen.json"

    def latest() -> datetime:
        return datetime.fromisoformat(json.loads(mark.read_text())["latest"])

    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    cmd = [sys.executable, "-m", "device.cli", "run", "--config", str(cfg)]
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) as proc:
        try:
            web = HttpSession(f"http://127.0.0.1:{port}")
            wait_until(lambda: _answers(web), 30, "the page")
            assert datetime.now(UTC) - latest() < timedelta(minutes=1)  # written at start
            a_day_ago = datetime.now(UTC) - timedelta(days=1)
            mark.write_text(json.dumps({"latest": a_day_ago.isoformat()}))
            assert web.unlock() == 302
            assert web.post_json("/record", {"action": "start"})[0] == 200
            wait_until(lambda: (web.status()["elapsed_s"] or 0) >= 1, 30, "a second of film")
            stop = {"action": "stop", "confirm": "yes"}  # under two seconds: asked once more
            assert web.post_json("/record", stop)[0] == 200
            wait_until(lambda: latest() > a_day_ago, 30, "the mark to move after the film")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_kit_without_its_certificate_stops_in_words_and_is_not_restarted(
    tmp_path: Path,
) -> None:
    """No page in clear as a fallback: the kit says what to run and exits 78, which the
    unit's ``RestartPreventExitStatus`` keeps systemd from restarting in a loop."""
    cfg = _config(tmp_path, free_port())
    text = cfg.read_text().replace("https = false", f"https = true\nhttps_port = {free_port()}")
    cfg.write_text(text)
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    done = subprocess.run(
        [sys.executable, "-m", "device.cli", "run", "--config", str(cfg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    assert "the kit has no certificate for its secure page" in done.stderr
    assert "vigkit tls request" in done.stderr and "Traceback" not in done.stderr
