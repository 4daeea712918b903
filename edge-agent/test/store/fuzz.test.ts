import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import test from 'ava';
import fc from 'fast-check';
import { AppendLog, LogError, MAX_RECORD_LIMIT } from '../../src/store/index.js';
import { encodeRecord, fileHeader } from '../../src/store/format.js';
import { isTorn, walkAll } from '../../src/store/scan.js';
import type { ByteSource } from '../../src/store/source.js';
import { collect, pseudoBytes, same, tempDir } from './helpers.js';

/** A record header that passes its own checksum but may declare any length. */
function header(length: number, payloadCrc: number): Uint8Array {
  const out = Buffer.alloc(12);
  out.writeUInt32LE(length, 0);
  out.writeUInt32LE(payloadCrc, 4);
  out.writeUInt32LE(crc32(out.subarray(0, 8)), 8);
  return out;
}

/** Mostly small payloads, some larger than the scanner's 64 KiB read window. */
const payload = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 60_000, max: 70_000 })).map(([seed, n]) => pseudoBytes(seed, n)) },
);
const segment = fc.oneof(
  { weight: 4, arbitrary: payload.map(encodeRecord) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })).map(([len, crc]) => header(len, crc)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.nat({ max: 200 }).map((n) => new Uint8Array(n)) },
);
/** Files that start like a log and go on with records, lying headers, garbage and zeros. */
const logish = fc.array(segment, { maxLength: 8 }).map((parts) => Buffer.concat([fileHeader(), ...parts]));

/** An in-memory source that checks every read stays inside the file. */
function spySource(bytes: Uint8Array, reads: [number, number][]): ByteSource {
  return {
    name: 'memory',
    size: bytes.length,
    async read(position, length) {
      reads.push([position, length]);
      if (!(position >= 0 && length >= 0 && position + length <= bytes.length)) throw new Error(`read of ${length} at ${position} past ${bytes.length}`);
      return bytes.slice(position, position + length);
    },
  };
}

test('fuzz: the scanner never reads (so never allocates) beyond the file, whatever lengths are declared', async (t) => {
  await fc.assert(
    fc.asyncProperty(logish, fc.constantFrom(1, 64, 70_000, MAX_RECORD_LIMIT), async (bytes, max) => {
      const reads: [number, number][] = [];
      const src = spySource(bytes, reads);
      const end = await walkAll(src, max);
      if (end.fault !== null) await isTorn(src, end.fault);
      return reads.every(([pos, len]) => pos + len <= bytes.length) && end.end <= bytes.length;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

const ALLOWED = new Set(['CORRUPT', 'TOO_LARGE', 'BAD_MAGIC', 'VERSION']);

/** Opens `bytes` as a log file: the records it yields, or the LogError code it refused with. */
async function openBytes(dir: string, bytes: Uint8Array, repair: boolean): Promise<Uint8Array[] | string> {
  const path = join(dir, 'f.log');
  await writeFile(path, bytes);
  try {
    const { log, recovery } = await AppendLog.open(path, { repair, maxRecordBytes: 70_000 });
    try {
      const records = await collect(log.records());
      if (records.length !== recovery.records) throw new Error('records() disagrees with the recovery report');
      return records;
    } finally {
      await log.close();
    }
  } catch (err) {
    if (err instanceof LogError && ALLOWED.has(err.code)) return err.code;
    throw err;
  }
}

test('fuzz: arbitrary files open with a report or are refused with a LogError', async (t) => {
  const dir = await tempDir(t);
  await fc.assert(
    fc.asyncProperty(fc.oneof(logish, fc.uint8Array({ maxLength: 100 })), fc.boolean(), async (bytes, repair) => {
      const out = await openBytes(dir, bytes, repair);
      // With repair, only a file that is not a log at all is refused.
      return !repair || typeof out !== 'string' || out === 'BAD_MAGIC' || out === 'VERSION';
    }),
    { numRuns: 300 },
  );
  t.pass();
});

type Mutation = (b: Buffer) => Buffer;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, bits]): Mutation => (b) => (b[at % b.length]! ^= bits, b)),
  fc.nat().map((at): Mutation => (b) => b.subarray(0, at % (b.length + 1))),
  // An earlier cut may have emptied the file: there is nothing to zero then (and at % 0 is NaN).
  fc.tuple(fc.nat(), fc.nat({ max: 5000 })).map(([at, n]): Mutation => (b) => (b.length === 0 ? b : (b.fill(0, at % b.length, Math.min(b.length, (at % b.length) + n)), b))),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 30 })).map(([at, ins]): Mutation => (b) => Buffer.concat([b.subarray(0, at % b.length), ins, b.subarray(at % b.length)])),
  fc.uint8Array({ minLength: 1, maxLength: 30 }).map((tail): Mutation => (b) => Buffer.concat([b, tail])),
);

test('fuzz: a mutated valid log opens with a prefix of its records or is refused, never with records it did not hold', async (t) => {
  const dir = await tempDir(t);
  await fc.assert(
    fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 6 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (payloads, mutations, repair) => {
      let bytes: Buffer = Buffer.concat([fileHeader(), ...payloads.map(encodeRecord)]);
      for (const m of mutations) bytes = m(Buffer.from(bytes));
      const out = await openBytes(dir, bytes, repair);
      if (typeof out === 'string') return !repair || out === 'BAD_MAGIC' || out === 'VERSION';
      return out.length <= payloads.length && out.every((p, i) => same(p, payloads[i]!));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('fuzz: a log cut at any byte after its header opens, keeping exactly the records wholly before the cut', async (t) => {
  const dir = await tempDir(t);
  await fc.assert(
    fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 6 }), fc.nat(), async (payloads, at) => {
      const records = payloads.map(encodeRecord);
      const full = Buffer.concat([fileHeader(), ...records]);
      const cut = 8 + (at % (full.length - 7));
      let end = 8;
      const whole = records.filter((r) => (end += r.length) <= cut).length;
      const out = await openBytes(dir, full.subarray(0, cut), false);
      return typeof out !== 'string' && out.length === whole && out.every((p, i) => same(p, payloads[i]!));
    }),
    { numRuns: 300 },
  );
  t.pass();
});
