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
  edge-agent demo [--agents N] [--exit-when-ready] [--timeout SECONDS] [--keep]
      Start N agents (default 5) on this machine and show their status.
  edge-agent --help | --version

Exit codes: 0 success, 1 failure, 2 usage error.
`;
