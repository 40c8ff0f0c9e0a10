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
args=(rebuild --release --directory="$here")
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then args+=(--nodedir=/usr); fi
gyp="node-gyp"
command -v node-gyp >/dev/null || gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
"$gyp" "${args[@]}" --silent >/dev/null
mkdir -p "$out"
cp "$here/build/Release/udp_batch.node" "$out/udp_batch.node"
