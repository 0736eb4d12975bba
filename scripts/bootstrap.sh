#!/usr/bin/env bash
# Prepare this machine for developing and testing VIG Kit: Debian packages (when run
# as root, or via sudo when it is available), then a virtual environment in .venv with
# the project and its development tools at the exact versions of uv.lock, each file checked
# against the lock's hash. Safe to run again: it re-installs only when uv.lock or
# pyproject.toml changed since the last run.
#
#   scripts/bootstrap.sh            # what `make test` and `make demo` call
#   VIGKIT_NO_APT=1 scripts/bootstrap.sh   # skip apt (you installed the packages yourself)
#   scripts/bootstrap.sh --lock     # `make lock`: refresh uv.lock from pyproject.toml first
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the tests drive for real: the age CLI (interop), ffmpeg/ffprobe (checking
# what we write), shellcheck and systemd-analyze (lint), PortAudio + PulseAudio + ALSA
# plugins (the real-time fake microphone), Debian's Chromium (browser tests), rclone
# (sync, and `rclone serve sftp|webdav` as the office server in tests), zbar (decoding
# the Wi-Fi label's QR code in tests), GStreamer's tools, demuxers and its Python
# bindings for the system interpreter (a second, independent player of the served film:
# discoverer's duration, and a real seek by tests/web/gst_seek.py), WebKitGTK's WebDriver
# and MiniBrowser under Xvfb, GStreamer's H.264/AAC decoders being its media backend (the
# second browser engine the phone's playback tests use), nftables (`nft -c` checks the
# hotspot's connection-limit rules), nginx (the page's TLS front) and certutil from
# libnss3-tools (Chromium trusting the tests' certificate authority).
APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential make git
  age ffmpeg shellcheck systemd
  libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  chromium rclone zbar-tools
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  webkit2gtk-driver xvfb xauth gstreamer1.0-gl
  nftables nginx libnss3-tools
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

# uv never downloads a Python (the venv's is Debian's) and copies files out of its cache
# (the cache and the checkout are often on different filesystems).
export UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=.venv
uv=.venv/bin/uv
stamp=.venv/.bootstrap-stamp
install_uv() {  # uv itself, at the lock's version and checked against the lock's hashes
  .venv/bin/python scripts/lock_pin.py uv >.venv/uv-pin.txt
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r .venv/uv-pin.txt
}
if [[ ${1:-} == --lock ]]; then  # `make lock [ARGS=--upgrade]`
  [[ -x $uv ]] || install_uv
  "$uv" lock --python .venv/bin/python "${@:2}"
fi
want=$(cat uv.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(<"$stamp") != "$want" ]]; then
  install_uv
  if ! "$uv" lock --check --offline --python .venv/bin/python --quiet; then
    echo "bootstrap: uv.lock does not match pyproject.toml: run 'make lock', then commit uv.lock" >&2
    exit 1
  fi
  # Twice: the lock's setuptools must be in place before the project is built with it.
  sync=("$uv" sync --frozen --extra dev --python .venv/bin/python --quiet)
  "${sync[@]}" --no-install-project
  "${sync[@]}"
  echo "$want" >"$stamp"
fi
