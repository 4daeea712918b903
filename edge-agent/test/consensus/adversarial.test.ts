import test from 'ava';
import { randomScenario, runSim } from '../../src/consensus/index.js';

/**
 * 200 seeded adversarial runs: n from 4 to 13, f byzantine replicas with random behaviours
 * (half the runs with a byzantine first primary), loss and partitions until a random
 * stabilisation time, duplication and reordering throughout; a third of the runs crash-restart
 * up to f+1 honest replicas (torn writes, compacted logs). Safety is checked inside every
 * run; liveness is every client request completing after stabilisation.
 */
test('200 seeded adversarial runs: no safety violation, liveness after stabilisation', (t) => {
  const failures: string[] = [];
  let viewChanges = 0;
  let restarts = 0;
  let torn = 0;
  for (let seed = 0; seed < 200; seed++) {
    const r = runSim(randomScenario(seed));
    viewChanges += r.maxView;
    restarts += r.restarts;
    torn += r.tornWrites;
    if (r.safetyViolations.length > 0) failures.push(`seed ${seed}: ${r.safetyViolations.join('; ')}`);
    if (!r.live) failures.push(`seed ${seed}: only ${r.completed}/${r.expected} requests completed`);
  }
  t.deepEqual(failures, []);
  t.true(viewChanges > 0, 'some runs had to change view');
  t.true(restarts > 0, 'some runs restarted replicas from their records');
  t.true(torn > 0, 'some crashes tore a record');
});
