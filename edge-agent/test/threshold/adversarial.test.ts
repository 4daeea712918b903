/**
 * Seeded adversarial DKG runs (see benchmarks/dkg-adversarial.ts for the full 1,000):
 * every run ends with all honest members done and agreeing on key, qualified set and
 * public package with no honest member disqualified, or all aborting with the same,
 * byzantine, culprits. Plus targeted scenarios for each behaviour and the rushing coalition.
 */
import test from 'ava';
import { DealingCache, ed25519Signatures, runScenario, scenario, type Behaviour, type Scenario } from '../../src/threshold/index.js';
import { signAndVerify } from './dkg-helpers.js';

/** 200 by default (about 20 s on a loaded 2-core box); DKG_ADVERSARIAL_RUNS=1000 for the full bar. */
const RUNS = Number(process.env['DKG_ADVERSARIAL_RUNS'] ?? 200);

test(`${RUNS} seeded adversarial runs: honest members agree, or all abort naming byzantine culprits`, (t) => {
  const cache = new DealingCache();
  const tally: Record<string, number> = { done: 0, 'done-with-disqualified': 0, abort: 0 };
  for (let seed = 1; seed <= RUNS; seed++) {
    const s = scenario(seed);
    const deep = seed % 50 === 0;
    const { verdict, done } = runScenario(s, { cache, deep, ...(deep ? { sigs: ed25519Signatures(seed) } : {}) });
    if (!verdict.ok) {
      t.fail(`seed ${seed} (n=${s.n}, t=${s.t}, byzantine ${JSON.stringify([...s.byzantine].map(([p, b]) => [p, b.map((x) => x.kind)]))}): ${verdict.problem}`);
      continue;
    }
    tally[verdict.outcome]!++;
    if (deep && done.length >= s.t) {
      t.true(signAndVerify(done[0]!.public, done.slice(0, s.t).map((d) => d.share!), new Uint8Array([seed & 0xff])), `seed ${seed} signs`);
    }
  }
  t.log(`outcomes over ${RUNS} runs: ${JSON.stringify(tally)}`);
  // The mix must exercise every ending, or the suite proves less than it claims.
  t.true(tally['done']! > 0 && tally['done-with-disqualified']! > 0 && tally['abort']! > 0);
});

function fixed(n: number, t: number, seed: number, byzantine: [number, Behaviour[]][]): Scenario {
  return { seed, n, t, byzantine: new Map(byzantine) };
}

test('a coalition of t−1 byzantine members mixing every behaviour cannot split the honest members', (t) => {
  const s = fixed(7, 4, 4242, [
    [2, [{ kind: 'equivocate', split: [1, 3] }, { kind: 'selective-items', to: 4 }]],
    [5, [{ kind: 'bad-shares', victims: [1, 4, 6] }, { kind: 'bad-answers' }, { kind: 'lying-echo' }]],
    [7, [{ kind: 'rushing', rogue: true }, { kind: 'false-complaints', against: [1, 3] }, { kind: 'replay', old: [] }]],
  ]);
  const { verdict, done } = runScenario(s, { deep: true });
  t.true(verdict.ok, verdict.ok ? '' : verdict.problem);
  if (verdict.ok && verdict.outcome !== 'abort') {
    t.true(verdict.disqualified.includes(2) && verdict.disqualified.includes(5));
    t.true(signAndVerify(done[0]!.public, done.slice(0, 4).map((d) => d.share!), new TextEncoder().encode('coalition')));
  }
});

test('each behaviour alone, over several seeds, keeps the property', (t) => {
  const cache = new DealingCache();
  const behaviours: Behaviour[] = [
    { kind: 'silent' },
    { kind: 'bad-shares', victims: [1, 2] },
    { kind: 'withhold-shares', victims: [3] },
    { kind: 'equivocate', split: [2, 4] },
    { kind: 'rushing', rogue: false },
    { kind: 'rushing', rogue: true },
    { kind: 'false-complaints', against: [1, 2, 3] },
    { kind: 'lying-echo' },
    { kind: 'selective-items', to: 1 },
    { kind: 'replay', old: [] },
    { kind: 'oversized' },
    { kind: 'torsion' },
    { kind: 'no-ok' },
    { kind: 'double-ok', split: [1, 3] },
  ];
  for (const b of behaviours) {
    for (const seed of [1, 2, 3]) {
      const { verdict } = runScenario(fixed(5, 3, 9000 + seed, [[5, [b, ...(b.kind === 'bad-shares' || b.kind === 'withhold-shares' ? [{ kind: 'no-answers' } as const] : [])]]]), { cache });
      t.true(verdict.ok, `${b.kind} seed ${seed}: ${verdict.ok ? '' : verdict.problem}`);
    }
  }
});

test('early finish: a promise shown to one member at the last moment reaches all, and everyone still decides early and alike', (t) => {
  const cache = new DealingCache();
  for (const seed of [1, 2, 3, 4]) {
    // Member 5 is otherwise honest: its shares and package are fine, so everyone can promise.
    const { verdict, done } = runScenario(fixed(5, 3, 9100 + seed, [[5, [{ kind: 'selective-items', to: 1 }]]]), { cache });
    t.true(verdict.ok, verdict.ok ? '' : verdict.problem);
    t.true(verdict.ok && verdict.early, 'every honest member decided early');
    t.true(done.every((d) => d.qualified.length === 5));
  }
});

test('early finish: a double promise or a withheld one never splits; without every promise the schedule decides', (t) => {
  const cache = new DealingCache();
  for (const seed of [1, 2, 3]) {
    const double = runScenario(fixed(5, 3, 9200 + seed, [[4, [{ kind: 'double-ok', split: [1, 2] }]]]), { cache });
    t.true(double.verdict.ok && double.verdict.early, double.verdict.ok ? 'not early' : double.verdict.problem);
    const withheld = runScenario(fixed(5, 3, 9300 + seed, [[4, [{ kind: 'no-ok' }]]]), { cache });
    t.true(withheld.verdict.ok && !withheld.verdict.early && withheld.verdict.outcome === 'done', withheld.verdict.ok ? 'early without a promise' : withheld.verdict.problem);
  }
});
