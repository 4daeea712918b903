import test from 'ava';
import { buildPoseidon } from 'circomlibjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FIELD_ORDER, poseidon1, poseidon2, poseidonHash, poseidonParams, ZkpError } from '../../src/zkp/index.js';
import { seededRandom } from '../helpers/random.js';

const require = createRequire(import.meta.url);
// circomlibjs's own table (its package exports do not reach it, so read the JSON by path).
const constantsPath = require.resolve('circomlibjs').replace(/build[\\/]main\.cjs$/, 'src/poseidon_constants.json');
const circomlib = JSON.parse(readFileSync(constantsPath, 'utf8')) as { C: string[][]; M: string[][][] };

function randomField(rand: () => number): bigint {
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  return x % FIELD_ORDER;
}

for (const t of [2, 3]) {
  test(`the generated constants for t = ${t} are circomlib's table`, (t0) => {
    const p = poseidonParams(t);
    t0.deepEqual(p.roundConstants.flat(), circomlib.C[t - 2]!.map((h) => BigInt(h)));
    t0.deepEqual(p.mds.map((r) => [...r]), circomlib.M[t - 2]!.map((r) => r.map((h) => BigInt(h))));
  });
}

test('poseidon1 and poseidon2 agree with circomlibjs on random and edge inputs', async (t) => {
  const ref = await buildPoseidon();
  const rand = seededRandom(0x905e1d0);
  const edges = [0n, 1n, FIELD_ORDER - 1n];
  const singles = [...edges, ...Array.from({ length: 40 }, () => randomField(rand))];
  for (const x of singles) t.is(poseidon1(x), ref.F.toObject(ref([x])), `Poseidon(${x})`);
  const pairs: [bigint, bigint][] = [...edges.flatMap((a) => edges.map((b): [bigint, bigint] => [a, b]))];
  for (let i = 0; i < 40; i++) pairs.push([randomField(rand), randomField(rand)]);
  for (const [a, b] of pairs) t.is(poseidon2(a, b), ref.F.toObject(ref([a, b])), `Poseidon(${a}, ${b})`);
});

test('a known value: Poseidon(1, 2) as circomlib gives it', (t) => {
  t.is(poseidon2(1n, 2n), 7853200120776062878684798364095072458815029376092732009249414926327459813530n);
});

test('inputs outside the field, of the wrong type or count are refused', (t) => {
  t.is(t.throws(() => poseidon1(FIELD_ORDER), { instanceOf: ZkpError })!.code, 'NOT_IN_FIELD');
  t.is(t.throws(() => poseidon1(-1n), { instanceOf: ZkpError })!.code, 'NOT_IN_FIELD');
  t.is(t.throws(() => poseidon1(1 as unknown as bigint), { instanceOf: ZkpError })!.code, 'ARGUMENT');
  t.is(t.throws(() => poseidonHash([]), { instanceOf: ZkpError })!.code, 'ARGUMENT');
  t.is(t.throws(() => poseidonHash([1n, 2n, 3n]), { instanceOf: ZkpError })!.code, 'ARGUMENT');
  t.is(t.throws(() => poseidonParams(4), { instanceOf: ZkpError })!.code, 'ARGUMENT');
});
