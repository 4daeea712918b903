/**
 * The native Groth16 prover (native-napi's groth16/): its proofs verify with snarkjs for both
 * circuits over seeded random witnesses; its field, curve and MSM arithmetic agree with
 * @noble/curves' bn254; malformed, truncated and mismatched zkey and wtns files are rejected
 * with typed errors. Skipped when the addon has no prover (cargo absent, stale build).
 */
import test from 'ava';
import fc from 'fast-check';
import { bn254 } from '@noble/curves/bn254.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  autoProverChoice,
  circuitArtifacts,
  commitmentOf,
  createProver,
  DEFAULT_TABLE_MB,
  FIELD_ORDER,
  keyPossessionInput,
  keyPossessionSignals,
  membershipInput,
  membershipSignals,
  MerkleTree,
  NativeProver,
  nativeProverStatus,
  responseOf,
  SnarkjsProver,
  Verifier,
  ZkpError,
  type CircuitArtifacts,
  type Groth16Addon,
} from '../../src/zkp/index.js';
import { seededRandom } from '../helpers/random.js';
import { BUILD_TIMEOUT_MS, ensureCircuits } from './build.js';

const status = nativeProverStatus();
const maybe = status.addon !== null ? test.serial : test.serial.skip;
if (status.addon === null) {
  test('native prover tests skipped', (t) => {
    t.log(`skipped: ${status.reason}`);
    t.pass();
  });
}
const addon = status.addon as Groth16Addon;

const Fp = bn254.fields.Fp;
const Fr = bn254.fields.Fr;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;

const le = (v: bigint): Buffer => {
  const b = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
};
const fromLe = (b: Uint8Array, off = 0): bigint => {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
};

let kp: CircuitArtifacts;
let mem: CircuitArtifacts;
let kpProver: NativeProver;
let memProver: NativeProver;
let kpVerifier: Verifier;
let memVerifier: Verifier;
const tmp = mkdtempSync(join(tmpdir(), 'zkp-native-'));

test.before(async (t) => {
  if (status.addon === null) return;
  t.timeout(BUILD_TIMEOUT_MS);
  await ensureCircuits();
  kp = circuitArtifacts('keyPossession');
  mem = circuitArtifacts('membership');
  [kpProver, memProver, kpVerifier, memVerifier] = await Promise.all([
    NativeProver.load(kp),
    NativeProver.load(mem, { threads: 2 }),
    Verifier.fromFile(kp.vkey),
    Verifier.fromFile(mem.vkey),
  ]);
});

