/**
 * Telemetry figures, each beside its reference in the same run:
 * - cycleCpuMs: CPU of one whole telemetry cycle in the agent's process
 *   (sample the board, snapshot the metrics, queue durably, publish QoS 1 and
 *   ack), against a broker in another process; samplerCpuMs is the sampling
 *   part alone and siSamplerCpuMs the same figures taken through
 *   systeminformation's own calls (which spawn processes: counted too), the
 *   way a sampler that is "just systeminformation" would take them.
 * - samplerPiCoreSharePercent / cyclePiCoreSharePercent: those costs scaled
 *   to a Raspberry Pi 4 (PI4_SLOWDOWN, an estimate) at the default period;
 *   the bar is 1 % of one core.
 * - bytesCbor / bytesJson: one telemetry record's payload in each format.
 * - idleCpuPercent: a real `edge-agent run` process with MQTT, liveness and
 *   telemetry at their defaults, doing nothing else, CPU over wall time (of
 *   one core), after a warm-up; idleCpuPercentPi scaled to a Pi 4.
 * Run as `node --import tsx benchmarks/telemetry.ts broker` it is the broker child.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import si from 'systeminformation';
import { systemClock } from '../edge-agent/src/clock/index.js';
import { createIdentity, toHex } from '../edge-agent/src/identity/index.js';
import { MetricsRegistry } from '../edge-agent/src/metrics/index.js';
import { DurableQueue } from '../edge-agent/src/store/index.js';
import {
  BoardSampler,
  DEFAULT_SAMPLE_PERIOD_MS,
  TelemetryService,
  encodePayload,
  measureSamplerCost,
  scaleToPi,
} from '../edge-agent/src/telemetry/index.js';
import { startEmbeddedBroker } from '../edge-agent/src/demo/broker.js';
import type { BenchResult } from './run.js';
import { median, round } from './lib/measure.js';

const here = fileURLToPath(import.meta.url);
const quiet = { info: () => {}, warn: () => {} };

function startBroker(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here, 'broker'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`telemetry bench: the broker exited early (${String(code)})`)));
    createInterface({ input: child.stdout }).once('line', (url) => resolve({ url, stop: () => child.kill() }));
  });
}

/** The CPU time (ms) of this process's finished children, from /proc (null off Linux). */
function childCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    // After "pid (comm) ", field 14 and 15 of stat (cutime, cstime) are indexes 13 and 14 here, in clock ticks.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** The same figures through systeminformation's calls alone: the reference a plain sampler would pay. */
async function siSample(dataDir: string): Promise<unknown> {
  const [load, mem, temp, net, disks] = await Promise.all([si.currentLoad(), si.mem(), si.cpuTemperature(), si.networkStats(), si.fsSize(dataDir)]);
  return { load: load.currentLoad, mem: mem.available, temp: temp.main, net: net[0]?.rx_bytes, disk: disks[0]?.available, uptime: si.time().uptime };
}

async function siCost(dataDir: string, samples: number): Promise<number> {
  await siSample(dataDir);
  const children = childCpuMs();
  const cpu = process.cpuUsage();
  for (let i = 0; i < samples; i++) await siSample(dataDir);
  const used = process.cpuUsage(cpu);
  const child = children === null ? 0 : (childCpuMs() ?? children) - children;
  return ((used.user + used.system) / 1000 + child) / samples;
}

