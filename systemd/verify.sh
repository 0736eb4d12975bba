#!/usr/bin/env bash
# Check the shipped units the way a Pi would load them: `systemd-analyze verify` on every
# unit, then `systemd-analyze security --offline=yes` with the exposure of each service
# printed, failing when vigkit.service scores above MAX_EXPOSURE.
#
#   systemd/verify.sh                 # uses this checkout's .venv/bin/vigkit
#   VIGKIT_BIN=/opt/vigkit/venv/bin/vigkit systemd/verify.sh   # on an installed kit
#
# verify insists that ExecStart's program exists, and a CI machine has no /opt/vigkit.
# So the units are verified from a temporary copy whose only change is that one path,
# pointed at a vigkit console script that does exist (the same entry point install.sh
# puts in /opt/vigkit/venv). The security score is taken from the shipped files as they
# are. `diff` below proves the copy differs in nothing else.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MAX_EXPOSURE=${MAX_EXPOSURE:-3.0}
INSTALLED_BIN=/opt/vigkit/venv/bin/vigkit
bin=${VIGKIT_BIN:-$here/../.venv/bin/vigkit}
if [[ ! -x $bin ]]; then
  echo "verify: $bin is not an executable vigkit; run make setup (or set VIGKIT_BIN)" >&2
  exit 1
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

units=("$here"/*.service "$here"/*.timer)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in "${units[@]}"; do
  sed "s|$INSTALLED_BIN|$bin|g" "$unit" >"$work/$(basename "$unit")"
  # Only the ExecStart path may differ between the shipped unit and the checked copy.
  if diff "$unit" "$work/$(basename "$unit")" | grep -E '^[<>]' | grep -v 'ExecStart=' >/dev/null; then
    echo "verify: the checked copy of $(basename "$unit") differs beyond ExecStart" >&2
    exit 1
  fi
done

echo "systemd-analyze verify:"
# verify only warns about, e.g., a misspelt directive (and exits 0); any word from it
# is a failure here.
if ! said=$(cd "$work" && systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) || [[ -n $said ]]; then
  echo "$said" >&2
  echo "verify: systemd-analyze verify found problems (above)" >&2
  exit 1
fi
for unit in "${units[@]}"; do echo "  ok  $(basename "$unit")"; done

status=0
for unit in "$here"/*.service; do
  name=$(basename "$unit")
  line=$(systemd-analyze security --offline=yes --no-pager "$unit" | grep 'Overall exposure level')
  score=$(sed -E 's/.*: ([0-9.]+) .*/\1/' <<<"$line")
  echo "systemd-analyze security: $name exposure $score"
  if [[ $name == vigkit.service ]] && awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }'; then
    echo "verify: $name exposure $score is above $MAX_EXPOSURE" >&2
    status=1
  fi
done
exit "$status"
