/**
 * MANIFEST.sha256: one "<sha256 hex>  <path>" line per file of the bundle but itself,
 * sorted by path, exactly what `sha256sum -c` reads.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from './errors.js';
import { checkName } from './files.js';

export const MANIFEST_FILE = 'MANIFEST.sha256';

const LINE = /^([0-9a-f]{64}) {2}(.+)$/;
/** Far more than any bundle holds; a bigger manifest is not one of ours. */
const MAX_ENTRIES = 1_000_000;

/** Byte order of the UTF-8 names, the order `LC_ALL=C sort` gives. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Every file under `dir` (relative, "/"-separated), folders left out, in byte order. */
export function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return rel === '' ? out.sort(byteOrder) : out;
}

/** Removes folders left empty (a filter took all they held): a bundle lists files only. */
export function pruneEmptyDirs(dir: string): boolean {
  let empty = true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && pruneEmptyDirs(join(dir, e.name))) rmdirSync(join(dir, e.name));
    else empty = false;
  }
  return empty;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

export function formatManifest(entries: ReadonlyMap<string, string>): string {
  const paths = [...entries.keys()].sort(byteOrder);
  return paths.map((p) => `${entries.get(p)!}  ${p}\n`).join('');
}

/** Parses a manifest as we write it; anything else is a typed error naming the line. */
export function parseManifest(text: string): Map<string, string> {
  if (typeof text !== 'string') throw new BundleError('BAD_ARGUMENT', 'parseManifest: text must be a string');
  const entries = new Map<string, string>();
  if (text === '') return entries;
  if (!text.endsWith('\n')) throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE}: expected a newline at the end`);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > MAX_ENTRIES) throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE}: more than ${MAX_ENTRIES} lines`);
  for (const [i, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (!m) throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE} line ${i + 1}: expected "<64 hex digits>  <path>", got ${JSON.stringify(line.slice(0, 100))}`);
    const path = m[2]!;
    try {
      checkName(path);
    } catch (err) {
      throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE} line ${i + 1}: ${(err as Error).message}`);
    }
    if (path === MANIFEST_FILE || path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE} line ${i + 1}: ${JSON.stringify(path)} is not a plain path inside the bundle`);
    }
    if (entries.has(path)) throw new BundleError('BAD_MANIFEST', `${MANIFEST_FILE} line ${i + 1}: ${path} is listed twice`);
    entries.set(path, m[1]!);
  }
  return entries;
}

/** Hashes every file under `dir` but the manifest itself. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const rel of listFiles(dir)) {
    if (rel === MANIFEST_FILE) continue;
    checkName(rel);
    entries.set(rel, await sha256File(join(dir, rel)));
  }
  return entries;
}

export interface ManifestCheck {
  readonly ok: boolean;
  /** Listed, present, and with another hash. */
  readonly changed: readonly string[];
  readonly missing: readonly string[];
  /** Present and not listed. */
  readonly extra: readonly string[];
}

/** Compares the files under `dir` (MANIFEST.sha256 aside) with a parsed manifest. */
export async function checkTree(dir: string, manifest: ReadonlyMap<string, string>): Promise<ManifestCheck> {
  const present = await hashTree(dir);
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [path, hash] of manifest) {
    const got = present.get(path);
    if (got === undefined) missing.push(path);
    else if (got !== hash) changed.push(path);
  }
  const extra = [...present.keys()].filter((p) => !manifest.has(p));
  return { ok: changed.length + missing.length + extra.length === 0, changed, missing, extra };
}
