#!/usr/bin/env bash
# Install VIG Kit on a Raspberry Pi (Raspberry Pi OS Bookworm or Trixie, 64-bit), or
# upgrade it: run again from a newer checkout. Safe to re-run: every step either checks
# first or is harmless to repeat. Must run as root. `--dry-run` prints every step and
# changes nothing; `--os-release FILE` plans for another release (with --dry-run).
#
#   sudo scripts/install.sh              # install or upgrade, then (once set up) start
#   scripts/install.sh --dry-run         # show what would be done
#
# What it does: Debian packages; the `vigkit` system user (groups video, audio, gpio);
# a virtual environment in /opt/vigkit/venv that also sees the system's packages
# (picamera2 only comes from Raspberry Pi OS's apt) with the exact versions of uv.lock,
# each file checked against its hash, except numpy and PyAV: those stay apt's, which
# picamera2 was built with; /etc/vigkit and the data folder /var/lib/vigkit (0700); the
# systemd units and the polkit rule from systemd/; enable them, and start the kit when
# `vigkit setup` has written its configuration. `--chroot` (scripts/pi-smoke.sh) installs
# into a plain Debian root instead: no picamera2 or lgpio, no systemctl.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/vigkit
VENV=$PREFIX/venv
USER_NAME=vigkit
GROUPS_WANTED=(video audio gpio)
CONF_DIR=/etc/vigkit
CONF_FILE=$CONF_DIR/vigkit.toml
DATA_DIR=/var/lib/vigkit
UNIT_DIR=/etc/systemd/system
POLKIT_DIR=/etc/polkit-1/rules.d

# python3-numpy and python3-av: the kit's numpy and PyAV are apt's, the ones picamera2
# and its simplejpeg were built against (a numpy 2 wheel in the venv breaks the camera's
# import; Raspberry Pi OS's PyAV carries picamera2's own additions). libportaudio2: the
# microphone (sounddevice). network-manager and dnsmasq-base: the hotspot; iw: what its
# Wi-Fi chip can do (WPA3, PMF); nftables: its per-phone connection limit. polkitd: the
# rule that lets the kit set the clock and power off. rclone: sync to the office. age:
# opening files by hand. ffmpeg: checking films on the kit when something goes wrong.
# nginx: the page's TLS front (web/common/tls_front.py; the kit runs it, not Debian's unit).
APT_PACKAGES=(
  python3 python3-venv
  python3-numpy python3-av
  libportaudio2
  network-manager dnsmasq-base iw nftables
  polkitd
  rclone age ffmpeg
  nginx
)
# The camera and GPIO libraries: only Raspberry Pi OS's apt has them (the venv sees them).
PI_PACKAGES=(python3-picamera2 python3-lgpio)
# What the venv must not get from the lock: apt's (see above).
FROM_APT=(numpy av)

DRY_RUN=0
CHROOT=0
OS_RELEASE=/etc/os-release
usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}
while (($#)); do
  case $1 in
    --dry-run | -n) DRY_RUN=1 ;;
    --chroot) CHROOT=1 ;;
    --os-release)
      OS_RELEASE=${2:?install: --os-release needs a file}
      shift
      ;;
    --help | -h)
      usage
      exit 0
      ;;
    *)
      echo "install: unknown option $1 (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

say() { printf '# %s\n' "$*"; }
# Every change goes through run: printed as one shell-quoted line, done unless dry-run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if ((!DRY_RUN)); then "$@"; fi
}
# run_to FILE CMD...: as run, with CMD's output written to FILE.
run_to() {
  local out=$1
  shift
  printf '+'
  printf ' %q' "$@"
  printf ' > %q\n' "$out"
  if ((!DRY_RUN)); then "$@" >"$out"; fi
}

# The release decides the Python: Bookworm (Debian 12) has 3.11, Trixie (Debian 13) 3.13.
release=$(
  # shellcheck source=/dev/null
  . "$OS_RELEASE" && echo "${VERSION_CODENAME:-unknown}"
) || release=unknown
case $release in
  bookworm) PY_VERSION=3.11 ;;
  trixie) PY_VERSION=3.13 ;;
  *)
    echo "install: this system is '$release' ($OS_RELEASE); VIG Kit installs on Raspberry Pi OS" >&2
    echo "install: Bookworm or Trixie (Debian 12 or 13, 64-bit). See docs/build.md." >&2
    exit 1
    ;;
esac
PYTHON=python$PY_VERSION

if ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
  echo "install: run this as root (sudo $0), or with --dry-run to see the steps" >&2
  exit 1
fi
if ((CHROOT)); then
  PI_PACKAGES=()
elif ((!DRY_RUN)) && ! apt-cache show python3-picamera2 >/dev/null 2>&1; then
  echo "install: python3-picamera2 is not available from apt here." >&2
  echo "install: VIG Kit needs Raspberry Pi OS (Bookworm or Trixie) for the camera; see docs/build.md." >&2
  exit 1
fi

