/**
 * `edge-agent provision`: from a fleet manifest to a directory holding, for
 * every board, its identity (made in parallel, with proof of work), its
 * keystore and its config, plus the fleet inventory. Re-running is
 * idempotent: identities found are kept byte for byte, new boards are added,
 * boards gone from the manifest are marked removed, configs are rewritten.
 */
import { availableParallelism } from 'node:os';
import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadProfiles } from '../board/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { fsyncDir, writeFileAtomic } from '../store/index.js';
import { renderBoardConfig } from './board-config.js';
import { ProvisionError } from './errors.js';
import { INVENTORY_FILE, buildInventory, parseInventory, renderInventory, type Inventory, type PublicIdentity } from './inventory.js';
import { readJsonFile } from './json-file.js';
import { acquireLock } from './lock.js';
import { loadManifest, type Manifest } from './manifest.js';
import { PowPool } from './pow-pool.js';
import { ProgressMeter, type ProgressSnapshot } from './progress.js';
import { BOARDS_DIR, TEMP_STATE_PREFIX, boardPaths, readExistingIdentity, removeStaleTemps } from './state.js';
import type { BoardOutcome, ProvisionSummary } from './summary.js';

export interface ProvisionPlan {
  readonly fleet: string;
  readonly difficulty: number;
  /** Worker threads that will search (0 when there is nothing to make). */
  readonly workers: number;
  /** Host names that get a new identity in this run. */
  readonly create: readonly string[];
  /** Host names whose identity from an earlier run is kept. */
  readonly keep: readonly string[];
  /** Host names in the inventory but no longer in the manifest. */
  readonly remove: readonly string[];
}

export interface ProvisionOptions {
  /** Path of the fleet manifest (JSON). */
  manifest: string;
  /** Output directory; created (mode 0700) if absent. */
  out: string;
  /** Worker threads for the proof of work; os.availableParallelism() by default. */
  jobs?: number;
  /** Board profiles folder; the shipped board-config/ by default. */
  profileDir?: string | URL;
  /** Source of generatedAt and removedAt; the system clock by default. */
  clock?: Clock;
  /** Aborting stops the search; identities already made stay, half-made ones are removed. */
  signal?: AbortSignal;
  /** Called once the manifest and the output have been read, before any search. */
  onPlan?(plan: ProvisionPlan): void;
  /** Called as the search progresses (often: throttle the drawing). */
  onProgress?(snapshot: ProgressSnapshot): void;
}

export interface ProvisionResult extends ProvisionSummary {
  /** The output directory, absolute. */
  readonly dir: string;
  readonly inventory: Inventory;
  /** Things the operator should know that did not stop the run. */
  readonly warnings: readonly string[];
}

const MAX_JOBS = 256;

