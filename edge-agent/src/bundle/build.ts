/**
 * Builds DIR/edge-agent-<version>-linux-<arch>/ from a checkout: the compiled agent and
 * its production node_modules under lib/, the wrapper, the units, install.sh,
 * bundle.json and MANIFEST.sha256 (docs/bundle.md).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfiles } from '../board/index.js';
import { binaryKind, ELF_HEADER_BYTES, requireArch, rustTriple, type BundleArch } from './arch.js';
import { BundleError } from './errors.js';
import { copyFile, copyTree, makeDir, readHead } from './files.js';
import { formatManifest, hashTree, listFiles, MANIFEST_FILE, pruneEmptyDirs, sha256File } from './manifest.js';
import { planModules, type InstalledPackage, type LeftOut } from './modules-plan.js';
import { packageLookup, readManifest } from './modules-read.js';
import { checkNodeSpec, obtainNodeRuntime } from './node-runtime.js';
import { boardTable, fillInstallScript, readTemplate } from './scripts.js';

/** The checkout this module was loaded from: three levels up from edge-agent/{src,dist}/bundle/. */
export const DEFAULT_REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The unit files the bundle carries, relative to the repository's systemd/. */
export const UNIT_FILES = ['edge-agent.service', 'ptp-hwclock.conf', 'sysusers.d/edge-agent.conf'] as const;

/** What the agent does without an optional package a bundle leaves out. */
const FALLBACK_EFFECTS: Readonly<Record<string, string>> = {
  'cbor-extract':
    'cbor-x decodes in pure JavaScript: the same results; the native extractor only speeds up decoding of string-heavy messages',
};

export interface BuildBundleOptions {
  readonly arch: BundleArch;
  /** The bundle goes to OUT/edge-agent-<version>-linux-<arch>/ (replacing an earlier bundle there). */
  readonly outDir: string;
  /** Defaults to the checkout this module lives in. */
  readonly repoRoot?: string;
  /** Where edge-agent.service, ptp-hwclock.conf and sysusers.d/edge-agent.conf are; defaults to REPO/systemd. */
  readonly systemdDir?: string;
  /** A Node.js runtime to carry: a version fetched from the npm registry, or a node-linux-<arch> tarball. */
  readonly node?: { readonly version: string } | { readonly tarball: string };
  /** The npm command for `npm pack` (default "npm"). */
  readonly npm?: string;
  /** Progress and warnings, one line each. */
  readonly log?: (line: string) => void;
}

/** bundle.json: what the bundle holds and what it does without. */
export interface BundleDescription {
  readonly name: string;
  readonly version: string;
  readonly platform: 'linux';
  readonly arch: BundleArch;
  /** The bundled Node.js version, or null: the board's own node runs the agent. */
  readonly node: string | null;
  readonly nodeSource: { readonly from: string; readonly integrity: string } | null;
  /** package.json's engines.node: what a board's own node must satisfy when node is null. */
  readonly nodeRequired: string | null;
  readonly native: { readonly present: boolean; readonly files?: readonly string[]; readonly reason?: string };
  readonly circuits: { readonly present: boolean; readonly files?: number };
  /** Optional packages left out because they cannot run on this architecture, and what the agent does instead. */
  readonly fallbacks: readonly (LeftOut & { readonly effect: string })[];
  /** Packages under lib/app/node_modules. */
  readonly packages: number;
  /** Native files of shipped packages left out because they were built for something else. */
  readonly droppedBinaries: readonly string[];
  /** Files MANIFEST.sha256 lists. */
  readonly files: number;
}

export interface BundleResult {
  readonly dir: string;
  readonly description: BundleDescription;
  /** SHA-256 of MANIFEST.sha256: compare it out of band to trust the bundle (install.sh checks the rest). */
  readonly manifestSha256: string;
  /** Total size of the bundle's files. */
  readonly bytes: number;
}

const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

function requireString(name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new BundleError('BAD_ARGUMENT', `buildBundle: ${name} must be a non-empty string`);
  return v;
}

