import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdentity, DEFAULT_POW_DIFFICULTY, toHex } from '../identity/index.js';
import { AgentProcess, type AgentEvent } from './process.js';
import { renderTable, type AgentRow } from './table.js';

export interface DemoOptions {
  readonly agents: number;
  /** Exit 0 once every agent is ready (after stopping them), non-zero if one fails. */
  readonly exitWhenReady: boolean;
  /** How long agents may take to become ready. */
  readonly timeoutSec: number;
  /** Keep the temporary data directories (for inspecting audit trails and keystores). */
  readonly keep: boolean;
}

interface Slot {
  row: { name: string; peerId: string | null; pid: number | null; state: string; detail: string };
  proc?: AgentProcess;
}

const STOP_GRACE_MS = 12_000;

function onAgentEvent(slot: Slot, event: AgentEvent): void {
  const { row } = slot;
  if (event.kind === 'log') {
    const r = event.record;
    if (typeof r.state === 'string') row.state = r.state;
    if (typeof r.peerId === 'string') row.peerId = r.peerId;
    if (typeof r.board === 'string') row.detail = `board ${r.board}`;
    if (typeof r.level === 'number' && r.level >= 50 && typeof r.msg === 'string') row.detail = r.msg;
  } else if (event.kind === 'stderr') {
    row.detail = event.line.slice(0, 100);
  } else {
    row.state = event.signal ? `killed (${event.signal})` : `exited (${event.code})`;
  }
}

/** Starts a local fleet of agent processes, shows their status, and stops them cleanly. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = process.stdout;
  const root = await mkdtemp(join(tmpdir(), 'edge-agent-demo-'));
  const slots: Slot[] = Array.from({ length: opts.agents }, (_, i) => ({
    row: { name: `agent-${i + 1}`, peerId: null, pid: null, state: 'preparing', detail: '' },
  }));
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // If the demo itself dies, its agents (in their own process groups) must not linger.
  const killAll = (): void => slots.forEach((s) => s.proc?.kill());
  process.on('exit', killAll);

  let drawn = 0;
  const draw = (): void => {
    const table = renderTable(slots.map((s) => s.row as AgentRow));
    if (out.isTTY && drawn > 0) out.write(`\x1b[${drawn}A\x1b[J`);
    out.write(`${table}\n`);
    drawn = table.split('\n').length;
  };

  try {
    out.write(`edge-agent demo: ${opts.agents} agents, data in ${root}\n`);
    // Provisioning: each agent gets a data directory, an identity with proof of work, and a config.
    for (const slot of slots) {
      if (interrupted) return 1;
      const dataDir = join(root, slot.row.name);
      await mkdir(dataDir, { mode: 0o700 });
      const identity = await createIdentity(dataDir, { difficulty: DEFAULT_POW_DIFFICULTY });
      slot.row.peerId = toHex(identity.peerId);
      identity.destroy();
      const config = {
        fleet: 'demo',
        nodeName: slot.row.name,
        dataDir,
        log: { level: 'info' },
        status: { intervalMs: 1000 },
      };
      const file = join(dataDir, 'config.json');
      await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
      slot.row.state = 'starting';
      slot.proc = new AgentProcess(file, (event) => onAgentEvent(slot, event));
      slot.row.pid = slot.proc.pid;
    }

    const deadline = performance.now() + opts.timeoutSec * 1000;
    let last = '';
    for (;;) {
      const snapshot = JSON.stringify(slots.map((s) => s.row));
      // A terminal gets a live table; a pipe or log gets a new table only when something changed.
      if (out.isTTY || snapshot !== last) draw();
      last = snapshot;
      const failed = slots.find((s) => !s.proc?.running);
      const allReady = slots.every((s) => s.row.state === 'ready');
      if (failed) {
        process.stderr.write(`edge-agent demo: ${failed.row.name} ${failed.row.state}: ${failed.row.detail}\n`);
        return 1;
      }
      if (opts.exitWhenReady && allReady) {
        out.write('all agents ready\n');
        return 0;
      }
      if (opts.exitWhenReady && performance.now() > deadline) {
        process.stderr.write(`edge-agent demo: agents not ready after ${opts.timeoutSec} s\n`);
        return 1;
      }
      if (interrupted) return 0;
      await new Promise((r) => setTimeout(r, out.isTTY ? 500 : 100));
    }
  } finally {
    await Promise.all(slots.map((s) => s.proc?.stop(STOP_GRACE_MS)));
    if (slots.some((s) => s.proc)) {
      drawn = 0;
      draw();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
    if (opts.keep) out.write(`kept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
  }
}
