/**
 * Issue 7: our PTP slave against ptp4l's, both behind the same ptp4l master,
 * in one run on one veth link between two network namespaces (UDPv4, E2E,
 * software timestamps, 16 Syncs a second; needs root). Both namespaces share
 * the kernel's clock, so the true offset is 0:
 *  - ours: the error of the agent's disciplined clock (PTP time minus local
 *    time) after its servo locked, sampled at every Sync;
 *  - ptp4l: the offset it reports at every Sync with the null servo (it
 *    measures and never adjusts; a servo acting on the shared clock would
 *    move the master's clock too).
 * Runs alternate (ROUNDS, default 3, of SECONDS each, default 20) so that the
 * machine's load falls on both alike; rmsRatio is ours ÷ ptp4l (goal ≤ 1).
 * SERVO (median|pi, default median) picks our servo; the PI servo needs ~40 s
 * to lock with software gains, so give it SECONDS=60.
 */
import { errorStats, lab } from '../edge-agent/test/helpers/ptp-lab.js';
import { agentSlaveOfPtp4l, ptp4lSlaveOfPtp4l } from '../edge-agent/test/helpers/ptp-runs.js';
import type { BenchResult } from './run.js';
import { round } from './lib/measure.js';

export default async function bench(): Promise<BenchResult> {
  const rounds = Number(process.env['ROUNDS'] ?? 3);
  const seconds = Number(process.env['SECONDS'] ?? 20);
  const servo = (process.env['SERVO'] ?? 'median') as 'median' | 'pi';
  const ours: number[] = [];
  const oursRaw: number[] = [];
  const theirs: number[] = [];
  let backend = 'unknown';
  const l = await lab();
  try {
    for (let i = 0; i < rounds; i++) {
      const a = await agentSlaveOfPtp4l(l, seconds, servo);
      backend = a.run.backend;
      if (a.stats.count === 0) throw new Error(`our slave never locked in round ${i}: ${JSON.stringify(a.detail)}\n${a.run.log.join('\n')}`);
      ours.push(...a.errors);
      oursRaw.push(...a.raw);
      const c = await ptp4lSlaveOfPtp4l(l, seconds);
      theirs.push(...c.errors);
    }
  } finally {
    await l.close();
  }
  const o = errorStats(ours);
  const r = errorStats(oursRaw);
  const p = errorStats(theirs);
  return {
    oursRmsNs: round(o.rmsNs, 0),
    oursP99Ns: round(o.p99Ns, 0),
    ptp4lRmsNs: round(p.rmsNs, 0),
    ptp4lP99Ns: round(p.p99Ns, 0),
    rmsRatio: round(o.rmsNs / p.rmsNs, 3),
    backend,
    servo,
    oursMaxNs: round(o.maxNs, 0),
    oursMeanNs: round(o.meanNs, 0),
    oursSamples: o.count,
    // Our per-Sync measured offsets (against our disciplined clock), before the servo's filtering: the closest
    // like-for-like with ptp4l's printed offsets.
    oursRawOffsetRmsNs: round(r.rmsNs, 0),
    oursRawOffsetP99Ns: round(r.p99Ns, 0),
    rawRmsRatio: round(r.rmsNs / p.rmsNs, 3),
    ptp4lMaxNs: round(p.maxNs, 0),
    ptp4lMeanNs: round(p.meanNs, 0),
    ptp4lSamples: p.count,
    rounds,
    secondsPerRun: seconds,
  };
}
