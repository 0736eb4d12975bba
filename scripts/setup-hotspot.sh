#!/usr/bin/env bash
# The kit's own Wi-Fi (NetworkManager), and switching to the office's Wi-Fi for a sync.
# Run as root. `--dry-run` prints every step and changes nothing (passwords shown as ***).
#
#   setup-hotspot.sh [--config FILE | --ssid NAME --password PW] [--country CC]
#       make (or update) the hotspot and bring it up: the kit at 10.42.0.1/24, WPA2,
#       starts by itself at boot; http://vigkit.lan/ reaches the page
#   setup-hotspot.sh office --ssid NAME (--password PW | --password-file F) [--sync]
#       join the office Wi-Fi (clock synced from the internet while there); with --sync,
#       run a sync to the office and then come back to the hotspot
#   setup-hotspot.sh hotspot
#       leave the office Wi-Fi and bring the kit's hotspot back
#
# Common options: --dry-run, --ifname IFACE (default wlan0).
set -euo pipefail

HOTSPOT=vigkit-hotspot
OFFICE=vigkit-office
ADDRESS=10.42.0.1
DNSMASQ_FILE=/etc/NetworkManager/dnsmasq-shared.d/vigkit.conf
CONF_FILE=/etc/vigkit/vigkit.toml

mode=setup
DRY_RUN=0
ifname=wlan0
ssid=""
password=""
password_file=""
config=""
country=""
sync=0

die() {
  echo "setup-hotspot: $*" >&2
  exit 1
}
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

if (($#)) && [[ $1 != -* ]]; then
  mode=$1
  shift
fi
case $mode in setup | office | hotspot) ;; *) die "unknown mode $mode (setup, office or hotspot)" ;; esac
while (($#)); do
  case $1 in
    --dry-run | -n) DRY_RUN=1 ;;
    --ifname) ifname=${2:?--ifname needs a name} && shift ;;
    --ssid) ssid=${2?--ssid needs a name} && shift ;;
    --password) password=${2?--password needs a value} && shift ;;
    --password-file) password_file=${2:?--password-file needs a file} && shift ;;
    --config) config=${2:?--config needs a file} && shift ;;
    --country) country=${2:?--country needs a two-letter code} && shift ;;
    --sync) sync=1 ;;
    --help | -h) usage && exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

say() { printf '# %s\n' "$*"; }
# Every change goes through run: printed shell-quoted (with the Wi-Fi password hidden),
# done unless this is a dry run.
run() {
  local shown=() arg
  for arg in "$@"; do
    if [[ -n $password && $arg == "$password" ]]; then shown+=("***"); else shown+=("$arg"); fi
  done
  printf '+'
  printf ' %q' "${shown[@]}"
  printf '\n'
  if ((!DRY_RUN)); then "$@"; fi
}
# A file written whole: shown in a dry run, written (0644, root) otherwise.
write_file() {
  local path=$1 content=$2
  printf '+ write %q <<EOF\n%s\nEOF\n' "$path" "$content"
  if ((!DRY_RUN)); then
    install -d -m 0755 "$(dirname "$path")"
    printf '%s\n' "$content" >"$path.tmp"
    chmod 0644 "$path.tmp"
    mv "$path.tmp" "$path"
  fi
}
# A TOML string setting from the kit's configuration (written by `vigkit setup`).
config_value() {
  python3 -c 'import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f).get(sys.argv[2], ""), end="")' "$1" "$2"
}

if ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
  die "run this as root (sudo $0), or with --dry-run to see the steps"
fi
if [[ -n $password_file ]]; then
  [[ -r $password_file ]] || die "cannot read the password file $password_file"
  password=$(head -n 1 "$password_file")
fi

hotspot_up() {
  # NTP cannot work on the kit's own network; the phone's clock is offered instead, and
  # timedated refuses a manual set while NTP is on (see device/kit/wall_clock.py).
  run timedatectl set-ntp false
  run nmcli connection up "$HOTSPOT"
}

