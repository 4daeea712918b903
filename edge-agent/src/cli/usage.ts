export const USAGE = `edge-agent — a fleet agent for Raspberry Pi-class boards

Usage:
  edge-agent keygen [--data-dir DIR | --config FILE] [--difficulty D] [--passphrase-file FILE]
      Create this board's identity (secp256k1 key with proof of work) in the keystore.
  edge-agent run --config FILE
      Run the agent. Logs JSON lines on stdout; stops cleanly on SIGTERM or SIGINT.
  edge-agent config check FILE [--print]
      Validate a config file; --print shows it with every default filled in.
  edge-agent audit verify --dir DIR
      Verify the hash-chained audit trail; names the first bad entry.
  edge-agent operator keygen --out FILE
      Create an operator key (secret in FILE, mode 0600); prints the public key for configs.
  edge-agent command NAME --broker URL --fleet F --target PEER|all --key-file FILE
                     [--arg KEY=VALUE]... [--ttl SECONDS] [--wait SECONDS]
      Sign a command (ping, report-now, set-log-level, enter-maintenance,
      leave-maintenance, restart, committee-sign, committee-order, seal-config, read-sealed), send it over MQTT
      and print the results.
  edge-agent provision --manifest FILE --out DIR [--jobs N]
      Roll a fleet out from its manifest: each board's identity (proof of work on
      N threads, default one per core), keystore and config, and the fleet
      inventory, under DIR. Re-running keeps existing identities.
  edge-agent bundle --arch x64|arm64 --out DIR [--with-node VERSION | --node-tarball FILE]
      Build DIR/edge-agent-<version>-linux-<arch>/ from this checkout: the compiled agent,
      its production node_modules, the units, install.sh and MANIFEST.sha256; optionally
      a Node.js runtime (node-linux-<arch> from the npm registry, or that tarball).
  edge-agent ptp --interface IF [--role auto|master|slave] [--servo pi|median]
                 [--timestamping auto|hardware|software|user-space] [--log-sync-interval N]
                 [--domain N] [--priority1 N] [--duration SECONDS]
      Run one PTP port (IEEE 1588, UDPv4, end-to-end, two-step) on IF and print its
      states and offset samples as JSON lines. Disciplines only the agent's own clock.
  edge-agent demo [--agents N] [--exit-when-ready] [--timeout SECONDS] [--keep] [--broker URL]
      Start N agents (default 5) on this machine with an embedded MQTT broker
      (or the one at URL) and show their status as read back from MQTT.
  edge-agent --help | --version

Exit codes: 0 success, 1 failure, 2 usage error.
`;
