/**
 * PBFT between processes (issue 9): n = 4, 7, 13 and 31 replicas, one worker
 * process each (edge-agent/test/helpers/pbft-worker.ts), every pair on its own
 * BOLT 8 channel over TCP on loopback, logs on disk (fdatasync group commit),
 * and closed-loop clients (each submits its next operation when the previous
 * committed) spread over two client processes, each process one client node
 * (key, channels) speaking for its share of the client numbers. Everything on
 * this 2-core machine.
 *
 * Per n: commit latency (p50, p99) of one closed loop alone, then throughput
 * with every loop running and batching (the core's defaults: maxBatch 32,
 * batchDelay 0, maxInFlight 2), with the latency seen under that load; for n ≤ 13 a fresh group with
 * maxBatch 1 for the unbatched throughput, and another with short timeouts and
 * one closed-loop client whose primary's process is SIGKILLed: the time to the
 * first commit in the new view (the first client commit after a surviving
 * replica executed in a later view). At n = 31 the kill happens under the
 * load, with the load's timeouts (one group only: 31 processes start slowly).
 * Latency figures are null when no operation committed in the window.
 *
 * Where the time goes: CPU per committed operation per replica (process CPU
 * over the window / ops), the mean batch, and the signatures each operation
 * costs a replica: per batch it signs its prepare (the primary its
 * pre-prepare) and verifies the pre-prepare and n−1 prepares (Ed25519 keys
 * certified by the identity keys, OpenSSL); commits, replies and status go
 * unsigned over the authenticated channels, and requests that came from their
 * client's own channel are not verified. Priced at the sign/verify times
 * measured here. Environment: PBFT_NS (e.g. "4,7"),
 * PBFT_CLIENTS, PBFT_CLIENTS_31, PBFT_REQUEST_TIMEOUT_MS, PBFT_RETRANSMIT_MS (under
 * load), PBFT_VC_REQUEST_TIMEOUT_MS, PBFT_VC_RETRANSMIT_MS (view change), PBFT_STATUS_MS, PBFT_LOG_ROOT,
 * PBFT_CLIENT_NODES, PBFT_MAX_BATCH, PBFT_LOAD_ONLY, PBFT_PROF.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsensusKey, certifiedVerifier } from '../edge-agent/src/consensus/index.js';
import { generateKeyPair } from '../edge-agent/src/identity/index.js';
import { PbftWorker, type PeerInfo } from '../edge-agent/test/helpers/pbft-worker.js';
import type { BenchResult } from './run.js';
import { median, round } from './lib/measure.js';

const NS = (process.env['PBFT_NS'] ?? '4,7,13,31').split(',').map(Number);
/** Closed loops (client numbers), spread over CLIENT_PROCESSES processes of CLIENT_NODES nodes (keys, channels) each. */
const CLIENTS = Number(process.env['PBFT_CLIENTS'] ?? 64);
/** Fewer at 31: every request goes to 31 replicas, every batch costs 2·31·30 votes, and the machine has two cores. */
const CLIENTS_31 = Number(process.env['PBFT_CLIENTS_31'] ?? 16);
const CLIENT_PROCESSES = 2;
const CLIENT_NODES = Number(process.env['PBFT_CLIENT_NODES'] ?? 1);
/**
 * Two sets of timeouts. Under closed-loop load the backups' requestTimeout must stay above the loaded machine's
 * commit latency, else they start view changes that feed on themselves (seen: 300 ms → four view changes and 1 op/s
 * at n = 4; 1,000 ms → 0 ops/s at n = 7 with the machine shared). So the load runs with long timeouts, and the
 * view change is timed on its own group (n ≤ 13) with short ones and one closed-loop client: it can be no faster
 * than the client's retransmission (its request reached only the dead primary) plus the backups' requestTimeout.
 */
