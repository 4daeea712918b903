import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import test from 'ava';
import fc from 'fast-check';
import { DurableQueue, LogError, type DurableQueueOptions, type PushResult } from '../../src/store/index.js';
import { encodeRecord, fileHeader } from '../../src/store/format.js';
import { pseudoBytes, tempDir } from './helpers.js';

// The queue's record layout, written out independently of queue.ts (docs/queue.md).
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const rec = {
  base: (nextSeq = 1, droppable = 0, kept = 0, version = 1) => Buffer.concat([Buffer.from([1, version]), Buffer.alloc(16, 0xab), u64(nextSeq), u64(droppable), u64(kept)]),
  push: (seq: number, droppable: boolean, payload: Uint8Array) => Buffer.concat([Buffer.from([2, droppable ? 1 : 0]), u64(seq), payload]),
  ack: (seq: number) => Buffer.concat([Buffer.from([3]), u64(seq)]),
  drop: (seq: number) => Buffer.concat([Buffer.from([4]), u64(seq)]),
  refuse: (seq: number) => Buffer.concat([Buffer.from([5]), u64(seq)]),
};
/** A log file holding these queue records (the log's own checksums are valid). */
const logFile = (records: readonly Uint8Array[]): Buffer => Buffer.concat([fileHeader(), ...records.map(encodeRecord)]);

interface Seen {
  seq: number;
  droppable: boolean;
  payload: string;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const live = (q: DurableQueue): Seen[] => q.peek(q.size).map((e) => ({ seq: e.seq, droppable: e.droppable, payload: hex(e.payload) }));
const kept = { droppable: false } as const;
const droppable = { droppable: true } as const;
const opts = (o: Partial<DurableQueueOptions> = {}): DurableQueueOptions => ({ maxEntries: 1000, maxBytes: 1_000_000, ...o });

test('entries come out in push order with rising seqs; ack removes up to and including a seq', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts());
  t.regex(q.id, /^[0-9a-f]{32}$/);
  const payloads = [pseudoBytes(1, 10), new Uint8Array(0), pseudoBytes(2, 300), pseudoBytes(3, 1)];
  const results: PushResult[] = [];
  for (const [i, p] of payloads.entries()) results.push(await q.push(p, i % 2 === 0 ? kept : droppable));
  t.deepEqual(results.map((r) => r.seq), [1, 2, 3, 4]);
  t.true(results.every((r) => r.stored && r.evicted === 0));
  t.is(q.size, 4);
  t.is(q.bytes, 311);
  t.deepEqual(live(q), payloads.map((p, i) => ({ seq: i + 1, droppable: i % 2 === 1, payload: hex(p) })));
  t.deepEqual(q.peek(2).map((e) => e.seq), [1, 2]);
  t.deepEqual(q.peek(0), []);

  t.is(await q.ack(2), 2);
  t.deepEqual(q.peek(10).map((e) => e.seq), [3, 4]);
  t.is(q.bytes, 301);
  t.is(await q.ack(2), 0, 'acking an old seq again removes nothing');
  t.is(await q.ack(0), 0);
  const err = await t.throwsAsync(q.ack(5), { instanceOf: LogError });
  t.is(err?.code, 'BAD_ARGUMENT', 'a seq never handed out');
  t.is(await q.ack(4), 2);
  t.is(q.size, 0);
  t.is(q.bytes, 0);
  await q.close();
});

test('peek hands out copies and shows a push only once it is durable', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts());
  const buf = Uint8Array.of(1, 2, 3);
  const pending = q.push(buf, kept);
  buf.fill(9);
  t.deepEqual(q.peek(5), [], 'not yet durable: a crash now could give its seq to another payload');
  t.is(q.size, 1, 'but it counts against the bounds at once');
  await pending;
  const [entry] = q.peek(5);
  t.deepEqual([...entry!.payload], [1, 2, 3], 'push copied its payload');
  entry!.payload.fill(0);
  t.deepEqual([...q.peek(1)[0]!.payload], [1, 2, 3], 'peek returned a copy');
  await q.close();
});

