/**
 * A PTP lab on one machine: two network namespaces joined by a veth pair
 * (names and private addresses of our own, deleted afterwards), linuxptp's
 * ptp4l and pmc inside them, and our own `edge-agent ptp` beside them.
 * Both namespaces share the kernel's clock, so the true offset between the
 * two ends is 0 and every offset a slave reports is pure measurement error.
 * Nobody here adjusts that clock: ptp4l slaves run with `free_running 1` or
 * the null servo, our agent only disciplines its own virtual clock.
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); without it lab() throws a clear
 * error: the interop tests fail, they never skip.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureBinary } from './debian.js';

const run = promisify(execFile);

const PTP4L = ['/usr/sbin/ptp4l', '/usr/bin/ptp4l'];
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

/** ptp4l and pmc, installing Debian's linuxptp once if they are absent. */
export function ensureLinuxptp(): { ptp4l: string; pmc: string } {
  const ptp4l = ensureBinary(PTP4L, 'linuxptp');
  const pmc = ptp4l.replace(/ptp4l$/, 'pmc');
  if (!existsSync(pmc)) throw new Error(`ptp lab: ${pmc} missing although ptp4l is installed`);
  return { ptp4l, pmc };
}

const ipBinary = (): string => ensureBinary(IP, 'iproute2');

export interface Side {
  readonly ns: string;
  readonly iface: string;
  readonly address: string;
}

export interface Lab {
  readonly a: Side;
  readonly b: Side;
  /** A scratch directory for configs and Unix sockets. */
  readonly dir: string;
  readonly ptp4l: string;
  readonly pmc: string;
  /** Spawns `argv` inside a side's namespace. */
  spawnIn(side: Side, argv: readonly string[]): ChildProcess;
  /** Kills what was spawned, deletes the namespaces (the veth pair goes with them) and the directory. */
  close(): Promise<void>;
}

let labs = 0;

/** Two namespaces and a veth pair between them, up, with 10.213.N.1/24 and .2/24. */
export async function lab(): Promise<Lab> {
  const tools = ensureLinuxptp();
  const ip = ipBinary();
  const n = (process.pid % 200) + labs++ * 7;
  const tag = `ea${process.pid % 100000}x${labs}`;
  const a: Side = { ns: `${tag}a`, iface: `${tag}a`.slice(0, 15), address: `10.213.${n % 250}.1` };
  const b: Side = { ns: `${tag}b`, iface: `${tag}b`.slice(0, 15), address: `10.213.${n % 250}.2` };
  const sh = async (...args: string[]): Promise<void> => {
    await run(ip, args);
  };
  try {
    await sh('netns', 'add', a.ns);
  } catch (err) {
    throw new Error(
      `ptp lab: cannot create a network namespace (${(err as Error).message.trim()}). The PTP interop tests need root ` +
        '(CAP_SYS_ADMIN and CAP_NET_ADMIN) to run ptp4l and the agent in namespaces joined by a veth pair.',
    );
  }
  const spawned: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'edge-ptp-lab-'));
  const close = async (): Promise<void> => {
    for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(spawned.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('close', r)))));
    for (const ns of [a.ns, b.ns]) await sh('netns', 'del', ns).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await sh('netns', 'add', b.ns);
    await sh('link', 'add', a.iface, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.ns);
    for (const s of [a, b]) {
      await sh('-n', s.ns, 'addr', 'add', `${s.address}/24`, 'dev', s.iface);
      await sh('-n', s.ns, 'link', 'set', s.iface, 'up');
      await sh('-n', s.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    a,
    b,
    dir,
    ...tools,
    spawnIn(side, argv) {
      const child = spawn(ip, ['netns', 'exec', side.ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
      spawned.push(child);
      return child;
    },
    close,
  };
}

/** Calls `onLine` for every line a child writes to stdout or stderr. */
export function lines(child: ChildProcess, onLine: (line: string, stream: 'stdout' | 'stderr') => void): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
      rest += chunk;
      const parts = rest.split('\n');
      rest = parts.pop()!;
      for (const l of parts) onLine(l, stream);
    });
  }
}

export type Ptp4lRole = 'master' | 'slave' | 'slave-free-running';

