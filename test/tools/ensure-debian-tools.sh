#!/usr/bin/env bash
# First step of `npm test`: the Debian tools the tests drive must be present.
# Installs what is missing with apt-get when it can (root or passwordless sudo); otherwise stops
# and prints the exact command to run. Tests never skip because a tool is missing.
set -euo pipefail

# command -> Debian package
declare -A TOOLS=(
  [dig]=dnsutils
  [kdig]=knot-dnsutils
  [dnsperf]=dnsperf
  [gdnsd]=gdnsd
  [ldns-signzone]=ldnsutils
  [dnssec-signzone]=bind9-utils
  [nsd]=nsd
  [bgpdump]=bgpdump
  [bird]=bird2
  [gobgpd]=gobgpd
)

missing=()
for cmd in "${!TOOLS[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
    missing+=("${TOOLS[$cmd]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "Installing Debian packages the tests use: ${pkgs[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "error: missing tools; run: sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# Daemons packaged with services must not start on install (policy-rc.d 101 = "action forbidden").
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/tmp/meridian-apt.log 2>&1; then
  $SUDO apt-get update -qq >/tmp/meridian-apt.log 2>&1 || true
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>/tmp/meridian-apt.log 2>&1; then
    tail -20 /tmp/meridian-apt.log >&2
    echo "error: could not install the test tools; run: sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
fi
echo "Installed: ${pkgs[*]}"
