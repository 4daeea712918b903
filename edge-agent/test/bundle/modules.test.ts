import test from 'ava';
import {
  BundleError,
  planModules,
  platformAllows,
  resolvePackage,
  type InstalledPackage,
  type PackageManifest,
} from '../../src/bundle/index.js';

function manifest(name: string, m: Partial<PackageManifest> = {}): PackageManifest {
  return { name, version: '1.0.0', dependencies: [], optionalDependencies: [], peerDependencies: [], optionalPeerDependencies: [], ...m };
}

/** A fake node_modules: path → package. */
function tree(pkgs: (Partial<InstalledPackage> & { path: string; manifest: PackageManifest })[]): (p: string) => InstalledPackage | undefined {
  const map = new Map(pkgs.map((p) => [p.path, { hasGyp: false, binaries: [], ...p }]));
  return (p) => map.get(p);
}

const paths = (plan: { include: readonly InstalledPackage[] }): string[] => plan.include.map((p) => p.path);

test('resolution looks in the requiring package first, then in each folder above it', (t) => {
  const have = new Set(['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/b', 'node_modules/@s/c', 'node_modules/a/node_modules/b/node_modules/c']);
  const exists = (p: string): boolean => have.has(p);
  t.is(resolvePackage('', 'a', exists), 'node_modules/a');
  t.is(resolvePackage('node_modules/a', 'b', exists), 'node_modules/a/node_modules/b');
  t.is(resolvePackage('node_modules/a/node_modules/b', 'a', exists), 'node_modules/a');
  t.is(resolvePackage('node_modules/a/node_modules/b', 'c', exists), 'node_modules/a/node_modules/b/node_modules/c');
  t.is(resolvePackage('node_modules/b', 'c', exists), undefined);
  t.is(resolvePackage('node_modules/@s/c', 'b', exists), 'node_modules/b');
});

test('os and cpu lists follow npm: plain names allow, "!name" excludes', (t) => {
  t.true(platformAllows(undefined, 'arm64'));
  t.true(platformAllows([], 'arm64'));
  t.true(platformAllows(['arm64', 'x64'], 'arm64'));
  t.false(platformAllows(['x64'], 'arm64'));
  t.false(platformAllows(['!arm64'], 'arm64'));
  t.true(platformAllows(['!ia32'], 'arm64'));
});

test('the closure follows dependencies and nested copies, and leaves dev packages and missing optionals out', (t) => {
  const root = manifest('app', { dependencies: ['a', 'b'] });
  const plan = planModules(root, 'x64', tree([
    { path: 'node_modules/a', manifest: manifest('a', { dependencies: ['c'], optionalDependencies: ['not-installed'] }) },
    { path: 'node_modules/a/node_modules/c', manifest: manifest('c', { version: '2.0.0' }) },
    { path: 'node_modules/b', manifest: manifest('b', { dependencies: ['c'], optionalPeerDependencies: ['absent-peer'] }) },
    { path: 'node_modules/c', manifest: manifest('c') },
    { path: 'node_modules/dev-only', manifest: manifest('dev-only') },
  ]));
  t.deepEqual(paths(plan), ['node_modules/a', 'node_modules/a/node_modules/c', 'node_modules/b', 'node_modules/c']);
  t.deepEqual(plan.leftOut, []);
});

test('a missing required dependency is a typed error naming both packages', (t) => {
  const err = t.throws(() => planModules(manifest('app', { dependencies: ['a'] }), 'x64', tree([
    { path: 'node_modules/a', manifest: manifest('a', { peerDependencies: ['p'] }) },
  ])), { instanceOf: BundleError });
  t.is(err.code, 'MISSING_DEPENDENCY');
  t.regex(err.message, /a needs p/);
});

