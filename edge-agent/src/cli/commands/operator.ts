/**
 * The operator's side of commands: a key of their own, and signed commands
 * sent over MQTT with their results read back.
 *   edge-agent operator keygen --out FILE
 *   edge-agent command NAME --broker URL --fleet F --target PEER|all --key-file FILE [--arg k=v]... [--ttl S] [--wait S]
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connectAsync } from 'mqtt';
import { COMMAND_NAMES, isCommandName, signCommand } from '../../commands/index.js';
import { generateKeyPair, toHex } from '../../identity/index.js';
import { createFileAtomic } from '../../store/index.js';
import { FLEET_BRANCH, TOPIC_ROOT, decodePayload, requireFleet } from '../../telemetry/index.js';
import { intOption, parse } from '../args.js';
import { CommandError, UsageError } from '../errors.js';

const SECRET_HEX = /^[0-9a-f]{64}$/;

export async function operatorKeygen(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' } });
  if (values.out === undefined) throw new UsageError('operator keygen needs --out FILE');
  const keys = generateKeyPair();
  const text = Buffer.from(`${toHex(keys.secretKey)}\n`);
  try {
    if (!(await createFileAtomic(values.out, text, { mode: 0o600 }))) {
      throw new CommandError(`${values.out} already exists; an operator key is never overwritten`);
    }
  } finally {
    text.fill(0);
    keys.secretKey.fill(0);
  }
  process.stdout.write(`public key  ${toHex(keys.publicKey)}\nsecret key  ${values.out} (mode 0600)\nList the public key under "operators" in each agent's config.\n`);
  return 0;
}

async function readSecretKey(file: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  try {
    const text = raw.toString('utf8').trim();
    if (!SECRET_HEX.test(text)) throw new CommandError(`${file}: expected a 32-byte secret key in 64 lowercase hex digits`);
    return Uint8Array.from(Buffer.from(text, 'hex'));
  } finally {
    raw.fill(0);
  }
}

/** `k=v` → { k: v }, with integers and booleans as such (the command's schema checks the rest). */
function parseArgPairs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg must be key=value, got "${pair}"`);
    const value = pair.slice(eq + 1);
    out[pair.slice(0, eq)] = /^-?\d+$/.test(value) ? Number(value) : value === 'true' ? true : value === 'false' ? false : value;
  }
  return out;
}

export async function sendCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      broker: { type: 'string' },
      fleet: { type: 'string' },
      target: { type: 'string' },
      'key-file': { type: 'string' },
      arg: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      wait: { type: 'string' },
    },
    1,
  );
  const name = positionals[0];
  if (name === undefined || !isCommandName(name)) throw new UsageError(`command needs a NAME, one of: ${COMMAND_NAMES.join(', ')}`);
  for (const required of ['broker', 'fleet', 'target', 'key-file'] as const) {
    if (values[required] === undefined) throw new UsageError(`command needs --${required}`);
  }
  const fleet = requireFleet(values.fleet);
  const target = values.target as string;
  const everyone = target === FLEET_BRANCH;
  if (!everyone && !/^[0-9a-f]{64}$/.test(target)) throw new UsageError('--target must be a 64-hex peer id or "all"');
  const ttlMs = (intOption('ttl', values.ttl, 1, 600) ?? 60) * 1000;
  const waitMs = (intOption('wait', values.wait, 0, 600) ?? 10) * 1000;

  const secretKey = await readSecretKey(values['key-file'] as string);
  let message: Uint8Array;
  try {
    message = signCommand({ secretKey, fleet, target: everyone ? '*' : target, name, args: parseArgPairs(values.arg ?? []) as never, ttlMs, nonce: randomBytes(16) });
  } finally {
    secretKey.fill(0);
  }

  const client = await connectAsync(values.broker as string, { clientId: `edge-operator-${randomBytes(6).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    const results: Record<string, unknown>[] = [];
    client.on('message', (_topic, payload) => {
      try {
        results.push(decodePayload(payload) as Record<string, unknown>);
        process.stdout.write(`${JSON.stringify(results.at(-1), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}\n`);
      } catch {
        // not a payload of ours
      }
    });
    // Results first, so none is missed; then the command.
    await client.subscribeAsync(`${TOPIC_ROOT}/${fleet}/${everyone ? '+' : target}/cmd/result`, { qos: 1 });
    await client.publishAsync(`${TOPIC_ROOT}/${fleet}/${everyone ? FLEET_BRANCH : target}/cmd`, Buffer.from(message), { qos: 1 });
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && (everyone || results.length === 0)) await new Promise((r) => setTimeout(r, 50));
    if (results.length === 0) {
      process.stderr.write(waitMs > 0 ? `edge-agent: no result within ${waitMs / 1000} s\n` : '');
      return waitMs > 0 ? 1 : 0;
    }
    return results.every((r) => r.ok === true) ? 0 : 1;
  } finally {
    await client.endAsync().catch(() => {});
  }
}
