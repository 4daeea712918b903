import { MinHeap } from '../simkit/index.js';
import { quorums } from './certs.js';
import { Client, type ClientAction } from './client.js';
import { fail } from './errors.js';
import { hex } from './messages.js';
import { Replica } from './replica.js';
import { Adversary, BEHAVIOUR_KINDS, type Behaviour } from './sim-adversary.js';
import { hmacSignatures, simRandom, type SimRandom } from './sim-random.js';
import { encodeKvOp, KvStateMachine } from './state-machine.js';
import type { PersistRecord, ReplicaAction } from './types.js';
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
 *
 * Honest replicas may crash and restart: the simulator keeps each one's persist records in
 * order, as its log would. A crash strikes in the middle of an action list, at a persist
 * record (torn: lost, or written but nothing after it carried out) or after the last action;
 * the replica then loses everything else, receives nothing while down, and comes back built
 * from its records. With `compact`, a replica's log is rewritten as compactRecords() after
 * every list that made a checkpoint stable, so recovery from compacted logs is exercised.
 */

/** An honest replica crashes at the first thing it does from `at` on, and restarts `downFor` ms later. */
export interface SimRestart {
  readonly replica: number;
  readonly at: number;
  readonly downFor: number;
}

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
  /** Crash-restarts of honest replicas. */
  readonly restarts?: readonly SimRestart[];
  /** Rewrite each log as compactRecords() after a stable checkpoint (default false). */
  readonly compact?: boolean;
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
  /** Crash-restarts carried out (replicas rebuilt from their records), and crashes that tore a record. */
  readonly restarts: number;
  readonly tornWrites: number;
  /** Each honest replica's persisted records at the end (with keepReplicas). */
  readonly logs?: ReadonlyMap<number, readonly PersistRecord[]>;
  readonly replicas?: ReadonlyMap<number, Replica>;
  readonly machines?: ReadonlyMap<number, KvStateMachine>;
}

const CLIENT_BASE = 1000;

interface Event {
  readonly at: number;
  readonly order: number;
  readonly kind: 'deliver' | 'tick' | 'crash' | 'restart';
  readonly to: number;
  readonly from: number;
  readonly bytes: Uint8Array | undefined;
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
  const plannedRestarts = o.restarts ?? [];
  for (const x of plannedRestarts) {
    if (!Number.isSafeInteger(x.replica) || x.replica < 0 || x.replica >= n || byz.has(x.replica)) fail(`restart of ${x.replica}: only honest replicas 0..n−1 restart`);
    if (!Number.isFinite(x.at) || x.at < 0 || !Number.isFinite(x.downFor) || x.downFor < 0) fail('restart times must be finite and non-negative');
  }

