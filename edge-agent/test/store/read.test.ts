import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { AppendLog, LogError, scanLog } from '../../src/store/index.js';
import { pseudoBytes, same, tempDir } from './helpers.js';

async function logWith(t: Parameters<typeof tempDir>[0], payloads: Uint8Array[]): Promise<string> {
  const path = join(await tempDir(t), 'a.log');
  const { log } = await AppendLog.open(path);
  for (const p of payloads) await log.append(p);
  await log.close();
  return path;
}

test('scanLog visits every record in order without taking the writer lock', async (t) => {
  const payloads = [pseudoBytes(1, 10), pseudoBytes(2, 70_000), new Uint8Array(0)];
  const path = await logWith(t, payloads);
  const { log } = await AppendLog.open(path);
  const seen: [number, Uint8Array][] = [];
  const scan = await scanLog(path, (p, i) => void seen.push([i, p]));
  t.deepEqual(scan, { records: 3, bytes: (await stat(path)).size, tornTail: null });
  t.deepEqual(seen.map(([i]) => i), [0, 1, 2]);
  t.true(seen.every(([i, p]) => same(p, payloads[i]!)));
  await log.close();
});

test('scanLog reports a torn tail and leaves it in place', async (t) => {
  const path = await logWith(t, [pseudoBytes(1, 10), pseudoBytes(2, 10)]);
  const bytes = await readFile(path);
  const torn = bytes.subarray(0, bytes.length - 3);
  await writeFile(path, torn);
  let visited = 0;
  const scan = await scanLog(path, () => void visited++);
  t.is(visited, 1);
  t.deepEqual(scan.tornTail, { offset: 8 + 22, bytes: 19, fault: 'past-end' });
  t.true(same(await readFile(path), torn), 'a reader never changes the file');
});

test('scanLog throws CORRUPT after visiting the records before the corruption', async (t) => {
  const path = await logWith(t, [pseudoBytes(1, 10), pseudoBytes(2, 10), pseudoBytes(3, 10)]);
  const bytes = await readFile(path);
  bytes[8 + 22 + 12 + 5]! ^= 1;
  await writeFile(path, bytes);
  const seen: number[] = [];
  const err = await t.throwsAsync(scanLog(path, (_, i) => void seen.push(i)), { instanceOf: LogError });
  t.is(err?.code, 'CORRUPT');
  t.is(err?.index, 1);
  t.deepEqual(seen, [0]);
});

test('scanLog validates its arguments and names a missing file', async (t) => {
  const dir = await tempDir(t);
  t.is((await t.throwsAsync(scanLog(join(dir, 'none.log'), () => {}), { instanceOf: LogError }))?.code, 'NOT_FOUND');
  t.is((await t.throwsAsync(scanLog('', () => {}), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(scanLog(dir, null as never), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(scanLog(dir, () => {}, { maxRecordBytes: 0 }), { instanceOf: LogError }))?.code, 'BAD_ARGUMENT');
});

test('an error thrown by the visitor stops the scan and reaches the caller', async (t) => {
  const path = await logWith(t, [pseudoBytes(1, 10), pseudoBytes(2, 10)]);
  const err = await t.throwsAsync(
    scanLog(path, () => {
      throw new RangeError('stop');
    }),
  );
  t.is(err?.message, 'stop');
});
