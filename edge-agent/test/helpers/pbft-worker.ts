/**
 * PBFT in separate processes over BOLT 8 on loopback, for the process test and
 * the `pbft` benchmark. Run as a script (`node --import=tsx pbft-worker.ts`)
 * it is one worker: one node identity (PBFT_SECRET_KEY hex, else fresh), a
 * ConnectionManager listening on 127.0.0.1:PBFT_PORT (else any port) and a
 * Messenger with the consensus messages. It speaks JSON lines: stdin carries
 * `{id, cmd, ...}`, stdout `{t: 'ready', port, publicKey}` once, then one
 * `{t: 'ok', id, ...}` or `{t: 'error', id, message}` per command. It leaves
 * when its stdin closes, so it never outlives its parent.
 *
 * A worker is a replica (`start`: one ReplicaService with a KvStateMachine,
 * its log at `logPath`) or hosts clients (`clients`: `nodes` client nodes, each
 * its own key, manager and messenger (a Messenger routes one handler per
 * group) and one ClientService speaking for its share of the `count` client
 * numbers; `submit` runs operations one after another, `submit-loop` runs one
 * closed loop per client number until `stop-loop`). Imported, this module only
 * exports `PbftWorker`, the parent's handle on such a process.
 *
 * The channels' inbound rate limit is lifted (the default 200 messages/s per
 * peer would close a busy primary's channels) and handshakes may take 30 s;
 * everything else is default.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientService, KvStateMachine, ReplicaService, encodeKvOp, withConsensusMessages, type ReplicaEvent, type ReplicaTuning } from '../../src/consensus/index.js';
import { generateKeyPair, peerIdOf, publicKeyOf, toHex } from '../../src/identity/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { WorkerProcess, fromHex, num, serveCommands, str, type Reply } from './worker-rpc.js';

const WORKER_PATH = fileURLToPath(import.meta.url);
const post = (session: Session, method: string): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
const REPO_ROOT = join(dirname(WORKER_PATH), '..', '..', '..');


/** A node to dial: its number in the run, identity key (hex) and port on 127.0.0.1. */
export interface PeerInfo {
  readonly member: number;
  readonly publicKey: string;
  readonly port: number;
}

export interface SpawnOptions {
  /** Hex secret key; a restarted replica is given its old one. */
  readonly secretKey?: string;
  /** Port to listen on; a restarted replica takes its old one so clients can find it. */
  readonly port?: number;
  /** Extra node flags (e.g. --max-old-space-size=96). */
  readonly nodeFlags?: readonly string[];
  /** Where the worker's stderr goes (default: inherited). */
  readonly stderr?: 'inherit' | 'ignore';
}

/** The parent's handle on one PBFT worker process (key and port passed through the environment). */
export class PbftWorker extends WorkerProcess {
  constructor(name: string, o: SpawnOptions = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (o.secretKey !== undefined) env['PBFT_SECRET_KEY'] = o.secretKey;
    if (o.port !== undefined) env['PBFT_PORT'] = String(o.port);
    super(name, { script: WORKER_PATH, cwd: REPO_ROOT, env, ...(o.nodeFlags ? { nodeFlags: o.nodeFlags } : {}), ...(o.stderr ? { stderr: o.stderr } : {}) });
  }
}

// ---------------------------------------------------------------- the worker itself

