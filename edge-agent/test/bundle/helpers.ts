import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { UNIT_FILES } from '../../src/bundle/index.js';
import { createIdentity, toHex } from '../../src/identity/index.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const VERSION = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
export const IS_ROOT = process.getuid?.() === 0;

const run = promisify(execFile);

/** The bundle copies edge-agent/dist: compile once if a fresh checkout has none. */
export async function ensureBuilt(): Promise<void> {
  if (!existsSync(join(REPO, 'edge-agent', 'dist', 'cli', 'main.js'))) {
    await run('npm', ['run', 'build'], { cwd: REPO, timeout: 300_000 });
  }
}

/**
 * A temp folder, world-traversable so that the agent can run as the edge-agent user
 * from a root inside it; removed when the test ends.
 */
export async function tempDir(t: { teardown(fn: () => Promise<void>): void }, prefix = 'edge-agent-bundle-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The repository's unit files, or stand-ins where a checkout lacks them. */
export async function unitsDir(scratch: string): Promise<string> {
  const real = join(REPO, 'systemd');
  if (UNIT_FILES.every((u) => existsSync(join(real, u)))) return real;
  const dir = join(scratch, 'units');
  await mkdir(join(dir, 'sysusers.d'), { recursive: true });
  await writeFile(join(dir, 'edge-agent.service'), '[Service]\nExecStart=/usr/bin/edge-agent run --config /etc/edge-agent/config.json\n');
  await writeFile(join(dir, 'ptp-hwclock.conf'), '[Service]\nAmbientCapabilities=CAP_SYS_TIME\n');
  await writeFile(join(dir, 'sysusers.d', 'edge-agent.conf'), 'u edge-agent - "edge-agent fleet agent" /var/lib/edge-agent\n');
  return dir;
}

/** A board as `edge-agent provision` leaves it: DIR/config.json and DIR/state/ with the identity. */
export async function makeBoard(dir: string, board: string, extra: Record<string, unknown> = {}): Promise<{ dir: string; peerId: string }> {
  await mkdir(join(dir, 'state'), { recursive: true, mode: 0o700 });
  const identity = await createIdentity(join(dir, 'state'), { difficulty: 4 });
  const peerId = toHex(identity.peerId);
  identity.destroy();
  const config = { fleet: 'test', nodeName: board, board, dataDir: '/var/lib/edge-agent', ...extra };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, peerId };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
export function runProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** install.sh under sh (dash here), as an operator would run it. */
export function install(bundle: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Ran> {
  return runProcess('sh', [join(bundle, 'install.sh'), ...args], env ? { env } : {});
}

/**
 * Every path under `dir` with its type, mode, owner and content hash: equal snapshots
 * mean the same tree. With `untouched`, the inode and its change time stand in for the
 * content: equal snapshots then mean nothing was even rewritten, chmodded or chowned.
 */
export async function snapshot(dir: string, opts: { untouched?: boolean } = {}, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const st = await lstat(join(dir, rel), { bigint: true });
  const head = `${(st.mode & 0o7777n).toString(8)} ${st.uid}:${st.gid}${opts.untouched ? ` ino ${st.ino} ctime ${st.ctimeNs}` : ''}`;
  if (st.isDirectory()) {
    out.set(rel || '.', `dir ${head}`);
    for (const name of (await readdir(join(dir, rel))).sort()) {
      for (const [k, v] of await snapshot(dir, opts, rel ? `${rel}/${name}` : name)) out.set(k, v);
    }
  } else if (st.isSymbolicLink()) {
    out.set(rel, `link ${head} ${await readlink(join(dir, rel))}`);
  } else if (opts.untouched) {
    out.set(rel, `file ${head} size ${st.size}`);
  } else {
    out.set(rel, `file ${head} ${createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')}`);
  }
  return out;
}

/** The numeric ids of a user in a root's own /etc/passwd. */
export async function idsIn(root: string, user: string): Promise<{ uid: number; gid: number } | undefined> {
  const line = (await readFile(join(root, 'etc', 'passwd'), 'utf8')).split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