test('concurrent pushes keep call order and resolve in it', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts());
  const payloads = Array.from({ length: 150 }, (_, i) => pseudoBytes(i + 1, (i * 37) % 500));
  const order: number[] = [];
  const results = await Promise.all(payloads.map((p) => q.push(p, kept).then((r) => (order.push(r.seq), r))));
  t.deepEqual(results.map((r) => r.seq), payloads.map((_, i) => i + 1));
  t.deepEqual(order, results.map((r) => r.seq));
  t.deepEqual(live(q).map((e) => e.payload), payloads.map(hex));
  await q.close();
});

test('bounded by entries: the oldest droppable entries go first', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts({ maxEntries: 3 }));
  for (let i = 0; i < 3; i++) await q.push(Uint8Array.of(i), droppable);
  const r = await q.push(Uint8Array.of(3), droppable);
  t.deepEqual(r, { seq: 4, stored: true, evicted: 1 });
  t.deepEqual(live(q).map((e) => e.seq), [2, 3, 4]);
  t.deepEqual(q.dropped, { droppable: 1, kept: 0 });
  await q.close();
});

test('bounded by bytes: as many oldest droppable entries go as needed', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts({ maxBytes: 100 }));
  for (let i = 0; i < 4; i++) await q.push(new Uint8Array(25), droppable); // 100 bytes: full
  t.is(q.bytes, 100);
  const r = await q.push(new Uint8Array(60), droppable);
  t.deepEqual(r, { seq: 5, stored: true, evicted: 3 });
  t.deepEqual(live(q).map((e) => e.seq), [4, 5]);
  t.is(q.bytes, 85);
  t.deepEqual(q.dropped, { droppable: 3, kept: 0 });
  await q.close();
});

test('droppable entries are dropped first, oldest first, then the oldest kept ones; counters say which', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts({ maxEntries: 4 }));
  // seq: 1 kept, 2 droppable, 3 kept, 4 droppable
  await q.push(Uint8Array.of(1), kept);
  await q.push(Uint8Array.of(2), droppable);
  await q.push(Uint8Array.of(3), kept);
  await q.push(Uint8Array.of(4), droppable);
  t.deepEqual(await q.push(Uint8Array.of(5), kept), { seq: 5, stored: true, evicted: 1 });
  t.deepEqual(live(q).map((e) => e.seq), [1, 3, 4, 5], 'the oldest droppable (2) went, not the older kept (1)');
  t.deepEqual(await q.push(Uint8Array.of(6), kept), { seq: 6, stored: true, evicted: 1 });
  t.deepEqual(live(q).map((e) => e.seq), [1, 3, 5, 6]);
  t.deepEqual(q.dropped, { droppable: 2, kept: 0 });
  t.deepEqual(await q.push(Uint8Array.of(7), kept), { seq: 7, stored: true, evicted: 1 });
  t.deepEqual(live(q).map((e) => e.seq), [3, 5, 6, 7], 'nothing droppable left: the oldest kept (1) went');
  t.deepEqual(q.dropped, { droppable: 2, kept: 1 });
  await q.close();
});

test('a droppable push meeting a queue full of kept entries is dropped itself, evicting nothing', async (t) => {
  const dir = await tempDir(t);
  const q = await DurableQueue.open(join(dir, 'q.log'), opts({ maxEntries: 3, maxBytes: 100 }));
  await q.push(new Uint8Array(10), droppable);
  await q.push(new Uint8Array(45), kept);
  await q.push(new Uint8Array(45), kept);
  // Room could only come from the kept entries (the droppable one frees 10 bytes, 50 are needed).
  t.deepEqual(await q.push(new Uint8Array(50), droppable), { seq: 4, stored: false, evicted: 0 });
  t.deepEqual(live(q).map((e) => e.seq), [1, 2, 3], 'the smaller droppable entry was not dropped in vain');
  t.deepEqual(q.dropped, { droppable: 1, kept: 0 });
  t.deepEqual(await q.push(new Uint8Array(5), droppable), { seq: 5, stored: true, evicted: 1 }, 'seqs go on past the refused one');
  t.deepEqual(live(q).map((e) => e.seq), [2, 3, 5]);
  await q.close();
  const again = await DurableQueue.open(join(dir, 'q.log'), opts({ maxEntries: 3, maxBytes: 100 }));
  t.deepEqual(again.dropped, { droppable: 2, kept: 0 }, 'drops are counted across restarts');
  t.is((await again.push(new Uint8Array(0), droppable)).seq, 6);
  await again.close();
});

