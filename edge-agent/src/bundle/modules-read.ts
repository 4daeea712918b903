/**
 * The shell around modules-plan.ts: reads package.json files and native binaries from
 * a project's node_modules on demand (only what the production closure touches).
 */
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { binaryKind, ELF_HEADER_BYTES } from './arch.js';
import { BundleError } from './errors.js';
import { readHead } from './files.js';
import type { InstalledPackage, PackageManifest } from './modules-plan.js';

/** Reads a package.json into the fields that decide what ships, and whether it builds with node-gyp. */
export function readManifest(file: string): { manifest: PackageManifest; gypfile: boolean } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BundleError('BAD_PACKAGE', `${file}: cannot be read as JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BundleError('BAD_PACKAGE', `${file}: expected a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  const keys = (field: string): string[] => {
    const v = o[field];
    if (v === undefined) return [];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new BundleError('BAD_PACKAGE', `${file}: ${field}: expected an object of names to versions`);
    }
    return Object.keys(v);
  };
  const list = (field: string): string[] | undefined => {
    const v = o[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new BundleError('BAD_PACKAGE', `${file}: ${field}: expected an array of strings`);
    }
    return v as string[];
  };
  const meta = o.peerDependenciesMeta;
  const optionalPeer = (name: string): boolean => {
    if (typeof meta !== 'object' || meta === null) return false;
    const entry = (meta as Record<string, unknown>)[name];
    return typeof entry === 'object' && entry !== null && (entry as { optional?: unknown }).optional === true;
  };
  const peers = keys('peerDependencies');
  const os = list('os');
  const cpu = list('cpu');
  const manifest: PackageManifest = {
    name: typeof o.name === 'string' ? o.name : '(unnamed)',
    version: typeof o.version === 'string' ? o.version : '0.0.0',
    dependencies: keys('dependencies'),
    optionalDependencies: keys('optionalDependencies'),
    peerDependencies: peers.filter((p) => !optionalPeer(p)),
    optionalPeerDependencies: peers.filter(optionalPeer),
    ...(os !== undefined ? { os } : {}),
    ...(cpu !== undefined ? { cpu } : {}),
  };
  return { manifest, gypfile: o.gypfile === true };
}

/** What a native file was built for. */
function kindOf(file: string): InstalledPackage['binaries'][number]['kind'] {
  return binaryKind(readHead(file, ELF_HEADER_BYTES));
}

/** Every *.node file of a package, outside its nested node_modules. */
function findBinaries(pkgDir: string, rel = ''): { file: string; kind: InstalledPackage['binaries'][number]['kind'] }[] {
  const out: { file: string; kind: InstalledPackage['binaries'][number]['kind'] }[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(join(pkgDir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (r !== 'node_modules') out.push(...findBinaries(pkgDir, r));
    } else if (e.isFile() && e.name.endsWith('.node')) {
      out.push({ file: r, kind: kindOf(join(pkgDir, r)) });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : 1));
}

/** A cached lookup of installed packages under `projectDir`, for planModules. */
export function packageLookup(projectDir: string): (path: string) => InstalledPackage | undefined {
  const cache = new Map<string, InstalledPackage | undefined>();
  return (path) => {
    if (cache.has(path)) return cache.get(path);
    const dir = join(projectDir, path);
    const manifestFile = join(dir, 'package.json');
    let pkg: InstalledPackage | undefined;
    if (existsSync(manifestFile) && statSync(dir).isDirectory()) {
      const { manifest, gypfile } = readManifest(manifestFile);
      pkg = { path, manifest, hasGyp: gypfile || existsSync(join(dir, 'binding.gyp')), binaries: findBinaries(dir) };
    }
    cache.set(path, pkg);
    return pkg;
  };
}