function checkOptions(opts: BuildBundleOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new BundleError('BAD_ARGUMENT', 'buildBundle: options are required');
  requireArch(opts.arch);
  requireString('outDir', opts.outDir);
  if (opts.repoRoot !== undefined) requireString('repoRoot', opts.repoRoot);
  if (opts.systemdDir !== undefined) requireString('systemdDir', opts.systemdDir);
  if (opts.npm !== undefined) requireString('npm', opts.npm);
  if (opts.log !== undefined && typeof opts.log !== 'function') throw new BundleError('BAD_ARGUMENT', 'buildBundle: log must be a function');
  const node = opts.node;
  if (node !== undefined) {
    const ok =
      typeof node === 'object' &&
      node !== null &&
      (('version' in node && typeof node.version === 'string' && !('tarball' in node)) ||
        ('tarball' in node && typeof node.tarball === 'string' && !('version' in node)));
    if (!ok) throw new BundleError('BAD_ARGUMENT', 'buildBundle: node must be { version } or { tarball }, not both');
    if ('version' in node) checkNodeSpec(node.version);
  }
}

/** Compiled files missing or older than their sources: a bundle of stale code is worth a warning. */
function staleCount(src: string, dist: string): number {
  let stale = 0;
  for (const rel of listFiles(src)) {
    if (!rel.endsWith('.ts') || rel.endsWith('.d.ts')) continue;
    const out = join(dist, rel.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(src, rel)).mtimeMs) stale += 1;
  }
  return stale;
}

/**
 * Copies one package without its nested node_modules (those ship as packages of their
 * own, when the closure reaches them), without node-gyp's intermediate build files, and
 * without native files built for another target.
 */
function copyPackage(root: string, app: string, pkg: InstalledPackage, drop: ReadonlySet<string>): void {
  copyTree(join(root, pkg.path), join(app, pkg.path), root, (rel, isDir) => {
    if (rel === 'node_modules') return false;
    if (drop.has(`${pkg.path}/${rel}`)) return false;
    if (pkg.hasGyp && (rel === 'build' || rel.startsWith('build/'))) {
      return rel === 'build' || rel === 'build/Release' || (!isDir && /^build\/Release\/[^/]+\.node$/.test(rel));
    }
    return true;
  });
}

/** native-napi's built addons for `arch`: the target's own folder, then cargo's host folder. */
function findAddons(root: string, arch: BundleArch): string[] {
  const found = new Map<string, string>();
  for (const dir of [join(root, 'native-napi', 'target', rustTriple(arch), 'release'), join(root, 'native-napi', 'target', 'release')]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name);
      if (!name.endsWith('.node') || found.has(name) || !statSync(file).isFile()) continue;
      if (binaryKind(readHead(file, ELF_HEADER_BYTES)) === arch) found.set(name, file);
    }
  }
  return [...found.values()];
}

