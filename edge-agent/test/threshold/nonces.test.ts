import test from 'ava';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MemoryNonceStore,
  NonceStore,
  SignerCore,
  ThresholdError,
  dealerKeys,
  signShare,
  verifyShare,
  type SigningCommitment,
} from '../../src/threshold/signing-index.js';

const { group, shares } = dealerKeys(2, 3);
const msg = Buffer.from('nonce tests');

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'frost-nonces-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'store');
}

test('a commitment is used once: the second take is NONCE_REUSE, the nonces are wiped after signing', async (t) => {
  const store = new MemoryNonceStore();
  const mine = await store.commit(shares[0]!);
  const other = await new MemoryNonceStore().commit(shares[1]!);
  const list = [mine, other];
  const nonces = store.take(mine);
  const s = signShare(shares[0]!, group, nonces, list, msg);
  t.true(verifyShare(group, list, msg, s));
  t.true(nonces.hiding.every((b) => b === 0) && nonces.binding.every((b) => b === 0));
  const err = t.throws(() => store.take(mine), { instanceOf: ThresholdError })!;
  t.is(err.code, 'NONCE_REUSE');
  t.regex(err.message, /already used/);
  t.is(store.outstanding, 0);
});

test('unknown, burned and evicted commitments are refused', async (t) => {
  const store = new MemoryNonceStore({ maxOutstanding: 2 });
  const foreign = await new MemoryNonceStore().commit(shares[0]!);
  t.regex(t.throws(() => store.take(foreign), { instanceOf: ThresholdError })!.message, /unknown/);
  const a = await store.commit(shares[0]!);
  store.burn(a);
  t.regex(t.throws(() => store.take(a), { instanceOf: ThresholdError })!.message, /burned/);
  const b = await store.commit(shares[0]!);
  await store.commit(shares[0]!);
  await store.commit(shares[0]!); // evicts b, the oldest
  t.is(store.outstanding, 2);
  t.is(t.throws(() => store.take(b), { instanceOf: ThresholdError })!.code, 'NONCE_REUSE');
});

test('the signer refuses to sign twice with one commitment', async (t) => {
  const signers = [0, 1].map((i) => new SignerCore({ group, share: shares[i]!, nonces: new MemoryNonceStore() }));
  const list = await Promise.all(signers.map((s) => s.commit()));
  t.notThrows(() => signers[0]!.sign({ message: msg, commitments: list }));
  const err = t.throws(() => signers[0]!.sign({ message: Buffer.from('another message'), commitments: list }), { instanceOf: ThresholdError })!;
  t.is(err.code, 'NONCE_REUSE');
});

test('NonceStore: the directory is 0700 and its files 0600', async (t) => {
  const dir = await tempDir(t);
  const { store, burned } = await NonceStore.open(dir);
  t.is(burned, 0);
  await store.commit(shares[0]!);
  t.is((await stat(dir)).mode & 0o777, 0o700);
  for (const name of await readdir(dir)) t.is((await stat(join(dir, name))).mode & 0o777, 0o600, name);
  await store.close();
});

test('NonceStore: a restart burns every commitment issued before it', async (t) => {
  const dir = await tempDir(t);
  let { store } = await NonceStore.open(dir);
  const issued: SigningCommitment[] = [];
  for (let i = 0; i < 3; i++) issued.push(await store.commit(shares[0]!));
  const other = await new MemoryNonceStore().commit(shares[1]!);
  // one of them is used before the "crash"
  signShare(shares[0]!, group, store.take(issued[0]!), [issued[0]!, other], msg);
  await store.close(); // (a crash loses the memory just the same; close also waits for the log)

  const reopened = await NonceStore.open(dir);
  store = reopened.store;
  t.is(reopened.burned, 2, 'the two issued and unused are burned');
  for (const c of issued) {
    const err = t.throws(() => store.take(c), { instanceOf: ThresholdError })!;
    t.is(err.code, 'NONCE_REUSE');
    t.regex(err.message, /restart/);
  }
  // a signer on the reopened store refuses a sign request built on an old commitment
  const signer = new SignerCore({ group, share: shares[0]!, nonces: store });
  t.is(t.throws(() => signer.sign({ message: msg, commitments: [issued[1]!, other] }), { instanceOf: ThresholdError })!.code, 'NONCE_REUSE');
  // fresh commitments still work
  const fresh = await signer.commit();
  t.notThrows(() => signer.sign({ message: msg, commitments: [fresh, other] }));
  await store.close();

  // and they stay retired across a second restart
  const third = await NonceStore.open(dir);
  t.is(third.burned, 0);
  t.regex(t.throws(() => third.store.take(issued[2]!), { instanceOf: ThresholdError })!.message, /restart/);
  t.regex(t.throws(() => third.store.take(fresh), { instanceOf: ThresholdError })!.message, /restart/);
  await third.store.close();
});

test('NonceStore: a closed store refuses to commit, and its nonces are wiped', async (t) => {
  const dir = await tempDir(t);
  const { store } = await NonceStore.open(dir);
  const c = await store.commit(shares[0]!);
  await store.close();
  t.is((await t.throwsAsync(store.commit(shares[0]!), { instanceOf: ThresholdError }))!.code, 'ABORTED');
  t.is(t.throws(() => store.take(c), { instanceOf: ThresholdError })!.code, 'ABORTED');
});

test('bad arguments are BAD_ARGUMENT', async (t) => {
  t.is(t.throws(() => new MemoryNonceStore({ maxOutstanding: 0 }), { instanceOf: ThresholdError })!.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(NonceStore.open(''), { instanceOf: ThresholdError }))!.code, 'BAD_ARGUMENT');
  const store = new MemoryNonceStore();
  t.is(t.throws(() => store.take({} as SigningCommitment), { instanceOf: ThresholdError })!.code, 'BAD_ARGUMENT');
});
