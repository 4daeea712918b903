/**
 * 1,000 seeded adversarial PBFT simulations (edge-agent/src/consensus/sim.ts): n from 4 to
 * 13, f byzantine replicas with random behaviours (equivocating, silent, slow, forging,
 * replaying, conflicting, lying to clients), loss and partitions until a random
 * stabilisation time, duplication and reordering throughout, and in a third of the runs
 * crash-restarts of up to f+1 honest replicas rebuilt from their persist records.
 * Counts runs, safety
 * violations, liveness failures (a request not completed after stabilisation) and the
 * view changes the runs needed.
 */
import { randomScenario, runSim } from '../edge-agent/src/consensus/index.js';
import type { BenchResult } from './run.js';

const RUNS = 1000;

export default async function pbftSim(): Promise<BenchResult> {
  const started = performance.now();
  let safetyViolations = 0;
  let livenessFailures = 0;
  let views = 0;
  let viewChanges = 0;
  let stateTransfers = 0;
  let restarts = 0;
  let tornWrites = 0;
  let runsWithRestarts = 0;
  let requests = 0;
  let virtualMs = 0;
  const failedSeeds: number[] = [];
  for (let seed = 0; seed < RUNS; seed++) {
    const r = runSim(randomScenario(seed));
    if (r.safetyViolations.length > 0) safetyViolations++;
    if (!r.live) livenessFailures++;
    if ((r.safetyViolations.length > 0 || !r.live) && failedSeeds.length < 10) failedSeeds.push(seed);
    views += r.maxView;
    viewChanges += r.viewChanges;
    stateTransfers += r.stateTransfers;
    restarts += r.restarts;
    tornWrites += r.tornWrites;
    if (r.restarts > 0) runsWithRestarts++;
    requests += r.completed;
    virtualMs += r.endTime;
  }
  return {
    runs: RUNS,
    safetyViolations,
    livenessFailures,
    meanViewChanges: Math.round((views / RUNS) * 1000) / 1000,
    meanViewChangesStartedPerRun: Math.round((viewChanges / RUNS) * 1000) / 1000,
    stateTransfers,
    restarts,
    runsWithRestarts,
    tornWrites,
    requestsCompleted: requests,
    meanVirtualMs: Math.round(virtualMs / RUNS),
    failedSeeds: failedSeeds.join(','),
    wallSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
