import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock/index.js';
import {
  CORRUPT_SUFFIX,
  CommandError,
  CommandVerifier,
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SKEW_MS,
  ReplayGuard,
  signCommand,
  type Verdict,
} from '../../src/commands/index.js';
import { FLEET, PEER_ID, START, indexOf, makeOperator, tempDir, type Operator } from './helpers.js';

const nonce = (): Uint8Array => new Uint8Array(randomBytes(16));
const reasonOf = (v: Verdict): string => (v.ok ? 'ok' : v.reason);

/** An agent's view: a guard on `path` and a verifier over it, both on `clock`. */
async function agent(clock: ManualClock, path: string, op: Operator, extra: { capacity?: number; onCorrupt?: 'recover' | 'throw' } = {}) {
  const { guard, recovery } = await ReplayGuard.open({ clock, path, ...extra });
  const verifier = new CommandVerifier({ fleet: FLEET, peerId: PEER_ID, operators: [op.key], clock, replay: guard });
  return { guard, recovery, verifier };
}

function command(op: Operator, clock: ManualClock, ttlMs = 60_000): Uint8Array {
  return signCommand({ secretKey: op.secretKey, algorithm: op.algorithm, fleet: FLEET, target: PEER_ID, name: 'restart', ttlMs, clock });
}

test('an accepted command stays refused after the guard is reloaded from disk (a restart)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  const clock = new ManualClock(START);
  const op = makeOperator('secp256k1');
  const first = await agent(clock, path, op);
  const restart = command(op, clock);
  t.is(reasonOf(await first.verifier.verify(restart)), 'ok');
  // Durable when verify() resolved: no close() before the "crash".
  const second = await agent(clock, path, op);
  t.is(second.recovery, null);
  t.is(reasonOf(await second.verifier.verify(restart)), 'REPLAYED');
  t.true(second.guard.size === 1);
  t.is((await stat(path)).mode & 0o777, 0o600);
});

test('a missing file is a first start: the file is created (0600) at open', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  const { guard, recovery } = await ReplayGuard.open({ clock: new ManualClock(START), path });
  t.is(recovery, null);
  t.is(guard.size, 0);
  t.is((await stat(path)).mode & 0o777, 0o600);
});

test('a directory that cannot hold the file fails at open with IO', async (t) => {
  const dir = await tempDir(t);
  await t.throwsAsync(ReplayGuard.open({ clock: new ManualClock(START), path: join(dir, 'missing', 'replay.bin') }), { instanceOf: CommandError, code: 'IO' });
});

test('entries are forgotten only once expired (plus the skew), and pruned from the file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  const clock = new ManualClock(START);
  const { guard } = await ReplayGuard.open({ clock, path });
  const a = nonce();
  t.deepEqual(await guard.admit(a, START, START + 1000), { ok: true });
  clock.advance(1000 + DEFAULT_MAX_SKEW_MS - 1);
  t.true((await ReplayGuard.open({ clock, path })).guard.has(a));
  clock.advance(1);
  t.false((await ReplayGuard.open({ clock, path })).guard.has(a));
});

test('a clock stepped back after a nonce was pruned cannot bring its command back (the horizon)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  const clock = new ManualClock(START);
  const op = makeOperator('secp256k1');
  const first = await agent(clock, path, op);
  const ran = command(op, clock, 1000);
  t.is(reasonOf(await first.verifier.verify(ran)), 'ok');
  // Later, another command prunes the expired nonce, and the horizon moves past its expiry.
  clock.advance(1000 + DEFAULT_MAX_SKEW_MS);
  t.is(reasonOf(await first.verifier.verify(command(op, clock))), 'ok');
  t.is(first.guard.size, 1);
  t.is(first.guard.horizon, START + 1000);
  // A power cut; the board comes back with its clock 30.5 s behind (an old saved time): `ran` looks unexpired.
  const back = new ManualClock(START + 500);
  const second = await agent(back, path, op);
  t.is(second.guard.horizon, START + 1000);
  t.is(reasonOf(await second.verifier.verify(ran)), 'REPLAYED');
  // A new command that expires after the horizon still runs.
  t.is(reasonOf(await second.verifier.verify(command(op, back, 1000))), 'ok');
});

const damages: readonly (readonly [string, (data: Uint8Array, nonce: Uint8Array) => Uint8Array])[] = [
  ['garbage', () => new TextEncoder().encode('not a replay file')],
  ['truncated', (data) => data.subarray(0, -3)],
  ['empty', () => new Uint8Array(0)],
  [
    'a flipped bit in a nonce',
    (data, nonce) => {
      const out = data.slice();
      const at = indexOf(out, nonce);
      if (at < 0) throw new Error('nonce not found in the replay file');
      out[at + 3]! ^= 0x01;
      return out;
    },
  ],
];

