import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { AuditError, type AuditFault, AuditTrail, verifyAuditDir } from '../../src/audit/index.js';
import { type AuditEntry, encodeEntry } from '../../src/audit/entry.js';
import { ManualClock } from '../../src/clock/index.js';
import { encodableJson } from '../helpers/arbitraries.js';
import { AppendLog } from '../../src/store/index.js';
import { HEAD, LOG, entries, records, rehash, rewrite, tamper, tempDir, trailWith } from './helpers.js';

const N = 10;

/** Both verifyAuditDir and AuditTrail.open must name this fault at this seq. */
async function detects(t: ExecutionContext, dir: string, fault: AuditFault, seq: number): Promise<void> {
  const report = await verifyAuditDir(dir);
  t.like(report, { ok: false, fault, firstBadSeq: seq });
  if (!report.ok) t.true(report.reason.startsWith(`${fault.toLowerCase()}: `), report.reason);
  const err = await t.throwsAsync(AuditTrail.open(dir, { clock: new ManualClock() }), { instanceOf: AuditError });
  t.is(err?.code, fault);
  t.is(err?.seq, seq);
  t.true(err?.message.includes(`broken at seq ${seq}`), err?.message);
}

async function trail(t: ExecutionContext, n = N): Promise<string> {
  const dir = await tempDir(t);
  await trailWith(dir, n);
  return dir;
}

test('an edited entry is found by its hash', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.map((e) => (e.seq === 4 ? { ...e, data: { ...e.data, note: 'nothing happened' } } : e)));
  await detects(t, dir, 'EDITED', 4);
});

test('an edited entry whose hash was recomputed is found by the next link', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.map((e) => (e.seq === 4 ? rehash({ ...e, kind: 'nothing.happened' }) : e)));
  await detects(t, dir, 'UNLINKED', 5);
});

test('a rewritten last entry, rehashed, is found by the checkpoint', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.map((e) => (e.seq === N - 1 ? rehash({ ...e, ts: 0 }) : e)));
  await detects(t, dir, 'FORKED', N - 1);
});

test('a removed entry leaves a gap', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.filter((e) => e.seq !== 3));
  await detects(t, dir, 'REMOVED', 3);
  const first = await trail(t);
  await tamper(first, (es) => es.slice(2));
  await detects(t, first, 'REMOVED', 0);
});

test('a removed entry with the rest renumbered and rehashed breaks the link', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.filter((e) => e.seq !== 3).map((e) => (e.seq > 3 ? rehash({ ...e, seq: e.seq - 1 }) : e)));
  await detects(t, dir, 'UNLINKED', 3);
});

test('reordered entries are named at the first seq out of place', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => [...es.slice(0, 6), es[7]!, es[6]!, ...es.slice(8)]);
  await detects(t, dir, 'REORDERED', 6);
});

test('an inserted entry is found by its duplicate seq', async (t) => {
  const replay = await trail(t);
  await tamper(replay, (es) => [...es.slice(0, 5), es[2]!, ...es.slice(5)]); // an old entry replayed
  await detects(t, replay, 'INSERTED', 5);
  const ahead = await trail(t);
  await tamper(ahead, (es) => [...es.slice(0, 5), es[8]!, ...es.slice(5)]); // a later entry copied forward
  await detects(t, ahead, 'INSERTED', 5);
  // A forged entry that links correctly is indistinguishable from the original at
  // that seq; the fault shows where the two chains meet.
  const forged = await trail(t);
  await tamper(forged, (es) => [...es.slice(0, 5), rehash({ ...es[5]!, kind: 'forged' }), ...es.slice(5)]);
  await detects(t, forged, 'INSERTED', 6);
});

test('entries cut from the end are found by the checkpoint', async (t) => {
  const dir = await trail(t);
  await tamper(dir, (es) => es.slice(0, 7));
  await detects(t, dir, 'TRUNCATED', 7);
  const all = await trail(t);
  await rm(join(all, LOG));
  await detects(t, all, 'TRUNCATED', 0);
});

