/**
 * The crash proof: children append to logs and are killed with SIGKILL at random
 * moments, many of them mid-write; after every kill the log must open, hold every
 * record whose append was acknowledged, intact and in order, and hold nothing that
 * was never appended. SIGKILL keeps the page cache, so this proves the write path
 * and recovery against process death, not fsync against power loss.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { AppendLog, LogError, scanLog } from '../../src/store/index.js';
import { same, tempDir } from './helpers.js';
import { type Aim, BIG_WRITE, IN_FLIGHT, payloadFor } from './sigkill-shared.js';
import { transpileTree } from './transpile.js';
import { seededRandom } from '../helpers/random.js';

const KILLS = 201;
const LANES = 3; // children run side by side, each lane on its own logs
const KILLS_PER_LOG = 4; // a log is reopened by this many children in turn, then replaced
const SEED = 0x5eed_2024;


type Plan =
  /** The parent kills `delayMs` after the child's nth line of this kind ('w': big writes only). */
  | { readonly after: 'opening' | 'ready' | 'w'; readonly nth: number; readonly delayMs: number }
  /** The child kills itself inside a write, as aimed. */
  | { readonly after: 'self'; readonly aim: Aim };

/**
 * When to kill: during recovery (or before it); at a random time into the appending;
 * the instant the child announces a big write; or, aimed by the child itself, a few
 * microseconds into a big write.
 */
function nextPlan(rand: () => number): Plan {
  const r = rand();
  if (r < 0.15) return { after: 'opening', nth: 1, delayMs: Math.floor(rand() * 4) };
  if (r < 0.45) return { after: 'ready', nth: 1, delayMs: Math.floor(rand() * 40) };
  if (r < 0.7) return { after: 'w', nth: 1, delayMs: 0 };
  return { after: 'self', aim: { nth: 1, micros: Math.floor(rand() * 3000) } };
}

interface Run {
  opened: { records: number; droppedBytes: number } | null;
  readonly acks: number[];
}

/** Runs one child against `path` and kills it as planned; resolves once all its output is in. */
function runChild(script: string, path: string, seed: number, plan: Plan): Promise<Run> {
  const run: Run = { opened: null, acks: [] };
  const args = [script, path, String(seed), ...(plan.after === 'self' ? [`${plan.aim.nth}:${plan.aim.micros}`] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = (): void => void child.kill('SIGKILL');
  let overdue = false; // the plan never came to pass
  const guard = setTimeout(() => ((overdue = true), kill()), 30_000);
  let stderr = '';
  let pending = '';
  let seen = 0;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!; // an unfinished line is no acknowledgement
    for (const line of lines) {
      const [word, a, b] = line.split(' ');
      if (word === 'a') run.acks.push(Number(a));
      else if (word === 'ready') run.opened = { records: Number(a), droppedBytes: Number(b) };
      if (plan.after === 'self' || word !== plan.after || (word === 'w' && Number(a) < BIG_WRITE)) continue;
      if (++seen === plan.nth) {
        if (plan.delayMs === 0) kill();
        else setTimeout(kill, plan.delayMs);
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL' && stderr === '' && !overdue) resolve(run);
      else reject(new Error(`child ended with ${signal ?? `exit code ${code}`}${overdue ? ' after 30 s' : ''} instead of its planned kill: ${stderr}`));
    });
  });
}

interface Totals {
  /** Kills, and torn tails found after them, by when the kill was timed. */
  kills: Record<Plan['after'], number>;
  tornTails: Record<Plan['after'], number>;
  killsWhileOpening: number;
  acknowledged: number;
  recordsVerified: number;
  tornRecoveredByChild: number;
}

