import { quorums } from './certs.js';
import { Client, type ClientAction } from './client.js';
import { fail } from './errors.js';
import { hex } from './messages.js';
import { Replica } from './replica.js';
import { Adversary, BEHAVIOUR_KINDS, type Behaviour } from './sim-adversary.js';
import { hmacSignatures, simRandom, type SimRandom } from './sim-random.js';
import { encodeKvOp, KvStateMachine } from './state-machine.js';
import type { ReplicaAction } from './types.js';
import { VerifyCache } from './verify-cache.js';

/**
 * Deterministic simulation of a PBFT group: n real replica cores and closed-loop clients on
 * a seeded network in virtual time. Before `stabiliseAt` the network loses messages and may
 * cut some replicas off (a partition); at all times it delays (so reorders) and duplicates.
 * Byzantine replicas (at most f) run the honest core behind their behaviours. Every run
 * checks safety as it goes (honest replicas never execute different batches at one sequence
 * number; a client only accepts what f+1 replicas replied and what honest replicas computed;
 * honest replicas at the same point hold the same state) and liveness at the end (every
 * request completed). Same options, same run.
 */

export interface SimOptions {
  readonly seed: number;
  readonly n: number;
  /** Byzantine replicas and what they do (at most f of them). */
  readonly byzantine?: ReadonlyMap<number, readonly Behaviour[]>;
  readonly clients?: number;
  readonly requestsPerClient?: number;
  /** Network delay range in ms (default 1..10). */
  readonly minDelay?: number;
  readonly maxDelay?: number;
  /** Loss probability before stabilisation (default 0). */
  readonly loss?: number;
  /** Duplication probability, always (default 0). */
  readonly duplicate?: number;
  /** Replicas cut off from all others until stabilisation. */
  readonly partitioned?: readonly number[];
  /** Virtual ms at which loss and partitions end (default 0). */
  readonly stabiliseAt?: number;
  /** Give up at this virtual time (default stabiliseAt + 120 s). */
  readonly until?: number;
  /** Keep running this many ms after the last request completed (default 0), so laggards catch up. */
  readonly settle?: number;
  readonly checkpointInterval?: number;
  readonly logWindow?: number;
  readonly maxBatch?: number;
  readonly batchDelay?: number;
  readonly requestTimeout?: number;
  readonly statusInterval?: number;
  readonly maxBackoff?: number;
  /** Clients sign their requests (default true). */
  readonly signedRequests?: boolean;
  /** Let each honest replica's store be inspected after the run. */
  readonly keepReplicas?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly n: number;
  readonly f: number;
  readonly safetyViolations: readonly string[];
  readonly completed: number;
  readonly expected: number;
  /** Every request completed before `until`. */
  readonly live: boolean;
  readonly endTime: number;
  /** Time the last request completed (or undefined). */
  readonly lastCompletion: number | undefined;
  readonly delivered: number;
  /** Highest view any honest replica reached. */
  readonly maxView: number;
  /** View changes started by honest replicas, summed. */
  readonly viewChanges: number;
  readonly stateTransfers: number;
  /** Highest sequence number executed by an honest replica. */
  readonly maxExecuted: number;
  /** Honest replicas' drops by reason, summed. */
  readonly dropped: Readonly<Record<string, number>>;
  readonly forged: number;
  readonly replicas?: ReadonlyMap<number, Replica>;
  readonly machines?: ReadonlyMap<number, KvStateMachine>;
}

const CLIENT_BASE = 1000;

interface Event {
  readonly at: number;
  readonly order: number;
  readonly kind: 'deliver' | 'tick';
  readonly to: number;
  readonly from: number;
  readonly bytes: Uint8Array | undefined;
}

