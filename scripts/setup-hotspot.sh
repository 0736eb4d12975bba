#!/usr/bin/env bash
# The kit's own Wi-Fi (NetworkManager), and switching to the office's Wi-Fi for a sync.
# Run as root. `--dry-run` prints every step and changes nothing (passwords shown as ***).
#
#   setup-hotspot.sh [--config FILE | --ssid NAME --password PW] [--country CC]
#                    [--phy-info FILE] [--driver NAME]
#       make (or update) the hotspot and bring it up: the kit at 10.42.0.1/24; WPA2/WPA3
#       with protected management frames where the Wi-Fi chip can (detected with iw phy,
#       or from FILE, its saved output), else WPA2; phones cannot reach each other; at
#       most 32 connections to the page from one phone (nftables); starts by itself at
#       boot; http://vigkit.lan/ reaches the page
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
NFT_FILE=/etc/vigkit/hotspot-limits.nft
DISPATCHER=/etc/NetworkManager/dispatcher.d/90-vigkit-limits
# Connections one address may hold to the page: web/common/limits.py's PER_SOURCE (a
# test keeps the two equal). The page closes the rest too; nftables refuses them first.
PER_SOURCE=32
PAGE_PORTS="80, 443"

mode=setup
DRY_RUN=0
ifname=wlan0
ssid=""
password=""
password_file=""
config=""
country=""
sync=0
phy_info=""
driver=""

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
    --phy-info) phy_info=${2:?--phy-info needs a file} && shift ;;
    --driver) driver=${2:?--driver needs a name} && shift ;;
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

# What the Wi-Fi chip can do as an access point, from `iw phy` (or --phy-info FILE):
# sets sae_ap and pmf_ap to 1 or 0. SAE in AP mode: firmware that does it (brcmfmac's
# SAE_OFFLOAD_AP), or a mac80211 driver that lets wpa_supplicant do it ("SAE with
# AUTHENTICATE command"). PMF: wherever SAE works (WPA3 requires it), or a mac80211
# driver with the BIP cipher (00-0f-ac:6). brcmfmac lists BIP for client use but fails
# to start an access point with PMF on, so there PMF stays off unless SAE offload is there.
detect_wifi() {
  local info="" link
  if [[ -n $phy_info ]]; then
    [[ -r $phy_info ]] || die "cannot read $phy_info (iw phy's output)"
    info=$(<"$phy_info")
  elif command -v iw >/dev/null; then
    info=$(iw phy 2>/dev/null || true)
  fi
  if [[ -z $driver ]]; then
    link=$(readlink -f "/sys/class/net/$ifname/device/driver" 2>/dev/null) || link=""
    driver=${link##*/}
  fi
  sae_ap=0
  pmf_ap=0
  if grep -q "SAE_OFFLOAD_AP" <<<"$info"; then
    sae_ap=1
  elif [[ $driver != brcmfmac ]] && grep -q "SAE with AUTHENTICATE command" <<<"$info"; then
    sae_ap=1
  fi
  if ((sae_ap)); then
    pmf_ap=1
  elif [[ $driver != brcmfmac ]] && grep -q "00-0f-ac:6" <<<"$info"; then
    pmf_ap=1
  fi
}

# The page's connection limit per phone, as nftables rules on the hotspot's interface;
# a NetworkManager dispatcher script loads them again whenever the hotspot comes up.
page_limits() {
  local rules="# VIG Kit (scripts/setup-hotspot.sh): at most $PER_SOURCE connections to the page
# from one address on the kit's Wi-Fi; more are refused (TCP reset) before the page
# sees them. Loaded by $DISPATCHER.
table inet vigkit
delete table inet vigkit
table inet vigkit {
  set page_clients {
    type ipv4_addr
    size 4096
    flags dynamic
  }
  chain input {
    type filter hook input priority filter - 1; policy accept;
    iifname \"$ifname\" tcp dport { $PAGE_PORTS } ct state new add @page_clients { ip saddr ct count over $PER_SOURCE } counter reject with tcp reset
  }
}"
  local hook="#!/bin/sh
# VIG Kit (scripts/setup-hotspot.sh): the page's limits, each time the hotspot is up.
[ \"\$1\" = \"$ifname\" ] && [ \"\$2\" = up ] && exec nft -f $NFT_FILE
exit 0"
  write_file "$NFT_FILE" "$rules"
  write_file "$DISPATCHER" "$hook"
  run chmod 0755 "$DISPATCHER"
  run nft -f "$NFT_FILE"
}

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
    detect_wifi
    # key-mgmt wpa-psk: NetworkManager offers SAE (WPA3) beside it wherever wpa_supplicant
    # can (transition mode: WPA2 phones still join). pmf 2 = optional: WPA3 phones use
    # protected management frames; 1 = disable, where the chip cannot (see detect_wifi).
    if ((pmf_ap)); then pmf=2; else pmf=1; fi
    say "Wi-Fi chip: ${driver:-unknown driver}"
    if ((sae_ap)); then
      say "WPA3-SAE: yes, in transition mode with WPA2"
    else
      say "WPA3-SAE: no (the chip cannot do it as an access point): WPA2 only"
    fi
    if ((pmf_ap)); then
      say "protected management frames: on (optional for phones that lack them)"
    else
      say "protected management frames: off (the chip cannot do them as an access point)"
    fi
    say "AP isolation: on (phones on the kit's Wi-Fi cannot reach each other)"
    # shared: NetworkManager runs dnsmasq (DHCP + DNS) for the phones and NATs nothing
    # out, since the kit has no other network. proto rsn + ccmp: AES only. ap-isolation:
    # a phone on the hotspot reaches the kit, never another phone. Priority: at boot the
    # hotspot wins over any saved network.
    settings=(
      connection.autoconnect yes
      connection.autoconnect-priority 100
      802-11-wireless.mode ap
      802-11-wireless.band bg
      802-11-wireless.channel 6
      802-11-wireless.ap-isolation 1
      ipv4.method shared
      ipv4.addresses "$ADDRESS/24"
      ipv6.method disabled
      802-11-wireless-security.key-mgmt wpa-psk
      802-11-wireless-security.proto rsn
      802-11-wireless-security.pairwise ccmp
      802-11-wireless-security.group ccmp
      802-11-wireless-security.pmf "$pmf"
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
    say "at most $PER_SOURCE connections to the page from one address (nftables)"
    page_limits
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