  const queue = new MinHeap<Event>((a, b) => (a.at !== b.at ? a.at < b.at : a.order < b.order));
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
  const logs = new Map<number, PersistRecord[]>();
  /** Replicas whose crash is due: since when, and for how long they stay down. */
  const crashing = new Map<number, { since: number; downFor: number }>();
  const down = new Set<number>();
  const retired: Replica[] = [];
  let restarts = 0;
  let tornWrites = 0;
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
      const log = logs.get(id)!;
      // A crash due now strikes at a persist record (torn, or written with nothing after it done) or after the list.
      let cut = actions.length;
      // It waits (a little) for a list that persists something, so torn writes happen.
      const due = crashing.get(id);
      const hasPersist = actions.some((a) => a.kind === 'persist');
      const downFor = due !== undefined && (hasPersist || now >= due.since + 500) ? due.downFor : undefined;
      if (downFor !== undefined) {
        const at = actions.flatMap((a, i) => (a.kind === 'persist' ? [i] : []));
        const k = rng.int(0, at.length);
        if (k < at.length) {
          cut = at[k]!;
          if (rng.chance(0.5)) tornWrites++;
          else log.push((actions[cut] as Extract<ReplicaAction, { kind: 'persist' }>).record);
        }
      }
      let stable = false;
      for (const a of actions.slice(0, cut)) {
        if (a.kind === 'persist') {
          log.push(a.record);
          stable ||= a.record.type === 'stable';
        } else if (a.kind === 'send') send(id, a.to, a.bytes);
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
      if (downFor !== undefined) {
        crashing.delete(id);
        down.add(id);
        retired.push(replicas.get(id)!);
        queue.push({ at: now + downFor, order: order++, kind: 'restart', to: id, from: id, bytes: undefined });
      } else if (stable && o.compact === true) logs.set(id, replicas.get(id)!.compactRecords());
      return;
    }
    for (const x of adv.transform(actions)) {
      if (x.client) send(id, x.to, x.bytes, x.delay);
      else if (x.to < n) send(id, x.to, x.bytes, x.delay);
    }
  };

  const makeReplica = (id: number, recovered: readonly PersistRecord[] | undefined): void => {
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
      now,
      ...(recovered !== undefined ? { recovered } : {}),
    });
    replicas.set(id, replica);
    machines.set(id, sm);
  };
  for (let id = 0; id < n; id++) {
    makeReplica(id, undefined);
    if (!byz.has(id)) logs.set(id, []);
    const behaviours = byz.get(id);
    if (behaviours !== undefined) adversaries.set(id, new Adversary(id, n, behaviours, sigs.signer(id), advRng));
    nodes.set(id, {
      scheduled: undefined,
      nextDeadline: () => (down.has(id) ? undefined : replicas.get(id)!.nextDeadline()),
      tick: (t) => replicaActions(id, replicas.get(id)!.tick(t)),
      receive: (from, bytes, t) => {
        adversaries.get(id)?.observe(bytes);
        // A client's message arrives on its own (authenticated) channel, as in the shell.
        const r = replicas.get(id)!;
        replicaActions(id, from >= CLIENT_BASE ? r.fromClient(new Set([from]), bytes, t) : r.receive(from, bytes, t));
      },
    });
  }

  let completed = 0;
  let lastCompletion: number | undefined;
  const expected = clientCount * perClient;
  for (let c = 0; c < clientCount; c++) {
    const cid = CLIENT_BASE + c;
    const client = new Client({ id: cid, n, ...(signedRequests ? { signer: clientSigs.signer(cid) } : {}), retransmitTimeout: 400 });
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
  for (const x of plannedRestarts) queue.push({ at: x.at, order: order++, kind: 'crash', to: x.replica, from: x.replica, bytes: undefined });

  const settle = o.settle ?? 0;
  let restartsLeft = plannedRestarts.length;
  for (;;) {
    // Runs go on until every planned crash-restart happened.
    if (completed === expected && restartsLeft === 0 && (settle === 0 || now >= (lastCompletion ?? 0) + settle)) break;
    const e = queue.pop();
    if (e === undefined || e.at > until) break;
    now = e.at;
    const node = nodes.get(e.to);
    if (node === undefined) continue;
    if (e.kind === 'crash') {
      const plan = plannedRestarts.find((x) => x.replica === e.to && x.at === e.at);
      if (!down.has(e.to) && !crashing.has(e.to) && plan !== undefined) crashing.set(e.to, { since: now, downFor: plan.downFor });
      else restartsLeft--;
      continue;
    }
    if (e.kind === 'restart') {
      down.delete(e.to);
      makeReplica(e.to, logs.get(e.to)!);
      restarts++;
      restartsLeft--;
      node.scheduled = undefined;
      schedule(e.to, false);
      continue;
    }
    if (e.to >= 0 && e.to < n && down.has(e.to)) {
      // A replica that is down receives nothing and has no timers.
      if (e.kind === 'tick' && node.scheduled === e.at) node.scheduled = undefined;
      continue;
    }
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
  for (const r of retired) {
    if (replicas.get(r.id) === r) continue; // down at the end: counted below
    viewChanges += r.stats.viewChanges;
    stateTransfers += r.stats.stateTransfers;
    for (const [k, v] of Object.entries(r.stats.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
  }
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
    restarts,
    tornWrites,
    ...(o.keepReplicas ? { replicas, machines, logs } : {}),
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
  const clients = r.int(1, 3);
  const requestsPerClient = r.int(2, 6);
  const loss = r.pick([0, 0.02, 0.05, 0.1]);
  const duplicate = r.pick([0, 0.05, 0.1]);
  const stabiliseAt = r.int(200, 2000);
  const maxBatch = r.pick([1, 2, 4, 8]);
  // A third of the runs crash-restart up to f+1 honest replicas, at most f down at once
  // (a crash lands up to 500 ms after `at`, hence the margin).
  const restarts: SimRestart[] = [];
  if (r.chance(1 / 3)) {
    const want = r.int(1, f + 1);
    for (let tries = 0; tries < 10 * want && restarts.length < want; tries++) {
      const x = { replica: r.pick(honest), at: r.int(20, stabiliseAt + 1500), downFor: r.int(0, 1500) };
      const overlap = restarts.filter((y) => y.at < x.at + x.downFor + 600 && x.at < y.at + y.downFor + 600);
      if (overlap.length >= f || overlap.some((y) => y.replica === x.replica)) continue;
      restarts.push(x);
    }
  }
  return {
    seed,
    n,
    byzantine,
    clients,
    requestsPerClient,
    loss,
    duplicate,
    partitioned,
    stabiliseAt,
    maxBatch,
    restarts,
    compact: restarts.length > 0 && r.chance(0.5),
  };
}
