/**
 * The three interop runs of issue 7 on a PTP lab (helpers/ptp-lab.ts), shared
 * by the interop tests and the ptp-interop benchmark. Each returns what it saw;
 * the callers decide what passes.
 */
import { agentArgv, errorStats, lines, parseCurrentDataSet, startPtp4l, type ErrorStats, type Lab } from './ptp-lab.js';

export interface AgentSample {
  readonly seq: number;
  readonly offsetNs: number;
  readonly delayNs: number;
  readonly servo: string;
  readonly clockOffsetNs: number;
  /** Milliseconds since the run started. */
  readonly atMs: number;
}

export interface AgentRun {
  readonly samples: AgentSample[];
  readonly states: string[];
  readonly backend: string;
  readonly log: string[];
  readonly exitCode: number | null;
}

/** Runs `edge-agent ptp` in a side of the lab for `seconds` and collects its JSON lines. */
export function runAgent(l: Lab, side: Lab['a'], args: readonly string[], seconds: number): Promise<AgentRun> {
  return startAgent(l, side, args, seconds).done;
}

/** As runAgent, with a stop() that ends the run early (SIGTERM: the command prints its summary and exits). */
export function startAgent(l: Lab, side: Lab['a'], args: readonly string[], seconds: number): { done: Promise<AgentRun>; stop(): void } {
  const started = Date.now();
  const child = l.spawnIn(side, agentArgv(['ptp', '--interface', side.iface, '--duration', String(seconds), ...args]));
  const samples: AgentSample[] = [];
  const states: string[] = [];
  const log: string[] = [];
  let backend = 'unknown';
  lines(child, (line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (log.length < 200) log.push(line);
      return;
    }
    if (o['event'] === 'ptp.sample') samples.push({ ...(o as unknown as AgentSample), atMs: Date.now() - started });
    else {
      if (o['event'] === 'ptp.state') states.push(String(o['to']));
      if (o['event'] === 'ptp.backend') backend = String(o['stamps']);
      if (log.length < 200) log.push(line);
    }
  });
  const done = new Promise<AgentRun>((resolve) => child.once('close', (exitCode) => resolve({ samples, states, backend, log, exitCode })));
  return { done, stop: () => void child.kill('SIGTERM') };
}

/** Samples once the servo has locked and `settleMs` more have passed. */
export function settled(samples: readonly AgentSample[], settleMs: number): AgentSample[] {
  const locked = samples.find((s) => s.servo === 'LOCKED');
  if (locked === undefined) return [];
  return samples.filter((s) => s.atMs >= locked.atMs + settleMs);
}

export interface SlaveResult {
  /** Error of what the slave reports (its offset estimate; the true offset is 0), one per Sync after settling. */
  readonly errors: number[];
  readonly stats: ErrorStats;
  readonly detail: Record<string, unknown>;
}

/** (a) ptp4l master in side a, our agent as slave in side b. `clockOffsetNs` after lock is the error of our clock. */
export async function agentSlaveOfPtp4l(l: Lab, seconds: number, servo: 'pi' | 'median', logSyncInterval = -4): Promise<SlaveResult & { run: AgentRun; raw: number[] }> {
  const master = await startPtp4l(l, l.a, 'master', logSyncInterval);
  try {
    const run = await runAgent(l, l.b, ['--role', 'slave', `--log-sync-interval=${logSyncInterval}`, '--servo', servo], seconds);
    const after = settled(run.samples, 2_000);
    const errors = after.map((s) => s.clockOffsetNs);
    return {
      run,
      errors,
      stats: errorStats(errors),
      raw: after.map((s) => s.offsetNs),
      detail: { samples: run.samples.length, settled: after.length, states: run.states, backend: run.backend },
    };
  } finally {
    await master.stop();
  }
}

/** (c) ptp4l master in side a, ptp4l slave (null servo: measures, never adjusts) in side b: the reference. */
export async function ptp4lSlaveOfPtp4l(l: Lab, seconds: number, logSyncInterval = -4): Promise<SlaveResult> {
  const master = await startPtp4l(l, l.a, 'master', logSyncInterval);
  const slave = await startPtp4l(l, l.b, 'slave', logSyncInterval);
  try {
    await new Promise((r) => setTimeout(r, seconds * 1000));
    // ptp4l's first samples come before its delay filter has filled: skip the first 2 s of them.
    const skip = Math.ceil(2 / 2 ** logSyncInterval);
    const errors = slave.offsets.slice(skip);
    return { errors, stats: errorStats(errors), detail: { samples: slave.offsets.length } };
  } finally {
    await slave.stop();
    await master.stop();
  }
}

/**
 * (b) our agent as master in side a, ptp4l as a free-running slave in side b, read with pmc: first until ptp4l
 * follows us (at most `followSeconds`: announce qualification and master selection take a few seconds, more on a
 * loaded machine), then for `seconds`.
 */
export async function ptp4lSlaveOfAgent(
  l: Lab,
  seconds: number,
  logSyncInterval = -4,
  followSeconds = 30,
): Promise<{ offsets: number[]; delays: number[]; portStates: string[]; agent: AgentRun; followedAfterMs: number | null }> {
  const agent = startAgent(l, l.a, ['--role', 'master', `--log-sync-interval=${logSyncInterval}`], followSeconds + seconds + 10);
  const started = Date.now();
  const slave = await startPtp4l(l, l.b, 'slave-free-running', logSyncInterval);
  const offsets: number[] = [];
  const delays: number[] = [];
  const portStates: string[] = [];
  let followedAfterMs: number | null = null;
  try {
    let end = started + followSeconds * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      const text = await slave.pmc('GET CURRENT_DATA_SET').catch(() => '');
      const port = await slave.pmc('GET PORT_DATA_SET').catch(() => '');
      const state = /portState\s+(\S+)/.exec(port)?.[1];
      if (state !== undefined) portStates.push(state);
      const d = parseCurrentDataSet(text);
      // Before ptp4l has a master, both read 0.
      if (d !== undefined && (state === 'SLAVE' || state === 'UNCALIBRATED') && d.delayNs !== 0) {
        if (followedAfterMs === null) {
          followedAfterMs = Date.now() - started;
          end = Date.now() + seconds * 1000;
        }
        offsets.push(d.offsetNs);
        delays.push(d.delayNs);
      }
    }
  } finally {
    await slave.stop();
    agent.stop();
  }
  return { offsets, delays, portStates, agent: await agent.done, followedAfterMs };
}
