/**
 * Proofs from our warm prover, checked by the snarkjs CLI against the exported verification
 * keys, and by our verifier: tampered proofs and signals are rejected; inputs that do not
 * satisfy a circuit (a non-member, a wrong commitment, a non-boolean path bit) have no witness.
 */
import test from 'ava';
import { bn254 } from '@noble/curves/bn254.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  circuitArtifacts,
  commitmentOf,
  createProver,
  decodeProofResult,
  encodeProofResult,
  FIELD_ORDER,
  keyPossessionInput,
  keyPossessionSignals,
  membershipInput,
  membershipInputFromPath,
  membershipSignals,
  MerkleTree,
  responseOf,
  toSnarkjsProof,
  toSnarkjsSignals,
  Verifier,
  verify,
  ZkpError,
  type CircuitArtifacts,
  type Groth16Proof,
  type ProofResult,
  type Prover,
} from '../../src/zkp/index.js';
import { BUILD_TIMEOUT_MS, ensureCircuits, SNARKJS_CLI } from './build.js';

const run = promisify(execFile);
let kp: CircuitArtifacts;
let mem: CircuitArtifacts;

let kpProver: Prover;
let memProver: Prover;
let kpVerifier: Verifier;
let memVerifier: Verifier;
const tmp = mkdtempSync(join(tmpdir(), 'zkp-test-'));

// Fixed secrets: the tests are the same on every run (Groth16's own randomness aside).
const secrets = Array.from({ length: 5 }, (_, i) => 0x5ec0000n + 7919n * BigInt(i + 1));
let tree: MerkleTree;
const challenge = 0xc4a11e76en;

let kpResult: ProofResult;
let memResult: ProofResult;

test.before(async (t) => {
  t.timeout(BUILD_TIMEOUT_MS);
  await ensureCircuits();
  kp = circuitArtifacts('keyPossession');
  mem = circuitArtifacts('membership');
  tree = MerkleTree.fromLeaves(mem.depth!, secrets.map(commitmentOf));
  [kpProver, memProver, kpVerifier, memVerifier] = await Promise.all([
    createProver(kp),
    createProver(mem),
    Verifier.fromFile(kp.vkey),
    Verifier.fromFile(mem.vkey),
  ]);
  kpResult = await kpProver.prove(keyPossessionInput(secrets[0]!, challenge));
  memResult = await memProver.prove(membershipInput(secrets[3]!, challenge, tree));
});

test.after.always(async () => {
  await Promise.all([kpProver?.close(), memProver?.close(), kpVerifier?.close(), memVerifier?.close()]);
  rmSync(tmp, { recursive: true, force: true });
});

async function cliVerifies(vkey: string, r: ProofResult, name: string): Promise<string> {
  const proof = join(tmp, `${name}.proof.json`);
  const pub = join(tmp, `${name}.public.json`);
  writeFileSync(proof, JSON.stringify(toSnarkjsProof(r.proof)));
  writeFileSync(pub, JSON.stringify(toSnarkjsSignals(r.publicSignals)));
  const { stdout } = await run(SNARKJS_CLI, ['groth16', 'verify', vkey, pub, proof]);
  return stdout;
}

test('key possession: the signals are [response, commitment, challenge] and the snarkjs CLI verifies the proof', async (t) => {
  const s = secrets[0]!;
  t.deepEqual(kpResult.publicSignals, keyPossessionSignals(commitmentOf(s), challenge, responseOf(s, challenge)));
  t.regex(await cliVerifies(kp.vkey, kpResult, 'kp'), /OK!/);
  t.true(await kpVerifier.verify(kpResult.publicSignals, kpResult.proof));
  t.true(await verify(JSON.parse(readFileSync(kp.vkey, 'utf8')), kpResult.publicSignals, kpResult.proof));
});

test('membership: the signals are [nullifier, root, challenge] and the snarkjs CLI verifies the proof', async (t) => {
  const s = secrets[3]!;
  t.deepEqual(memResult.publicSignals, membershipSignals(tree.root, challenge, responseOf(s, challenge)));
  t.regex(await cliVerifies(mem.vkey, memResult, 'mem'), /OK!/);
  t.true(await memVerifier.verify(memResult.publicSignals, memResult.proof));
});

test('the snarkjs CLI rejects a proof under another challenge', async (t) => {
  const forged = { ...kpResult, publicSignals: [kpResult.publicSignals[0]!, kpResult.publicSignals[1]!, challenge + 1n] };
  await t.throwsAsync(cliVerifies(kp.vkey, forged, 'forged'));
});

