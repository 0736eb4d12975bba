#!/usr/bin/env bash
# An emulated Raspberry Pi check, on a PC: build a Debian 13 (Trixie) arm64 root with
# debootstrap, run it through qemu user emulation, install the kit there with
# `scripts/install.sh --chroot` (Debian's python3-numpy and python3-av stand in for
# Raspberry Pi OS's), record 5 s from the synthetic camera and microphone, and open the
# film with the age CLI and ffprobe, inside the root (arm64) and outside. Root only.
#
#   sudo scripts/pi-smoke.sh           # `make pi-smoke`; reuses build/pi-smoke/ after the first run
#   sudo scripts/pi-smoke.sh --fresh   # build the root again from nothing
#
# What it proves and what only a real Pi can prove: docs/build.md ("The emulated Pi
# check"). Not part of CI: the first run takes tens of minutes (debootstrap, then apt and
# pip under emulation).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
RELEASE=trixie
ARCH=arm64
MIRROR=${VIGKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BUILD=$SRC/build/pi-smoke
ROOT=$BUILD/$RELEASE-$ARCH
DONE=$ROOT/.vigkit-debootstrap-done
SECONDS_TO_RECORD=5
SIZE=320x240 # small: libx264 runs emulated, about ten times slower than native
HOST_PACKAGES=(debootstrap qemu-user-static binfmt-support age ffmpeg)

FRESH=0
case ${1:-} in
  --fresh) FRESH=1 ;;
  "") ;;
  --help | -h)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "pi-smoke: unknown option $1 (see --help)" >&2
    exit 2
    ;;
esac
if [[ $(id -u) -ne 0 ]]; then
  echo "pi-smoke: run this as root (debootstrap, chroot and mounts need it): sudo $0" >&2
  exit 1
fi

say() { printf '\n== %s\n' "$*"; }
timed() { # timed LABEL CMD...: run CMD, then print how long it took
  local label=$1 start=$SECONDS
  shift
  "$@"
  printf 'pi-smoke: %s took %d s\n' "$label" $((SECONDS - start)) | tee -a "$BUILD/times.txt"
}

host_tools() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
  fi
  [[ $(uname -m) == aarch64 ]] && return 0 # no emulation needed
  # Containers and systemd-less hosts have binfmt_misc neither mounted nor filled in.
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    echo "pi-smoke: arm64 programs cannot run here: qemu-aarch64 is not registered with binfmt_misc" >&2
    echo "pi-smoke: (a container needs --privileged for that)" >&2
    exit 1
  fi
}

build_root() {
  if ((FRESH)) || [[ ! -f $DONE ]]; then
    unmount_all
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    timed debootstrap debootstrap --arch="$ARCH" --variant=minbase "$RELEASE" "$ROOT" "$MIRROR"
    touch "$DONE"
  fi
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # Packages must not start services in the root (there is no systemd there).
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  # pip in the root trusts what the host trusts (a TLS-inspecting proxy's CA included).
  cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/pi-smoke-host-ca.crt"
}

MOUNTS=(proc sys dev dev/pts)
mount_all() {
  local m
  for m in "${MOUNTS[@]}"; do
    mountpoint -q "$ROOT/$m" || mount --bind "/$m" "$ROOT/$m"
  done
}
unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    if mountpoint -q "$ROOT/${MOUNTS[i]}" 2>/dev/null; then umount "$ROOT/${MOUNTS[i]}"; fi
  done
}

copy_checkout() { # the working tree as git sees it (uncommitted edits too), not build/ or .venv
  rm -rf "$ROOT/src/vigkit"
  mkdir -p "$ROOT/src/vigkit"
  git -C "$SRC" ls-files -z --cached --others --exclude-standard |
    (cd "$SRC" && tar --null --ignore-failed-read -T - -cf -) | tar -xf - -C "$ROOT/src/vigkit"
}

in_root() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_CERT=/etc/pi-smoke-host-ca.crt SSL_CERT_FILE=/etc/pi-smoke-host-ca.crt "$@"
}

KEYS=$(mktemp -d)
cleanup() {
  unmount_all
  rm -rf "$KEYS"
}
trap cleanup EXIT

record() { # record 5 s as the kit user, into a fresh data folder
  age-keygen -o "$KEYS/office.key" 2>/dev/null
  local public
  public=$(age-keygen -y "$KEYS/office.key")
  rm -rf "$ROOT/var/lib/vigkit/smoke"
  in_root runuser -u vigkit -- /opt/vigkit/venv/bin/vigkit record \
    --data /var/lib/vigkit/smoke --seconds "$SECONDS_TO_RECORD" --size "$SIZE" \
    --camera synthetic --mic synthetic --reserve-mb 50 -r "$public"
}

FFPROBE=(ffprobe -v error -count_frames -of compact=p=0
  -show_entries "stream=codec_name,width,height,sample_rate,nb_read_frames:format=duration" -)
open_film() { # the film, decrypted in memory only (pipes), by both ages, read by ffprobe
  local films film inside outside
  films=("$ROOT"/var/lib/vigkit/smoke/recordings/*.mp4.age)
  [[ ${#films[@]} -eq 1 && -f ${films[0]} ]] || {
    echo "pi-smoke: expected one film, found: ${films[*]}" >&2
    exit 1
  }
  film=${films[0]}
  ls -l "$film"
  echo "host (x86_64) age + ffprobe:"
  age -d -i "$KEYS/office.key" "$film" | "${FFPROBE[@]}"
  cp "$KEYS/office.key" "$ROOT/root/office.key"
  echo "root (arm64) age + ffprobe:"
  in_root sh -c "age -d -i /root/office.key '${film#"$ROOT"}' | ${FFPROBE[*]@Q}"
  inside=$(in_root sh -c "age -d -i /root/office.key '${film#"$ROOT"}' | sha256sum")
  rm -f "$ROOT/root/office.key"
  outside=$(age -d -i "$KEYS/office.key" "$film" | sha256sum)
  [[ $inside == "$outside" ]] || {
    echo "pi-smoke: the arm64 age and the host's age decrypted different bytes" >&2
    exit 1
  }
  echo "both ages decrypt the same bytes: sha256 ${outside%% *}"
}

mkdir -p "$BUILD"
: >"$BUILD/times.txt"
say "host tools: ${HOST_PACKAGES[*]}"
host_tools
say "Debian $RELEASE $ARCH root in $ROOT"
build_root
mount_all
in_root dpkg --configure -a # finishes the packages of a run that was cut off
copy_checkout
say "install.sh --chroot, inside the root"
timed install in_root /src/vigkit/scripts/install.sh --chroot
in_root uname -m
say "a ${SECONDS_TO_RECORD} s recording, ${SIZE}, synthetic camera and microphone"
timed "the ${SECONDS_TO_RECORD} s recording" record
say "the film, opened by age and read by ffprobe"
open_film
say "times"
cat "$BUILD/times.txt"
