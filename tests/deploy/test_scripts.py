"""``scripts/install.sh --dry-run`` and ``scripts/setup-hotspot.sh --dry-run``: the
planned commands, the nmcli arguments in particular, and shellcheck."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install.sh"
HOTSPOT = ROOT / "scripts" / "setup-hotspot.sh"
# Names with every character the shell, TOML and the Wi-Fi QR format treat specially.
ODD_NAME = 'Kit; "A":b\\ $x'
ODD_PASSWORD = 'p@ss;w,rd:"x"\\y $(id)'


def run(script: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script, *args], capture_output=True, text=True, timeout=60, check=check)


def planned(output: str) -> list[list[str]]:
    """The commands a dry run shows (lines starting "+ "), split as the shell would."""
    return [shlex.split(line[2:]) for line in output.splitlines() if line.startswith("+ ")]


def nmcli_settings(argv: list[str], first: int) -> dict[str, str]:
    pairs = argv[first:]
    assert len(pairs) % 2 == 0, argv
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def test_shellcheck_is_clean() -> None:
    done = subprocess.run(
        ["shellcheck", INSTALL, HOTSPOT, ROOT / "systemd" / "verify.sh"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout


# --- install.sh ---------------------------------------------------------------------


def test_install_dry_run_plans_every_step() -> None:
    done = run(INSTALL, "--dry-run")
    steps = planned(done.stdout)
    assert done.stderr == ""
    apt = next(s for s in steps if "install" in s and "apt-get" in s)
    for package in ("python3-picamera2", "libportaudio2", "network-manager", "rclone", "age"):
        assert package in apt
    assert ["apt-get", "update", "-q"] in steps
    assert ["usermod", "--append", "--groups", "video,audio,gpio", "vigkit"] in steps
    assert [
        "install",
        "-d",
        "-m",
        "0700",
        "-o",
        "vigkit",
        "-g",
        "vigkit",
        "/var/lib/vigkit",
    ] in steps
    assert ["install", "-d", "-m", "0750", "-o", "root", "-g", "vigkit", "/etc/vigkit"] in steps
    venv = "/opt/vigkit/venv"
    if Path(venv).exists():  # only on an installed machine
        assert "exists; upgrading" in done.stdout
    else:
        assert ["python3", "-m", "venv", "--system-site-packages", venv] in steps
    assert [
        f"{venv}/bin/python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--upgrade",
        str(ROOT),
    ] in steps
    for unit in ("vigkit.service", "vigkit-sync.service", "vigkit-sync.timer"):
        assert [
            "install", "-m", "0644", "-o", "root", "-g", "root",
            f"{ROOT}/systemd/{unit}", f"/etc/systemd/system/{unit}",
        ] in steps  # fmt: skip
    assert [
        "install", "-m", "0644", "-o", "root", "-g", "root",
        f"{ROOT}/systemd/50-vigkit.rules", "/etc/polkit-1/rules.d/50-vigkit.rules",
    ] in steps  # fmt: skip
    assert ["systemctl", "daemon-reload"] in steps
    assert ["systemctl", "enable", "vigkit.service", "vigkit-sync.timer"] in steps
    # The user exists before anything is given to it; the units before they are enabled.
    order = [" ".join(s[:2]) for s in steps]
    assert order.index("usermod --append") < order.index("install -d")
    assert order.index("systemctl daemon-reload") < order.index("systemctl enable")


def test_install_dry_run_starts_the_kit_only_once_it_is_set_up() -> None:
    done = run(INSTALL, "--dry-run")
    steps = planned(done.stdout)
    if Path("/etc/vigkit/vigkit.toml").exists():  # only on an installed kit
        assert ["systemctl", "restart", "vigkit.service"] in steps
    else:
        assert not any(s[:2] == ["systemctl", "restart"] for s in steps)
        assert "vigkit setup --config /etc/vigkit/vigkit.toml" in done.stdout


def test_install_refuses_unknown_options() -> None:
    done = run(INSTALL, "--dry-rnu", check=False)
    assert done.returncode == 2 and "unknown option --dry-rnu" in done.stderr


# --- setup-hotspot.sh ---------------------------------------------------------------

HOTSPOT_SETTINGS = {
    "connection.autoconnect": "yes",
    "connection.autoconnect-priority": "100",
    "802-11-wireless.mode": "ap",
    "802-11-wireless.band": "bg",
    "802-11-wireless.channel": "6",
    "ipv4.method": "shared",
    "ipv4.addresses": "10.42.0.1/24",
    "ipv6.method": "disabled",
    "802-11-wireless-security.key-mgmt": "wpa-psk",
    "802-11-wireless-security.proto": "rsn",
    "802-11-wireless-security.pairwise": "ccmp",
    "802-11-wireless-security.group": "ccmp",
    "802-11-wireless-security.pmf": "1",  # 1 = disable: brcmfmac cannot do PMF as an AP
    "802-11-wireless-security.psk": "***",  # never printed
}


def _hotspot_add(steps: list[list[str]]) -> list[str]:
    adds = [s for s in steps if s[:3] == ["nmcli", "connection", "add"]]
    assert len(adds) == 1, steps
    return adds[0]


def test_hotspot_dry_run_plans_the_nmcli_hotspot(tmp_path: Path) -> None:
    done = run(HOTSPOT, "--dry-run", "--ssid", ODD_NAME, "--password", ODD_PASSWORD)
    steps = planned(done.stdout)
    assert ODD_PASSWORD not in done.stdout  # the password is never shown
    add = _hotspot_add(steps)
    assert add[:11] == [
        "nmcli", "connection", "add", "type", "wifi", "con-name", "vigkit-hotspot",
        "ifname", "wlan0", "ssid", ODD_NAME,
    ]  # fmt: skip
    assert nmcli_settings(add, 11) == HOTSPOT_SETTINGS
    assert ["nmcli", "radio", "wifi", "on"] in steps
    assert steps[-2:] == [
        ["timedatectl", "set-ntp", "false"],
        ["nmcli", "connection", "up", "vigkit-hotspot"],
    ]


def test_hotspot_reads_the_name_and_password_from_the_kit_config(tmp_path: Path) -> None:
    toml = tmp_path / "vigkit.toml"
    toml.write_text(
        'wifi_name = "Kit; \\"A\\":b\\\\ $x"\nwifi_password = "p@ss;w,rd:\\"x\\"\\\\y $(id)"\n'
    )
    done = run(HOTSPOT, "--dry-run", "--config", str(toml), "--ifname", "wlan1")
    add = _hotspot_add(planned(done.stdout))
    assert add[8:11] == ["wlan1", "ssid", ODD_NAME]
    assert ODD_PASSWORD not in done.stdout


def test_hotspot_dns_names_reach_the_kit() -> None:
    done = run(HOTSPOT, "--dry-run", "--ssid", "VIG Kit", "--password", "longenough")
    start = done.stdout.index("+ write /etc/NetworkManager/dnsmasq-shared.d/vigkit.conf <<EOF")
    body = done.stdout[start:].split("\n", 1)[1].split("\nEOF\n", 1)[0]
    lines = [line for line in body.splitlines() if not line.startswith("#")]
    for name in (
        "vigkit.lan",
        "connectivitycheck.gstatic.com",
        "captive.apple.com",
        "www.msftconnecttest.com",
    ):
        assert f"address=/{name}/10.42.0.1" in lines
    assert "address=/dns.msftncsi.com/131.107.255.255" in lines


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--ssid", "VIG Kit", "--password", "short"], "8 to 63 characters"),
        (["--ssid", "x" * 33, "--password", "longenough"], "at most 32 fit"),
        (["--config", "/nonexistent/vigkit.toml"], "run vigkit setup first"),
    ],
)
def test_hotspot_refuses_bad_input_clearly(args: list[str], problem: str) -> None:
    done = run(HOTSPOT, "--dry-run", *args, check=False)
    assert done.returncode == 1
    assert problem in done.stderr
    assert planned(done.stdout) == []


def test_office_mode_joins_the_office_syncs_and_comes_back() -> None:
    done = run(
        HOTSPOT,
        "office",
        "--dry-run",
        "--ssid",
        "Office Wi-Fi",
        "--password",
        "office-pass",
        "--sync",
    )
    steps = planned(done.stdout)
    assert "office-pass" not in done.stdout
    add = _hotspot_add(steps)
    assert add[:11] == [
        "nmcli", "connection", "add", "type", "wifi", "con-name", "vigkit-office",
        "ifname", "wlan0", "ssid", "Office Wi-Fi",
    ]  # fmt: skip
    assert nmcli_settings(add, 11) == {
        "connection.autoconnect": "no",  # the next boot is the hotspot again
        "802-11-wireless-security.key-mgmt": "wpa-psk",
        "802-11-wireless-security.psk": "***",
    }
    assert steps[1:] == [
        ["nmcli", "connection", "up", "vigkit-office"],
        ["timedatectl", "set-ntp", "true"],
        ["systemctl", "start", "vigkit-sync.service"],
        ["nmcli", "connection", "down", "vigkit-office"],
        ["timedatectl", "set-ntp", "false"],
        ["nmcli", "connection", "up", "vigkit-hotspot"],
    ]


def test_office_password_from_a_file_and_back_to_the_hotspot(tmp_path: Path) -> None:
    secret = tmp_path / "office-wifi.txt"
    secret.write_text("from-a-file\n")
    done = run(HOTSPOT, "office", "-n", "--ssid", "Office", "--password-file", str(secret))
    assert "from-a-file" not in done.stdout
    assert planned(done.stdout)[-1] == ["timedatectl", "set-ntp", "true"]
    back = planned(run(HOTSPOT, "hotspot", "--dry-run").stdout)
    assert back == [
        ["nmcli", "connection", "down", "vigkit-office"],
        ["timedatectl", "set-ntp", "false"],
        ["nmcli", "connection", "up", "vigkit-hotspot"],
    ]
    missing = run(HOTSPOT, "office", "--dry-run", "--ssid", "Office", check=False)
    assert missing.returncode == 1 and "--password" in missing.stderr
