import { readFile, readdir, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import test from 'ava';
import { AuditError, AuditTrail, verifyAuditDir } from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock/index.js';
import { AppendLog } from '../../src/store/index.js';
import { decodeCanonical, encodeCanonical } from '../../src/wire/index.js';
import { HEAD, LOG, entries, records, tempDir, trailWith } from './helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('entries chain from seq 0: prev is the previous hash, hash is SHA-256 over the domain and canonical CBOR', async (t) => {
  const dir = join(await tempDir(t), 'audit');
  const clock = new ManualClock(1000);
  const trail = await AuditTrail.open(dir, { clock });
  t.deepEqual(trail.head, { seq: -1, hash: new Uint8Array(32) });
  const first = await trail.append('agent.start', { pid: 42 });
  clock.advance(5);
  const second = await trail.append('key.rotate', { id: Uint8Array.of(1, 2) });
  await trail.close();

  t.like(first, { seq: 0, ts: 1000, kind: 'agent.start', data: { pid: 42 } });
  t.deepEqual(first.prev, new Uint8Array(32));
  t.like(second, { seq: 1, ts: 1005, kind: 'key.rotate' });
  t.deepEqual(second.prev, first.hash);
  const body = encodeCanonical({ seq: 0, ts: 1000, kind: 'agent.start', data: { pid: 42 }, prev: new Uint8Array(32) });
  const expected = sha256(Buffer.concat([Buffer.from('edge-agent/audit-entry/v1\0'), body]));
  t.is(hex(first.hash), hex(expected), 'the hash is computed as documented');
  const stored = await records(dir);
  t.is(stored.length, 2);
  t.is(hex(stored[0]!), hex(encodeCanonical({ ...first })), 'each record is the canonical CBOR of one entry');
});

test('a clean trail verifies, and the report names its head', async (t) => {
  const dir = await tempDir(t);
  await trailWith(dir, 40);
  const report = await verifyAuditDir(dir);
  const last = (await entries(dir)).at(-1)!;
  t.deepEqual(report, { ok: true, entries: 40, lastSeq: 39, headHash: last.hash });
});

test('the trail survives a reopen and continues the chain', async (t) => {
  const dir = await tempDir(t);
  await trailWith(dir, 5);
  const trail = await AuditTrail.open(dir, { clock: new ManualClock(7) });
  t.is(trail.head.seq, 4);
  t.is(trail.recovery.dropped, null);
  const next = await trail.append('agent.stop', {});
  t.is(next.seq, 5);
  t.deepEqual(next.prev, (await entries(dir))[4]!.hash);
  await trail.close();
  t.like(await verifyAuditDir(dir), { ok: true, entries: 6, lastSeq: 5 });
});

test('concurrent appends chain in call order', async (t) => {
  const dir = await tempDir(t);
  const trail = await AuditTrail.open(dir, { clock: new ManualClock(), checkpointEvery: 7 });
  const made = await Promise.all(Array.from({ length: 50 }, (_, i) => trail.append('burst', { i })));
  await trail.close();
  t.deepEqual(made.map((e) => e.seq), made.map((_, i) => i));
  t.deepEqual((await entries(dir)).map((e) => e.data.i), made.map((_, i) => i));
  t.like(await verifyAuditDir(dir), { ok: true, entries: 50 });
});

test('the head checkpoint is written every N appends and on close, atomically, leaving no temporary file', async (t) => {
  const dir = await tempDir(t);
  const trail = await AuditTrail.open(dir, { clock: new ManualClock(), checkpointEvery: 3 });
  const headSeq = async (): Promise<number> => (decodeCanonical(await readFile(join(dir, HEAD))) as { seq: number }).seq;
  t.is(await headSeq(), -1, 'a new trail starts with an empty checkpoint');
  await trail.append('a', {});
  await trail.append('a', {});
  t.is(await headSeq(), -1);
  await trail.append('a', {});
  t.is(await headSeq(), 2);
  await trail.append('a', {});
  t.is(await headSeq(), 2);
  await trail.close();
  t.is(await headSeq(), 3);
  t.deepEqual((await readdir(dir)).sort(), [HEAD, LOG]);
  t.is((await stat(dir)).mode & 0o777, 0o700);
  t.is((await stat(join(dir, LOG))).mode & 0o777, 0o600);
  t.is((await stat(join(dir, HEAD))).mode & 0o777, 0o600);
});