test('tampered public signals are rejected: response, commitment, challenge, nullifier, root', async (t) => {
  for (let i = 0; i < 3; i++) {
    const s = [...kpResult.publicSignals];
    s[i] = (s[i]! + 1n) % FIELD_ORDER;
    t.false(await kpVerifier.verify(s, kpResult.proof), `key possession signal ${i}`);
    const m = [...memResult.publicSignals];
    m[i] = (m[i]! + 1n) % FIELD_ORDER;
    t.false(await memVerifier.verify(m, memResult.proof), `membership signal ${i}`);
  }
  // A key-possession proof does not pass as a membership proof, nor the other way round.
  t.false(await memVerifier.verify(kpResult.publicSignals, kpResult.proof));
  t.false(await kpVerifier.verify(memResult.publicSignals, memResult.proof));
});

test('tampered proofs are rejected: moved points, swapped points, another proof\'s points', async (t) => {
  const { a, b, c } = kpResult.proof;
  const twice = (p: { x: bigint; y: bigint }) => bn254.G1.Point.fromAffine(p).double().toAffine();
  const negY = (p: { x: bigint; y: bigint }) => ({ x: p.x, y: (bn254.fields.Fp.ORDER - p.y) });
  const other = (await kpProver.prove(keyPossessionInput(secrets[1]!, challenge))).proof;
  const tampered: Groth16Proof[] = [
    { a: twice(a), b, c },
    { a, b, c: twice(c) },
    { a: negY(a), b, c },
    { a: c, b, c: a },
    { a: other.a, b, c },
    { a, b: other.b, c },
    { a, b, c: other.c },
  ];
  for (const [i, p] of tampered.entries()) t.false(await kpVerifier.verify(kpResult.publicSignals, p), `tampering ${i}`);
  // A fresh proof of the same statement is valid too (Groth16 proofs are randomised).
  t.notDeepEqual(other, kpResult.proof);
});

test('malformed candidates throw typed errors rather than verify', async (t) => {
  const code = async (p: Promise<unknown>) => (await t.throwsAsync(p, { instanceOf: ZkpError }))!.code;
  t.is(await code(kpVerifier.verify(kpResult.publicSignals.slice(0, 2), kpResult.proof)), 'ARGUMENT');
  t.is(await code(kpVerifier.verify([FIELD_ORDER, 0n, 0n], kpResult.proof)), 'NOT_IN_FIELD');
  const off = { ...kpResult.proof, a: { x: kpResult.proof.a.x, y: kpResult.proof.a.y + 1n } };
  t.is(await code(kpVerifier.verify(kpResult.publicSignals, off)), 'BAD_POINT');
  t.is(await code(Verifier.fromKey({ protocol: 'plonk' })), 'VKEY');
});

test('a proof survives its CBOR encoding and still verifies', async (t) => {
  const bytes = encodeProofResult(memResult);
  const back = decodeProofResult(bytes);
  t.deepEqual(back, { proof: memResult.proof, publicSignals: [...memResult.publicSignals] });
  t.true(await memVerifier.verify(back.publicSignals, back.proof));
});

test('a non-member has no witness, even with a member\'s path', async (t) => {
  const outsider = 0xbadn;
  t.is(t.throws(() => membershipInput(outsider, challenge, tree), { instanceOf: ZkpError })!.code, 'NOT_A_MEMBER');
  const borrowed = membershipInputFromPath(outsider, challenge, tree.root, tree.path(3));
  t.is((await t.throwsAsync(memProver.prove(borrowed), { instanceOf: ZkpError }))!.code, 'WITNESS');
  // The member's own path under a different root fails too.
  const wrongRoot = membershipInputFromPath(secrets[3]!, challenge, tree.root + 1n, tree.path(3));
  t.is((await t.throwsAsync(memProver.prove(wrongRoot), { instanceOf: ZkpError }))!.code, 'WITNESS');
});

test('a path bit that is not 0 or 1 has no witness', async (t) => {
  const input = membershipInput(secrets[2]!, challenge, tree);
  const bits = [...(input.pathBits as readonly bigint[])];
  bits[0] = 2n;
  t.is((await t.throwsAsync(memProver.prove({ ...input, pathBits: bits }), { instanceOf: ZkpError }))!.code, 'WITNESS');
});

test('key possession with a commitment that is not Poseidon(secret) has no witness', async (t) => {
  const input = { ...keyPossessionInput(secrets[0]!, challenge), commitment: commitmentOf(secrets[1]!) };
  t.is((await t.throwsAsync(kpProver.prove(input), { instanceOf: ZkpError }))!.code, 'WITNESS');
});

test('a closed prover refuses to prove', async (t) => {
  const p = await createProver(kp);
  await p.close();
  t.is((await t.throwsAsync(p.prove(keyPossessionInput(1n, 2n)), { instanceOf: ZkpError }))!.code, 'CLOSED');
  t.is((await t.throwsAsync(createProver(kp, { backend: 'nope' }), { instanceOf: ZkpError }))!.code, 'ARGUMENT');
});
