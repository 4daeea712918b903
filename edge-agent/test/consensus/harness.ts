import { hmacSignatures, KvStateMachine, Replica, type PersistRecord, type ReplicaAction, type ReplicaEvent, type ReplicaConfig } from '../../src/consensus/index.js';

/**
 * A synchronous group of replicas for tests that drive the cores by hand: messages go
 * into one FIFO queue and are delivered (in order, none lost) by run(); replies to
 * clients and events are collected. Time only moves when a test says so.
 */
export interface Group {
  readonly replicas: Replica[];
  readonly machines: KvStateMachine[];
  readonly replies: { client: number; from: number; bytes: Uint8Array }[];
  readonly events: { replica: number; event: ReplicaEvent }[];
  readonly sigs: ReturnType<typeof hmacSignatures>;
  /** Each replica's persist records, in order, as its log would hold them. */
  readonly logs: PersistRecord[][];
  now: number;
  /** Rebuilds replica `id` (a fresh state machine) from `records` (default: its log), as after a crash. */
  restart(id: number, records?: readonly PersistRecord[]): Replica;
  /** Hands bytes to replica `to` (from `from`) and runs the queue dry. */
  deliver(from: number, to: number, bytes: Uint8Array): void;
  /** Hands bytes to replica `to` and queues what it sends, without running the queue. */
  submit(from: number, to: number, bytes: Uint8Array): void;
  /** Delivers everything queued; `drop` filters messages out (from, to, bytes). */
  run(drop?: (from: number, to: number, bytes: Uint8Array) => boolean): number;
  /** Ticks every replica at `now`. */
  tick(now: number): void;
  /** Queues what replica `id` returned from a call the test made itself, and runs the queue dry. */
  apply(id: number, actions: readonly ReplicaAction[]): void;
}

export function group(n: number, options: Partial<ReplicaConfig> = {}, seed = 7): Group {
  const sigs = hmacSignatures(seed, 'replica');
  const machines = Array.from({ length: n }, () => new KvStateMachine());
  const make = (id: number, sm: KvStateMachine, recovered?: readonly PersistRecord[]): Replica =>
    new Replica({ id, n, signer: sigs.signer(id), verifier: sigs.verifier, stateMachine: sm, batchDelay: 0, now: 0, ...options, ...(recovered ? { recovered, now: g.now } : {}) });
  const replicas = machines.map((sm, id) => make(id, sm));
  const logs: PersistRecord[][] = replicas.map(() => []);
  const queue: { from: number; to: number; bytes: Uint8Array }[] = [];
  const replies: Group['replies'] = [];
  const events: Group['events'] = [];
  const handle = (id: number, actions: readonly ReplicaAction[]): void => {
    for (const a of actions) {
      if (a.kind === 'send') queue.push({ from: id, to: a.to, bytes: a.bytes });
      else if (a.kind === 'broadcast') {
        for (let j = 0; j < n; j++) if (j !== id) queue.push({ from: id, to: j, bytes: a.bytes });
      } else if (a.kind === 'reply') replies.push({ client: a.client, from: id, bytes: a.bytes });
      else if (a.kind === 'event') events.push({ replica: id, event: a.event });
      else if (a.kind === 'persist') logs[id]!.push(a.record);
    }
  };
  const g: Group = {
    replicas,
    machines,
    replies,
    events,
    sigs,
    logs,
    now: 0,
    restart(id, records) {
      const sm = new KvStateMachine();
      machines[id] = sm;
      replicas[id] = make(id, sm, records ?? logs[id]!);
      logs[id] = [...(records ?? logs[id]!)];
      return replicas[id]!;
    },
    deliver(from, to, bytes) {
      handle(to, replicas[to]!.receive(from, bytes, g.now));
      g.run();
    },
    submit(from, to, bytes) {
      handle(to, replicas[to]!.receive(from, bytes, g.now));
    },
    run(drop) {
      let count = 0;
      while (queue.length > 0) {
        const m = queue.shift()!;
        if (drop?.(m.from, m.to, m.bytes)) continue;
        count++;
        handle(m.to, replicas[m.to]!.receive(m.from, m.bytes, g.now));
      }
      return count;
    },
    tick(now) {
      g.now = now;
      for (const r of replicas) handle(r.id, r.tick(now));
    },
    apply(id, actions) {
      handle(id, actions);
      g.run();
    },
  };
  return g;
}