test.after.always(async () => {
  await Promise.all([kpProver?.close(), memProver?.close(), kpVerifier?.close(), memVerifier?.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

const randomScalar = (rnd: () => number): bigint => {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
  return v % FIELD_ORDER;
};

maybe('key possession: native proofs over random secrets verify with snarkjs, with the expected signals', async (t) => {
  const rnd = seededRandom(11);
  for (let i = 0; i < 4; i++) {
    const secret = randomScalar(rnd);
    const challenge = randomScalar(rnd);
    const r = await kpProver.prove(keyPossessionInput(secret, challenge));
    t.deepEqual(r.publicSignals, keyPossessionSignals(commitmentOf(secret), challenge, responseOf(secret, challenge)));
    t.true(await kpVerifier.verify(r.publicSignals, r.proof), `proof ${i}`);
    // The same proof does not verify another statement.
    t.false(await kpVerifier.verify([r.publicSignals[0]!, r.publicSignals[1]!, (challenge + 1n) % FIELD_ORDER], r.proof));
  }
});

maybe('membership: native proofs for random members verify with snarkjs, on one thread and on several', async (t) => {
  const rnd = seededRandom(12);
  const secrets = Array.from({ length: 5 }, () => randomScalar(rnd));
  const tree = MerkleTree.fromLeaves(mem.depth!, secrets.map(commitmentOf));
  const one = await NativeProver.load(mem, { threads: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const secret = secrets[Math.floor(rnd() * secrets.length)]!;
      const challenge = randomScalar(rnd);
      const prover = i === 0 ? one : memProver;
      const r = await prover.prove(membershipInput(secret, challenge, tree));
      t.deepEqual(r.publicSignals, membershipSignals(tree.root, challenge, responseOf(secret, challenge)));
      t.true(await memVerifier.verify(r.publicSignals, r.proof), `proof ${i}`);
    }
  } finally {
    await one.close();
  }
});

maybe('fixed-base tables are built by the first proof within the budget; proofs verify with and without them', async (t) => {
  const rnd = seededRandom(15);
  const tree = MerkleTree.fromLeaves(mem.depth!, [commitmentOf(77n), commitmentOf(78n)]);
  for (const tableMb of [0, 2, DEFAULT_TABLE_MB]) {
    const p = await NativeProver.load(mem, { tableMb });
    try {
      t.is(p.keyInfo().tableBytes, 0);
      const challenge = randomScalar(rnd);
      const r = await p.prove(membershipInput(78n, challenge, tree));
      t.true(await memVerifier.verify(r.publicSignals, r.proof), `tableMb ${tableMb}`);
      const info = p.keyInfo();
      t.is(info.tableBudgetBytes, tableMb * 2 ** 20);
      t.true(info.tableBytes <= info.tableBudgetBytes, `tables within budget (${info.tableBytes})`);
      if (tableMb === 0) t.is(info.tableBytes, 0);
      else t.true(info.tableBytes > 0);
    } finally {
      await p.close();
    }
  }
  await t.throwsAsync(NativeProver.load(mem, { tableMb: -1 }), { instanceOf: ZkpError });
});

maybe('the native and snarkjs provers agree on the public signals of a witness; proofs are randomised', async (t) => {
  const snark = await SnarkjsProver.load(kp);
  try {
    const wtns = await snark.witness(keyPossessionInput(42n, 7n));
    const [a, b, c] = await Promise.all([snark.proveWitness(wtns), kpProver.proveWitness(wtns), kpProver.proveWitness(wtns)]);
    t.deepEqual(b.publicSignals, a.publicSignals);
    t.notDeepEqual(b.proof, c.proof);
    t.true(await kpVerifier.verify(c.publicSignals, c.proof));
  } finally {
    await snark.close();
  }
});

maybe('Fq and Fr arithmetic agree with @noble/curves', (t) => {
  const ops = ['add', 'sub', 'mul', 'square', 'neg', 'inv'] as const;
  for (const [name, F] of [['fq', Fp], ['fr', Fr]] as const) {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: F.ORDER - 1n }), fc.bigInt({ min: 0n, max: F.ORDER - 1n }), fc.constantFrom(...ops), (a, b, op) => {
        if (op === 'inv' && a === 0n) return;
        const got = fromLe(addon.groth16FieldOp(name, op, le(a), le(b)));
        const want = { add: F.add(a, b), sub: F.sub(a, b), mul: F.mul(a, b), square: F.sqr(a), neg: F.neg(a), inv: a === 0n ? 0n : F.inv(a) }[op];
        t.is(got, want, `${name} ${op}`);
      }),
      { seed: 2026, numRuns: 300 },
    );
  }
  t.throws(() => addon.groth16FieldOp('fq', 'inv', le(0n), le(0n)), { message: /no inverse/ });
  t.throws(() => addon.groth16FieldOp('fr', 'mul', le(Fr.ORDER), le(1n)), { instanceOf: RangeError });
});

function g1Bytes(points: { x: bigint; y: bigint }[]): Buffer {
  return Buffer.concat(points.flatMap((p) => [le(p.x), le(p.y)]));
}

maybe('G1 and G2 multi-scalar multiplication agrees with @noble/curves, identity and zero scalars included', (t) => {
  const rnd = seededRandom(13);
  for (const n of [1, 3, 17, 64, 200]) {
    const ks = Array.from({ length: n }, () => randomScalar(rnd));
    const scalars = Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0n : i % 11 === 5 ? 1n : randomScalar(rnd)));
    const p1 = ks.map((k) => G1.BASE.multiply(k === 0n ? 1n : k));
    let want1 = G1.ZERO;
    p1.forEach((p, i) => (want1 = scalars[i] === 0n ? want1 : want1.add(p.multiply(scalars[i]!))));
    const buf1 = g1Bytes(p1.map((p) => p.toAffine()));
    if (n > 2) buf1.fill(0, 64, 128); // point 1 is the identity
    if (n > 2 && scalars[1] !== 0n) want1 = want1.subtract(p1[1]!.multiply(scalars[1]!));
    const sc = Buffer.concat(scalars.map(le));
    for (const threads of [1, 2]) {
      const got = addon.groth16Msm('g1', buf1, sc, threads);
      const w = want1.equals(G1.ZERO) ? { x: 0n, y: 0n } : want1.toAffine();
      t.deepEqual([fromLe(got, 0), fromLe(got, 32)], [w.x, w.y], `g1 n=${n} threads=${threads}`);
    }
    const m = Math.min(n, 24);
    const p2 = ks.slice(0, m).map((k) => G2.BASE.multiply(k === 0n ? 1n : k));
    let want2 = G2.ZERO;
    p2.forEach((p, i) => (want2 = scalars[i] === 0n ? want2 : want2.add(p.multiply(scalars[i]!))));
    const buf2 = Buffer.concat(p2.map((p) => p.toAffine()).flatMap((p) => [le(p.x.c0), le(p.x.c1), le(p.y.c0), le(p.y.c1)]));
    const got2 = addon.groth16Msm('g2', buf2, Buffer.concat(scalars.slice(0, m).map(le)), 2);
    const w2 = want2.toAffine();
    t.deepEqual([0, 32, 64, 96].map((o) => fromLe(got2, o)), [w2.x.c0, w2.x.c1, w2.y.c0, w2.y.c1], `g2 n=${m}`);
  }
  t.throws(() => addon.groth16Msm('g1', Buffer.concat([le(1n), le(3n)]), le(1n), 1), { message: /not on the curve/ });
  t.throws(() => addon.groth16Msm('g1', Buffer.alloc(64), Buffer.alloc(64), 1), { instanceOf: RangeError });
});