test('bad arguments are refused with precise LogErrors', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const bad: unknown[] = [
    undefined,
    {},
    { maxEntries: 0, maxBytes: 10 },
    { maxEntries: 1.5, maxBytes: 10 },
    { maxEntries: 10, maxBytes: -1 },
    { maxEntries: 10, maxBytes: 10, maxRecordBytes: 11 },
    { maxEntries: 10, maxBytes: 10, compactSlackBytes: -1 },
  ];
  for (const o of bad) {
    const err = await t.throwsAsync(DurableQueue.open(path, o as DurableQueueOptions), { instanceOf: LogError });
    t.is(err?.code, 'BAD_ARGUMENT', JSON.stringify(o));
  }
  t.is((await t.throwsAsync(DurableQueue.open('', opts()), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');

  const q = await DurableQueue.open(path, opts({ maxBytes: 100, maxRecordBytes: 50 }));
  const tooLarge = await t.throwsAsync(q.push(new Uint8Array(51), kept), { instanceOf: LogError });
  t.is(tooLarge?.code, 'TOO_LARGE');
  t.is((await t.throwsAsync(q.push('x' as unknown as Uint8Array, kept), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(q.push(new Uint8Array(1), {} as { droppable: boolean }), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(q.ack(-1), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(q.ack(Number.NaN), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => q.peek(-1), { instanceOf: LogError })?.code, 'BAD_ARGUMENT');
  t.is(q.size, 0, 'nothing refused was queued');
  await q.close();

  const whole = await DurableQueue.open(join(dir, 'r.log'), opts({ maxBytes: 100 }));
  t.is((await t.throwsAsync(whole.push(new Uint8Array(101), kept), { instanceOf: LogError }))?.code, 'TOO_LARGE', 'larger than maxBytes');
  t.true((await whole.push(new Uint8Array(100), kept)).stored);
  await whole.close();
});

test('after close: push, ack and peek say CLOSED; close is idempotent; a second opener is LOCKED', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const q = await DurableQueue.open(path, opts());
  t.is((await t.throwsAsync(DurableQueue.open(path, opts()), { instanceOf: LogError }))?.code, 'LOCKED');
  const last = q.push(Uint8Array.of(1), kept);
  await Promise.all([q.close(), q.close()]);
  t.true((await last).stored, 'close waited for the pending push');
  t.is((await t.throwsAsync(q.push(Uint8Array.of(1), kept), { instanceOf: LogError }))?.code, 'CLOSED');
  t.is((await t.throwsAsync(q.ack(1), { instanceOf: LogError }))?.code, 'CLOSED');
  t.is(t.throws(() => q.peek(1), { instanceOf: LogError })?.code, 'CLOSED');
});

test('reopening restores the exact live entries, id and counters, and seqs continue', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const o = opts({ maxEntries: 6, maxBytes: 500 });
  const q = await DurableQueue.open(path, o);
  for (let i = 0; i < 12; i++) await q.push(pseudoBytes(i + 1, 20 + i * 7), i % 3 === 0 ? kept : droppable);
  await q.ack(8);
  const before = { id: q.id, live: live(q), dropped: q.dropped, size: q.size, bytes: q.bytes };
  t.true(before.dropped.droppable > 0);
  await q.close();

  const again = await DurableQueue.open(path, o);
  t.deepEqual({ id: again.id, live: live(again), dropped: again.dropped, size: again.size, bytes: again.bytes }, before);
  t.is(again.recovery.dropped, null);
  t.is((await again.push(Uint8Array.of(1), kept)).seq, 13);
  await again.close();
});

test('reopening with smaller limits drops by the same policy, durably', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const q = await DurableQueue.open(path, opts());
  for (let i = 1; i <= 6; i++) await q.push(Uint8Array.of(i), i % 2 === 0 ? kept : droppable);
  await q.close();
  const small = await DurableQueue.open(path, opts({ maxEntries: 2 }));
  t.deepEqual(live(small).map((e) => e.seq), [4, 6], 'droppable 1, 3, 5 first, then kept 2');
  t.deepEqual(small.dropped, { droppable: 3, kept: 1 });
  await small.close();
  const big = await DurableQueue.open(path, opts());
  t.deepEqual(live(big).map((e) => e.seq), [4, 6], 'the drops were written');
  await big.close();
});

test('crash: a log cut at any byte recovers exactly the state after the last whole record', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const o = opts();
  const q = await DurableQueue.open(path, o);
  // Each step writes one record (no evictions), so each file length maps to one state.
  const states: { end: number; live: Seen[]; next: number }[] = [];
  let next = 1;
  const note = async (): Promise<void> => {
    states.push({ end: (await stat(path)).size, live: live(q), next });
  };
  await note();
  for (let i = 0; i < 14; i++) {
    if (i % 4 === 3) await q.ack(next - 3);
    else next = (await q.push(pseudoBytes(i + 1, 3 + i * 5), i % 2 === 0 ? kept : droppable)).seq + 1;
    await note();
  }
  const id = q.id;
  await q.close();
  const full = await readFile(path);
  t.is(full.length, states.at(-1)!.end);

  const cut = join(dir, 'cut.log');
  for (let n = 8; n <= full.length; n++) {
    await writeFile(cut, full.subarray(0, n));
    const r = await DurableQueue.open(cut, o);
    const expect = states.filter((s) => s.end <= n).at(-1);
    if (expect === undefined) {
      t.is(r.size, 0);
      t.not(r.id, id, `cut at ${n}: no base record survived, so this is a new queue`);
    } else {
      t.is(r.id, id);
      t.deepEqual(live(r), expect.live, `cut at ${n}`);
      t.is(r.recovery.dropped === null, expect.end === n, `cut at ${n}: a torn tail is reported`);
      t.is((await r.push(Uint8Array.of(0), kept)).seq, expect.next, `cut at ${n}: seqs continue`);
    }
    await r.close();
  }
});

test('crash: copies of the file taken while pushes land recover a prefix of them', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const q = await DurableQueue.open(path, opts());
  const payloads = Array.from({ length: 240 }, (_, i) => pseudoBytes(i + 1, 40 + ((i * 53) % 700)));
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < payloads.length; i += 8) {
      const wave = payloads.slice(i, i + 8).map((p) => q.push(p, kept));
      await Promise.all(wave);
    }
    writing = false;
  })();
  const copies: Buffer[] = [];
  while (writing) {
    copies.push(await readFile(path));
    await nextTurn();
  }
  await writer;
  await q.close();
  copies.push(await readFile(path));
  t.log(`${copies.length} copies, ${new Set(copies.map((c) => c.length)).size} distinct lengths`);

  const copy = join(dir, 'copy.log');
  for (const bytes of copies) {
    await writeFile(copy, bytes);
    const r = await DurableQueue.open(copy, opts());
    const got = live(r);
    t.deepEqual(got, payloads.slice(0, got.length).map((p, i) => ({ seq: i + 1, droppable: false, payload: hex(p) })));
    await r.close();
  }
});

