#!/bin/sh
# edge-agent: runs the agent's command line with the Node.js runtime the bundle carries,
# else with the node on PATH (Node 20.19 or later). See docs/bundle.md.
set -eu
self=$(readlink -f -- "$0")
prefix=${self%/*}
prefix=${prefix%/*}
# Installed: /usr/bin/edge-agent beside /usr/lib/edge-agent. An unpacked bundle: bin/ beside lib/.
if [ -d "$prefix/lib/edge-agent/app" ]; then
  lib=$prefix/lib/edge-agent
else
  lib=$prefix/lib
fi
main=$lib/app/edge-agent/dist/cli/main.js
if [ ! -f "$main" ]; then
  echo "edge-agent: $main is missing; install the bundle again" >&2
  exit 1
fi
if [ -x "$lib/node/bin/node" ]; then
  exec "$lib/node/bin/node" "$main" "$@"
fi
if command -v node >/dev/null 2>&1; then
  exec node "$main" "$@"
fi
echo "edge-agent: no Node.js runtime: the bundle carries none and there is no node on PATH" >&2
exit 127
