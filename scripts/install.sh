#!/usr/bin/env bash
# Install VIG Kit on a Raspberry Pi (Raspberry Pi OS Bookworm), or upgrade it: run again
# from a newer checkout. Safe to re-run: every step either checks first or is harmless
# to repeat. Must run as root. `--dry-run` prints every step and changes nothing.
#
#   sudo scripts/install.sh              # install or upgrade, then (once set up) start
#   scripts/install.sh --dry-run         # show what would be done
#
# What it does: Debian packages; the `vigkit` system user (groups video, audio, gpio);
# a virtual environment in /opt/vigkit/venv that also sees the system's packages
# (picamera2 only comes from Raspberry Pi OS's apt); /etc/vigkit and the data folder
# /var/lib/vigkit (0700); the systemd units and the polkit rule from systemd/; enable
# them, and start the kit when `vigkit setup` has written its configuration.
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

# python3-picamera2 and python3-lgpio: the camera and GPIO libraries, from Raspberry Pi
# OS (the venv sees them). libportaudio2: the microphone (sounddevice). network-manager
# and dnsmasq-base: the hotspot. polkitd: the rule that lets the kit set the clock and
# power off. rclone: sync to the office. age: opening files by hand. ffmpeg: checking
# films on the kit when something goes wrong.
APT_PACKAGES=(
  python3 python3-venv python3-pip
  python3-picamera2 python3-lgpio
  libportaudio2
  network-manager dnsmasq-base
  polkitd
  rclone age ffmpeg
)

DRY_RUN=0
usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
}
while (($#)); do
  case $1 in
    --dry-run | -n) DRY_RUN=1 ;;
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

if ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
  echo "install: run this as root (sudo $0), or with --dry-run to see the steps" >&2
  exit 1
fi
if ((!DRY_RUN)) && ! apt-cache show python3-picamera2 >/dev/null 2>&1; then
  echo "install: python3-picamera2 is not available from apt here." >&2
  echo "install: VIG Kit needs Raspberry Pi OS (Bookworm) for the camera; see docs/build.md." >&2
  exit 1
fi

say "VIG Kit install from $SRC$( ((DRY_RUN)) && echo ' (dry run: nothing is changed)')"

say "1. Debian packages"
run apt-get update -q
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "${APT_PACKAGES[@]}"

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

say "4. the program, in $VENV (with the system's packages visible, for picamera2)"
if [[ -x $VENV/bin/python ]]; then
  say "$VENV exists; upgrading the program in it"
else
  run python3 -m venv --system-site-packages "$VENV"
fi
run "$VENV/bin/python" -m pip install --quiet --upgrade pip
run "$VENV/bin/python" -m pip install --quiet --upgrade "$SRC"

say "5. systemd units and the polkit rule (setting the clock and powering off only)"
for unit in vigkit.service vigkit-sync.service vigkit-sync.timer; do
  run install -m 0644 -o root -g root "$SRC/systemd/$unit" "$UNIT_DIR/$unit"
done
run install -d -m 0755 "$POLKIT_DIR"
run install -m 0644 -o root -g root "$SRC/systemd/50-vigkit.rules" "$POLKIT_DIR/50-vigkit.rules"
run systemctl daemon-reload
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
  say "  $SRC/scripts/install.sh     (again: it starts the kit once set up)"
fi
