import { link, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { AppendLog, LogError } from '../../src/store/index.js';
import { collect, pseudoBytes, same, tempDir } from './helpers.js';

const HEADER = 8; // file header
const REC = 12; // record header

test('a new log is created, reports itself created and empty', async (t) => {
  const dir = await tempDir(t);
  const { log, recovery } = await AppendLog.open(join(dir, 'a.log'));
  t.deepEqual(recovery, { created: true, records: 0, bytes: HEADER, dropped: null });
  t.is(log.count, 0);
  t.deepEqual(await collect(log.records()), []);
  await log.close();
  t.is((await stat(join(dir, 'a.log'))).mode & 0o777, 0o600);
  t.deepEqual(await readdir(dir), ['a.log'], 'no temporary file is left behind');
});

test('records are read back in order after a reopen, including empty and large ones', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.log');
  const payloads = [new Uint8Array(0), pseudoBytes(1, 10), pseudoBytes(2, 200_000), pseudoBytes(3, 1)];
  const { log } = await AppendLog.open(path);
  for (const [i, p] of payloads.entries()) t.is(await log.append(p), i);
  t.is(log.count, 4);
  t.is(log.bytes, HEADER + payloads.reduce((n, p) => n + REC + p.length, 0));
  await log.close();

  const again = await AppendLog.open(path);
  t.deepEqual(again.recovery, { created: false, records: 4, bytes: log.bytes, dropped: null });
  const back = await collect(again.log);
  t.is(back.length, 4);
  t.true(back.every((p, i) => same(p, payloads[i]!)));
  t.is(await again.log.append(pseudoBytes(4, 5)), 4, 'indices continue after a reopen');
  await again.log.close();
});

test('concurrent appends keep their order and resolve in it', async (t) => {
  const dir = await tempDir(t);
  const { log } = await AppendLog.open(join(dir, 'a.log'));
  const resolved: number[] = [];
  const payloads = Array.from({ length: 200 }, (_, i) => pseudoBytes(i + 1, (i * 37) % 3000));
  const indices = await Promise.all(payloads.map((p) => log.append(p).then((i) => (resolved.push(i), i))));
  t.deepEqual(indices, payloads.map((_, i) => i));
  t.deepEqual(resolved, indices, 'appends resolve in the order they were made');
  const back = await collect(log.records());
  t.true(back.length === 200 && back.every((p, i) => same(p, payloads[i]!)));
  await log.close();
});

test('append copies its payload: changing the buffer afterwards changes nothing', async (t) => {
  const dir = await tempDir(t);
  const { log } = await AppendLog.open(join(dir, 'a.log'));
  const buf = Uint8Array.from([1, 2, 3]);
  const done = log.append(buf);
  buf.fill(9);
  await done;
  t.deepEqual((await collect(log.records())).map((p) => [...p]), [[1, 2, 3]]);
  await log.close();
});

test('records() reads the records durable when it was called, not later ones', async (t) => {
  const dir = await tempDir(t);
  const { log } = await AppendLog.open(join(dir, 'a.log'));
  await log.append(Uint8Array.of(1));
  const reader = log.records();
  const first = await reader.next();
  await log.append(Uint8Array.of(2));
  t.deepEqual([...(first.value as Uint8Array)], [1]);
  t.true((await reader.next()).done);
  await log.close();
});

test('payloads above maxRecordBytes are refused with TOO_LARGE; wrong arguments with BAD_ARGUMENT', async (t) => {
  const dir = await tempDir(t);
  const { log } = await AppendLog.open(join(dir, 'a.log'), { maxRecordBytes: 100 });
  t.is(await log.append(new Uint8Array(100)), 0);
  const err = await t.throwsAsync(log.append(new Uint8Array(101)), { instanceOf: LogError });
  t.is(err?.code, 'TOO_LARGE');
  t.is((await t.throwsAsync(log.append('text' as unknown as Uint8Array), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is(await log.append(new Uint8Array(1)), 1, 'a refused append takes no index');
  await log.close();
  for (const bad of [0, -1, 1.5, 2 ** 31, '10']) {
    const e = await t.throwsAsync(AppendLog.open(join(dir, 'a.log'), { maxRecordBytes: bad as number }), { instanceOf: LogError });
    t.is(e?.code, 'BAD_ARGUMENT');
  }
  t.is((await t.throwsAsync(AppendLog.open(''), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(AppendLog.open(dir), { instanceOf: LogError }))?.code, 'IO');
  t.is((await t.throwsAsync(AppendLog.open(join(dir, 'no', 'such.log')), { instanceOf: LogError }))?.code, 'NOT_FOUND');
});

test('a log open for writing cannot be opened again in this process, under any name', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.log');
  const { log } = await AppendLog.open(path);
  await symlink(path, join(dir, 'sym.log'));
  await link(path, join(dir, 'hard.log'));
  for (const name of [path, join(dir, '.', 'a.log'), join(dir, 'sym.log'), join(dir, 'hard.log')]) {
    const err = await t.throwsAsync(AppendLog.open(name), { instanceOf: LogError });
    t.is(err?.code, 'LOCKED');
    t.true(err?.message.includes('already open'));
  }
  await log.close();
  const again = await AppendLog.open(join(dir, 'sym.log'));
  t.pass('closing releases the file');
  await again.log.close();
});

test('close waits for pending appends, is idempotent, and later calls are refused with CLOSED', async (t) => {
  const dir = await tempDir(t);
  const { log } = await AppendLog.open(join(dir, 'a.log'));
  const pending = [log.append(Uint8Array.of(1)), log.append(Uint8Array.of(2))];
  const closing = log.close();
  t.deepEqual(await Promise.all(pending), [0, 1]);
  await closing;
  await log.close();
  t.is((await t.throwsAsync(log.append(Uint8Array.of(3)), { instanceOf: LogError }))?.code, 'CLOSED');
  t.is((await t.throwsAsync(collect(log.records()), { instanceOf: LogError }))?.code, 'CLOSED');
  const { recovery } = await AppendLog.open(join(dir, 'a.log')).then(async (r) => (await r.log.close(), r));
  t.is(recovery.records, 2);
});

test('records() notices a log changed on disk behind its back', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'a.log');
  const { log } = await AppendLog.open(path);
  await log.append(pseudoBytes(1, 50));
  await log.append(pseudoBytes(2, 50));
  const bytes = await readFile(path);
  bytes[HEADER + REC + 3]! ^= 1; // a payload byte of record 0
  await writeFile(path, bytes);
  const err = await t.throwsAsync(collect(log.records()), { instanceOf: LogError });
  t.is(err?.code, 'CORRUPT');
  t.is(err?.offset, HEADER);
  t.is(err?.index, 0);
  t.regex(err?.message ?? '', /a\.log: a record whose payload fails its checksum at byte 8 \(record 0\)/);
  await log.close();
});