export interface Ptp4l {
  readonly child: ChildProcess;
  readonly uds: string;
  /** Per-sync offsets (ns) ptp4l printed as "master offset" (slave with the null servo only). */
  readonly offsets: number[];
  readonly log: string[];
  /** Runs one pmc command against this ptp4l and returns its output. */
  pmc(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** The common configuration: UDPv4, E2E, software timestamps, 16 Syncs a second (the fast interval). */
export function ptp4lConfig(role: Ptp4lRole, uds: string, logSyncInterval = -4): string {
  const lines = [
    '[global]',
    'network_transport UDPv4',
    'delay_mechanism E2E',
    'time_stamping software',
    `logSyncInterval ${logSyncInterval}`,
    `logMinDelayReqInterval ${logSyncInterval}`,
    'logAnnounceInterval 0',
    'announceReceiptTimeout 3',
    `uds_address ${uds}`,
  ];
  if (role === 'master') lines.push('priority1 100', 'masterOnly 1');
  // Neither slave touches the shared kernel clock: the null servo measures and prints every offset (summary at
  // each Sync), free_running measures and leaves the offsets to pmc.
  if (role === 'slave') lines.push('slaveOnly 1', 'clock_servo nullf', `summary_interval ${logSyncInterval}`);
  if (role === 'slave-free-running') lines.push('slaveOnly 1', 'free_running 1');
  return `${lines.join('\n')}\n`;
}

let instances = 0;

export async function startPtp4l(l: Lab, side: Side, role: Ptp4lRole, logSyncInterval = -4): Promise<Ptp4l> {
  const id = instances++;
  const uds = join(l.dir, `ptp4l-${id}.sock`);
  const cfg = join(l.dir, `ptp4l-${id}.cfg`);
  await writeFile(cfg, ptp4lConfig(role, uds, logSyncInterval));
  const child = l.spawnIn(side, [l.ptp4l, '-f', cfg, '-i', side.iface, '-m']);
  const offsets: number[] = [];
  const log: string[] = [];
  lines(child, (line) => {
    if (log.length < 5000) log.push(line);
    const m = /master offset\s+(-?\d+)\s/.exec(line);
    if (m) offsets.push(Number(m[1]));
  });
  let pmcs = 0;
  return {
    child,
    uds,
    offsets,
    log,
    async pmc(command) {
      const client = join(l.dir, `pmc-${id}-${pmcs++}.sock`);
      const { stdout } = await run(ipBinary(), ['netns', 'exec', side.ns, l.pmc, '-u', '-b', '0', '-s', uds, '-i', client, command], { timeout: 5_000 });
      return stdout;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

/** offsetFromMaster and meanPathDelay (ns) from pmc's CURRENT_DATA_SET, or undefined before ptp4l has a master. */
export function parseCurrentDataSet(text: string): { offsetNs: number; delayNs: number } | undefined {
  const offset = /offsetFromMaster\s+(-?[\d.]+)/.exec(text);
  const delay = /meanPathDelay\s+(-?[\d.]+)/.exec(text);
  if (!offset || !delay) return undefined;
  return { offsetNs: Number(offset[1]), delayNs: Number(delay[1]) };
}

export interface ErrorStats {
  readonly count: number;
  readonly rmsNs: number;
  readonly p99Ns: number;
  readonly maxNs: number;
  readonly meanNs: number;
}

/** RMS, 99th percentile and maximum of |error|, and the mean (signed). */
export function errorStats(values: readonly number[]): ErrorStats {
  if (values.length === 0) return { count: 0, rmsNs: NaN, p99Ns: NaN, maxNs: NaN, meanNs: NaN };
  const abs = values.map(Math.abs).sort((x, y) => x - y);
  const rms = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  return {
    count: values.length,
    rmsNs: rms,
    p99Ns: abs[Math.min(abs.length - 1, Math.ceil(0.99 * abs.length) - 1)]!,
    maxNs: abs[abs.length - 1]!,
    meanNs: values.reduce((s, v) => s + v, 0) / values.length,
  };
}

/** The command line that runs our CLI (from sources through tsx, as the other CLI tests do). */
export function agentArgv(args: readonly string[]): string[] {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  return [process.execPath, '--import=tsx', main, ...args];
}