const LOAD_REQUEST_TIMEOUT_MS = Number(process.env['PBFT_REQUEST_TIMEOUT_MS'] ?? 5_000);
const LOAD_RETRANSMIT_MS = Number(process.env['PBFT_RETRANSMIT_MS'] ?? 2_000);
const VC_REQUEST_TIMEOUT_MS = Number(process.env['PBFT_VC_REQUEST_TIMEOUT_MS'] ?? 500);
const VC_RETRANSMIT_MS = Number(process.env['PBFT_VC_RETRANSMIT_MS'] ?? 250);
/** Where the logs live: tmpdir (a disk, fdatasync ~4 ms here) unless PBFT_LOG_ROOT names e.g. /dev/shm. */
const LOG_ROOT = process.env['PBFT_LOG_ROOT'] ?? tmpdir();
/** PBFT_LOAD_ONLY=1: only the batched load per n (for profiling with PBFT_PROF=dir, which gives every worker --cpu-prof). */
const LOAD_ONLY = process.env['PBFT_LOAD_ONLY'] === '1';
/** PBFT_MAX_BATCH: the batched runs' maxBatch (default: the core's, 32). */
const MAX_BATCH = process.env['PBFT_MAX_BATCH'] !== undefined ? Number(process.env['PBFT_MAX_BATCH']) : undefined;
const WARM_MS = 1_500;
const MEASURE_MS = 4_000;
const LATENCY_MS = 3_000;
const UNBATCHED_MEASURE_MS = 3_000;
const VIEW_CHANGE_WAIT_MS = 30_000;
const NODE_FLAGS = ['--max-old-space-size=128', ...(process.env['PBFT_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['PBFT_PROF']}`] : [])];
const GOALS = { p50Ms7: 10, opsPerSec7: 5_000, viewChangeMs7: 500 };

/**
 * Every replica signs a status message per interval and every other verifies it: (1 sign + (n−1) verifies) per replica
 * per interval, ~270 ms of CPU per second per replica at n = 31 with 100 ms, 8 cores' worth in all. So the
 * interval grows with n (25·n ms: 100 at 4, 775 at 31) unless PBFT_STATUS_MS sets it.
 */
const statusIntervalOf = (n: number): number => Number(process.env['PBFT_STATUS_MS'] ?? 25 * n);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
type Reply = Record<string, unknown>;

interface Group {
  readonly replicas: PbftWorker[];
  readonly clients: PbftWorker[];
  readonly dir: string;
}

async function launch(n: number, clientCount: number, tuning: Reply, retransmitMs: number): Promise<Group> {
  const dir = await mkdtemp(join(LOG_ROOT, `pbft-bench-${n}-`));
  const replicas = Array.from({ length: n }, (_, i) => new PbftWorker(`replica ${i}/${n}`, { nodeFlags: NODE_FLAGS }));
  const clients = Array.from({ length: Math.min(CLIENT_PROCESSES, clientCount) }, (_, i) => new PbftWorker(`clients ${i}/${n}`, { nodeFlags: NODE_FLAGS }));
  const group = { replicas, clients, dir };
  try {
    const within = <T>(p: Promise<T>, what: string): Promise<T> =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not ready after 180 s`)), 180_000).unref())]);
    const infos = await within(Promise.all(replicas.map((w) => w.ready)), `${n} replicas`);
    await within(Promise.all(clients.map((w) => w.ready)), 'client processes');
    const peers: PeerInfo[] = infos.map((info, i) => ({ member: i, ...info }));
    await Promise.all(replicas.map((w, i) => w.call('mesh', { self: i, peers }, 200_000)));
    const groupId = randomBytes(16).toString('hex');
    const per = Math.ceil(clientCount / clients.length);
    const made: PeerInfo[] = [];
    for (let p = 0; p < clients.length; p++) {
      const count = Math.min(per, clientCount - p * per);
      if (count <= 0) continue;
      const r = await clients[p]!.call('clients', { groupId, base: 1000 + p * per, count, nodes: CLIENT_NODES, replicas: peers, retransmitTimeoutMs: retransmitMs }, 120_000);
      made.push(...(r['clients'] as PeerInfo[]));
    }
    await Promise.all(
      replicas.map((w, i) =>
        w.call('start', {
          groupId,
          self: i,
          replicas: peers.map((p) => [p.member, p.publicKey]),
          clients: made.map((c) => [c.member, c.publicKey]),
          logPath: join(dir, `replica-${i}.log`),
          tuning,
        }),
      ),
    );
    return group;
  } catch (err) {
    await close(group);
    throw err;
  }
}

async function close(g: Group): Promise<void> {
  await Promise.all([...g.replicas, ...g.clients].map((w) => w.stop()));
  await rm(g.dir, { recursive: true, force: true });
}

const statuses = (ws: readonly PbftWorker[]): Promise<Reply[]> => Promise.all(ws.map((w) => w.call('status')));
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

interface Window {
  readonly count: number;
  readonly ms: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly replicaCpuMsPerOp: number;
  readonly clientCpuMsPerOp: number;
  readonly batch: number;
  readonly views: number;
  readonly rssMb: number;
}

/** Closed loops running: warm up, mark, measure `ms`, read latencies, CPU and executed sequence numbers. */
async function measureWindow(g: Group, ms: number, clients: readonly PbftWorker[] = g.clients): Promise<Window> {
  await sleep(WARM_MS);
  await Promise.all(clients.map((w) => w.call('mark')));
  const r0 = await statuses(g.replicas);
  const c0 = await statuses(clients);
  await sleep(ms);
  const stats = await Promise.all(clients.map((w) => w.call('loop-stats')));
  const r1 = await statuses(g.replicas);
  const c1 = await statuses(clients);
  // Latency percentiles over all clients: each process reports its own; weight by count (close enough for p50; p99 is the worst process's).
  const count = sum(stats.map((s) => s['count'] as number));
  const windowMs = Math.max(...stats.map((s) => s['windowMs'] as number));
  const cpu = (a: Reply[], b: Reply[]): number => sum(b.map((s, i) => (s['cpuMs'] as number) - (a[i]!['cpuMs'] as number)));
  const seqs = r1.map((s, i) => (s['lastExecuted'] as number) - (r0[i]!['lastExecuted'] as number));
  return {
    count,
    ms: windowMs,
    opsPerSec: count / (windowMs / 1000),
    p50Ms: count === 0 ? NaN : sum(stats.map((s) => (s['count'] as number) === 0 ? 0 : (s['p50Ms'] as number) * (s['count'] as number))) / count,
    p99Ms: count === 0 ? NaN : Math.max(...stats.filter((s) => (s['count'] as number) > 0).map((s) => s['p99Ms'] as number)),
    replicaCpuMsPerOp: cpu(r0, r1) / g.replicas.length / Math.max(1, count),
    clientCpuMsPerOp: cpu(c0, c1) / Math.max(1, count),
    batch: count / Math.max(1, median(seqs)),
    views: Math.max(...r1.map((s) => s['view'] as number)),
    rssMb: sum(r1.map((s) => s['rssMb'] as number)) / r1.length,
  };
}

/** CPU per replica per second with no load: status messages, timers, keepalives. */
async function idleCpu(g: Group): Promise<number> {
  const a = await statuses(g.replicas);
  const t0 = performance.now();
  await sleep(1_500);
  const b = await statuses(g.replicas);
  const ms = performance.now() - t0;
  return sum(b.map((s, i) => (s['cpuMs'] as number) - (a[i]!['cpuMs'] as number))) / g.replicas.length / (ms / 1000);
}

/** SIGKILL the primary under load; the first client commit after a survivor executed in a view ≥ 1. */
async function viewChange(g: Group): Promise<{ ms: number; newViewMs: number; fromView: number } | { error: string }> {
  // The primary of the view most replicas are in now (an earlier view change may have moved it off replica 0).
  const fromView = median((await statuses(g.replicas)).map((s) => s['view'] as number));
  const primary = g.replicas[fromView % g.replicas.length]!;
  const survivors = g.replicas.filter((w) => w !== primary);
  primary.kill();
  const killAt = Date.now();
  await primary.exited;
  const deadline = killAt + VIEW_CHANGE_WAIT_MS;
  while (Date.now() < deadline) {
    await sleep(50);
    const s = await statuses(survivors);
    const firsts = s.flatMap((r) =>
      Object.entries(r['firstExecAt'] as Record<string, number>)
        .filter(([v, at]) => Number(v) > fromView && at >= killAt)
        .map(([, at]) => at),
    );
    if (firsts.length === 0) continue;
    const newViewExec = Math.min(...firsts);
    const c = await Promise.all(g.clients.map((w) => w.call('loop-stats', { after: newViewExec })));
    const commits = c.map((r) => r['firstCommitAfter']).filter((t): t is number => typeof t === 'number');
    if (commits.length > 0) return { ms: Math.min(...commits) - killAt, newViewMs: newViewExec - killAt, fromView };
  }
  return { error: `no commit in a new view ${VIEW_CHANGE_WAIT_MS} ms after the kill` };
}

/** The cost of a certified Ed25519 signature, as the replicas make and check them (median of 200). */
function signatureCosts(): { signMs: number; verifyMs: number } {
  const k = generateKeyPair();
  const group = randomBytes(16);
  const key = ConsensusKey.derive(k.secretKey, group, 'replica', 0);
  const check = certifiedVerifier(group, 'replica', new Map([[0, k.publicKey]]));
  const msg = randomBytes(120);
  const sig = key.sign(msg);
  for (let i = 0; i < 50; i++) check(0, msg, key.sign(msg));
  const time = (fn: () => unknown): number => {
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      fn();
      xs.push(performance.now() - t0);
    }
    return median(xs);
  };
  const out = { signMs: time(() => key.sign(msg)), verifyMs: time(() => check(0, msg, sig)) };
  key.destroy();
  return out;
}

/** One group under closed-loop load: latency, throughput and where the CPU goes; the view change too when asked. */
async function underLoad(n: number, tuning: Reply, withViewChange: boolean, signMs: number, verifyMs: number, live: Set<Group>): Promise<{ w: Window; alone: Window; figures: Record<string, unknown>; vc?: Awaited<ReturnType<typeof viewChange>> }> {
  const clientCount = n >= 31 ? CLIENTS_31 : CLIENTS;
  const g = await launch(n, clientCount, tuning, LOAD_RETRANSMIT_MS);
  live.add(g);
  try {
    const idle = await idleCpu(g);
    // Latency first, with one closed loop: what an operation costs when it does not queue behind others.
    await g.clients[0]!.call('submit-loop', { loops: 1 });
    const alone = await measureWindow(g, LATENCY_MS, [g.clients[0]!]);
    await g.clients[0]!.call('stop-loop', { graceMs: 2_000 }).catch(() => ({}));
    await Promise.all(g.clients.map((c) => c.call('submit-loop')));
    const w = await measureWindow(g, n >= 31 ? 2 * MEASURE_MS : n <= 7 ? MEASURE_MS : UNBATCHED_MEASURE_MS + MEASURE_MS);
    const vc = withViewChange ? await viewChange(g) : undefined;
    await Promise.all(g.clients.map((c) => c.call('stop-loop', { graceMs: 2_000 }).catch(() => ({}))));
    // Per op per replica: its prepare per batch (the pre-prepare at the primary, 1/n of it); verified: the pre-prepare and
    // n−1 prepares per batch (an upper bound: the core may stop at its quorum). Requests from their client's channel: none.
    const signs = 1 / w.batch;
    const verifies = n / w.batch;
    const sigMs = signs * signMs + verifies * verifyMs;
    const lessIdle = Math.max(0, w.replicaCpuMsPerOp - (idle * w.ms) / 1000 / Math.max(1, w.count));
    const machine = w.replicaCpuMsPerOp * n + w.clientCpuMsPerOp;
    const figures: Record<string, unknown> = {
      clients: clientCount,
      ops: w.count,
      windowMs: Math.round(w.ms),
      meanBatch: round(w.batch, 2),
      viewAtEndOfWindow: w.views,
      replicaCpuMsPerOp: round(w.replicaCpuMsPerOp, 3),
      replicaIdleCpuMsPerSec: round(idle, 1),
      replicaCpuMsPerOpLessIdle: round(lessIdle, 3),
      clientCpuMsPerOp: round(w.clientCpuMsPerOp, 3),
      machineCpuMsPerOp: round(machine, 3),
      opsPerSecCeilingFromCpu: Math.round(2000 / machine),
      signsPerOpPerReplica: round(signs, 3),
      verifiesPerOpPerReplica: round(verifies, 3),
      signatureCpuMsPerOpPerReplica: round(sigMs, 3),
      signatureShareOfReplicaCpuLessIdle: round(sigMs / lessIdle, 2),
      replicaRssMb: Math.round(w.rssMb),
    };
    figures['alone'] = { ops: alone.count, p50Ms: finite(alone.p50Ms), p99Ms: finite(alone.p99Ms), replicaCpuMsPerOp: round(alone.replicaCpuMsPerOp, 3) };
    return vc === undefined ? { w, alone, figures } : { w, alone, figures, vc };
  } finally {
    live.delete(g);
    await close(g);
  }
}

/** The view change alone: one closed-loop client, short timeouts; SIGKILL the primary once commits flow. */
async function viewChangeAlone(n: number, live: Set<Group>): Promise<Awaited<ReturnType<typeof viewChange>>> {
  const g = await launch(n, 1, { requestTimeout: VC_REQUEST_TIMEOUT_MS, statusInterval: statusIntervalOf(n) }, VC_RETRANSMIT_MS);
  live.add(g);
  try {
    await Promise.all(g.clients.map((c) => c.call('submit-loop')));
    await sleep(2 * WARM_MS);
    const vc = await viewChange(g);
    await Promise.all(g.clients.map((c) => c.call('stop-loop', { graceMs: 2_000 }).catch(() => ({}))));
    return vc;
  } finally {
    live.delete(g);
    await close(g);
  }
}

/** A latency figure, or null when nothing committed (a 0 would read as "fast"). */
const finite = (x: number): number | null => (Number.isFinite(x) ? round(x, 1) : null);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

export default async function pbftBench(): Promise<BenchResult> {
  const load0 = loadavg()[0]!;
  const { signMs, verifyMs } = signatureCosts();
  const result: BenchResult = {};
  const breakdown: Record<string, Record<string, unknown>> = {};
  const live = new Set<Group>();
  const killAll = (): void => {
    for (const g of live) for (const w of [...g.replicas, ...g.clients]) w.kill();
  };
  process.once('exit', killAll);
  try {
    for (const n of NS) {
      const b = (breakdown[`n${n}`] = { f: Math.floor((n - 1) / 3), statusIntervalMs: statusIntervalOf(n) } as Record<string, unknown>);
      const tuning = { requestTimeout: LOAD_REQUEST_TIMEOUT_MS, statusInterval: statusIntervalOf(n), ...(MAX_BATCH !== undefined ? { maxBatch: MAX_BATCH } : {}) };
      try {
        // n = 31: one group only (31 processes start slowly here), its view change under the load's timeouts.
        const r = await underLoad(n, tuning, n >= 31, signMs, verifyMs, live);
        result[`p50Ms${n}`] = finite(r.alone.p50Ms);
        result[`p99Ms${n}`] = finite(r.alone.p99Ms);
        result[`opsPerSec${n}`] = Math.round(r.w.opsPerSec);
        result[`p50Ms${n}Loaded`] = finite(r.w.p50Ms);
        result[`p99Ms${n}Loaded`] = finite(r.w.p99Ms);
        Object.assign(b, r.figures);
        if (r.vc !== undefined) {
          result[`viewChangeMs${n}`] = 'ms' in r.vc ? Math.round(r.vc.ms) : null;
          Object.assign(b, 'ms' in r.vc ? { viewChange: `under load, requestTimeout ${LOAD_REQUEST_TIMEOUT_MS}, retransmit ${LOAD_RETRANSMIT_MS}`, killToNewViewExecMs: Math.round(r.vc.newViewMs) } : { viewChangeError: r.vc.error });
        }
      } catch (err) {
        result[`error${n}`] = message(err);
      }
      if (n > 13 || LOAD_ONLY) continue;
      try {
        // One request per batch, as many batches in flight as the log window holds.
        const r = await underLoad(n, { ...tuning, maxBatch: 1, maxInFlight: 32 }, false, signMs, verifyMs, live);
        result[`opsPerSec${n}Unbatched`] = Math.round(r.w.opsPerSec);
        result[`p50Ms${n}Unbatched`] = finite(r.w.p50Ms);
        b['unbatched'] = { replicaCpuMsPerOpLessIdle: r.figures['replicaCpuMsPerOpLessIdle'], signatureCpuMsPerOpPerReplica: r.figures['signatureCpuMsPerOpPerReplica'], meanBatch: r.figures['meanBatch'], ops: r.figures['ops'] };
      } catch (err) {
        result[`error${n}Unbatched`] = message(err);
      }
      try {
        const vc = await viewChangeAlone(n, live);
        result[`viewChangeMs${n}`] = 'ms' in vc ? Math.round(vc.ms) : null;
        Object.assign(b, 'ms' in vc ? { killToNewViewExecMs: Math.round(vc.newViewMs), killedPrimaryOfView: vc.fromView } : { viewChangeError: vc.error });
      } catch (err) {
        result[`error${n}ViewChange`] = message(err);
      }
    }
  } finally {
    killAll();
    process.off('exit', killAll);
  }
  const num = (k: string): number | undefined => (typeof result[k] === 'number' ? (result[k] as number) : undefined);
  return {
    ...result,
    goalP50Ms7: GOALS.p50Ms7,
    goalOpsPerSec7: GOALS.opsPerSec7,
    goalViewChangeMs7: GOALS.viewChangeMs7,
    meetsP50Ms7: (num('p50Ms7') ?? Infinity) <= GOALS.p50Ms7,
    meetsOpsPerSec7: (num('opsPerSec7') ?? 0) >= GOALS.opsPerSec7,
    meetsViewChangeMs7: (num('viewChangeMs7') ?? Infinity) <= GOALS.viewChangeMs7,
    latency: 'p50MsN/p99MsN: one closed loop alone; p50MsNLoaded/p99MsNLoaded: during the throughput window (every loop running)',
    batching: `maxBatch ${MAX_BATCH ?? '32 (core default)'}, batchDelay 0, maxInFlight 2 (core defaults); unbatched: maxBatch 1, maxInFlight 32`,
    loadTimeouts: `requestTimeout ${LOAD_REQUEST_TIMEOUT_MS} ms, client retransmit ${LOAD_RETRANSMIT_MS} ms`,
    viewChangeTimeouts: `n<=13: own group, 1 closed-loop client, requestTimeout ${VC_REQUEST_TIMEOUT_MS} ms, client retransmit ${VC_RETRANSMIT_MS} ms; n=31: under load with the load timeouts`,
    statusInterval: process.env['PBFT_STATUS_MS'] !== undefined ? `${process.env['PBFT_STATUS_MS']} ms` : '25·n ms (100 at n=4, 775 at n=31)',
    clients: `${CLIENTS} closed-loop (n=31: ${CLIENTS_31}) over ${CLIENT_PROCESSES} processes, ${CLIENT_NODES} client node(s) (key, channels) per process`,
    signMs: round(signMs, 3),
    verifyMs: round(verifyMs, 3),
    fdatasync: 'logs under ' + LOG_ROOT,
    transport: 'BOLT 8 over TCP, 127.0.0.1, one process per replica, inbound rate limit lifted',
    loadAvg1mBefore: round(load0, 2),
    loadAvg1mAfter: round(loadavg()[0]!, 2),
    breakdown,
  };
}
