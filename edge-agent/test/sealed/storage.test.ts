/**
 * Storage keys per stored key, at rest: values sealed under keys derived from
 * the record's storage key, files 0600, lazy re-encryption after rotation,
 * the epochs still in use, and the vault that keeps records on top of it.
 */
import test from 'ava';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordStorage, SealedError, SealedVault } from '../../src/sealed/index.js';
import { fleetRecord, text, utf8 } from './fixtures.js';

const code = (c: string) => ({ instanceOf: SealedError, code: c });

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sealed-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const recordId = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

async function entryFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'entries'))).filter((f) => f.endsWith('.entry')).map((f) => join(dir, 'entries', f));
}

test('values round-trip, sealed at rest in 0600 files, under 0600 keys', async (t) => {
  const dir = await tempDir(t);
  const s = await RecordStorage.open(dir, recordId);
  await s.put('state/0', utf8('hello storage'));
  await s.put('blob/ab', utf8('second'));
  t.is(text((await s.get('state/0'))!), 'hello storage');
  t.is(await s.get('missing'), undefined);
  t.deepEqual(s.keys(), ['blob/ab', 'state/0']);
  for (const file of [...(await entryFiles(dir)), join(dir, 'keys', 'epoch-0.key')]) {
    t.is((await stat(file)).mode & 0o777, 0o600, file);
    t.false((await readFile(file)).includes(Buffer.from('hello storage')), `no plaintext in ${file}`);
  }
  s.close();
  const again = await RecordStorage.open(dir, recordId);
  t.is(text((await again.get('state/0'))!), 'hello storage', 'survives a reopen');
  await again.delete('blob/ab');
  t.false(again.has('blob/ab'));
  again.close();
  await t.throwsAsync(again.rotate(), code('CLOSED'));
});

test('rotation re-encrypts lazily on read and write, and reports the epochs in use', async (t) => {
  const dir = await tempDir(t);
  const s = await RecordStorage.open(dir, recordId);
  for (const k of ['a', 'b', 'c', 'd']) await s.put(k, utf8(`value ${k}`));
  t.deepEqual(s.epochsInUse(), [0]);
  t.is(await s.rotate(), 1);
  t.deepEqual(s.epochsInUse(), [0, 1], 'nothing moved yet; epoch 1 is current');
  const before = await readFile((await entryFiles(dir))[0]!);
  t.is(text((await s.get('a'))!), 'value a'); // read: re-sealed under epoch 1
  await s.put('b', utf8('value b2')); // write: under epoch 1
  t.deepEqual(s.epochsInUse(), [0, 1]);
  t.deepEqual(await s.dropUnusedEpochs(), [], 'c and d still need epoch 0');
  t.is(await s.migrate(1), 1, 'the over-time half: a bounded batch');
  t.is(await s.migrate(), 1);
  t.deepEqual(s.epochsInUse(), [1]);
  t.deepEqual(await s.dropUnusedEpochs(), [0]);
  t.deepEqual(s.epochsHeld(), [1]);
  t.deepEqual((await readdir(join(dir, 'keys'))).sort(), ['epoch-1.key']);
  t.notDeepEqual(await readFile((await entryFiles(dir))[0]!), before);
  for (const k of ['a', 'c', 'd']) t.is(text((await s.get(k))!), `value ${k}`);
  t.is(text((await s.get('b'))!), 'value b2');
  s.close();
  // A fresh open sees the same epochs on disk.
  const again = await RecordStorage.open(dir, recordId);
  t.deepEqual(again.epochsInUse(), [1]);
  again.close();
});

test('an entry of a dropped epoch, a tampered entry or a loose key file are typed errors', async (t) => {
  const dir = await tempDir(t);
  const s = await RecordStorage.open(dir, recordId);
  await s.put('x', utf8('secret x'));
  const [file] = await entryFiles(dir);
  const bytes = await readFile(file!);
  bytes[20]! ^= 1; // inside the sealed box
  await writeFile(file!, bytes);
  await t.throwsAsync(s.get('x'), code('TAMPERED'));
  s.close();
  // Another record's id derives other keys: the same files do not open.
  bytes[20]! ^= 1;
  await writeFile(file!, bytes);
  const other = await RecordStorage.open(dir, new Uint8Array(32).fill(9));
  await t.throwsAsync(other.get('x'), code('TAMPERED'));
  other.close();
  // A key file lost while an entry still needs it.
  const r = await RecordStorage.open(dir, recordId);
  await r.rotate();
  r.close();
  await rm(join(dir, 'keys', 'epoch-0.key'));
  const lost = await RecordStorage.open(dir, recordId);
  await t.throwsAsync(lost.get('x'), code('UNKNOWN_EPOCH'));
  lost.close();
  await chmod(join(dir, 'keys', 'epoch-1.key'), 0o644);
  await t.throwsAsync(RecordStorage.open(dir, recordId), code('STORAGE'));
  await t.throwsAsync(RecordStorage.open(dir, new Uint8Array(3)), code('BAD_ARGUMENT'));
});

test('the vault keeps states, blobs and wraps, re-verifies them on open and reads for members', async (t) => {
  const dir = await tempDir(t);
  const { operator, boardA, outsider, out } = fleetRecord();
  const vault = await SealedVault.open(dir);
  await vault.addSealed(out);
  const record = out.state.record;
  t.is(text(await vault.read(record, 0, 'wifi/psk', boardA)), 'correct horse battery staple');
  await t.throwsAsync(vault.read(record, 0, 'wifi/psk', outsider), code('NOT_FOUND'), 'no wrap is held for a non-reader');
  await t.throwsAsync(vault.addBlob(record, out.state.private['wifi/psk']!.commitment, utf8('not the blob')), code('BAD_COMMITMENT'));
  // An update through the vault: the author's own wraps and the blobs come from it.
  const roles = { ...out.state.roles, boards: { attributes: ['wifi/psk'], members: [boardA.id] } };
  const one = await vault.update(record, { roles }, operator);
  t.is(one.state.private['wifi/psk']!.keyState, 1);
  t.is(vault.latest(record)?.n, 1);
  await vault.storage(record).rotate();
  vault.close();
  const again = await SealedVault.open(dir);
  t.deepEqual(again.records(), [Buffer.from(record).toString('hex')]);
  t.is(again.latest(record)?.n, 1);
  t.is(text(await again.read(record, 1, 'wifi/psk', boardA)), 'correct horse battery staple');
  t.deepEqual(again.storage(record).epochsInUse(), [0, 1], 'what was read moved to epoch 1, the rest waits');
  await again.addState(out.state); // state 0 again: the same hash, accepted
  await t.throwsAsync(again.addState({ ...one.state, n: 2 }), code('BAD_SIGNATURE'));
  again.close();
});
