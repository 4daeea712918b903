/**
 * Durable appends per second on the log, with group commit (64 appenders at once)
 * and one at a time, against plain fs.appendFile + fsync per record with the same
 * payloads and the same concurrency, in alternating rounds of the same run.
 * vsAppendFileFsync compares the grouped log with 64 concurrent appendFile + fsync
 * callers; serialVsAppendFileFsync compares the two one at a time.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog } from '../edge-agent/src/store/index.js';
import { concurrentRate, median, round } from './lib/measure.js';

const CONCURRENCY = 64;
const PAYLOAD_BYTES = 256; // about one audit entry
const ROUNDS = 5;
const ROUND_MS = 1000;

type Appender = (payload: Uint8Array) => Promise<unknown>;
/** Opens a fresh target, returning its append function and how to close it. */
type Target = (path: string) => Promise<{ append: Appender; close: () => Promise<void> }>;

const log: Target = async (path) => {
  const { log } = await AppendLog.open(path);
  return { append: (p) => log.append(p), close: () => log.close() };
};

const appendFileFsync: Target = async (path) => {
  const handle = await open(path, 'a');
  return {
    append: async (p) => {
      await handle.appendFile(p);
      await handle.sync();
    },
    close: () => handle.close(),
  };
};

/** Appends per second over one round: `callers` loops, each awaiting its own append before the next. */
async function roundRate(dir: string, target: Target, callers: number, n: number): Promise<number> {
  const path = join(dir, `round-${n}`);
  const { append, close } = await target(path);
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(n & 0xff);
  const rate = await concurrentRate(callers, ROUND_MS, () => append(payload));
  await close();
  await rm(path);
  return rate;
}


export default async function storeBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-bench-store-'));
  try {
    const candidates = {
      grouped: [log, CONCURRENCY],
      serial: [log, 1],
      appendFileConcurrent: [appendFileFsync, CONCURRENCY],
      appendFileSerial: [appendFileFsync, 1],
    } as const;
    const names = Object.keys(candidates) as (keyof typeof candidates)[];
    const samples = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<keyof typeof candidates, number[]>;
    let n = 0;
    for (const k of names) await roundRate(dir, candidates[k][0], candidates[k][1], n++); // warm up
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of names) samples[k].push(await roundRate(dir, candidates[k][0], candidates[k][1], n++));
    }
    const rate = (k: keyof typeof candidates): number => median(samples[k]);
    return {
      payloadBytes: PAYLOAD_BYTES,
      concurrency: CONCURRENCY,
      appendsPerSecGrouped: round(rate('grouped'), 0),
      appendsPerSecSerial: round(rate('serial'), 0),
      appendFileFsyncPerSecConcurrent: round(rate('appendFileConcurrent'), 0),
      appendFileFsyncPerSecSerial: round(rate('appendFileSerial'), 0),
      vsAppendFileFsync: round(rate('grouped') / rate('appendFileConcurrent'), 2),
      serialVsAppendFileFsync: round(rate('serial') / rate('appendFileSerial'), 2),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