test('a record that passed the log checksum but is not a queue record is refused as CORRUPT, naming its index', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const ok = [rec.base(), rec.push(1, false, Uint8Array.of(7))];
  const cases: [string, Uint8Array[], number][] = [
    ['empty record', [...ok, new Uint8Array(0)], 2],
    ['unknown type', [...ok, Buffer.from([9, 0, 0])], 2],
    ['short ack', [...ok, rec.ack(1).subarray(0, 8)], 2],
    ['long drop', [...ok, Buffer.concat([rec.drop(1), Buffer.from([0])])], 2],
    ['short push', [...ok, rec.push(2, true, new Uint8Array(0)).subarray(0, 9)], 2],
    ['push flags', [...ok, Buffer.from([2, 3, ...u64(2)])], 2],
    ['seq above 2^53', [...ok, rec.ack(2 ** 53 + 2)], 2],
    ['no base first', [rec.push(1, false, Uint8Array.of(1))], 0],
    ['second base', [...ok, rec.base()], 2],
    ['short base', [rec.base().subarray(0, 41)], 0],
    ['seq going back', [...ok, rec.push(1, true, Uint8Array.of(1))], 2],
    ['refuse going back', [...ok, rec.refuse(1)], 2],
    ['ack of a seq never handed out', [...ok, rec.ack(2)], 2],
    ['drop of a non-oldest entry', [...ok, rec.push(2, false, Uint8Array.of(2)), rec.drop(2)], 3],
    ['drop of an acked entry', [...ok, rec.ack(1), rec.drop(1)], 3],
  ];
  for (const [name, records, index] of cases) {
    await writeFile(path, logFile(records));
    const err = await t.throwsAsync(DurableQueue.open(path, opts()), { instanceOf: LogError }, name);
    t.is(err?.code, 'CORRUPT', name);
    t.is(err?.index, index, name);
    t.true(err?.message.includes(`record ${index}`), name);
  }
  await writeFile(path, logFile([rec.base(1, 0, 0, 2)]));
  t.is((await t.throwsAsync(DurableQueue.open(path, opts()), { instanceOf: LogError }))?.code, 'VERSION');
  // The queue released the file: it can be opened again once fixed.
  await writeFile(path, logFile(ok));
  const q = await DurableQueue.open(path, opts());
  t.is(q.size, 1);
  await q.close();
});