function checkOptions(opts: ProvisionOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new ProvisionError('BAD_ARGUMENT', 'provisionFleet: options are required');
  for (const name of ['manifest', 'out'] as const) {
    if (typeof opts[name] !== 'string' || opts[name] === '') throw new ProvisionError('BAD_ARGUMENT', `provisionFleet: ${name} must be a non-empty path`);
  }
  const { jobs, signal, clock } = opts;
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > MAX_JOBS)) {
    throw new ProvisionError('BAD_ARGUMENT', `provisionFleet: jobs must be a whole number from 1 to ${MAX_JOBS}, got ${String(jobs)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ProvisionError('BAD_ARGUMENT', 'provisionFleet: signal must be an AbortSignal');
  if (clock !== undefined && typeof clock.now !== 'function') throw new ProvisionError('BAD_ARGUMENT', 'provisionFleet: clock must have a now() method');
  for (const name of ['onPlan', 'onProgress'] as const) {
    if (opts[name] !== undefined && typeof opts[name] !== 'function') throw new ProvisionError('BAD_ARGUMENT', `provisionFleet: ${name} must be a function`);
  }
}

function abortedError(made: number, wanted: number): ProvisionError {
  return new ProvisionError(
    'ABORTED',
    `provisioning was aborted: ${made} of ${wanted} new identities were made and are kept, no half-made one is left; run again to finish`,
  );
}

/** Where a run stands before it searches: what is kept, what is made, what the earlier inventory said. */
interface Survey {
  readonly previous: Inventory | undefined;
  readonly identities: Map<string, PublicIdentity>;
  readonly create: string[];
  readonly keep: string[];
  readonly warnings: string[];
}

async function survey(out: string, manifest: Manifest): Promise<Survey> {
  const inventoryFile = join(out, INVENTORY_FILE);
  const raw = await readJsonFile(inventoryFile, 'CORRUPT_INVENTORY');
  const previous = raw === undefined ? undefined : parseInventory(raw, inventoryFile);
  if (previous !== undefined && previous.fleet !== manifest.fleet.name) {
    throw new ProvisionError(
      'FLEET_MISMATCH',
      `${inventoryFile} belongs to fleet "${previous.fleet}", the manifest names "${manifest.fleet.name}"; give each fleet its own output directory`,
    );
  }
  const identities = new Map<string, PublicIdentity>();
  const create: string[] = [];
  const keep: string[] = [];
  const warnings: string[] = [];
  for (const board of manifest.boards) {
    const paths = boardPaths(out, board.hostname);
    await removeStaleTemps(paths.dir);
    const existing = await readExistingIdentity(paths.state);
    if (existing !== undefined) {
      identities.set(board.hostname, { publicKey: existing.publicKey, peerId: existing.peerId });
      keep.push(board.hostname);
      if (existing.powDifficulty < manifest.fleet.powDifficulty) {
        warnings.push(
          `${board.hostname}: its identity's proof of work has difficulty ${existing.powDifficulty}, below the fleet's ${manifest.fleet.powDifficulty}; ` +
            `it is kept (move ${paths.state} away to mint a new one)`,
        );
      }
      continue;
    }
    const listed = previous?.boards.find((b) => b.hostname === board.hostname && b.removed !== true);
    if (listed !== undefined) {
      throw new ProvisionError(
        'STATE_MISSING',
        `${paths.state} is gone, but ${inventoryFile} lists ${board.hostname} with peer id ${listed.peerId}; ` +
          `restore it, or take the board out of the inventory to give it a new identity`,
      );
    }
    create.push(board.hostname);
  }
  return { previous, identities, create, keep, warnings };
}

/**
 * Makes the identities of `hostnames` in parallel, each in a temporary
 * directory renamed into place once complete, so an interruption at any point
 * leaves either a whole identity or none. The first failure stops the others.
 */
async function mintAll(
  out: string,
  hostnames: readonly string[],
  difficulty: number,
  workers: number,
  opts: ProvisionOptions,
): Promise<Map<string, PublicIdentity>> {
  const pool = new PowPool(workers);
  const meter = new ProgressMeter(hostnames.length, difficulty, workers);
  const report = (): void => opts.onProgress?.(meter.snapshot());
  const stop = (): void => void pool.close();
  opts.signal?.addEventListener('abort', stop, { once: true });
  let settled: PromiseSettledResult<PublicIdentity>[];
  try {
    settled = await Promise.allSettled(
      hostnames.map(async (hostname) => {
        const paths = boardPaths(out, hostname);
        await mkdir(paths.dir, { recursive: true, mode: 0o700 });
        const temp = await mkdtemp(join(paths.dir, TEMP_STATE_PREFIX));
        try {
          const identity = await pool.solve(temp, difficulty, (_attempts, rate) => {
            meter.update(hostname, rate);
            report();
          });
          await rename(temp, paths.state);
          await fsyncDir(paths.dir);
          meter.solved(hostname);
          report();
          return identity;
        } catch (err) {
          meter.dropped(hostname);
          stop();
          await rm(temp, { recursive: true, force: true });
          throw err;
        }
      }),
    );
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    await pool.close();
  }
  const made = new Map<string, PublicIdentity>();
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') made.set(hostnames[i]!, r.value);
  });
  if (opts.signal?.aborted) throw abortedError(made.size, hostnames.length);
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const cause = failures.find((e) => !(e instanceof ProvisionError && e.code === 'ABORTED')) ?? failures[0];
  if (cause !== undefined) throw cause;
  return made;
}

async function prepareOut(out: string, warnings: string[]): Promise<void> {
  await mkdir(join(out, BOARDS_DIR), { recursive: true, mode: 0o700 });
  const st = await lstat(out);
  if (!st.isDirectory()) throw new ProvisionError('BAD_ARGUMENT', `${out} is not a directory`);
  if ((st.mode & 0o077) !== 0) {
    warnings.push(`${out} can be read by group or others, and it holds every board's secret keys; run chmod 700 ${out}`);
  }
}

/** Runs a whole provisioning. Every failure the operator can act on is a ProvisionError (or a ConfigError/BoardError from the files it reads). */
export async function provisionFleet(opts: ProvisionOptions): Promise<ProvisionResult> {
  checkOptions(opts);
  const clock = opts.clock ?? systemClock;
  const profiles = await loadProfiles(opts.profileDir);
  const manifest = await loadManifest(opts.manifest, profiles.map((p) => p.id));
  if (opts.signal?.aborted) throw abortedError(0, 0);
  const out = resolve(opts.out);
  const warnings: string[] = [];
  await prepareOut(out, warnings);
  const release = await acquireLock(out);
  try {
    const found = await survey(out, manifest);
    warnings.push(...found.warnings);
    const named = new Set(manifest.boards.map((b) => b.hostname));
    const remove = (found.previous?.boards ?? []).filter((b) => !named.has(b.hostname)).map((b) => b.hostname);
    const difficulty = manifest.fleet.powDifficulty;
    const workers = found.create.length === 0 ? 0 : Math.min(opts.jobs ?? availableParallelism(), found.create.length);
    opts.onPlan?.({ fleet: manifest.fleet.name, difficulty, workers, create: [...found.create], keep: [...found.keep], remove });

    const identities = new Map(found.identities);
    if (found.create.length > 0) {
      for (const [hostname, identity] of await mintAll(out, found.create, difficulty, workers, opts)) identities.set(hostname, identity);
    }

    const inventory = buildInventory(manifest, identities, found.previous, clock.now());
    // Every config is rendered (and so checked) before the first is written.
    const configs = manifest.boards.map((b) => {
      const path = boardPaths(out, b.hostname).config;
      return { path, text: renderBoardConfig(manifest, inventory, b.hostname, path) };
    });
    for (const { path, text } of configs) await writeFileAtomic(path, Buffer.from(text, 'utf8'), { mode: 0o644 });
    // Last: the inventory is what the next run reads back.
    const inventoryFile = join(out, INVENTORY_FILE);
    await writeFileAtomic(inventoryFile, Buffer.from(renderInventory(inventory), 'utf8'), { mode: 0o644 });

    const created = new Set(found.create);
    const boards = inventory.boards.map(
      (b): BoardOutcome => ({
        hostname: b.hostname,
        board: b.board,
        role: b.role,
        peerId: b.peerId,
        status: b.removed === true ? 'removed' : created.has(b.hostname) ? 'new' : 'kept',
      }),
    );
    return { dir: out, fleet: inventory.fleet, inventoryFile, inventory, boards, warnings };
  } finally {
    await release();
  }
}