test('SIGKILL at random moments never loses an acknowledged record nor invents one', async (t) => {
  const dir = await tempDir(t, 'edge-sigkill-');
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const script = await transpileTree(fileURLToPath(new URL('./sigkill-child.ts', import.meta.url)), root, join(dir, 'js'));
  const byPlan = (): Totals['kills'] => ({ opening: 0, ready: 0, w: 0, self: 0 });
  const totals: Totals = { kills: byPlan(), tornTails: byPlan(), killsWhileOpening: 0, acknowledged: 0, recordsVerified: 0, tornRecoveredByChild: 0 };

  async function lane(id: number, kills: number): Promise<void> {
    const rand = seededRandom(SEED + id); // kill times spread the same way on every run
    let path = '';
    let seed = 0;
    let acked = 0; // records acknowledged so far in this log
    let created = false; // whether some child got as far as creating it
    let left = { records: 0, tornBytes: 0 }; // the log as the parent last left it
    for (let k = 0; k < kills; k++) {
      if (k % KILLS_PER_LOG === 0) {
        if (path !== '') await rm(path);
        seed = (SEED + id * 100_000 + k) >>> 0;
        path = join(dir, `lane${id}-${k}.log`);
        acked = 0;
        created = false;
        left = { records: 0, tornBytes: 0 };
      }
      const plan = nextPlan(rand);
      const run = await runChild(script, path, seed, plan);
      totals.kills[plan.after] += 1;
      if (run.opened === null) totals.killsWhileOpening += 1;

      const where = `lane ${id}, kill ${k}, ${path}`;
      if (run.opened !== null) {
        // The child found the log exactly as the parent left it.
        t.deepEqual(run.opened, { records: left.records, droppedBytes: left.tornBytes }, where);
        if (left.tornBytes > 0) totals.tornRecoveredByChild += 1;
        t.deepEqual(run.acks, run.acks.map((_, i) => left.records + i), `${where}: acknowledgements come in order`);
        if (run.acks.length > 0) acked = run.acks.at(-1)! + 1;
        totals.acknowledged += run.acks.length;
      }

      // It opens read-only whatever the kill left, every record is the one appended at its index...
      const check = (payload: Uint8Array, index: number): void => {
        if (!same(payload, payloadFor(seed, index))) throw new Error(`${where}: record ${index} is not what was appended there`);
      };
      const scan = await scanLog(path, check).catch((err: unknown) => {
        // Only a child killed before it could create the log may leave none.
        if (!created && run.opened === null && err instanceof LogError && err.code === 'NOT_FOUND') return null;
        throw err;
      });
      if (scan === null) continue;
      created = true;
      totals.recordsVerified += scan.records;
      // A child killed before it opened the log may leave the last tail in place; only count new ones.
      if (scan.tornTail !== null && run.opened !== null) totals.tornTails[plan.after] += 1;
      // ...every acknowledged record is there, and nothing beyond what was ever appended.
      t.true(scan.records >= acked, `${where}: ${scan.records} records, ${acked} acknowledged`);
      const appended = run.opened === null ? left.records : run.opened.records + run.acks.length + IN_FLIGHT;
      t.true(scan.records <= appended, `${where}: ${scan.records} records, at most ${appended} appended`);

      // Half the time the parent recovers the torn tail itself; otherwise the next child must.
      if (rand() < 0.5) {
        const { log, recovery } = await AppendLog.open(path);
        await log.close();
        t.is(recovery.records, scan.records, where);
        t.is(recovery.dropped?.bytes ?? 0, scan.tornTail?.bytes ?? 0, where);
        t.true(recovery.dropped === null || recovery.dropped.torn, where);
        left = { records: scan.records, tornBytes: 0 };
      } else {
        left = { records: scan.records, tornBytes: scan.tornTail?.bytes ?? 0 };
      }
    }
  }

  await Promise.all(Array.from({ length: LANES }, (_, id) => lane(id, Math.ceil(KILLS / LANES))));
  const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
  t.log({ totalKills: sum(totals.kills), totalTornTails: sum(totals.tornTails), ...totals });
  t.true(sum(totals.kills) >= 200);
  t.true(sum(totals.tornTails) > 0, 'some kills must land mid-write, or this test proves little');
});
