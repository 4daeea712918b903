/**
 * The DKG's adversarial bar: 1,000 seeded runs (n 4..7, t 2..n−1, up to t−1 byzantine
 * members mixing bad shares, equivocation, rushing, silence, replays, oversized packages,
 * false complaints, lying echoes, selectively delivered items and promises, double promises),
 * each of which must end
 * with all honest members done and agreeing, or all aborting with the same byzantine
 * culprits. Every 50th run also checks each share with noble's validateSecret and signs
 * with real Ed25519 identity keys. `npm test` runs the first 200 of these seeds.
 * RUNS=n overrides the count.
 */
import { DealingCache, ed25519Signatures, runScenario, scenario } from '../edge-agent/src/threshold/dkg-index.js';
import type { BenchResult } from './run.js';

export default async function dkgAdversarial(): Promise<BenchResult> {
  const runs = Number(process.env['RUNS'] ?? 1000);
  const outcomes: Record<string, number> = { done: 0, 'done-with-disqualified': 0, abort: 0, failed: 0 };
  const byN: Record<string, number> = {};
  const failures: string[] = [];
  let byzantine = 0;
  let early = 0;
  const cache = new DealingCache();
  const started = performance.now();
  for (let seed = 1; seed <= runs; seed++) {
    const s = scenario(seed);
    const deep = seed % 50 === 0;
    const { verdict } = runScenario(s, { cache, deep, ...(deep ? { sigs: ed25519Signatures(seed) } : {}) });
    byN[`n${s.n}`] = (byN[`n${s.n}`] ?? 0) + 1;
    byzantine += s.byzantine.size;
    if (verdict.ok) {
      outcomes[verdict.outcome]!++;
      if (verdict.early) early++;
    }
    else {
      outcomes['failed']!++;
      if (failures.length < 10) failures.push(`seed ${seed}: ${verdict.problem}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    runs,
    outcomes,
    byN,
    byzantineMembers: byzantine,
    /** Runs where every honest member decided by the early finish (all promises alike). */
    earlyRuns: early,
    seconds: Math.round(seconds * 10) / 10,
    msPerRun: Math.round((seconds * 1000) / runs),
    failures: failures.join(' | '),
  };
}