test('a hand-written log in the documented layout replays as documented', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  await writeFile(
    path,
    logFile([
      rec.base(5, 10, 2), // as after a compaction: seqs 1-4 handed out before
      rec.push(3, false, Uint8Array.of(3)),
      rec.push(4, true, Uint8Array.of(4)),
      rec.push(5, true, Uint8Array.of(5)),
      rec.push(6, false, Uint8Array.of(6)),
      rec.drop(4), // oldest droppable
      rec.refuse(7),
      rec.ack(3),
      rec.push(8, true, Uint8Array.of(8)),
    ]),
  );
  const q = await DurableQueue.open(path, opts());
  t.is(q.id, 'ab'.repeat(16));
  t.deepEqual(live(q), [
    { seq: 5, droppable: true, payload: '05' },
    { seq: 6, droppable: false, payload: '06' },
    { seq: 8, droppable: true, payload: '08' },
  ]);
  t.deepEqual(q.dropped, { droppable: 12, kept: 2 });
  t.is((await q.push(new Uint8Array(0), kept)).seq, 9);
  await q.close();
});

test('compaction keeps the file bounded over many push/ack cycles, and the result reopens intact', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const o = opts({ maxEntries: 40, maxBytes: 3000, compactSlackBytes: 1024 });
  const q = await DurableQueue.open(path, o);
  // Live data at most: file header, base record, 40 push records, 3000 payload bytes.
  const maxLive = 8 + 12 + 42 + 40 * (12 + 10) + 3000;
  // One wave of 6 pushes (with their drops) may land after the threshold is crossed.
  const bound = 2 * maxLive + 1024 + 6 * (12 + 10 + 120 + 2 * (12 + 9)) + 12 + 9;
  let largest = 0;
  let seed = 1;
  for (let cycle = 0; cycle < 300; cycle++) {
    const wave = Array.from({ length: 6 }, (_, i) => q.push(pseudoBytes(seed++, 20 + ((seed * 31) % 100)), i % 3 === 0 ? kept : droppable));
    const results = await Promise.all(wave);
    // Leave a backlog of about 30 entries, so the queue runs near its limits and drops too.
    if (cycle % 3 !== 2 && results[5]!.seq > 30) await q.ack(results[5]!.seq - 30);
    largest = Math.max(largest, (await stat(path)).size);
  }
  t.log(`largest file ${largest} bytes (bound ${bound}), ${q.compactions} compactions, dropped ${JSON.stringify(q.dropped)}`);
  t.true(largest <= bound, `file grew to ${largest} bytes, bound ${bound}`);
  t.true(q.compactions >= 10);
  t.true(q.dropped.droppable > 0);
  const before = { id: q.id, live: live(q), dropped: q.dropped };
  await q.close();
  t.deepEqual(await readdir(dir), ['q.log'], 'no compaction file left behind');
  const again = await DurableQueue.open(path, o);
  t.deepEqual({ id: again.id, live: live(again), dropped: again.dropped }, before);
  t.is((await again.push(new Uint8Array(1), kept)).seq, seed);
  await again.close();
});

