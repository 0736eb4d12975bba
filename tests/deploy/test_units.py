"""The systemd units and the polkit rule: ``systemd-analyze verify`` on every unit, the
security exposure (printed, and at most 3.0 for the kit's service), what must stay open,
and the polkit rule run in a real JavaScript engine against the actions it must and must
not allow."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from pathlib import Path

import playwright
import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "systemd"
MAX_EXPOSURE = 3.0


def _unit(name: str) -> dict[str, list[str]]:
    """Every Key=value of a unit, by key (keys repeat, so lists)."""
    found: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_verify_passes_and_the_exposure_is_low(capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        [SYSTEMD / "verify.sh"], capture_output=True, text=True, timeout=120, check=False
    )
    with capsys.disabled():  # the scores belong in the test output
        print("\n" + done.stdout.strip())
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    scores = dict(re.findall(r"security: (\S+) exposure ([0-9.]+)", done.stdout))
    assert set(scores) == {"vigkit.service", "vigkit-sync.service"}
    assert float(scores["vigkit.service"]) <= MAX_EXPOSURE
    for unit in ("vigkit.service", "vigkit-sync.service", "vigkit-sync.timer"):
        assert f"ok  {unit}" in done.stdout


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check can fail: a misspelt directive in a copy of the units is reported."""
    copy = tmp_path / "systemd"
    copy.mkdir()
    for f in SYSTEMD.iterdir():
        text = f.read_text()
        if f.name == "vigkit.service":
            text = text.replace("Restart=always", "Restrat=always")
        (copy / f.name).write_text(text)
    (copy / "verify.sh").chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "VIGKIT_BIN": str(ROOT / ".venv/bin/vigkit")}
    done = subprocess.run(
        [copy / "verify.sh"], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode != 0
    assert "Restrat" in done.stderr


def test_the_service_runs_the_kit_as_its_own_user_with_what_must_stay_open() -> None:
    unit = _unit("vigkit.service")
    assert unit["User"] == ["vigkit"]
    assert unit["ExecStart"] == ["/opt/vigkit/venv/bin/vigkit run --config /etc/vigkit/vigkit.toml"]
    assert unit["Restart"] == ["always"]
    assert unit["UMask"] == ["0077"]
    assert unit["StateDirectory"] == ["vigkit"] and unit["StateDirectoryMode"] == ["0700"]
    assert unit["RuntimeDirectory"] == ["vigkit"]
    assert "LG_WD=/run/vigkit" in unit["Environment"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["MemoryDenyWriteExecute"] == ["no"]  # sounddevice's cffi callbacks
    assert unit["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]  # port 80
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["SupplementaryGroups"] == ["video audio gpio"]
    allowed = {d.split()[0] for d in unit["DeviceAllow"]}
    assert allowed == {
        "char-video4linux",
        "char-media",
        "char-dma_heap",
        "char-gpiochip",
        "char-alsa",
    }
    families = unit["RestrictAddressFamilies"][0].split()
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= set(families)
    assert "PrivateDevices" not in unit  # libcamera needs the real /dev (commented why)
    text = (SYSTEMD / "vigkit.service").read_text()
    for reason in ("cffi", "libcamera", "lgpio", "D-Bus", "port 80"):
        assert reason in text


def test_the_timer_runs_the_sync_quietly() -> None:
    service = _unit("vigkit-sync.service")
    assert service["ExecStart"] == [
        "/opt/vigkit/venv/bin/vigkit sync --config /etc/vigkit/vigkit.toml --auto"
    ]
    assert service["Type"] == ["oneshot"] and service["User"] == ["vigkit"]
    timer = configparser.ConfigParser()
    timer.read(SYSTEMD / "vigkit-sync.timer")
    assert timer["Timer"]["OnUnitInactiveSec"] == "15min"
    assert timer["Install"]["WantedBy"] == "timers.target"


POLKIT_ACTIONS = [
    ("vigkit", "org.freedesktop.timedate1.set-time", "yes"),
    ("vigkit", "org.freedesktop.login1.power-off", "yes"),
    ("vigkit", "org.freedesktop.login1.power-off-multiple-sessions", "yes"),
    ("vigkit", "org.freedesktop.login1.power-off-ignore-inhibit", "yes"),
    # nothing else for the kit's user
    ("vigkit", "org.freedesktop.timedate1.set-ntp", "not_handled"),
    ("vigkit", "org.freedesktop.timedate1.set-timezone", "not_handled"),
    ("vigkit", "org.freedesktop.login1.reboot", "not_handled"),
    ("vigkit", "org.freedesktop.NetworkManager.settings.modify.system", "not_handled"),
    ("vigkit", "org.freedesktop.systemd1.manage-units", "not_handled"),
    # and nothing for anyone else
    ("pi", "org.freedesktop.timedate1.set-time", "not_handled"),
    ("nobody", "org.freedesktop.login1.power-off", "not_handled"),
]


def test_the_polkit_rule_allows_the_clock_and_power_off_to_vigkit_only() -> None:
    """The rule file as polkitd runs it (JavaScript), in node: Playwright's own copy."""
    node = Path(playwright.__file__).parent / "driver" / "node"
    harness = """
const fs = require("fs");
const rules = [];
const polkit = { Result: { YES: "yes", NO: "no", NOT_HANDLED: "not_handled" },
                 addRule: (f) => rules.push(f) };
new Function("polkit", fs.readFileSync(process.argv[1], "utf8"))(polkit);
const cases = JSON.parse(process.argv[2]);
const answers = cases.map(([user, id]) => {
  for (const rule of rules) {
    const r = rule({ id }, { user });
    if (r !== undefined && r !== "not_handled") return r;
  }
  return "not_handled";
});
console.log(JSON.stringify(answers));
"""
    cases = [[user, action] for user, action, _ in POLKIT_ACTIONS]
    done = subprocess.run(
        [node, "-e", harness, SYSTEMD / "50-vigkit.rules", json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == [want for _, _, want in POLKIT_ACTIONS]
