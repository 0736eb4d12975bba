"""A real-time fake microphone for machines with no sound card (CI, containers, laptops).

A private PulseAudio server (its own runtime folder, removed afterwards) runs a null sink
and a sine source, so capture from it is paced in real time by PulseAudio's own timers.
An ALSA device ``vigkit_fakemic`` of type ``file`` reads from that server through the
ALSA ``pulse`` plugin and hands the caller the samples of a raw file instead (S16_LE,
mono, 48 kHz), from its first sample. PortAudio, and so sounddevice and the kit, open it
by name like any microphone: the real capture path runs, callbacks and all.

Only ``ALSA_CONFIG_PATH`` changes in this process's environment (child processes
inherit it); the server's address is written into the ALSA device itself.

Notes: PortAudio hides ALSA devices named null/file/hw/…, hence the name. Stream
timestamps from this device follow CLOCK_MONOTONIC. Overflow flags are not reported
through PulseAudio. Debian packages: libportaudio2 pulseaudio pulseaudio-utils
libasound2-plugins (all in scripts/bootstrap.sh).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEVICE = "vigkit_fakemic"
RATE = 48_000
SYSTEM_ALSA_CONF = "/usr/share/alsa/alsa.conf"
START_TIMEOUT_S = 15.0


class FakeMicError(RuntimeError):
    """The fake microphone could not start; the message says why and what to do."""


@dataclass(frozen=True)
class Server:
    """A running private PulseAudio and the ALSA config that points at it."""

    run_dir: Path
    process: subprocess.Popen[bytes]
    alsa_config_path: str  # the value for ALSA_CONFIG_PATH

    @property
    def pid(self) -> int:
        return self.process.pid


def missing_packages() -> list[str]:
    """The Debian packages the fake microphone needs that this machine lacks."""
    missing = []
    if ctypes.util.find_library("portaudio") is None:
        missing.append("libportaudio2")
    if shutil.which("pulseaudio") is None:
        missing.append("pulseaudio")
    if shutil.which("pactl") is None:
        missing.append("pulseaudio-utils")
    if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"):
        missing.append("libasound2-plugins")
    return missing


def start(raw: Path) -> Server:
    """Start a private server and write the ALSA device that plays ``raw``."""
    if not raw.is_file():
        raise FakeMicError(f"the fake microphone's sound file is missing: {raw}")
    run_dir = Path(tempfile.mkdtemp(prefix="vigkit-fakemic-"))  # mode 0700, unique
    socket = run_dir / "pulse" / "native"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # everything the server writes (cookie, state, socket, log) stays in run_dir
        "HOME": str(run_dir),
        "XDG_RUNTIME_DIR": str(run_dir),
        "XDG_CONFIG_HOME": str(run_dir / "config"),
        "PULSE_RUNTIME_PATH": str(run_dir / "pulse"),
        "PULSE_STATE_PATH": str(run_dir / "state"),
    }
    log = (run_dir / "pulse.log").open("wb")
    process = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--log-target=stderr", "-L", f"module-native-protocol-unix socket={socket} "
         "auth-anonymous=1", "-L", f"module-null-sink sink_name=nullsink rate={RATE}",
         "-L", f"module-sine-source source_name=sine rate={RATE} frequency=440"],
        env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
    )  # fmt: skip
    log.close()
    server = Server(run_dir, process, f"{SYSTEM_ALSA_CONF}:{run_dir / 'asoundrc'}")
    try:
        _wait_until_up(server, socket, env)
    except BaseException:
        stop(server)
        raise
    (run_dir / "asoundrc").write_text(_asoundrc(raw.resolve(), socket))
    return server


def _wait_until_up(server: Server, socket: Path, env: dict[str, str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        up = subprocess.run(["pactl", f"--server=unix:{socket}", "info"], env=env,
                            capture_output=True, timeout=10, check=False)  # fmt: skip
        if up.returncode == 0:
            return
        time.sleep(0.1)
    log = (server.run_dir / "pulse.log").read_text(errors="replace").strip()
    raise FakeMicError(f"the fake microphone's PulseAudio did not start:\n{log[-2000:]}")


def _asoundrc(raw: Path, socket: Path) -> str:
    return f"""pcm.{DEVICE} {{
    type file
    slave.pcm {{ type pulse server "unix:{socket}" }}
    file "/dev/null"
    infile "{raw}"
    format "raw"
}}
"""


def stop(server: Server) -> None:
    """End the server (even one a test stopped or killed) and remove its folder."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            server.process.send_signal(signal.SIGCONT)  # a test may have paused it
            server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
    shutil.rmtree(server.run_dir, ignore_errors=True)


@contextlib.contextmanager
def alsa_pointed_at(server: Server) -> Iterator[None]:
    """This process's ALSA (and its children's) sees ``server``'s device; the previous
    ``ALSA_CONFIG_PATH`` comes back on exit."""
    saved = os.environ.get("ALSA_CONFIG_PATH")
    os.environ["ALSA_CONFIG_PATH"] = server.alsa_config_path
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("ALSA_CONFIG_PATH", None)
        else:
            os.environ["ALSA_CONFIG_PATH"] = saved