/** A circuit's artifacts with its zkey replaced by these bytes. */
function withZkey(c: CircuitArtifacts, bytes: Uint8Array, name: string): CircuitArtifacts {
  const path = join(tmp, `${name}.zkey`);
  writeFileSync(path, bytes);
  return { ...c, zkey: path };
}

maybe('malformed and truncated zkeys are rejected with ARTIFACT errors naming the problem', async (t) => {
  const zkey = readFileSync(kp.zkey);
  const cuts = [0, 3, 11, 40, 100, 700, 5000, zkey.length >> 1, zkey.length - 1];
  for (const cut of cuts) {
    t.throws(() => addon.groth16LoadZkey(zkey.subarray(0, cut)), { code: 'ZKEY_MALFORMED' } as never, `cut at ${cut}`);
  }
  const err = await t.throwsAsync(NativeProver.load(withZkey(kp, zkey.subarray(0, 1000), 'short'), { addon }), { instanceOf: ZkpError });
  t.is(err?.code, 'ARTIFACT');
  t.regex(err?.message ?? '', /ZKEY_MALFORMED/);
  const magic = Buffer.from(zkey);
  magic.write('wtns', 0);
  t.throws(() => addon.groth16LoadZkey(magic), { message: /bad magic/ });
  // A random byte flipped in every 4 KiB either fails to parse or names what is wrong; it never crashes.
  const rnd = seededRandom(14);
  for (let off = 64; off < zkey.length; off += 4096) {
    const bad = Buffer.from(zkey);
    const at = off + Math.floor(rnd() * 64);
    if (at >= bad.length) break;
    bad[at] = bad[at]! ^ 0x5a;
    try {
      addon.groth16Free(addon.groth16LoadZkey(bad));
    } catch (e) {
      t.is((e as { code?: string }).code, 'ZKEY_MALFORMED', `flip at ${at}`);
    }
  }
  t.throws(() => addon.groth16LoadZkey('zkey' as never), { instanceOf: TypeError });
});

maybe('malformed, truncated and mismatched witnesses are rejected with ARGUMENT errors', async (t) => {
  const wtns = await kpProver.witness(keyPossessionInput(5n, 6n));
  for (const cut of [0, 10, 40, 80, wtns.length - 1]) {
    const e = await t.throwsAsync(kpProver.proveWitness(wtns.subarray(0, cut)), { instanceOf: ZkpError });
    t.is(e?.code, 'ARGUMENT', `cut at ${cut}`);
    t.regex(e?.message ?? '', /WTNS_MALFORMED/);
  }
  const mismatch = await t.throwsAsync(memProver.proveWitness(wtns), { instanceOf: ZkpError });
  t.regex(mismatch?.message ?? '', /WTNS_MISMATCH/);
  // A value at or above r is not a field element.
  const big = Buffer.from(wtns);
  big.set(le(FIELD_ORDER), big.length - 32);
  t.regex((await t.throwsAsync(kpProver.proveWitness(big)))?.message ?? '', /not below the scalar field prime/);
  // w[0] must be the constant 1.
  const zeroOne = Buffer.from(wtns);
  const firstValue = wtns.length - (kpProver.keyInfo().nVars * 32);
  zeroOne.fill(0, firstValue, firstValue + 32);
  t.regex((await t.throwsAsync(kpProver.proveWitness(zeroOne)))?.message ?? '', /constant 1/);
});

maybe('a closed native prover throws CLOSED; the addon rejects freed handles', async (t) => {
  const p = await NativeProver.load(kp);
  const wtns = await p.witness(keyPossessionInput(1n, 2n));
  await p.close();
  await p.close();
  t.is(((await t.throwsAsync(p.proveWitness(wtns))) as ZkpError | undefined)?.code, 'CLOSED');
  const h = addon.groth16LoadZkey(readFileSync(kp.zkey));
  t.true(addon.groth16Free(h));
  t.false(addon.groth16Free(h));
  // Argument problems (a freed handle) throw at the call; file problems reject the promise.
  t.throws(() => addon.groth16Prove(h, Buffer.from(wtns)), { code: 'CLOSED' } as never);
});

maybe("the 'native' and 'auto' backends are registered and 'auto' says it picks native", async (t) => {
  t.is(autoProverChoice().backend, 'native');
  const p = await createProver(kp, { backend: 'auto' });
  try {
    t.is(p.backend, 'native');
    const r = await p.prove(keyPossessionInput(3n, 4n));
    t.true(await kpVerifier.verify(r.publicSignals, r.proof));
  } finally {
    await p.close();
  }
  const n = await createProver(kp, { backend: 'native' });
  t.is(n.backend, 'native');
  await n.close();
});
