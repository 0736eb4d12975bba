"""``scripts/install.sh --dry-run`` and ``scripts/setup-hotspot.sh --dry-run``: the
planned commands, the nmcli arguments in particular, and shellcheck."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.needs import missing
from web.common.limits import LIMITS

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

# What Raspberry Pi OS's /etc/os-release says, in the part install.sh reads.
RELEASES = {
    "bookworm": ("12", "3.11"),
    "trixie": ("13", "3.13"),
}
VENV = "/opt/vigkit/venv"
PINS = "/opt/vigkit/requirements"


def os_release(tmp_path: Path, codename: str, version: str) -> Path:
    path = tmp_path / f"os-release-{codename}"
    path.write_text(
        f'PRETTY_NAME="Debian GNU/Linux {version} ({codename})"\nNAME="Debian GNU/Linux"\n'
        f'VERSION_ID="{version}"\nVERSION_CODENAME={codename}\nID=debian\n'
    )
    return path


def dry_run(tmp_path: Path, codename: str, *extra: str) -> subprocess.CompletedProcess[str]:
    version, _ = RELEASES[codename]
    release = os_release(tmp_path, codename, version)
    return run(INSTALL, "--dry-run", "--os-release", str(release), *extra)


def redirected(step: list[str]) -> tuple[list[str], str | None]:
    """A planned step and the file its output goes to (``run_to``), if any."""
    if len(step) > 2 and step[-2] == ">":
        return step[:-2], step[-1]
    return step, None


@pytest.mark.parametrize("codename", sorted(RELEASES))
def test_install_dry_run_plans_every_step(tmp_path: Path, codename: str) -> None:
    done = dry_run(tmp_path, codename)
    steps = planned(done.stdout)
    python = f"python{RELEASES[codename][1]}"
    assert done.stderr == ""
    assert f"for {codename} (Python {RELEASES[codename][1]})" in done.stdout
    apt = next(s for s in steps if "install" in s and "apt-get" in s)
    for package in (
        "python3-picamera2", "python3-numpy", "python3-av", "libportaudio2",
        "network-manager", "rclone", "age",
    ):  # fmt: skip
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
    if Path(VENV, "lib", python).exists():  # only on an installed machine
        assert "exists; upgrading" in done.stdout
    else:  # the release's own Python, and a venv from another release is rebuilt
        assert [python, "-m", "venv", "--clear", "--system-site-packages", VENV] in steps
    assert [
        f"{VENV}/bin/python", "-m", "pip", "install", "--quiet", "--no-deps",
        "--no-build-isolation", "--force-reinstall", str(ROOT),
    ] in steps  # fmt: skip
    assert [f"{VENV}/bin/python", f"{ROOT}/scripts/check_apt_python.py", "numpy", "av",
            "picamera2"] in steps  # fmt: skip
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


@pytest.mark.parametrize("codename", sorted(RELEASES))
def test_install_takes_the_lock_by_hash_but_numpy_and_av_from_apt(
    tmp_path: Path, codename: str
) -> None:
    steps = planned(dry_run(tmp_path, codename).stdout)
    pips = [s for s in steps if s[1:4] == ["-m", "pip", "install"]]
    # Every pip install is hash-checked, except the kit itself (built from the checkout).
    assert [s for s in pips if "--require-hashes" not in s] == [
        [f"{VENV}/bin/python", "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--force-reinstall", str(ROOT)],
    ]  # fmt: skip
    assert all("--no-deps" in s for s in pips)
    assert not any(word in ("numpy", "av") for s in pips for word in s)
    pinned = dict(redirected(s)[::-1] for s in steps if redirected(s)[1])
    assert pinned[f"{PINS}/uv.txt"][-1:] == ["uv"]
    assert pinned[f"{PINS}/setuptools.txt"][-1:] == ["setuptools"]
    export = pinned[f"{PINS}/runtime.txt"]
    assert export[:3] == ["env", "UV_PYTHON_DOWNLOADS=never", f"{VENV}/bin/uv"]
    # The export, run for real with this checkout's uv and lock: the Pi's list.
    listed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "uv"), *export[3:]],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    names = {line.split("==")[0] for line in listed.splitlines() if "==" in line}
    assert {"cryptography", "flask", "waitress", "sounddevice", "gpiozero"} <= names
    assert not names & {"numpy", "av", "vigkit", "pytest", "uv"}  # runtime only, less apt's
    joined = listed.replace("\\\n", " ")  # one line per requirement, hashes included
    requirements = [line for line in joined.splitlines() if line[:1].isalpha()]
    assert len(requirements) >= len(names)
    for line in requirements:
        assert "--hash=sha256:" in line, line


def test_install_plans_differ_only_in_the_python(tmp_path: Path) -> None:
    def plan(codename: str) -> str:
        python = RELEASES[codename][1]
        text = dry_run(tmp_path, codename).stdout
        assert f"python{python} -m venv" in text or "exists; upgrading" in text
        return text.replace(f"for {codename} (Python {python})", "").replace(python, "X")

    assert plan("bookworm") == plan("trixie")


@pytest.mark.parametrize(("codename", "version"), [("bullseye", "11"), ("jammy", "22.04")])
def test_install_refuses_other_releases_clearly(
    tmp_path: Path, codename: str, version: str
) -> None:
    path = os_release(tmp_path, codename, version)
    done = run(INSTALL, "--dry-run", "--os-release", str(path), check=False)
    assert done.returncode == 1
    assert f"this system is '{codename}'" in done.stderr
    assert "Bookworm or Trixie" in done.stderr
    assert planned(done.stdout) == []


def test_install_in_a_chroot_skips_the_camera_and_systemd(tmp_path: Path) -> None:
    done = dry_run(tmp_path, "trixie", "--chroot")
    steps = planned(done.stdout)
    apt = next(s for s in steps if "install" in s and "apt-get" in s)
    assert "python3-numpy" in apt and "python3-av" in apt
    assert "python3-picamera2" not in apt and "python3-lgpio" not in apt
    assert not any(s[0] == "systemctl" for s in steps)
    assert steps[-1] == [
        "install", "-m", "0644", "-o", "root", "-g", "root",
        f"{ROOT}/systemd/50-vigkit.rules", "/etc/polkit-1/rules.d/50-vigkit.rules",
    ]  # fmt: skip
    assert [f"{VENV}/bin/python", f"{ROOT}/scripts/check_apt_python.py", "numpy", "av"] in steps


def test_install_dry_run_starts_the_kit_only_once_it_is_set_up(tmp_path: Path) -> None:
    done = dry_run(tmp_path, "trixie")
    steps = planned(done.stdout)
    if Path("/etc/vigkit/vigkit.toml").exists():  # only on an installed kit
        assert ["systemctl", "restart", "vigkit.service"] in steps
    else:
        assert not any(s[:2] == ["systemctl", "restart"] for s in steps)
        assert "vigkit setup --config /etc/vigkit/vigkit.toml" in done.stdout


def test_install_refuses_unknown_options() -> None:
    done = run(INSTALL, "--dry-rnu", check=False)
    assert done.returncode == 2 and "unknown option --dry-rnu" in done.stderr


# --- check_apt_python.py: the venv uses apt's numpy and PyAV -------------------------

CHECK = ROOT / "scripts" / "check_apt_python.py"


def fake_apt_package(site: Path, name: str, version: str) -> None:
    """A package with its metadata, outside the venv, as apt's dist-packages holds it."""
    (site / name).mkdir(parents=True)
    (site / name / "__init__.py").write_text(f"__version__ = {version!r}\n")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def check_apt(names: list[str], site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"} | ({"PYTHONPATH": str(site)} if site else {})
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(CHECK), *names],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip


def test_check_apt_python_refuses_numpy_from_the_venv() -> None:
    # The dev venv holds numpy from the lock: exactly what the Pi's must not.
    done = check_apt(["numpy"])
    assert done.returncode == 1
    assert "numpy comes from the venv" in done.stderr
    assert "hides apt's python3-numpy" in done.stderr and "pip uninstall numpy" in done.stderr


def test_check_apt_python_accepts_apt_packages_new_enough(tmp_path: Path) -> None:
    fake_apt_package(tmp_path, "numpy", "2.2.4")
    fake_apt_package(tmp_path, "av", "14.2.0")
    done = check_apt(["numpy", "av"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"check_apt_python: numpy 2.2.4 from {tmp_path} (apt's python3-numpy): ok",
        f"check_apt_python: av 14.2.0 from {tmp_path} (apt's python3-av): ok",
    ]


def test_check_apt_python_refuses_an_old_or_missing_package(tmp_path: Path) -> None:
    fake_apt_package(tmp_path, "av", "10.0.0")  # Debian 12's own python3-av
    done = check_apt(["av"], tmp_path)
    assert done.returncode == 1
    assert "python3-av is 10.0.0, the kit needs 12 or newer" in done.stderr
    missing = check_apt(["picamera2"], tmp_path)
    assert missing.returncode == 1
    assert "picamera2 is missing: install it with apt-get install python3-picamera2" in (
        missing.stderr
    )


# --- setup-hotspot.sh ---------------------------------------------------------------

HOTSPOT_SETTINGS = {
    "connection.autoconnect": "yes",
    "connection.autoconnect-priority": "100",
    "802-11-wireless.mode": "ap",
    "802-11-wireless.band": "bg",
    "802-11-wireless.channel": "6",
    "802-11-wireless.ap-isolation": "1",  # a phone never reaches another phone
    "ipv4.method": "shared",
    "ipv4.addresses": "10.42.0.1/24",
    "ipv6.method": "disabled",
    "802-11-wireless-security.key-mgmt": "wpa-psk",
    "802-11-wireless-security.proto": "rsn",
    "802-11-wireless-security.pairwise": "ccmp",
    "802-11-wireless-security.group": "ccmp",
    "802-11-wireless-security.pmf": "1",  # 1 = disable: this brcmfmac cannot do PMF as an AP
    "802-11-wireless-security.psk": "***",  # never printed
}


def _hotspot_add(steps: list[list[str]]) -> list[str]:
    adds = [s for s in steps if s[:3] == ["nmcli", "connection", "add"]]
    assert len(adds) == 1, steps
    return adds[0]


def test_hotspot_dry_run_plans_the_nmcli_hotspot(tmp_path: Path) -> None:
    done = run(
        HOTSPOT, "--dry-run", "--ssid", ODD_NAME, "--password", ODD_PASSWORD,
        *_chip(tmp_path, PI_BRCMFMAC, "brcmfmac"),
    )  # fmt: skip
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


# `iw phy` lines as the chips print them (abridged): the Pi's brcmfmac lists the BIP
# cipher for client use; newer firmware adds SAE offload in AP mode; a mac80211 USB
# adapter's driver lets wpa_supplicant do SAE itself.
PI_BRCMFMAC = """Wiphy phy0
    Supported Ciphers:
        * WEP40 (00-0f-ac:1)
        * CCMP-128 (00-0f-ac:4)
        * CMAC (00-0f-ac:6)
    Supported interface modes:
        * managed
        * AP
    Supported extended features:
        * [ 4WAY_HANDSHAKE_STA_PSK ]: 4-way handshake with PSK in station mode
        * [ SAE_OFFLOAD ]: SAE offload support
"""
PI_SAE_OFFLOAD_AP = (
    PI_BRCMFMAC + "        * [ SAE_OFFLOAD_AP ]: AP mode SAE authentication offload support\n"
)
USB_MAC80211 = """Wiphy phy1
    Supported Ciphers:
        * CCMP-128 (00-0f-ac:4)
        * CMAC (00-0f-ac:6)
    Supported interface modes:
        * managed
        * AP
    Device supports SAE with AUTHENTICATE command
"""
USB_NO_SAE = USB_MAC80211.replace("    Device supports SAE with AUTHENTICATE command\n", "")


def _chip(tmp_path: Path, phy: str, driver: str) -> list[str]:
    info = tmp_path / "iw-phy.txt"
    info.write_text(phy)
    return ["--phy-info", str(info)] + (["--driver", driver] if driver else [])


@pytest.mark.parametrize(
    ("phy", "driver", "sae", "pmf"),
    [
        (PI_BRCMFMAC, "brcmfmac", False, False),
        (PI_SAE_OFFLOAD_AP, "brcmfmac", True, True),
        (USB_MAC80211, "rt2800usb", True, True),
        (USB_NO_SAE, "rt2800usb", False, True),
        ("", "", False, False),  # no iw, no chip: nothing claimed
    ],
)
def test_hotspot_turns_on_sae_and_pmf_where_the_chip_can(
    tmp_path: Path, phy: str, driver: str, sae: bool, pmf: bool
) -> None:
    done = run(
        HOTSPOT, "--dry-run", "--ssid", "VIG Kit", "--password", "longenough",
        *_chip(tmp_path, phy, driver),
    )  # fmt: skip
    settings = nmcli_settings(_hotspot_add(planned(done.stdout)), 11)
    assert settings["802-11-wireless-security.key-mgmt"] == "wpa-psk"  # + SAE, by NM
    assert settings["802-11-wireless-security.pmf"] == ("2" if pmf else "1")
    assert settings["802-11-wireless.ap-isolation"] == "1"
    said = done.stdout
    assert ("# WPA3-SAE: yes, in transition mode with WPA2" in said) is sae
    assert ("# protected management frames: on" in said) is pmf
    assert "# AP isolation: on" in said


def _written(output: str, path: str) -> str:
    start = output.index(f"+ write {path} <<EOF")
    return output[start:].split("\n", 1)[1].split("\nEOF\n", 1)[0]


def test_hotspot_limits_connections_per_phone_with_nftables(tmp_path: Path) -> None:
    done = run(
        HOTSPOT, "--dry-run", "--ssid", "VIG Kit", "--password", "longenough",
        "--ifname", "wlan1", *_chip(tmp_path, PI_BRCMFMAC, "brcmfmac"),
    )  # fmt: skip
    rules = _written(done.stdout, "/etc/vigkit/hotspot-limits.nft")
    assert 'iifname "wlan1" tcp dport { 80, 443 }' in rules
    assert f"ip saddr ct count over {LIMITS.per_source} }}" in rules  # the page's own limit
    hook = _written(done.stdout, "/etc/NetworkManager/dispatcher.d/90-vigkit-limits")
    assert '[ "$1" = "wlan1" ] && [ "$2" = up ] && exec nft -f' in hook
    steps = planned(done.stdout)
    assert ["nft", "-f", "/etc/vigkit/hotspot-limits.nft"] in steps
    assert steps.index(["nft", "-f", "/etc/vigkit/hotspot-limits.nft"]) < steps.index(
        ["nmcli", "connection", "up", "vigkit-hotspot"]
    )
    # nftables itself reads the rules (a check only: nothing is loaded)
    if shutil.which("nft") is None:
        missing("nft is not installed: apt-get install nftables (scripts/bootstrap.sh)")
    (tmp_path / "rules.nft").write_text(rules)
    check = subprocess.run(
        ["nft", "-c", "-f", str(tmp_path / "rules.nft")], capture_output=True, text=True
    )
    if "Operation not permitted" in check.stderr:
        missing("nft -c needs CAP_NET_ADMIN: run the deploy tests as root or in CI")
    assert check.returncode == 0, check.stderr


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