test('a compaction file left by a crash is removed on open and does not count', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.log');
  const q = await DurableQueue.open(path, opts());
  await q.push(Uint8Array.of(1), kept);
  await q.close();
  await writeFile(`${path}.compact`, logFile([rec.base(), rec.push(1, false, Uint8Array.of(2)), rec.push(2, false, Uint8Array.of(3))]));
  const again = await DurableQueue.open(path, opts());
  t.deepEqual(live(again).map((e) => e.payload), ['01']);
  t.deepEqual(await readdir(dir), ['q.log']);
  await again.close();
});

// ---------------------------------------------------------------------------
// Model test: the queue against a plain array with the same policy.

interface ModelEntry {
  seq: number;
  droppable: boolean;
  payload: Uint8Array;
}

class Model {
  entries: ModelEntry[] = [];
  next = 1;
  dropped = { droppable: 0, kept: 0 };
  constructor(readonly limits: { maxEntries: number; maxBytes: number }) {}

  get bytes(): number {
    return this.entries.reduce((n, e) => n + e.payload.length, 0);
  }

  push(payload: Uint8Array, droppable: boolean): PushResult {
    const seq = this.next++;
    const { maxEntries, maxBytes } = this.limits;
    const keptOnes = this.entries.filter((e) => !e.droppable);
    if (droppable && (keptOnes.length + 1 > maxEntries || keptOnes.reduce((n, e) => n + e.payload.length, 0) + payload.length > maxBytes)) {
      this.dropped.droppable += 1;
      return { seq, stored: false, evicted: 0 };
    }
    let evicted = 0;
    while (this.entries.length + 1 > maxEntries || this.bytes + payload.length > maxBytes) {
      const i = Math.max(0, this.entries.findIndex((e) => e.droppable));
      const [gone] = this.entries.splice(i, 1);
      if (gone!.droppable) this.dropped.droppable += 1;
      else this.dropped.kept += 1;
      evicted += 1;
    }
    this.entries.push({ seq, droppable, payload });
    return { seq, stored: true, evicted };
  }

  ack(seq: number): number {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.seq > seq);
    return before - this.entries.length;
  }
}