test('a missing or unreadable checkpoint is reported where the vouched-for chain ends', async (t) => {
  const dir = await trail(t);
  await rm(join(dir, HEAD));
  await detects(t, dir, 'CHECKPOINT', N);
  const garbled = await trail(t);
  await writeFile(join(garbled, HEAD), 'not cbor at all');
  await detects(t, garbled, 'CHECKPOINT', N);
});

test('a damaged log record is reported as CORRUPT at its seq', async (t) => {
  const dir = await trail(t);
  const path = join(dir, LOG);
  const sizes = (await records(dir)).map((r) => r.length + 12);
  const bytes = await readFile(path);
  bytes[8 + sizes[0]! + sizes[1]! + 12 + 3]! ^= 0x10; // a payload byte of seq 2, checksum not fixed
  await writeFile(path, bytes);
  await detects(t, dir, 'CORRUPT', 2);
});

test('a record that is not a canonical entry is MALFORMED', async (t) => {
  const dir = await trail(t);
  const recs = await records(dir);
  recs[3] = new TextEncoder().encode('{"seq": 3}');
  await rewrite(dir, recs);
  await detects(t, dir, 'MALFORMED', 3);
});

test('a cut torn mid-record at the end of an unchecked tail is not tampering', async (t) => {
  const dir = await trail(t);
  const path = join(dir, LOG);
  const { log } = await AppendLog.open(path);
  await log.append(new Uint8Array(50)); // the start of an append that never finished
  await log.close();
  const size = (await readFile(path)).length;
  await truncate(path, size - 10);
  t.like(await verifyAuditDir(dir), { ok: true, entries: N });
});

/** One field of one entry changed, the hash left as it was. */
const edits: fc.Arbitrary<(e: AuditEntry) => AuditEntry> = fc.oneof(
  fc.integer({ min: 1, max: 1000 }).map((d) => (e: AuditEntry) => ({ ...e, seq: e.seq + d })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((ts) => (e: AuditEntry) => ({ ...e, ts: ts === e.ts ? ts + 1 : ts })),
  fc.stringMatching(/^[a-z]{1,12}$/).map((k) => (e: AuditEntry) => ({ ...e, kind: k === e.kind ? `${k}x` : k })),
  fc.tuple(fc.string(), encodableJson()).map(([key, value]) => (e: AuditEntry) => ({ ...e, data: { ...e.data, [`k${key}`]: value } })),
  fc.nat({ max: 31 }).map((i) => (e: AuditEntry) => ({ ...e, prev: e.prev.map((b, j) => (j === i ? b ^ 1 : b)) })),
  fc.nat({ max: 31 }).map((i) => (e: AuditEntry) => ({ ...e, hash: e.hash.map((b, j) => (j === i ? b ^ 0x80 : b)) })),
);

test('fuzz: any single edit of any entry is detected at that entry', async (t) => {
  const base = await trail(t, 6);
  const original = await entries(base);
  const dir = await tempDir(t);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: original.length - 1 }), edits, async (at, edit) => {
      const edited = original.map((e, i) => (i === at ? edit(e) : e));
      await rewriteTrail(base, dir, edited);
      const report = await verifyAuditDir(dir);
      return !report.ok && report.firstBadSeq === at && (report.fault === 'EDITED' || report.fault === 'MALFORMED');
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test('fuzz: any single flipped byte in any record is detected at that record', async (t) => {
  const base = await trail(t, 6);
  const original = await records(base);
  const dir = await tempDir(t);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: original.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, pos, bits) => {
      const recs = original.map((r, i) => (i === at ? r.map((b, j) => (j === pos % r.length ? b ^ bits : b)) : r));
      await copyHead(base, dir);
      await rewrite(dir, recs);
      const report = await verifyAuditDir(dir);
      return !report.ok && report.firstBadSeq === at;
    }),
    { numRuns: 150 },
  );
  t.pass();
});

async function copyHead(from: string, to: string): Promise<void> {
  await writeFile(join(to, HEAD), await readFile(join(from, HEAD)));
}

async function rewriteTrail(from: string, to: string, es: AuditEntry[]): Promise<void> {
  await copyHead(from, to);
  await rewrite(to, es.map(encodeEntry));
}