/** CPU ms per whole cycle: reportNow() until the record is published and acked. */
async function cycleCost(url: string, dataDir: string, cycles: number): Promise<{ cpuMs: number; record: Record<string, unknown> }> {
  const outbox = await DurableQueue.open(join(dataDir, 'outbox.log'), { maxEntries: 10_000, maxBytes: 8 * 1024 * 1024 });
  const metrics = new MetricsRegistry();
  metrics.register('agent', () => ({ state: 'OPERATIONAL', lifecycle: 'ready', uptimeMs: 123_456 }));
  metrics.register('transport', () => ({ channels: 4 }));
  metrics.register('liveness', () => ({ peers: 4, peersOnline: 4, peersOffline: 0 }));
  const sampler = new BoardSampler({ dataDir, clock: systemClock });
  let record: Record<string, unknown> = {};
  const service = new TelemetryService({
    url,
    fleet: 'bench',
    peerId: 'ab'.repeat(32),
    format: 'cbor',
    intervalMs: 3_600_000,
    keepaliveSec: 30,
    clock: systemClock,
    log: quiet,
    outbox,
    metrics,
    sample: async () => {
      record = { board: { ...(await sampler.sample()) } };
      return record;
    },
    status: () => ({ agentState: 'OPERATIONAL' }),
  });
  service.start();
  while (!service.connected) await new Promise((r) => setTimeout(r, 10));
  const drained = async (): Promise<void> => {
    while (outbox.size > 0) await new Promise((r) => setImmediate(r));
  };
  for (let i = 0; i < 20; i++) {
    await service.reportNow();
    await drained();
  }
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < cycles; i++) {
      await service.reportNow();
      await drained();
    }
    const used = process.cpuUsage(cpu);
    rounds.push((used.user + used.system) / 1000 / cycles);
  }
  await service.stop();
  await outbox.close();
  return { cpuMs: median(rounds), record: { seq: 1, at: Date.now(), peerId: 'ab'.repeat(32), ...record, agent: metrics.snapshot() } };
}

/** CPU share of a real idle agent process over `ms`, after `warmMs`. */
async function idleAgent(url: string, root: string, warmMs: number, ms: number): Promise<number> {
  const dataDir = join(root, 'agent');
  const identity = await createIdentity(dataDir, { difficulty: 4 });
  identity.destroy();
  const config = join(root, 'agent.json');
  await writeFile(config, JSON.stringify({ fleet: 'bench', dataDir, board: 'x86-64-dev', network: { listen: '127.0.0.1:0' }, telemetry: { broker: url }, log: { level: 'warn' } }));
  const dist = fileURLToPath(new URL('../edge-agent/dist/cli/main.js', import.meta.url));
  const args = existsSync(dist) ? [dist] : ['--import', 'tsx', fileURLToPath(new URL('../edge-agent/src/cli/main.ts', import.meta.url))];
  const child = spawn(process.execPath, [...args, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ticks = (): number => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]); // utime + stime, clock ticks (100 Hz)
  };
  try {
    await new Promise((r) => setTimeout(r, warmMs));
    const before = ticks();
    const start = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const used = ((ticks() - before) * 10) / (performance.now() - start);
    return used * 100;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export default async function (): Promise<BenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'edge-telemetry-bench-'));
  const broker = await startBroker();
  try {
    const sampler = new BoardSampler({ dataDir: root, clock: systemClock });
    const ours = await measureSamplerCost(sampler, 200);
    const siCpuMs = await siCost(root, 20);
    const cycle = await cycleCost(broker.url, root, 100);
    const idle = await idleAgent(broker.url, root, 5_000, 30_000);
    return {
      cycleCpuMs: round(cycle.cpuMs, 3),
      samplerCpuMs: round(ours.cpuMsPerSample, 3),
      siSamplerCpuMs: round(siCpuMs, 3),
      samplerRatioToSi: round(ours.cpuMsPerSample / siCpuMs, 4),
      samplerPiCoreSharePercent: round(scaleToPi(ours).piCoreSharePercent, 4),
      cyclePiCoreSharePercent: round(scaleToPi({ cpuMsPerSample: cycle.cpuMs }).piCoreSharePercent, 4),
      siSamplerPiCoreSharePercent: round(scaleToPi({ cpuMsPerSample: siCpuMs }).piCoreSharePercent, 4),
      periodMs: DEFAULT_SAMPLE_PERIOD_MS,
      bytesCbor: encodePayload(cycle.record, 'cbor').length,
      bytesJson: encodePayload(cycle.record, 'json').length,
      idleCpuPercent: round(idle, 3),
      idleCpuPercentPi: round(idle * 3.6, 3),
      idleMeasure: 'edge-agent run with MQTT (embedded broker in another process), liveness and telemetry at defaults, 30 s after 5 s warm-up',
    };
  } finally {
    broker.stop();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === here && process.argv[2] === 'broker') {
  startEmbeddedBroker().then(
    (b) => process.stdout.write(`${b.url}\n`),
    (err: unknown) => {
      process.stderr.write(`broker failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
