import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { AppendLog, LogError, type LogErrorCode } from '../../src/store/index.js';
import { collect, pseudoBytes, same, tempDir } from './helpers.js';

const HEADER = 8;
const REC = 12;
const SIZES = [100, 3000, 40];
const PAYLOADS = SIZES.map((n, i) => pseudoBytes(i + 7, n));
/** Start offset of each record, and the end of the last. */
const STARTS = SIZES.reduce((acc, n) => [...acc, acc.at(-1)! + REC + n], [HEADER]);
const END = STARTS.at(-1)!;

async function threeRecords(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const path = join(await tempDir(t), 'a.log');
  const { log } = await AppendLog.open(path);
  for (const p of PAYLOADS) await log.append(p);
  await log.close();
  return path;
}

async function mutate(path: string, change: (bytes: Buffer) => Buffer): Promise<void> {
  await writeFile(path, change(await readFile(path)));
}

/** Opens, checks what survived and that the file was cut where reported, then appends once more. */
async function reopenKeeps(t: Parameters<typeof tempDir>[0], path: string, kept: number) {
  const { log, recovery } = await AppendLog.open(path);
  t.is(recovery.records, kept);
  t.is(recovery.bytes, STARTS[kept]!);
  t.is((await stat(path)).size, STARTS[kept]!, 'the torn tail is cut from the file');
  const back = await collect(log.records());
  t.true(back.length === kept && back.every((p, i) => same(p, PAYLOADS[i]!)));
  t.is(await log.append(Uint8Array.of(42)), kept, 'appending continues right after the last intact record');
  await log.close();
  const again = await AppendLog.open(path);
  t.is(again.recovery.dropped, null);
  t.is(again.recovery.records, kept + 1);
  await again.log.close();
  return recovery;
}

const tornCases: [string, (b: Buffer) => Buffer, number, string][] = [
  ['a partial record header', (b) => Buffer.concat([b, b.subarray(HEADER, HEADER + 7)]), 3, 'partial-header'],
  ['a payload running past the end', (b) => b.subarray(0, STARTS[2]! + REC + 10), 2, 'past-end'],
  ['a header cut after its length', (b) => b.subarray(0, STARTS[2]! + 4), 2, 'partial-header'],
  ['a last record failing its checksum', (b) => (b[END - 1]! ^= 0x40, b), 2, 'bad-checksum'],
  ['zeros where the last record should be', (b) => (b.fill(0, STARTS[2]!), b), 2, 'bad-header'],
  ['zeros after a record that fails its checksum', (b) => Buffer.concat([(b.fill(0, END - 20), b), Buffer.alloc(5000)]), 2, 'bad-checksum'],
  ['zeros after the last intact record', (b) => Buffer.concat([b, Buffer.alloc(4096)]), 3, 'bad-header'],
];

for (const [what, change, kept, fault] of tornCases) {
  test(`a torn tail (${what}) is cut and reported`, async (t) => {
    const path = await threeRecords(t);
    await mutate(path, change);
    const before = (await stat(path)).size;
    const recovery = await reopenKeeps(t, path, kept);
    t.deepEqual(recovery.dropped, { offset: STARTS[kept], bytes: before - STARTS[kept]!, fault, torn: true });
  });
}

const corruptCases: [string, (b: Buffer) => Buffer, number, LogErrorCode, string][] = [
  ['a payload byte flipped', (b) => (b[STARTS[1]! + REC + 1000]! ^= 1, b), 1, 'CORRUPT', 'bad-checksum'],
  ['a length byte flipped', (b) => (b[STARTS[1]!]! ^= 0x80, b), 1, 'CORRUPT', 'bad-header'],
  ['a header checksum byte flipped', (b) => (b[STARTS[0]! + 9]! ^= 2, b), 0, 'CORRUPT', 'bad-header'],
  ['garbage after the last record', (b) => Buffer.concat([b, Buffer.from('not a record at all, but not zeros either')]), 3, 'CORRUPT', 'bad-header'],
  ['a last record failing its checksum with zeros and then data after it', (b) => (b[END - 1]! ^= 1, Buffer.concat([b, Buffer.alloc(100), Buffer.of(1)])), 2, 'CORRUPT', 'bad-checksum'],
];

for (const [what, change, at, code, fault] of corruptCases) {
  test(`corruption (${what}) is refused with ${code} naming the file and offset, and repair cuts it`, async (t) => {
    const path = await threeRecords(t);
    await mutate(path, change);
    const before = await readFile(path);
    const err = await t.throwsAsync(AppendLog.open(path), { instanceOf: LogError });
    t.is(err?.code, code);
    t.is(err?.offset, STARTS[at]!);
    t.is(err?.index, at);
    t.true(err?.message.includes(path) && err.message.includes(`at byte ${STARTS[at]} (record ${at})`), err?.message);
    t.true(same(await readFile(path), before), 'a refused open changes nothing');
    const recovery = await reopenWithRepair(path);
    t.deepEqual(recovery.dropped, { offset: STARTS[at], bytes: before.length - STARTS[at]!, fault, torn: false });
    t.is(recovery.records, at);
    t.is((await stat(path)).size, STARTS[at]!);
  });
}

async function reopenWithRepair(path: string) {
  const { log, recovery } = await AppendLog.open(path, { repair: true });
  await log.close();
  return recovery;
}

test('a record longer than maxRecordBytes on disk is TOO_LARGE, checked before its payload is read', async (t) => {
  const path = await threeRecords(t);
  const err = await t.throwsAsync(AppendLog.open(path, { maxRecordBytes: 2999 }), { instanceOf: LogError });
  t.is(err?.code, 'TOO_LARGE');
  t.is(err?.offset, STARTS[1]!);
  const { log, recovery } = await AppendLog.open(path, { maxRecordBytes: 3000 });
  t.is(recovery.records, 3);
  await log.close();
});

test('a huge declared length at the end is a torn tail, not an allocation', async (t) => {
  const path = await threeRecords(t);
  const header = Buffer.alloc(REC);
  header.writeUInt32LE(0xffffffff, 0);
  const { crc32 } = await import('node:zlib');
  header.writeUInt32LE(crc32(header.subarray(0, 8)), 8);
  await mutate(path, (b) => Buffer.concat([b, header, Buffer.alloc(10, 1)]));
  const recovery = await reopenKeeps(t, path, 3);
  t.is(recovery.dropped?.fault, 'past-end');
});

test('files that are not logs are refused with BAD_MAGIC or VERSION and left alone', async (t) => {
  const dir = await tempDir(t);
  const cases: [Buffer, LogErrorCode][] = [
    [Buffer.alloc(0), 'BAD_MAGIC'],
    [Buffer.from('edgelo'), 'BAD_MAGIC'],
    [Buffer.from('{"json": true}'), 'BAD_MAGIC'],
    [Buffer.concat([Buffer.from('edgelog'), Buffer.of(2)]), 'VERSION'],
  ];
  for (const [i, [bytes, code]] of cases.entries()) {
    const path = join(dir, `${i}.log`);
    await writeFile(path, bytes);
    const err = await t.throwsAsync(AppendLog.open(path, { repair: true }), { instanceOf: LogError });
    t.is(err?.code, code);
    t.true(err?.message.includes(path));
    t.true(same(await readFile(path), bytes));
  }
});

test('a log cut inside its file header is not a log', async (t) => {
  const path = await threeRecords(t);
  await truncate(path, 5);
  t.is((await t.throwsAsync(AppendLog.open(path), { instanceOf: LogError }))?.code, 'BAD_MAGIC');
});