/** A binary heap on (at, order). */
class Queue {
  private readonly heap: Event[] = [];
  private less(a: Event, b: Event): boolean {
    return a.at !== b.at ? a.at < b.at : a.order < b.order;
  }
  get size(): number {
    return this.heap.length;
  }
  push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface Node {
  tick(now: number): void;
  receive(from: number, bytes: Uint8Array, now: number): void;
  nextDeadline(): number | undefined;
  scheduled: number | undefined;
}

export function runSim(o: SimOptions): SimResult {
  const n = o.n;
  if (!Number.isSafeInteger(n) || n < 4 || n > 64) fail('sim n must be from 4 to 64');
  const { f } = quorums(n);
  const byz = o.byzantine ?? new Map<number, readonly Behaviour[]>();
  if (byz.size > f) fail(`at most f = ${f} byzantine replicas, got ${byz.size}`);
  for (const r of byz.keys()) if (!Number.isSafeInteger(r) || r < 0 || r >= n) fail(`byzantine replica ${r} out of range`);
  const rng = simRandom(o.seed);
  const advRng = simRandom(o.seed ^ 0x5bd1e995);
  const sigs = hmacSignatures(o.seed, 'replica');
  const clientSigs = hmacSignatures(o.seed, 'client');
  const cache = new VerifyCache();
  const clientCount = o.clients ?? 3;
  const perClient = o.requestsPerClient ?? 4;
  const minDelay = o.minDelay ?? 1;
  const maxDelay = o.maxDelay ?? 10;
  const loss = o.loss ?? 0;
  const dup = o.duplicate ?? 0;
  const stabiliseAt = o.stabiliseAt ?? 0;
  const until = o.until ?? stabiliseAt + 120_000;
  const partitioned = new Set(o.partitioned ?? []);
  const signedRequests = o.signedRequests ?? true;

  const queue = new Queue();
  let order = 0;
  let now = 0;
  let delivered = 0;
  const violations: string[] = [];
  const violate = (msg: string): void => {
    if (violations.length < 20) violations.push(`t=${now}: ${msg}`);
  };

  const nodes = new Map<number, Node>();
  const replicas = new Map<number, Replica>();
  const machines = new Map<number, KvStateMachine>();
  const adversaries = new Map<number, Adversary>();
  const executedAt = new Map<number, string>();
  const honestResults = new Map<string, string>();

  const send = (from: number, to: number, bytes: Uint8Array, extra = 0): void => {
    if (from === to) return;
    if (now < stabiliseAt) {
      const cut = to < CLIENT_BASE && from < CLIENT_BASE && partitioned.has(from) !== partitioned.has(to);
      if (cut || rng.chance(loss)) return;
    }
    const copies = rng.chance(dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      queue.push({ at: now + extra + rng.int(minDelay, maxDelay), order: order++, kind: 'deliver', to, from, bytes });
    }
  };

  const schedule = (id: number, wasTick: boolean): void => {
    const node = nodes.get(id)!;
    let d = node.nextDeadline();
    if (d === undefined) return;
    if (d <= now) d = wasTick ? now + 1 : now;
    if (node.scheduled === undefined || d < node.scheduled) {
      node.scheduled = d;
      queue.push({ at: d, order: order++, kind: 'tick', to: id, from: id, bytes: undefined });
    }
  };

  const replicaActions = (id: number, actions: readonly ReplicaAction[]): void => {
    const adv = adversaries.get(id);
    if (adv === undefined) {
      for (const a of actions) {
        if (a.kind === 'send') send(id, a.to, a.bytes);
        else if (a.kind === 'broadcast') for (let j = 0; j < n; j++) send(id, j, a.bytes);
        else if (a.kind === 'reply') send(id, a.client, a.bytes);
        else if (a.kind === 'event' && a.event.kind === 'executed') {
          const e = a.event;
          const d = hex(e.digest);
          const had = executedAt.get(e.seq);
          if (had === undefined) executedAt.set(e.seq, d);
          else if (had !== d) violate(`replica ${id} executed batch ${d.slice(0, 8)} at seq ${e.seq}, another honest replica ${had.slice(0, 8)}`);
          for (const r of e.requests) {
            const key = `${r.client}:${r.timestamp}`;
            const res = hex(r.result);
            const prev = honestResults.get(key);
            if (prev === undefined) honestResults.set(key, res);
            else if (prev !== res) violate(`request ${key} gave different results at honest replicas`);
          }
        }
      }
      return;
    }
    for (const x of adv.transform(actions)) {
      if (x.client) send(id, x.to, x.bytes, x.delay);
      else if (x.to < n) send(id, x.to, x.bytes, x.delay);
    }
  };

  for (let id = 0; id < n; id++) {
    const sm = new KvStateMachine();
    const replica = new Replica({
      id,
      n,
      signer: sigs.signer(id),
      verifier: sigs.verifier,
      ...(signedRequests ? { clientVerifier: clientSigs.verifier } : {}),
      stateMachine: sm,
      checkpointInterval: o.checkpointInterval ?? 4,
      ...(o.logWindow !== undefined ? { logWindow: o.logWindow } : {}),
      maxBatch: o.maxBatch ?? 4,
      batchDelay: o.batchDelay ?? 2,
      requestTimeout: o.requestTimeout ?? 300,
      statusInterval: o.statusInterval ?? 100,
      maxBackoff: o.maxBackoff ?? 4,
      cache,
      now: 0,
    });
    replicas.set(id, replica);
    machines.set(id, sm);
    const behaviours = byz.get(id);
    if (behaviours !== undefined) adversaries.set(id, new Adversary(id, n, behaviours, sigs.signer(id), advRng));
    nodes.set(id, {
      scheduled: undefined,
      nextDeadline: () => replica.nextDeadline(),
      tick: (t) => replicaActions(id, replica.tick(t)),
      receive: (from, bytes, t) => {
        adversaries.get(id)?.observe(bytes);
        replicaActions(id, replica.receive(from, bytes, t));
      },
    });
  }

  let completed = 0;
  let lastCompletion: number | undefined;
  const expected = clientCount * perClient;
  for (let c = 0; c < clientCount; c++) {
    const cid = CLIENT_BASE + c;
    const client = new Client({ id: cid, n, verifier: sigs.verifier, ...(signedRequests ? { signer: clientSigs.signer(cid) } : {}), retransmitTimeout: 400 });
    let issued = 0;
    const opFor = (i: number): Uint8Array =>
      i % 3 === 2 ? encodeKvOp({ op: 'get', key: `k${c}-${i - 1}` }) : encodeKvOp({ op: 'put', key: `k${c}-${i}`, value: new Uint8Array([c, i]) });
    const clientActions = (actions: readonly ClientAction[]): void => {
      for (const a of actions) {
        if (a.kind === 'send') send(cid, a.to, a.bytes);
        else if (a.kind === 'broadcast') for (let j = 0; j < n; j++) send(cid, j, a.bytes);
        else {
          completed++;
          lastCompletion = now;
          if (new Set(a.replicas).size < f + 1) violate(`client ${cid} accepted ${a.timestamp} on ${a.replicas.length} replies`);
          const want = honestResults.get(`${cid}:${a.timestamp}`);
          if (want === undefined) violate(`client ${cid} accepted ${a.timestamp}, which no honest replica executed`);
          else if (want !== hex(a.result)) violate(`client ${cid} accepted a result for ${a.timestamp} that honest replicas did not compute`);
          if (issued < perClient) clientActions(client.request(opFor(issued++), now));
        }
      }
    };
    nodes.set(cid, {
      scheduled: undefined,
      nextDeadline: () => client.nextDeadline(),
      tick: (t) => clientActions(client.tick(t)),
      receive: (from, bytes, t) => clientActions(client.receive(from, bytes, t)),
    });
    queue.push({ at: rng.int(0, 20), order: order++, kind: 'tick', to: -1 - c, from: cid, bytes: undefined });
    // Start events: a negative `to` names the client to start.
    nodes.set(-1 - c, {
      scheduled: undefined,
      nextDeadline: () => undefined,
      tick: () => clientActions(client.request(opFor(issued++), now)),
      receive: () => undefined,
    });
  }
  for (let id = 0; id < n; id++) schedule(id, false);

  const settle = o.settle ?? 0;
  for (;;) {
    if (completed === expected && (settle === 0 || now >= (lastCompletion ?? 0) + settle)) break;
    const e = queue.pop();
    if (e === undefined || e.at > until) break;
    now = e.at;
    const node = nodes.get(e.to);
    if (node === undefined) continue;
    if (e.kind === 'tick') {
      if (e.to >= 0) {
        if (node.scheduled !== e.at) continue;
        node.scheduled = undefined;
      }
      node.tick(now);
      schedule(e.to >= 0 ? e.to : CLIENT_BASE - 1 - e.to, true);
    } else {
      delivered++;
      node.receive(e.from, e.bytes!, now);
      schedule(e.to, false);
    }
  }

  // Honest replicas that executed equally far hold equal states.
  const byPoint = new Map<number, string>();
  let maxView = 0;
  let viewChanges = 0;
  let stateTransfers = 0;
  let maxExecuted = 0;
  const dropped: Record<string, number> = {};
  for (const [id, r] of replicas) {
    if (adversaries.has(id)) continue;
    const s = r.stats;
    const digest = hex(machines.get(id)!.digest());
    const had = byPoint.get(s.lastExecuted);
    if (had === undefined) byPoint.set(s.lastExecuted, digest);
    else if (had !== digest) violate(`honest replicas at seq ${s.lastExecuted} hold different states`);
    maxView = Math.max(maxView, s.view);
    viewChanges += s.viewChanges;
    stateTransfers += s.stateTransfers;
    maxExecuted = Math.max(maxExecuted, s.lastExecuted);
    for (const [k, v] of Object.entries(s.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
  }
  let forged = 0;
  for (const a of adversaries.values()) forged += a.forged;
  return {
    seed: o.seed,
    n,
    f,
    safetyViolations: violations,
    completed,
    expected,
    live: completed === expected,
    endTime: now,
    lastCompletion,
    delivered,
    maxView,
    viewChanges,
    stateTransfers,
    maxExecuted,
    dropped,
    forged,
    ...(o.keepReplicas ? { replicas, machines } : {}),
  };
}

/** A random adversarial scenario from a seed: n in [minN, maxN], f byzantine with random behaviours, a lossy start. */
export function randomScenario(seed: number, minN = 4, maxN = 13): SimOptions {
  const r: SimRandom = simRandom(seed ^ 0x9e3779b9);
  const n = r.int(minN, maxN);
  const { f } = quorums(n);
  const byzantine = new Map<number, Behaviour[]>();
  const ids = [...Array(n).keys()];
  // Half the runs make the first primary byzantine, so primary misbehaviour is exercised.
  const first = r.chance(0.5) ? [0] : [];
  while (first.length < f) {
    const x = r.pick(ids);
    if (!first.includes(x)) first.push(x);
  }
  for (const id of first) {
    const count = r.int(1, 2);
    const list: Behaviour[] = [];
    for (let i = 0; i < count; i++) {
      const kind = r.pick(BEHAVIOUR_KINDS);
      list.push(kind === 'slow' ? { kind, delay: r.int(1000, 3000) } : { kind });
    }
    byzantine.set(id, list);
  }
  const honest = ids.filter((x) => !byzantine.has(x));
  const partitioned = r.chance(0.3) ? [r.pick(honest)] : [];
  return {
    seed,
    n,
    byzantine,
    clients: r.int(1, 3),
    requestsPerClient: r.int(2, 6),
    loss: r.pick([0, 0.02, 0.05, 0.1]),
    duplicate: r.pick([0, 0.05, 0.1]),
    partitioned,
    stabiliseAt: r.int(200, 2000),
    maxBatch: r.pick([1, 2, 4, 8]),
  };
}
