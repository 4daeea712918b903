/** IEEE 1588-2008 §9.3.4 data set comparison (every tie-break) and §9.3.3 state decision. */
import test from 'ava';
import { A_BETTER, A_BETTER_BY_TOPOLOGY, B_BETTER, B_BETTER_BY_TOPOLOGY, TimeError, compareDatasets, decideState, localDataset, type BmcDataset } from '../../src/time/index.js';

const id = (n: number): Uint8Array => Uint8Array.from([0, 0, 0, 0xff, 0xfe, 0, 0, n]);
const port = (n: number, p = 1) => ({ clockIdentity: id(n), portNumber: p });

function ds(over: Partial<BmcDataset> = {}): BmcDataset {
  return {
    priority1: 128,
    clockQuality: { clockClass: 248, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff },
    priority2: 128,
    grandmasterIdentity: id(1),
    stepsRemoved: 0,
    sender: port(1),
    receiver: port(9),
    ...over,
  };
}
const q = (clockClass: number, clockAccuracy = 0xfe, offsetScaledLogVariance = 0xffff) => ({ clockClass, clockAccuracy, offsetScaledLogVariance });

test('different grandmasters: each attribute decides in order, lower wins', (t) => {
  const a = ds({ grandmasterIdentity: id(1), sender: port(1) });
  const b = ds({ grandmasterIdentity: id(2), sender: port(2) });
  // priority1 beats everything after it.
  t.is(compareDatasets({ ...a, priority1: 127 }, { ...b, clockQuality: q(6), priority2: 0 }), A_BETTER);
  t.is(compareDatasets({ ...a, priority1: 129 }, b), B_BETTER);
  // clockClass, then clockAccuracy, then variance.
  t.is(compareDatasets({ ...a, clockQuality: q(6) }, { ...b, clockQuality: q(7, 0x20, 0) }), A_BETTER);
  t.is(compareDatasets({ ...a, clockQuality: q(248, 0x21) }, { ...b, clockQuality: q(248, 0x20, 0xffff) }), B_BETTER);
  t.is(compareDatasets({ ...a, clockQuality: q(248, 0x20, 0x4e5d) }, { ...b, clockQuality: q(248, 0x20, 0x4e5e) }), A_BETTER);
  // priority2.
  t.is(compareDatasets({ ...a, priority2: 200 }, { ...b, priority2: 100 }), B_BETTER);
  // All equal: the grandmaster identity breaks the tie.
  t.is(compareDatasets(a, b), A_BETTER);
  t.is(compareDatasets(b, a), B_BETTER);
});

test('same grandmaster: stepsRemoved differing by more than one decides outright', (t) => {
  const a = ds({ stepsRemoved: 1, sender: port(3) });
  const b = ds({ stepsRemoved: 3, sender: port(4) });
  t.is(compareDatasets(a, b), A_BETTER);
  t.is(compareDatasets(b, a), B_BETTER);
});

test('same grandmaster: one step apart compares receiver and sender of the longer path', (t) => {
  // A is one step further; A's receiver below A's sender: B better.
  t.is(compareDatasets(ds({ stepsRemoved: 2, sender: port(5), receiver: port(3) }), ds({ stepsRemoved: 1, sender: port(4) })), B_BETTER);
  // A's receiver above A's sender: B better by topology.
  t.is(compareDatasets(ds({ stepsRemoved: 2, sender: port(3), receiver: port(5) }), ds({ stepsRemoved: 1, sender: port(4) })), B_BETTER_BY_TOPOLOGY);
  // Mirror: B is the further one.
  t.is(compareDatasets(ds({ stepsRemoved: 1, sender: port(4) }), ds({ stepsRemoved: 2, sender: port(5), receiver: port(3) })), A_BETTER);
  t.is(compareDatasets(ds({ stepsRemoved: 1, sender: port(4) }), ds({ stepsRemoved: 2, sender: port(3), receiver: port(5) })), A_BETTER_BY_TOPOLOGY);
  // Receiver equals sender: a message we sent ourselves (figure 28's error 1).
  t.is(compareDatasets(ds({ stepsRemoved: 2, sender: port(5), receiver: port(5) }), ds({ stepsRemoved: 1, sender: port(4) })), 0);
});

test('same grandmaster and steps: sender identity, then receiver port number, by topology', (t) => {
  t.is(compareDatasets(ds({ sender: port(3) }), ds({ sender: port(4) })), A_BETTER_BY_TOPOLOGY);
  t.is(compareDatasets(ds({ sender: port(4) }), ds({ sender: port(3) })), B_BETTER_BY_TOPOLOGY);
  t.is(compareDatasets(ds({ sender: port(3, 1) }), ds({ sender: port(3, 2) })), A_BETTER_BY_TOPOLOGY);
  t.is(compareDatasets(ds({ receiver: port(9, 1) }), ds({ receiver: port(9, 2) })), A_BETTER_BY_TOPOLOGY);
  t.is(compareDatasets(ds(), ds()), 0);
});

test('state decision for one port: master, slave, passive, listening', (t) => {
  const local = localDataset(id(5), 128, q(248), 128);
  const better = ds({ grandmasterIdentity: id(1), sender: port(1), receiver: port(5) });
  const worse = ds({ grandmasterIdentity: id(9), sender: port(9), receiver: port(5) });
  t.deepEqual(decideState({ local, best: better, currentState: 'LISTENING' }), { state: 'SLAVE', code: 'S1' });
  t.deepEqual(decideState({ local, best: worse, currentState: 'LISTENING' }), { state: 'MASTER', code: 'M2' });
  t.deepEqual(decideState({ local, best: null, currentState: 'LISTENING' }), { state: 'LISTENING', code: 'NO_FOREIGN_MASTER' });
  t.deepEqual(decideState({ local, best: null, currentState: 'MASTER' }), { state: 'MASTER', code: 'M2' });
  // A class 1-127 clock never becomes slave: master or passive.
  const gm = localDataset(id(5), 128, q(6), 128);
  t.deepEqual(decideState({ local: gm, best: ds({ clockQuality: q(6), priority1: 1, receiver: port(5) }), currentState: 'MASTER' }), { state: 'PASSIVE', code: 'P1' });
  t.deepEqual(decideState({ local: gm, best: worse, currentState: 'LISTENING' }), { state: 'MASTER', code: 'M1' });
  // Role limits.
  t.deepEqual(decideState({ local, best: worse, currentState: 'LISTENING', slaveOnly: true }), { state: 'SLAVE', code: 'S1' });
  t.deepEqual(decideState({ local, best: null, currentState: 'SLAVE', slaveOnly: true }), { state: 'LISTENING', code: 'SLAVE_ONLY' });
  t.deepEqual(decideState({ local, best: better, currentState: 'LISTENING', masterOnly: true }), { state: 'MASTER', code: 'MASTER_ONLY' });
});

test('bad datasets are refused with BAD_ARGUMENT', (t) => {
  const err = t.throws(() => compareDatasets(ds({ priority1: 256 }), ds()), { instanceOf: TimeError });
  t.is(err?.code, 'BAD_ARGUMENT');
  t.throws(() => compareDatasets(ds({ grandmasterIdentity: new Uint8Array(7) }), ds()), { instanceOf: TimeError });
});