case $mode in
  setup)
    if [[ -z $ssid && -z $password ]]; then
      config=${config:-$CONF_FILE}
      [[ -r $config ]] || die "cannot read $config; run vigkit setup first, or give --ssid and --password"
      ssid=$(config_value "$config" wifi_name)
      password=$(config_value "$config" wifi_password)
    fi
    [[ -n $ssid ]] || die "no Wi-Fi name (wifi_name in the config, or --ssid)"
    ((${#ssid} <= 32)) || die "the Wi-Fi name has ${#ssid} characters; at most 32 fit"
    ((${#password} >= 8 && ${#password} <= 63)) ||
      die "the Wi-Fi password must have 8 to 63 characters (WPA2); it has ${#password}"

    say "hotspot $ssid on $ifname at $ADDRESS"
    if [[ -n $country ]]; then
      # Raspberry Pi OS keeps Wi-Fi switched off until the country is set.
      if command -v raspi-config >/dev/null; then
        run raspi-config nonint do_wifi_country "$country"
      else
        run iw reg set "$country"
      fi
    fi
    run nmcli radio wifi on
    # shared: NetworkManager runs dnsmasq (DHCP + DNS) for the phones and NATs nothing
    # out, since the kit has no other network. pmf 1 = disable: the Pi's brcmfmac driver
    # fails to start an access point with protected management frames on. proto rsn +
    # ccmp: WPA2-AES only. Priority: at boot the hotspot wins over any saved network.
    settings=(
      connection.autoconnect yes
      connection.autoconnect-priority 100
      802-11-wireless.mode ap
      802-11-wireless.band bg
      802-11-wireless.channel 6
      ipv4.method shared
      ipv4.addresses "$ADDRESS/24"
      ipv6.method disabled
      802-11-wireless-security.key-mgmt wpa-psk
      802-11-wireless-security.proto rsn
      802-11-wireless-security.pairwise ccmp
      802-11-wireless-security.group ccmp
      802-11-wireless-security.pmf 1
      802-11-wireless-security.psk "$password"
    )
    if nmcli --terse --fields NAME connection show 2>/dev/null | grep -Fxq "$HOTSPOT"; then
      run nmcli connection modify "$HOTSPOT" connection.interface-name "$ifname" \
        802-11-wireless.ssid "$ssid" "${settings[@]}"
    else
      run nmcli connection add type wifi con-name "$HOTSPOT" ifname "$ifname" ssid "$ssid" \
        "${settings[@]}"
    fi
    # The short names, and the hosts phones probe to decide whether a network "works":
    # they all reach the kit, whose page answers the probes (web/kit/probes.py), so phones
    # stay joined to a Wi-Fi with no internet. Everything else gets no answer.
    dns="# VIG Kit (scripts/setup-hotspot.sh): names on the kit's own Wi-Fi.
# The page: http://vigkit.lan/ (or http://kit.lan/, or http://$ADDRESS/)
address=/vigkit.lan/$ADDRESS
address=/kit.lan/$ADDRESS
# Phones' connectivity checks, answered by the kit so phones keep the network
address=/connectivitycheck.gstatic.com/$ADDRESS
address=/connectivitycheck.android.com/$ADDRESS
address=/clients1.google.com/$ADDRESS
address=/clients3.google.com/$ADDRESS
address=/www.gstatic.com/$ADDRESS
address=/captive.apple.com/$ADDRESS
address=/www.apple.com/$ADDRESS
address=/www.msftconnecttest.com/$ADDRESS
address=/www.msftncsi.com/$ADDRESS
address=/detectportal.firefox.com/$ADDRESS
address=/nmcheck.gnome.org/$ADDRESS
# Windows also checks this name resolves to Microsoft's fixed answer
address=/dns.msftncsi.com/131.107.255.255
# .lan names are the kit's own: never ask anyone else about them
local=/lan/"
    write_file "$DNSMASQ_FILE" "$dns"
    hotspot_up
    ;;
  office)
    [[ -n $ssid ]] || die "give the office Wi-Fi's name with --ssid"
    [[ -n $password ]] || die "give the office Wi-Fi's password with --password or --password-file"
    say "joining the office Wi-Fi $ssid on $ifname"
    if nmcli --terse --fields NAME connection show 2>/dev/null | grep -Fxq "$OFFICE"; then
      run nmcli connection delete "$OFFICE"
    fi
    # autoconnect no: at the next boot the kit is its own hotspot again.
    run nmcli connection add type wifi con-name "$OFFICE" ifname "$ifname" ssid "$ssid" \
      connection.autoconnect no \
      802-11-wireless-security.key-mgmt wpa-psk 802-11-wireless-security.psk "$password"
    run nmcli connection up "$OFFICE"
    # The internet is reachable here: let the kit's clock be set properly.
    run timedatectl set-ntp true
    if ((sync)); then
      # A oneshot unit: systemctl waits until the sync has finished.
      run systemctl start vigkit-sync.service || say "the sync failed: journalctl -u vigkit-sync"
      run nmcli connection down "$OFFICE"
      hotspot_up
    fi
    ;;
  hotspot)
    say "back to the kit's own hotspot"
    run nmcli connection down "$OFFICE" || true
    hotspot_up
    ;;
esac
