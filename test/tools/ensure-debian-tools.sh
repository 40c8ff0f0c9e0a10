#!/usr/bin/env bash
# First step of `npm test` (and, with `bench`, of `npm run bench`): the Debian tools the tests
# drive must be present. Installs what is missing with apt-get when it can (root or passwordless
# sudo), fetching the package lists first when the machine has none; otherwise stops and prints
# the exact command to run. Tests never skip because a tool is missing.
#
# The lists hold only what the tests (or the benchmarks) run: a daemon joins when its tests do.
set -euo pipefail

# command -> Debian package, for `npm test`
declare -A TOOLS=(
  [dig]=dnsutils              # DNS server and sandbox tests
  [kdig]=knot-dnsutils        # DNS server tests
  [dnsperf]=dnsperf           # load generator of the DNS benchmark harness test
  [ldns-signzone]=ldnsutils   # signed GeoIP channel: zones signed by ldns
  [dnssec-signzone]=bind9-utils  # signed GeoIP channel: zones signed by BIND's signer
  [nsd]=nsd                   # signed GeoIP channel: authoritative server for signed zones
  [unbound]=unbound           # GeoDNS behind a recursive resolver with an ECS cache
  [bgpdump]=bgpdump           # MRT channel: reference decoder
  [bzip2]=bzip2               # MRT channel: bzip2 archives, and the decompressor the reader runs
  [lbzip2]=lbzip2             # MRT channel: the bzip2 decompressor the reader runs first
  [python3]=python3-minimal   # IPv6 text compared with the C library's inet_ntop
  [bird]=bird2                # BGP channel: peer router
  [gobgpd]=gobgpd             # BGP channel: peer router
  [promtool]=prometheus       # checks both servers' /metrics text
  [chromium]=chromium         # status page: the browser test drives it headless
  [initdb]=postgresql         # leader lease: a real PostgreSQL cluster per test file
)
# command -> Debian package, added for `npm run bench`
declare -A BENCH_TOOLS=(
  [gdnsd]=gdnsd               # the GeoDNS benchmark's reference server, and the full chaos run's second contrast
)
if [ "${1:-}" = bench ]; then
  for cmd in "${!BENCH_TOOLS[@]}"; do TOOLS[$cmd]=${BENCH_TOOLS[$cmd]}; done
fi

missing=()
for cmd in "${!TOOLS[@]}"; do
  # Daemons may live off PATH: /usr/sbin, and PostgreSQL's per-version /usr/lib/postgresql/*/bin.
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! compgen -G "/usr/lib/postgresql/*/bin/$cmd" >/dev/null; then
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
log=$(mktemp -t meridian-apt.XXXXXX)
# A fresh machine (or image) may have no package lists at all: nothing is installable before an update.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  echo "No apt package lists yet: apt-get update"
  if ! $SUDO apt-get update -qq >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "error: apt-get update failed; run: sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
fi
# Lists that are present but stale name versions the mirror no longer has: update once and retry.
if ! $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; then
  $SUDO apt-get update -qq >>"$log" 2>&1 || true
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "error: could not install the test tools; run: sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
    exit 1
  fi
fi
rm -f "$log"
echo "Installed: ${pkgs[*]}"