test('a torn tail from a crash is cut, reported, and recorded in the trail itself', async (t) => {
  const dir = await tempDir(t);
  await trailWith(dir, 3);
  const size = (await stat(join(dir, LOG))).size;
  await truncate(join(dir, LOG), size - 5); // the last entry's write was cut short
  // Its checkpoint says seq 2, which is now gone: exactly what a cut looks like, so refused.
  t.is((await t.throwsAsync(AuditTrail.open(dir, { clock: new ManualClock() }), { instanceOf: AuditError }))?.code, 'TRUNCATED');

  const dir2 = await tempDir(t);
  await trailWith(dir2, 3, 1);
  const trail = await AuditTrail.open(dir2, { clock: new ManualClock() });
  await trail.append('late', {}); // seq 3, checkpointed at once
  await trail.close();
  // Simulate a crash mid-append of seq 4: a partial record after the last checkpointed entry.
  const { log } = await AppendLog.open(join(dir2, LOG));
  await log.append(new Uint8Array(100));
  await log.close();
  await truncate(join(dir2, LOG), (await stat(join(dir2, LOG))).size - 40);
  const reopened = await AuditTrail.open(dir2, { clock: new ManualClock() });
  t.like(reopened.recovery.dropped, { bytes: 72, fault: 'past-end', torn: true });
  t.is(reopened.head.seq, 4);
  await reopened.close();
  const last = (await entries(dir2)).at(-1)!;
  t.like(last, { seq: 4, kind: 'audit.torn-tail', data: { bytes: 72, fault: 'past-end' } });
  t.like(await verifyAuditDir(dir2), { ok: true, entries: 5 });
});

test('bad arguments, a closed trail and a second open are refused with AuditError', async (t) => {
  const dir = await tempDir(t);
  const clock = new ManualClock();
  const code = async (p: Promise<unknown>): Promise<string | undefined> => (await t.throwsAsync(p, { instanceOf: AuditError }))?.code;
  t.is(await code(AuditTrail.open('', { clock })), 'BAD_ARGUMENT');
  t.is(await code(AuditTrail.open(dir, {} as never)), 'BAD_ARGUMENT');
  t.is(await code(AuditTrail.open(dir, { clock, checkpointEvery: 0 })), 'BAD_ARGUMENT');
  const trail = await AuditTrail.open(dir, { clock });
  t.is(await code(AuditTrail.open(dir, { clock })), 'LOCKED');
  for (const kind of ['', 'Agent.Start', 'a..b', 'x'.repeat(65), 7]) t.is(await code(trail.append(kind as string, {})), 'BAD_ARGUMENT');
  for (const data of [null, [], new Map(), 'text']) t.is(await code(trail.append('ok', data as never)), 'BAD_ARGUMENT');
  t.is(await code(trail.append('ok', { f: () => 1 })), 'BAD_ARGUMENT');
  t.is(await code(trail.append('ok', { big: 'x'.repeat(70_000) })), 'TOO_LARGE');
  t.is(trail.head.seq, -1, 'refused appends take no seq');
  await trail.close();
  t.is(await code(trail.append('ok', {})), 'CLOSED');
  const other = await AuditTrail.open(dir, { clock: { now: () => Number.NaN, setTimer: clock.setTimer.bind(clock) } });
  t.is(await code(other.append('ok', {})), 'BAD_ARGUMENT');
  await other.close();
  t.like(await verifyAuditDir(dir), { ok: true, entries: 0, lastSeq: -1 });
});

test('verifyAuditDir refuses a directory that holds no trail', async (t) => {
  const dir = await tempDir(t);
  t.is((await t.throwsAsync(verifyAuditDir(dir), { instanceOf: AuditError }))?.code, 'NOT_FOUND');
  t.is((await t.throwsAsync(verifyAuditDir(join(dir, 'none')), { instanceOf: AuditError }))?.code, 'NOT_FOUND');
  t.is((await t.throwsAsync(verifyAuditDir(''), { instanceOf: AuditError }))?.code, 'BAD_ARGUMENT');
});
