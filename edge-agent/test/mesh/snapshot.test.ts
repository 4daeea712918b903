import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { MeshError, loadReports, saveReports } from '../../src/mesh/index.js';

async function dir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'edge-mesh-snap-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('reports round-trip through a 0600 file; no file is an empty snapshot', async (t) => {
  const d = await dir(t);
  const path = join(d, 'reports.cbor');
  t.deepEqual(await loadReports(path), []);
  const frames = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)];
  await saveReports(path, frames);
  t.is((await stat(path)).mode & 0o777, 0o600);
  t.deepEqual((await loadReports(path)).map((f) => [...f]), frames.map((f) => [...f]));
});

test('a damaged or foreign file is a typed BAD_SNAPSHOT error, never a crash', async (t) => {
  const d = await dir(t);
  const path = join(d, 'reports.cbor');
  await saveReports(path, [Uint8Array.from([9, 9, 9, 9])]);
  const good = await readFile(path);
  await writeFile(path, good.subarray(0, good.length - 2));
  await t.throwsAsync(loadReports(path), { instanceOf: MeshError, message: /not an overlay snapshot/ });
  await writeFile(path, Buffer.from('{"not":"cbor"}'));
  await t.throwsAsync(loadReports(path), { instanceOf: MeshError });
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
      await writeFile(path, bytes);
      try {
        const frames = await loadReports(path);
        return frames.every((f) => f instanceof Uint8Array);
      } catch (err) {
        return err instanceof MeshError && err.code === 'BAD_SNAPSHOT';
      }
    }),
    { numRuns: 300 },
  );
});

test('caller mistakes throw BAD_ARGUMENT', async (t) => {
  await t.throwsAsync(saveReports('', []), { instanceOf: MeshError, message: /path/ });
  await t.throwsAsync(loadReports(''), { instanceOf: MeshError, message: /path/ });
  await t.throwsAsync(saveReports('/tmp/x', null as never), { instanceOf: MeshError });
});