export async function buildBundle(opts: BuildBundleOptions): Promise<BundleResult> {
  checkOptions(opts);
  const { arch } = opts;
  const log = opts.log ?? (() => {});
  const root = resolve(opts.repoRoot ?? DEFAULT_REPO_ROOT);
  const systemdDir = resolve(opts.systemdDir ?? join(root, 'systemd'));

  const pkgFile = join(root, 'package.json');
  if (!existsSync(pkgFile)) throw new BundleError('MISSING_SOURCE', `${pkgFile}: not found; run the bundle command from a checkout`);
  const rawPkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: unknown; version?: unknown; engines?: { node?: unknown } };
  const { manifest: rootManifest } = readManifest(pkgFile);
  const version = rawPkg.version;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new BundleError('BAD_PACKAGE', `${pkgFile}: version: expected a version such as "0.1.0", got ${JSON.stringify(version)}`);
  }
  const dist = join(root, 'edge-agent', 'dist');
  if (!existsSync(join(dist, 'cli', 'main.js'))) {
    throw new BundleError('NOT_BUILT', `${dist}/cli/main.js is missing: compile the agent first (npm install, or npm run build)`);
  }
  const stale = staleCount(join(root, 'edge-agent', 'src'), dist);
  if (stale > 0) log(`warning: ${stale} compiled file(s) in edge-agent/dist are missing or older than their sources; run npm run build`);
  for (const unit of UNIT_FILES) {
    if (!existsSync(join(systemdDir, unit))) throw new BundleError('MISSING_SOURCE', `${join(systemdDir, unit)}: not found; the bundle carries it`);
  }
  const installTemplate = readTemplate(root, 'install.sh');
  const wrapper = readTemplate(root, 'edge-agent.sh');
  const boards = boardTable(await loadProfiles(join(root, 'board-config')));
  const plan = planModules(rootManifest, arch, packageLookup(root));

  const name = `edge-agent-${version}-linux-${arch}`;
  const outDir = resolve(opts.outDir);
  const final = join(outDir, name);
  if (existsSync(final) && !existsSync(join(final, 'bundle.json'))) {
    throw new BundleError('OUTPUT_EXISTS', `${final} exists and is not a bundle; refusing to replace it`);
  }
  const runtime = opts.node === undefined ? undefined : await obtainNodeRuntime(arch, opts.node, opts.npm);
  const stage = join(outDir, `.${name}.partial-${randomBytes(4).toString('hex')}`);
  try {
    makeDir(outDir);
    const lib = join(stage, 'lib');
    const app = join(lib, 'app');
    makeDir(app);
    copyFile(pkgFile, join(app, 'package.json'), 0o644);
    // Source maps point at sources the bundle does not carry.
    copyTree(dist, join(app, 'edge-agent', 'dist'), root, (rel) => !rel.endsWith('.map'));
    copyTree(join(root, 'board-config'), join(app, 'board-config'), root);

    const drop = new Set(plan.dropBinaries);
    for (const pkg of plan.include) copyPackage(root, app, pkg, drop);
    for (const out of plan.leftOut) log(`left out ${out.name}@${out.version} (optional for ${out.requiredBy.join(', ')}): ${out.reason}`);

    const circuitsDir = join(root, 'circuits', 'build');
    const circuitFiles = existsSync(circuitsDir) ? copyTree(circuitsDir, join(app, 'circuits', 'build'), root) : 0;

    const addons = findAddons(root, arch);
    if (addons.length > 0) {
      makeDir(join(lib, 'native'));
      for (const file of addons) copyFile(file, join(lib, 'native', basename(file)), 0o644);
    }

    if (runtime) {
      makeDir(join(lib, 'node', 'bin'));
      copyFile(runtime.binary, join(lib, 'node', 'bin', 'node'), 0o755);
      if (runtime.license) copyFile(runtime.license, join(lib, 'node', 'LICENSE'), 0o644);
    }

    makeDir(join(stage, 'bin'));
    writeFileSync(join(stage, 'bin', 'edge-agent'), wrapper, { mode: 0o755 });
    chmodSync(join(stage, 'bin', 'edge-agent'), 0o755);
    writeFileSync(join(stage, 'install.sh'), fillInstallScript(installTemplate, { version, arch, boards }), { mode: 0o755 });
    chmodSync(join(stage, 'install.sh'), 0o755);
    for (const unit of UNIT_FILES) {
      makeDir(join(stage, 'systemd', unit.includes('/') ? unit.slice(0, unit.lastIndexOf('/')) : ''));
      copyFile(join(systemdDir, unit), join(stage, 'systemd', unit), 0o644);
    }
    pruneEmptyDirs(stage);

    const triple = rustTriple(arch);
    const description: BundleDescription = {
      name: 'edge-agent',
      version,
      platform: 'linux',
      arch,
      node: runtime?.version ?? null,
      nodeSource: runtime ? { from: runtime.source, integrity: runtime.integrity } : null,
      nodeRequired: typeof rawPkg.engines?.node === 'string' ? rawPkg.engines.node : null,
      native:
        addons.length > 0
          ? { present: true, files: addons.map((f) => `lib/native/${basename(f)}`) }
          : {
              present: false,
              reason: `no native-napi addon built for linux-${arch} (looked in native-napi/target/${triple}/release and native-napi/target/release): the agent uses its TypeScript fallbacks`,
            },
      circuits: circuitFiles > 0 ? { present: true, files: circuitFiles } : { present: false },
      fallbacks: plan.leftOut.map((o) => ({
        ...o,
        effect: FALLBACK_EFFECTS[o.name] ?? `${o.requiredBy.join(', ')} run(s) without this optional package`,
      })),
      packages: plan.include.length,
      droppedBinaries: plan.dropBinaries,
      files: listFiles(stage).length + 1,
    };
    writeFileSync(join(stage, 'bundle.json'), `${JSON.stringify(description, null, 2)}\n`, { mode: 0o644 });
    chmodSync(join(stage, 'bundle.json'), 0o644);

    const manifest = formatManifest(await hashTree(stage));
    writeFileSync(join(stage, MANIFEST_FILE), manifest, { mode: 0o644 });
    chmodSync(join(stage, MANIFEST_FILE), 0o644);
    const manifestSha256 = await sha256File(join(stage, MANIFEST_FILE));
    const bytes = listFiles(stage).reduce((sum, rel) => sum + statSync(join(stage, rel)).size, 0);
    chmodSync(stage, 0o755);

    if (existsSync(final)) rmSync(final, { recursive: true, force: true });
    renameSync(stage, final);
    return { dir: final, description, manifestSha256, bytes };
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  } finally {
    if (runtime) rmSync(runtime.tempDir, { recursive: true, force: true });
  }
}
