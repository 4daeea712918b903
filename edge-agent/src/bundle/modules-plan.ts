/**
 * Which installed packages a bundle ships: the closure of the project's production
 * dependencies, resolved as Node resolves them, minus what cannot run on the target.
 * No I/O here: the shell (modules-read.ts) answers `lookup` from node_modules.
 */
import type { BinaryKind, BundleArch } from './arch.js';
import { BundleError } from './errors.js';

/** The parts of a package.json that decide what ships. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies: readonly string[];
  readonly optionalDependencies: readonly string[];
  /** Peers npm installs (required) and those it may leave out (peerDependenciesMeta optional). */
  readonly peerDependencies: readonly string[];
  readonly optionalPeerDependencies: readonly string[];
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
}

/** An installed package, as found at `path` (relative to the project, e.g. "node_modules/a/node_modules/b"). */
export interface InstalledPackage {
  readonly path: string;
  readonly manifest: PackageManifest;
  /** binding.gyp or "gypfile": true: it compiles native code at install time. */
  readonly hasGyp: boolean;
  /** Its *.node files (relative to the package) and what each was built for. */
  readonly binaries: readonly { readonly file: string; readonly kind: BinaryKind }[];
}

/** A package installed but not shipped, and why the agent does without it. */
export interface LeftOut {
  readonly name: string;
  readonly version: string;
  readonly path: string;
  readonly requiredBy: readonly string[];
  readonly reason: string;
}

export interface ModulePlan {
  /** Package paths to ship, sorted. */
  readonly include: readonly InstalledPackage[];
  readonly leftOut: readonly LeftOut[];
  /** Native files inside shipped packages built for something else: "path/file". */
  readonly dropBinaries: readonly string[];
}

type Edge = { readonly name: string; readonly optional: boolean };

/**
 * Node's lookup: `name` in the node_modules of the requiring package, then of each
 * package folder above it, then of the project.
 */
export function resolvePackage(from: string, name: string, exists: (path: string) => boolean): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (exists(candidate)) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** npm's "os"/"cpu" rule: "!x" excludes x; a list of plain names allows only those. */
export function platformAllows(list: readonly string[] | undefined, value: string): boolean {
  if (list === undefined || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((v) => !v.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

function edgesOf(m: PackageManifest): Edge[] {
  const optional = new Set([...m.optionalDependencies, ...m.optionalPeerDependencies]);
  const names = new Set([...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies, ...m.optionalPeerDependencies]);
  return [...names].sort().map((name) => ({ name, optional: optional.has(name) }));
}

/**
 * Walks the production closure from the project's manifest. A package that cannot run
 * on `arch` (its os/cpu exclude linux-`arch`, or it is native without a build for `arch`
 * of its own or from one of its optional platform packages) is left out when every
 * package that wants it wants it optionally, and refused otherwise.
 */
export function planModules(
  root: PackageManifest,
  arch: BundleArch,
  lookup: (path: string) => InstalledPackage | undefined,
): ModulePlan {
  if (typeof lookup !== 'function') throw new BundleError('BAD_ARGUMENT', 'planModules: lookup must be a function');
  const exists = (p: string): boolean => lookup(p) !== undefined;
  const runsOnTarget = (pkg: InstalledPackage): string | undefined => {
    const m = pkg.manifest;
    if (!platformAllows(m.os, 'linux') || !platformAllows(m.cpu, arch)) {
      return `built for ${[...(m.os ?? ['any os']), ...(m.cpu ?? ['any cpu'])].join('/')}, not linux/${arch}`;
    }
    const native = pkg.hasGyp || pkg.binaries.length > 0;
    if (!native || pkg.binaries.some((b) => b.kind === arch)) return undefined;
    // A loader package whose build comes in an optional platform package beside it.
    for (const edge of edgesOf(m)) {
      if (!edge.optional) continue;
      const at = resolvePackage(pkg.path, edge.name, exists);
      const dep = at === undefined ? undefined : lookup(at);
      if (dep && platformAllows(dep.manifest.os, 'linux') && platformAllows(dep.manifest.cpu, arch) && dep.binaries.some((b) => b.kind === arch)) {
        return undefined;
      }
    }
    const built = [...new Set(pkg.binaries.map((b) => b.kind))];
    return built.length === 0 ? `native code with no build for ${arch}` : `native code built for ${built.join(', ')} only, not ${arch}`;
  };

  const included = new Map<string, InstalledPackage>();
  const leftOut = new Map<string, { pkg: InstalledPackage; reason: string; requiredBy: Set<string> }>();
  const queue: { from: string; fromName: string; edges: Edge[] }[] = [{ from: '', fromName: root.name, edges: edgesOf(root) }];
  while (queue.length > 0) {
    const { from, fromName, edges } = queue.shift()!;
    for (const edge of edges) {
      const at = resolvePackage(from, edge.name, exists);
      if (at === undefined) {
        if (edge.optional) continue;
        throw new BundleError(
          'MISSING_DEPENDENCY',
          `${fromName} needs ${edge.name}, which is not installed in node_modules (run npm install)`,
        );
      }
      if (included.has(at)) continue;
      const pkg = lookup(at)!;
      const known = leftOut.get(at);
      const reason = known?.reason ?? runsOnTarget(pkg);
      if (reason !== undefined) {
        if (!edge.optional) {
          throw new BundleError(
            'NATIVE_UNAVAILABLE',
            `${fromName} requires ${pkg.manifest.name} (${at}), which cannot run on linux-${arch}: ${reason}`,
          );
        }
        if (known) known.requiredBy.add(fromName);
        else leftOut.set(at, { pkg, reason, requiredBy: new Set([fromName]) });
        continue;
      }
      included.set(at, pkg);
      queue.push({ from: at, fromName: pkg.manifest.name, edges: edgesOf(pkg.manifest) });
    }
  }

  const include = [...included.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dropBinaries = include.flatMap((p) => p.binaries.filter((b) => b.kind !== arch).map((b) => `${p.path}/${b.file}`));
  return {
    include,
    leftOut: [...leftOut.values()]
      .map(({ pkg, reason, requiredBy }) => ({
        name: pkg.manifest.name,
        version: pkg.manifest.version,
        path: pkg.path,
        requiredBy: [...requiredBy].sort(),
        reason,
      }))
      .sort((a, b) => (a.path < b.path ? -1 : 1)),
    dropBinaries,
  };
}
