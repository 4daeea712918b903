/**
 * The circuits build the zkp tests rely on. `npm install` makes it; if it is missing (a tree
 * installed with EDGE_AGENT_CIRCUITS=off, or circuits/build removed), build it here once.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_BUILD_DIR } from '../../src/zkp/index.js';

export const REPO = join(DEFAULT_BUILD_DIR, '..', '..');
export const SNARKJS_CLI = join(REPO, 'node_modules', '.bin', 'snarkjs');
/** A first build takes minutes on a loaded 2-core machine (docs/zkp.md). */
export const BUILD_TIMEOUT_MS = 10 * 60_000;

const built = (): boolean => existsSync(join(DEFAULT_BUILD_DIR, 'manifest.json'));
const args = [join(REPO, 'circuits', 'build.mjs')];
const env = { ...process.env, EDGE_AGENT_CIRCUITS: '' };

/** For a test's before hook (which should allow BUILD_TIMEOUT_MS). */
export async function ensureCircuits(): Promise<void> {
  if (built()) return;
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: REPO, env, timeout: BUILD_TIMEOUT_MS });
  process.stderr.write(stdout);
}

/** For scripts (the benchmark). */
export function ensureCircuitsSync(): void {
  if (!built()) execFileSync(process.execPath, args, { stdio: 'inherit', cwd: REPO, env });
}