test('cbor-extract built here for x64: shipped to x64, left out of arm64 with who wanted it', (t) => {
  const pkgs = tree([
    { path: 'node_modules/cbor-x', manifest: manifest('cbor-x', { optionalDependencies: ['cbor-extract'] }) },
    {
      path: 'node_modules/cbor-extract',
      manifest: manifest('cbor-extract', { dependencies: ['loader'], optionalDependencies: ['@cbor-extract/cbor-extract-linux-arm64'] }),
      hasGyp: true,
      binaries: [{ file: 'build/Release/extract.node', kind: 'x64' }],
    },
    { path: 'node_modules/loader', manifest: manifest('loader') },
  ]);
  const root = manifest('app', { dependencies: ['cbor-x'] });
  t.deepEqual(paths(planModules(root, 'x64', pkgs)), ['node_modules/cbor-extract', 'node_modules/cbor-x', 'node_modules/loader']);
  const arm = planModules(root, 'arm64', pkgs);
  t.deepEqual(paths(arm), ['node_modules/cbor-x'], 'its own dependencies go with it');
  t.is(arm.leftOut.length, 1);
  t.like(arm.leftOut[0], { name: 'cbor-extract', path: 'node_modules/cbor-extract', requiredBy: ['cbor-x'] });
  t.regex(arm.leftOut[0]!.reason, /built for x64 only, not arm64/);
});

test('a loader whose platform package for the target is installed ships with that package only', (t) => {
  const platforms = ['linux-x64', 'linux-arm64', 'darwin-arm64'].map((p) => `@n/n-${p}`);
  const [os, cpu] = [(p: string) => [p.split('-')[1]!], (p: string) => [p.split('-')[2]!]];
  const pkgs = tree([
    { path: 'node_modules/n', manifest: manifest('n', { optionalDependencies: platforms }), hasGyp: true },
    ...platforms.map((p) => ({
      path: `node_modules/${p}`,
      manifest: manifest(p, { os: os(p), cpu: cpu(p) }),
      binaries: [{ file: 'n.node', kind: p.endsWith('x64') ? ('x64' as const) : p.startsWith('@n/n-linux') ? ('arm64' as const) : ('not-elf' as const) }],
    })),
  ]);
  const plan = planModules(manifest('app', { dependencies: ['n'] }), 'arm64', pkgs);
  t.deepEqual(paths(plan), ['node_modules/@n/n-linux-arm64', 'node_modules/n']);
  t.deepEqual(plan.leftOut.map((o) => o.name).sort(), ['@n/n-darwin-arm64', '@n/n-linux-x64']);
});

test('a required package that cannot run on the target is refused, not shipped', (t) => {
  const err = t.throws(() => planModules(manifest('app', { dependencies: ['n'] }), 'arm64', tree([
    { path: 'node_modules/n', manifest: manifest('n'), hasGyp: true, binaries: [{ file: 'build/Release/n.node', kind: 'x64' }] },
  ])), { instanceOf: BundleError });
  t.is(err.code, 'NATIVE_UNAVAILABLE');
  t.regex(err.message, /app requires n .*linux-arm64/);
  const cpu = t.throws(() => planModules(manifest('app', { dependencies: ['p'] }), 'x64', tree([
    { path: 'node_modules/p', manifest: manifest('p', { cpu: ['arm64'] }) },
  ])), { instanceOf: BundleError });
  t.is(cpu.code, 'NATIVE_UNAVAILABLE');
});

test('native files for other targets inside a shipped package are dropped, the rest kept', (t) => {
  const plan = planModules(manifest('app', { dependencies: ['p'] }), 'arm64', tree([
    {
      path: 'node_modules/p',
      manifest: manifest('p'),
      binaries: [
        { file: 'prebuilds/linux-arm64/p.node', kind: 'arm64' },
        { file: 'prebuilds/linux-x64/p.node', kind: 'x64' },
        { file: 'prebuilds/darwin-arm64/p.node', kind: 'not-elf' },
      ],
    },
  ]));
  t.deepEqual(paths(plan), ['node_modules/p']);
  t.deepEqual([...plan.dropBinaries].sort(), ['node_modules/p/prebuilds/darwin-arm64/p.node', 'node_modules/p/prebuilds/linux-x64/p.node']);
});

test('a cycle of dependencies ends', (t) => {
  const plan = planModules(manifest('app', { dependencies: ['a'] }), 'x64', tree([
    { path: 'node_modules/a', manifest: manifest('a', { dependencies: ['b'] }) },
    { path: 'node_modules/b', manifest: manifest('b', { dependencies: ['a'] }) },
  ]));
  t.deepEqual(paths(plan), ['node_modules/a', 'node_modules/b']);
});