say "VIG Kit install from $SRC$( ((DRY_RUN)) && echo ' (dry run: nothing is changed)')"
say "for $release (Python $PY_VERSION)$( ((CHROOT)) && echo ', into a chroot: no camera, no systemctl')"

say "1. Debian packages"
run apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${APT_PACKAGES[@]}" "${PI_PACKAGES[@]}"

say "2. the $USER_NAME user, in groups ${GROUPS_WANTED[*]}"
for g in "${GROUPS_WANTED[@]}"; do
  # Raspberry Pi OS has them all; a plain Debian has no gpio group (harmless to add).
  getent group "$g" >/dev/null || run groupadd --system "$g"
done
if id -u "$USER_NAME" >/dev/null 2>&1; then
  say "user $USER_NAME exists"
else
  run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "VIG Kit" "$USER_NAME"
fi
run usermod --append --groups "$(
  IFS=,
  echo "${GROUPS_WANTED[*]}"
)" "$USER_NAME"

say "3. folders: the data folder is the kit user's only, the settings are read-only to it"
run install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR"
run install -d -m 0750 -o root -g "$USER_NAME" "$CONF_DIR"
run install -d -m 0755 -o root -g root "$PREFIX"

say "4. the program, in $VENV: uv.lock's versions, checked by hash; apt's numpy and PyAV"
if [[ -x $VENV/bin/python && -d $VENV/lib/$PYTHON/site-packages ]] \
  && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  say "$VENV exists; upgrading the program in it"
else
  # --clear: a venv from an older release (Python 3.11 after an upgrade to Trixie), or
  # one left half-made by a cut-off install (no pip), is rebuilt, not patched.
  run "$PYTHON" -m venv --clear --system-site-packages "$VENV"
fi
pins=$PREFIX/requirements
run install -d -m 0755 "$pins"
# uv (to read the lock) and setuptools (to build the kit without fetching an unhashed
# backend) at the lock's versions, then the lock's runtime packages less apt's.
for tool in uv setuptools; do
  run_to "$pins/$tool.txt" "$PYTHON" "$SRC/scripts/lock_pin.py" "$tool"
done
run "$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps \
  -r "$pins/uv.txt" -r "$pins/setuptools.txt"
no_emit=()
for p in "${FROM_APT[@]}"; do no_emit+=(--no-emit-package "$p"); done
run_to "$pins/runtime.txt" env UV_PYTHON_DOWNLOADS=never "$VENV/bin/uv" export --quiet --frozen --no-header \
  --format requirements-txt --no-emit-project "${no_emit[@]}" --project "$SRC"
run "$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps -r "$pins/runtime.txt"
# A venv from an older install may hold wheels of apt's packages: they would shadow them.
for p in "${FROM_APT[@]}"; do
  if compgen -G "$VENV/lib/python*/site-packages/$p" >/dev/null; then
    run "$VENV/bin/python" -m pip uninstall --quiet --yes "$p"
  fi
done
run "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall "$SRC"
# numpy and PyAV must be apt's and new enough; on the Pi, picamera2 must import.
check=("${FROM_APT[@]}")
((CHROOT)) || check+=(picamera2)
run "$VENV/bin/python" "$SRC/scripts/check_apt_python.py" "${check[@]}"

say "5. systemd units and the polkit rule (setting the clock and powering off only)"
for unit in vigkit.service vigkit-sync.service vigkit-sync.timer; do
  run install -m 0644 -o root -g root "$SRC/systemd/$unit" "$UNIT_DIR/$unit"
done
run install -d -m 0755 "$POLKIT_DIR"
run install -m 0644 -o root -g root "$SRC/systemd/50-vigkit.rules" "$POLKIT_DIR/50-vigkit.rules"
if ((CHROOT)); then
  say "chroot: no systemd runs here, so nothing is enabled or started"
  exit 0
fi
run systemctl daemon-reload
# Debian's own nginx unit would take port 80 with its default site: the kit runs nginx
# itself, with its own settings, as its TLS front
run systemctl disable --now nginx.service
run systemctl mask nginx.service
run systemctl enable vigkit.service vigkit-sync.timer

say "6. start"
if [[ -f $CONF_FILE ]]; then
  # restart, not start: an upgrade must run the new program. A film being recorded is
  # finished and saved first (SIGTERM; the unit allows 60 s).
  run systemctl restart vigkit.service
  run systemctl start vigkit-sync.timer
  say "done: the kit is running (journalctl -u vigkit -f shows its log)"
else
  say "not started yet: $CONF_FILE does not exist. Next, as root:"
  say "  $VENV/bin/vigkit setup --config $CONF_FILE --data $DATA_DIR"
  say "  $SRC/scripts/setup-hotspot.sh --config $CONF_FILE"
  say "  $VENV/bin/vigkit tls request --data $DATA_DIR --out kit.csr   (then, at the office:"
  say "     vigkit office ca issue ... --csr kit.csr; back here: vigkit tls install ...)"
  say "  $SRC/scripts/install.sh     (again: it starts the kit once set up)"
fi