const peerList = (v: unknown): PeerInfo[] => {
  if (!Array.isArray(v)) throw new Error('peers must be an array');
  return v.map((p: Partial<PeerInfo>) => ({ member: num(p.member, 'peer.member'), publicKey: str(p.publicKey, 'peer.publicKey'), port: num(p.port, 'peer.port') }));
};
const roster = (v: unknown, what: string): Map<number, Uint8Array> => {
  if (!Array.isArray(v)) throw new Error(`${what} must be an array of [number, publicKeyHex]`);
  return new Map(v.map((e: [unknown, unknown]) => [num(e[0], `${what} number`), fromHex(str(e[1], `${what} key`))] as const));
};
const percentile = (sorted: readonly number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
const address = (p: PeerInfo): string => `${p.publicKey}@127.0.0.1:${p.port}`;
/** The channels' inbound budget, lifted: the benchmark is the load. */
const UNLIMITED = { messagesPerSec: Infinity, messageBurst: Infinity, bytesPerSec: Infinity, byteBurst: Infinity };
const registry = withConsensusMessages(coreMessages);
/** Handshakes get long: 31 processes dialling each other at once on two shared cores need more than the default 5 s. */
const MANAGER = { rateLimit: UNLIMITED, handshakeTimeoutMs: 30_000 };

/** Dials with a few retries: a handshake can lose to a loaded machine. */
async function dialRetrying(manager: ConnectionManager, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await manager.dial(to);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface HostedClient {
  readonly self: number;
  readonly manager: ConnectionManager;
  readonly messenger: Messenger;
  readonly service: ClientService;
  /** Client numbers the service speaks for: closed loops it runs at once. */
  readonly concurrency: number;
  ops: number;
}

/** Closed-loop figures since the last mark. */
class Window {
  startedAt = performance.now();
  latencies: number[] = [];
  /** Date.now() of each commit, for "first commit after the kill". */
  completions: number[] = [];
  errors = 0;

  summary(): Reply {
    const s = [...this.latencies].sort((a, b) => a - b);
    const ms = performance.now() - this.startedAt;
    return {
      count: s.length,
      windowMs: ms,
      opsPerSec: s.length / (ms / 1000),
      p50Ms: percentile(s, 0.5),
      p99Ms: percentile(s, 0.99),
      maxMs: s.length ? s[s.length - 1]! : NaN,
      errors: this.errors,
    };
  }
}

async function workerMain(): Promise<void> {
  const keys = process.env['PBFT_SECRET_KEY'] ? (() => { const secretKey = fromHex(process.env['PBFT_SECRET_KEY']!); return { secretKey, publicKey: publicKeyOf(secretKey) }; })() : generateKeyPair();
  const manager = new ConnectionManager({ secretKey: keys.secretKey, ...MANAGER });
  const messenger = new Messenger({ manager, registry });
  const { port } = await manager.listen(`127.0.0.1:${Number(process.env['PBFT_PORT'] ?? 0)}`);

  let replica: ReplicaService | undefined;
  let replicaSelf = -1;
  let executedRequests = 0;
  let failure: string | undefined;
  /** Date.now() of the first batch executed in each view, and of each view's new-view. */
  const firstExecAt = new Map<number, number>();
  const newViewAt = new Map<number, number>();
  const clients: HostedClient[] = [];
  let loops: Promise<void>[] = [];
  let running = false;
  let window = new Window();
  let profiler: Session | undefined;

  const onEvent = (e: ReplicaEvent): void => {
    if (e.kind === 'executed') {
      executedRequests += e.requests.length;
      if (!firstExecAt.has(e.view)) firstExecAt.set(e.view, Date.now());
    } else if (e.kind === 'new-view' && !newViewAt.has(e.view)) newViewAt.set(e.view, Date.now());
  };

  const op = (c: HostedClient, valueBytes: number): Uint8Array => {
    c.ops++;
    // A bounded key space per client keeps the checkpointed state (and its snapshots) small.
    return encodeKvOp({ op: 'put', key: `c${c.self}-${c.ops % 16}`, value: new Uint8Array(valueBytes).fill(c.ops & 0xff) });
  };

  async function loop(c: HostedClient, valueBytes: number): Promise<void> {
    while (running) {
      const t0 = performance.now();
      const w = window;
      try {
        await c.service.submit(op(c, valueBytes));
        if (w === window) {
          w.latencies.push(performance.now() - t0);
          w.completions.push(Date.now());
        }
      } catch {
        if (!running) return;
        w.errors++;
      }
    }
  }

  async function handle(c: { id: number; cmd: string } & Reply): Promise<Reply> {
    switch (c.cmd) {
      case 'mesh': {
        // Each pair dials once, lower number to higher; a restarted node (dialAll) dials everyone.
        const self = num(c['self'], 'self');
        const peers = peerList(c['peers']).filter((p) => p.member !== self);
        const dialAll = c['dialAll'] === true;
        await Promise.all(peers.filter((p) => dialAll || p.member > self).map((p) => dialRetrying(manager, address(p))));
        await waitFor(() => peers.every((p) => manager.channel(peerIdOf(fromHex(p.publicKey)))?.isOpen === true), 120_000, `channels from ${self} to every peer`);
        return {};
      }
      case 'start': {
        if (replica !== undefined) throw new Error('a replica already runs here');
        replicaSelf = num(c['self'], 'self');
        replica = await ReplicaService.start({
          messenger,
          groupId: fromHex(str(c['groupId'], 'groupId')),
          replicas: roster(c['replicas'], 'replicas'),
          clients: roster(c['clients'], 'clients'),
          self: replicaSelf,
          secretKey: keys.secretKey,
          stateMachine: new KvStateMachine(),
          logPath: str(c['logPath'], 'logPath'),
          tuning: (c['tuning'] ?? {}) as ReplicaTuning,
          onEvent,
          onFailure: (err) => {
            failure = err.message;
          },
        });
        return { recovered: replica.stats.recovered };
      }
      case 'status': {
        const cpu = process.cpuUsage();
        const base: Reply = { cpuMs: (cpu.user + cpu.system) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20, failure: failure ?? null };
        if (replica === undefined) return base;
        const s = replica.replica.stats;
        return {
          ...base,
          self: replicaSelf,
          view: s.view,
          active: s.active,
          lastExecuted: s.lastExecuted,
          lowWatermark: s.lowWatermark,
          viewChanges: s.viewChanges,
          stateTransfers: s.stateTransfers,
          executedRequests,
          recovered: replica.stats.recovered,
          persisted: replica.stats.persisted,
          dropped: s.dropped,
          firstExecAt: Object.fromEntries(firstExecAt),
          newViewAt: Object.fromEntries(newViewAt),
        };
      }
      case 'clients': {
        // `nodes` client nodes, each its own key, manager and messenger, speaking for `count` / nodes client
        // numbers (closed loops at once); the roster returned lists every number with its node's key.
        const groupId = fromHex(str(c['groupId'], 'groupId'));
        const base = num(c['base'], 'base');
        const total = num(c['count'], 'count');
        const count = Math.min(total, num(c['nodes'] ?? total, 'nodes'));
        const per = Math.ceil(total / count);
        const replicas = peerList(c['replicas']);
        const rosterOfReplicas = new Map(replicas.map((p) => [p.member, fromHex(p.publicKey)] as const));
        const retransmit = c['retransmitTimeoutMs'] === undefined ? undefined : num(c['retransmitTimeoutMs'], 'retransmitTimeoutMs');
        const made: PeerInfo[] = [];
        for (let i = 0; i < count; i++) {
          const k = generateKeyPair();
          const m = new ConnectionManager({ secretKey: k.secretKey, ...MANAGER });
          // Listening, so a restarted replica can dial its clients back.
          const { port: p } = await m.listen('127.0.0.1:0');
          const msgr = new Messenger({ manager: m, registry });
          const self = base + i * per;
          const concurrency = Math.min(per, total - i * per);
          if (concurrency <= 0) break;
          const service = new ClientService({
            messenger: msgr,
            groupId,
            replicas: rosterOfReplicas,
            self,
            concurrency,
            secretKey: k.secretKey,
            ...(retransmit !== undefined ? { retransmitTimeoutMs: retransmit } : {}),
          });
          clients.push({ self, manager: m, messenger: msgr, service, concurrency, ops: 0 });
          for (let j = 0; j < concurrency; j++) made.push({ member: self + j, publicKey: toHex(k.publicKey), port: p });
          await Promise.all(replicas.map((r) => dialRetrying(m, address(r))));
        }
        return { clients: made };
      }
      case 'submit': {
        // `count` operations from client `index`, one after another: what each committed with.
        const cl = clients[num(c['index'] ?? 0, 'index')];
        if (cl === undefined) throw new Error('no such client');
        const results: Reply[] = [];
        for (let i = 0, n = num(c['count'] ?? 1, 'count'); i < n; i++) {
          const t0 = performance.now();
          const r = await cl.service.submit(op(cl, num(c['valueBytes'] ?? 16, 'valueBytes')));
          results.push({ replicas: [...r.replicas], ms: performance.now() - t0, at: Date.now() });
        }
        return { results };
      }
      case 'submit-loop': {
        if (running) throw new Error('the loop already runs');
        if (clients.length === 0) throw new Error('no clients here');
        running = true;
        window = new Window();
        const valueBytes = num(c['valueBytes'] ?? 16, 'valueBytes');
        // `loops`: how many closed loops to run (default one per client number here).
        const all = clients.flatMap((cl) => Array.from({ length: cl.concurrency }, () => cl));
        const count = c['loops'] === undefined ? all.length : Math.min(all.length, num(c['loops'], 'loops'));
        loops = all.slice(0, count).map((cl) => loop(cl, valueBytes));
        return {};
      }
      case 'mark':
        // A new measurement window: commits before it (warm-up) are not counted.
        window = new Window();
        return {};
      case 'loop-stats': {
        const after = c['after'] === undefined ? undefined : num(c['after'], 'after');
        const first = after === undefined ? undefined : window.completions.find((t) => t >= after);
        return { ...window.summary(), firstCommitAfter: first ?? null };
      }
      case 'stop-loop': {
        running = false;
        const summary = window.summary();
        // An operation stuck in a dead group would never settle: give the loops a bounded while.
        await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, num(c['graceMs'] ?? 5_000, 'graceMs')))]);
        return summary;
      }
      case 'profile-start': {
        // A CPU profile of a steady window only (--cpu-prof would mostly show start-up).
        profiler ??= new Session();
        profiler.connect();
        await post(profiler, 'Profiler.enable');
        await post(profiler, 'Profiler.start');
        return {};
      }
      case 'profile-stop': {
        if (profiler === undefined) throw new Error('no profile running');
        const r = (await post(profiler, 'Profiler.stop')) as { profile: unknown };
        await writeFile(str(c['path'], 'path'), JSON.stringify(r.profile));
        profiler.disconnect();
        return {};
      }
      case 'stop':
        await replica?.stop();
        return {};
      default:
        throw new Error(`unknown command ${c.cmd}`);
    }
  }

  async function shutdown(code: number): Promise<void> {
    running = false;
    for (const cl of clients) {
      cl.service.close();
      cl.messenger.close();
      await cl.manager.close().catch(() => {});
    }
    await replica?.stop().catch(() => {});
    messenger.close();
    await manager.close().catch(() => {});
    process.exit(code);
  }

  serveCommands((c) => handle(c), shutdown, { port, publicKey: toHex(keys.publicKey) });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await workerMain();
