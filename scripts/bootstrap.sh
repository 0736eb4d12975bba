#!/usr/bin/env bash
# Prepare this machine for developing and testing VIG Kit: Debian packages (when run
# as root, or via sudo when it is available), then a virtual environment in .venv with
# the project and its development tools. Safe to run again; it only adds what is missing.
#
#   scripts/bootstrap.sh            # what `make test` and `make demo` call
#   VIGKIT_NO_APT=1 scripts/bootstrap.sh   # skip apt (you installed the packages yourself)
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the tests drive for real: the age CLI (interop), ffmpeg/ffprobe (checking
# what we write), shellcheck and systemd-analyze (lint), PortAudio + PulseAudio + ALSA
# plugins (the real-time fake microphone), Debian's Chromium (browser tests), rclone
# (sync, and `rclone serve sftp|webdav` as the office server in tests), zbar (decoding
# the Wi-Fi label's QR code in tests).
APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential make git
  age ffmpeg shellcheck systemd
  libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  chromium rclone zbar-tools
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})) && [[ -z ${VIGKIT_NO_APT:-} ]]; then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "bootstrap: these Debian packages are missing: ${missing[*]}" >&2
    echo "bootstrap: install them as root (apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-/usr/bin/python3}
[[ -x $PY ]] || PY=$(command -v python3)
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.bootstrap-stamp
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