type Op = { t: 'push'; len: number; droppable: boolean } | { t: 'burst'; items: [number, boolean][] } | { t: 'ack'; pick: number } | { t: 'reopen' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('push' as const), len: fc.nat({ max: 40 }), droppable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('burst' as const), items: fc.array(fc.tuple(fc.nat({ max: 40 }), fc.boolean()), { minLength: 2, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('ack' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
);

test('model: random push/ack/reopen sequences match a plain in-memory queue', async (t) => {
  const dir = await tempDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({ maxEntries: fc.integer({ min: 1, max: 8 }), maxBytes: fc.integer({ min: 40, max: 200 }) }),
      fc.array(opArb, { maxLength: 30 }),
      async (limits, ops) => {
        // Slack 0: compaction runs whenever the file passes twice the live data, often mid-burst.
        const o = { ...limits, compactSlackBytes: 0 };
        const path = join(dir, `m${run++}.log`);
        let q = await DurableQueue.open(path, o);
        const id = q.id;
        const model = new Model(limits);
        let seed = 1;
        const check = (where: string): void => {
          const want = model.entries.map((e) => ({ seq: e.seq, droppable: e.droppable, payload: hex(e.payload) }));
          const got = live(q);
          if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${where}: entries ${JSON.stringify(got)} != model ${JSON.stringify(want)}`);
          if (q.size !== model.entries.length || q.bytes !== model.bytes) throw new Error(`${where}: size/bytes ${q.size}/${q.bytes}`);
          if (JSON.stringify(q.dropped) !== JSON.stringify(model.dropped)) throw new Error(`${where}: dropped ${JSON.stringify(q.dropped)} != ${JSON.stringify(model.dropped)}`);
        };
        try {
          for (const [i, op] of ops.entries()) {
            const where = `op ${i} ${JSON.stringify(op)}`;
            if (op.t === 'push') {
              const p = pseudoBytes(seed++, op.len);
              const got = await q.push(p, { droppable: op.droppable });
              const want = model.push(p, op.droppable);
              if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${where}: push ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
            } else if (op.t === 'burst') {
              const ps = op.items.map(([len]) => pseudoBytes(seed++, len));
              const got = await Promise.all(ps.map((p, j) => q.push(p, { droppable: op.items[j]![1] })));
              const want = ps.map((p, j) => model.push(p, op.items[j]![1]));
              if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${where}: burst ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
            } else if (op.t === 'ack') {
              if (model.next === 1) continue;
              const j = op.pick % (model.entries.length + 1);
              const seq = j < model.entries.length ? model.entries[j]!.seq : model.next - 1;
              const got = await q.ack(seq);
              const want = model.ack(seq);
              if (got !== want) throw new Error(`${where}: ack removed ${got}, model ${want}`);
            } else {
              await q.close();
              q = await DurableQueue.open(path, o);
              if (q.id !== id) throw new Error(`${where}: id changed`);
            }
            check(where);
          }
          await q.close();
          q = await DurableQueue.open(path, o);
          check('final reopen');
          const next = await q.push(new Uint8Array(0), kept);
          if (next.seq !== model.next) throw new Error(`seq after reopen ${next.seq}, model ${model.next}`);
        } finally {
          await q.close();
        }
      },
    ),
    { numRuns: 60 },
  );
  t.pass();
});

test('fuzz: any log content either replays or is refused with a LogError, and a replayed queue is within its limits', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f.log');
  const valid = fc.oneof(
    fc.tuple(fc.nat({ max: 12 }), fc.boolean(), fc.uint8Array({ maxLength: 12 })).map(([s, d, p]) => rec.push(s, d, p)),
    fc.nat({ max: 12 }).map(rec.ack),
    fc.nat({ max: 12 }).map(rec.drop),
    fc.nat({ max: 12 }).map(rec.refuse),
    fc.tuple(fc.nat({ max: 12 }), fc.nat({ max: 5 })).map(([s, d]) => rec.base(s, d, d)),
  );
  const record = fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 50 }) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([r, at, b]) => (r.length === 0 ? r : Buffer.from(r).fill(b, at % r.length, (at % r.length) + 1))) },
  );
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.array(record, { maxLength: 10 }), fc.integer({ min: 1, max: 4 }), async (withBase, records, maxEntries) => {
      await writeFile(path, logFile(withBase ? [rec.base(), ...records] : records));
      let q: DurableQueue;
      try {
        q = await DurableQueue.open(path, opts({ maxEntries, maxBytes: 20 }));
      } catch (err) {
        if (!(err instanceof LogError) || !['CORRUPT', 'VERSION'].includes(err.code)) throw err;
        return;
      }
      try {
        const seqs = live(q).map((e) => e.seq);
        if (q.size > maxEntries || q.bytes > 20) throw new Error('over the limits');
        if (!seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)) throw new Error(`seqs out of order ${seqs.join()}`);
        const next = await q.push(new Uint8Array(0), kept);
        if (seqs.some((s) => s >= next.seq)) throw new Error('a seq was handed out twice');
      } finally {
        await q.close();
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});