for (const [what, damage] of damages) {
  test(`a damaged file (${what}) is moved aside and a watermark refuses every command that may have run`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'replay.bin');
    const clock = new ManualClock(START);
    const op = makeOperator('ed25519');
    const before = await agent(clock, path, op);
    const ran = command(op, clock);
    const accepted = await before.verifier.verify(ran);
    if (!accepted.ok) return t.fail(accepted.message);
    const damaged = damage(await readFile(path), accepted.command.nonce);
    await writeFile(path, damaged);

    clock.advance(5000);
    const recoveredAt = clock.now();
    const after = await agent(clock, path, op);
    t.not(after.recovery, null);
    t.is(after.recovery!.error.code, 'CORRUPT_REPLAY_FILE');
    t.is(after.recovery!.movedTo, path + CORRUPT_SUFFIX);
    t.true((await readFile(path + CORRUPT_SUFFIX)).equals(damaged), "the damaged file is kept as it was");
    const watermark = recoveredAt + DEFAULT_MAX_LIFETIME_MS + DEFAULT_MAX_SKEW_MS;
    t.is(after.recovery!.watermark, watermark);
    t.is(after.guard.watermark, watermark);

    // The command that ran before the loss is still refused, and so is a fresh one issued now.
    t.is(reasonOf(await after.verifier.verify(ran)), 'REPLAYED');
    t.is(reasonOf(await after.verifier.verify(command(op, clock))), 'REPLAYED');
    // The watermark survives another restart.
    const again = await agent(clock, path, op);
    t.is(again.recovery, null);
    t.is(again.guard.watermark, watermark);
    // Once the agent's clock reaches watermark - skew, a command issued at the watermark is accepted,
    // and one issued a millisecond before is not.
    clock.advance(watermark - DEFAULT_MAX_SKEW_MS - clock.now());
    const justBefore = new ManualClock(watermark - 1);
    const atMark = new ManualClock(watermark);
    t.is(reasonOf(await again.verifier.verify(command(op, justBefore))), 'REPLAYED');
    t.is(reasonOf(await again.verifier.verify(command(op, atMark))), 'ok');
  });
}

test("onCorrupt: 'throw' refuses to open a damaged file, leaving it in place", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  await writeFile(path, 'damaged');
  await t.throwsAsync(ReplayGuard.open({ clock: new ManualClock(START), path, onCorrupt: 'throw' }), {
    instanceOf: CommandError,
    code: 'CORRUPT_REPLAY_FILE',
    message: /replay\.bin/,
  });
  t.is(await readFile(path, 'utf8'), 'damaged');
});

test('a full cache refuses new commands (REPLAY_CACHE_FULL) until entries expire', async (t) => {
  const clock = new ManualClock(START);
  const op = makeOperator('secp256k1');
  const { guard } = await ReplayGuard.open({ clock, capacity: 2 });
  const verifier = new CommandVerifier({ fleet: FLEET, peerId: PEER_ID, operators: [op.key], clock, replay: guard });
  t.is(reasonOf(await verifier.verify(command(op, clock, 1000))), 'ok');
  t.is(reasonOf(await verifier.verify(command(op, clock, 1000))), 'ok');
  const third = command(op, clock, 60_000);
  t.is(reasonOf(await verifier.verify(third)), 'REPLAY_CACHE_FULL');
  clock.advance(1000 + DEFAULT_MAX_SKEW_MS);
  // The refusal did not use up its nonce either.
  t.is(reasonOf(await verifier.verify(third)), 'ok');
  t.is(guard.size, 1);
});

test('a write that fails refuses the command (REPLAY_STORE_FAILED) and forgets its nonce', async (t) => {
  const dir = await tempDir(t);
  const sub = join(dir, 'state');
  await mkdir(sub);
  const path = join(sub, 'replay.bin');
  const clock = new ManualClock(START);
  const op = makeOperator('secp256k1');
  const { guard, verifier } = await agent(clock, path, op);
  await rm(sub, { recursive: true });
  const bytes = command(op, clock);
  const v = await verifier.verify(bytes);
  t.is(reasonOf(v), 'REPLAY_STORE_FAILED');
  if (!v.ok) t.regex(v.message, /replay\.bin/);
  t.is(guard.size, 0);
  await mkdir(sub);
  t.is(reasonOf(await verifier.verify(bytes)), 'ok');
  t.is(reasonOf(await (await agent(clock, path, op)).verifier.verify(bytes)), 'REPLAYED');
});

test('admissions made together are written together and all survive a reload', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'replay.bin');
  const clock = new ManualClock(START);
  const { guard } = await ReplayGuard.open({ clock, path });
  const nonces = Array.from({ length: 20 }, nonce);
  const results = await Promise.all(nonces.map((n) => guard.admit(n, START, START + 60_000)));
  t.true(results.every((r) => r.ok));
  const reloaded = (await ReplayGuard.open({ clock, path })).guard;
  t.is(reloaded.size, 20);
  for (const n of nonces) t.true(reloaded.has(n));
});

test('a closed guard refuses admissions with CLOSED', async (t) => {
  const { guard } = await ReplayGuard.open({ clock: new ManualClock(START) });
  await guard.close();
  await t.throwsAsync(guard.admit(nonce(), START, START + 1), { instanceOf: CommandError, code: 'CLOSED' });
});

test('bad options and arguments are BAD_ARGUMENT', async (t) => {
  const clock = new ManualClock(START);
  for (const opts of [{ clock, capacity: 0 }, { clock, capacity: 1.5 }, { clock, maxSkewMs: -1 }, { clock, path: '' }, { clock: {} }, { clock, onCorrupt: 'ignore' }]) {
    await t.throwsAsync(ReplayGuard.open(opts as never), { instanceOf: CommandError, code: 'BAD_ARGUMENT' }, JSON.stringify(opts));
  }
  const { guard } = await ReplayGuard.open({ clock });
  await t.throwsAsync(guard.admit(new Uint8Array(15), START, START + 1), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
  await t.throwsAsync(guard.admit(nonce(), -1, START + 1), { instanceOf: CommandError, code: 'BAD_ARGUMENT' });
  // A verifier allowing longer lifetimes than its guard remembers would leave a gap.
  const op = makeOperator('secp256k1');
  t.throws(
    () => new CommandVerifier({ fleet: FLEET, peerId: PEER_ID, operators: [op.key], clock, replay: guard, maxLifetimeMs: DEFAULT_MAX_LIFETIME_MS + 1 }),
    { instanceOf: CommandError, code: 'BAD_ARGUMENT' },
  );
});
