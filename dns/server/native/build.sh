#!/usr/bin/env bash
# Builds the batched UDP addon (Linux only) and puts it beside the compiled transport in dist/.
# Node's own headers are used when they are installed (Debian's nodejs ships them under
# /usr/include/node), so nothing is downloaded.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/dist/dns/server/native"
if [ "$(uname -s)" != "Linux" ]; then
  echo "dns/server/native: not Linux, the GeoDNS server will use node:dgram" >&2
  exit 0
fi
# SANITIZE=1: a build with AddressSanitizer and UndefinedBehaviorSanitizer, to check the addon.
# Node then needs the ASan runtime preloaded, or loading the addon fails, e.g.
#   LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 node node_modules/.bin/mocha ...
# Child processes inherit LD_PRELOAD too. The next plain build replaces the sanitized addon.
if [ "${SANITIZE:-}" = 1 ]; then
  export CFLAGS="${CFLAGS:-} -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
  export LDFLAGS="${LDFLAGS:-} -fsanitize=address,undefined"
  echo "dns/server/native: sanitized build; run node with LD_PRELOAD=$(gcc -print-file-name=libasan.so)" >&2
fi
args=(rebuild --release --directory="$here")
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then args+=(--nodedir=/usr); fi
gyp="node-gyp"
command -v node-gyp >/dev/null || gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
"$gyp" "${args[@]}" --silent >/dev/null
mkdir -p "$out"
cp "$here/build/Release/udp_batch.node" "$out/udp_batch.node"
