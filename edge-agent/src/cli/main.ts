#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runDemo } from '../demo/index.js';
import { intOption, parse } from './args.js';
import { auditVerify } from './commands/audit-verify.js';
import { bundle } from './commands/bundle.js';
import { configCheck } from './commands/config-check.js';
import { keygen } from './commands/keygen.js';
import { operatorKeygen, sendCommand } from './commands/operator.js';
import { provision } from './commands/provision.js';
import { ptp } from './commands/ptp.js';
import { run } from './commands/run.js';
import { CommandError, UsageError } from './errors.js';
import { USAGE } from './usage.js';

function version(): string {
  // Same depth from edge-agent/src/cli and edge-agent/dist/cli.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function dispatch(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'keygen':
      return keygen(rest);
    case 'run':
      return run(rest);
    case 'config':
      if (rest[0] === 'check') return configCheck(rest.slice(1));
      throw new UsageError(`unknown config command: ${rest[0] ?? '(none)'}; try "config check FILE"`);
    case 'operator':
      if (rest[0] === 'keygen') return operatorKeygen(rest.slice(1));
      throw new UsageError(`unknown operator command: ${rest[0] ?? '(none)'}; try "operator keygen --out FILE"`);
    case 'command':
      return sendCommand(rest);
    case 'provision':
      return provision(rest);
    case 'ptp':
      return ptp(rest);
    case 'bundle':
      return bundle(rest);
    case 'audit':
      if (rest[0] === 'verify') return auditVerify(rest.slice(1));
      throw new UsageError(`unknown audit command: ${rest[0] ?? '(none)'}; try "audit verify --dir DIR"`);
    case 'demo': {
      const { values } = parse(rest, {
        agents: { type: 'string' },
        'exit-when-ready': { type: 'boolean' },
        timeout: { type: 'string' },
        keep: { type: 'boolean' },
        broker: { type: 'string' },
      });
      return runDemo({
        agents: intOption('agents', values.agents, 1, 64) ?? 5,
        exitWhenReady: values['exit-when-ready'] ?? false,
        timeoutSec: intOption('timeout', values.timeout, 1, 3600) ?? 60,
        keep: values.keep ?? false,
        ...(values.broker !== undefined ? { broker: values.broker } : {}),
      });
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

/** Errors the user can act on carry a code or are ours; anything else is a bug and says so. */
function isExpected(err: unknown): err is Error {
  return err instanceof CommandError || (err instanceof Error && typeof (err as { code?: unknown }).code === 'string');
}

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`edge-agent: ${err.message} (see edge-agent --help)\n`);
      process.exitCode = 2;
    } else if (isExpected(err)) {
      process.stderr.write(`edge-agent: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      const detail = err instanceof Error ? (process.env.EDGE_AGENT_DEBUG ? err.stack : err.message) : String(err);
      process.stderr.write(`edge-agent: unexpected error: ${detail}\n`);
      process.exitCode = 1;
    }
  },
);
