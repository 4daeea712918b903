import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundle, checkTree, parseManifest, type BundleResult } from '../../src/bundle/index.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { ensureBuilt, idsIn, install, IS_ROOT, makeBoard, runProcess, snapshot, tempDir, unitsDir, VERSION } from './helpers.js';

// install.sh creates users and chowns: it runs as root (CI does), or under fakeroot.
const rootTest = IS_ROOT ? test : test.skip;

const cleanups: (() => Promise<void>)[] = [];
test.after.always(async () => {
  for (const c of cleanups) await c();
});

let x64: BundleResult;
let arm64: BundleResult;

test.before(async () => {
  await ensureBuilt();
  const out = await tempDir({ teardown: (fn) => cleanups.push(fn) });
  const systemdDir = await unitsDir(out);
  x64 = await buildBundle({ arch: 'x64', outDir: out, systemdDir });
  arm64 = await buildBundle({ arch: 'arm64', outDir: out, systemdDir });
});

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o7777;
const owner = async (p: string): Promise<string> => {
  const s = await stat(p);
  return `${s.uid}:${s.gid}`;
};

/** The installed code must be the bundle's lib/ plus bundle.json, byte for byte. */
async function checkInstalledLib(t: import('ava').ExecutionContext, root: string, bundle: BundleResult): Promise<void> {
  const manifest = parseManifest(await readFile(join(bundle.dir, 'MANIFEST.sha256'), 'utf8'));
  const lib = new Map<string, string>();
  for (const [path, hash] of manifest) {
    if (path.startsWith('lib/')) lib.set(path.slice(4), hash);
    if (path === 'bundle.json') lib.set(path, hash);
  }
  const check = await checkTree(join(root, 'usr/lib/edge-agent'), lib);
  t.true(check.ok, JSON.stringify(check).slice(0, 500));
}

interface AgentRun {
  code: number | null;
  records: Record<string, unknown>[];
  stderr: string;
}

/**
 * Starts the installed agent as the edge-agent user from the root; `onRecord` sees each
 * log record and may stop it (SIGTERM). A run still going after a minute is killed.
 */
function startAgent(
  root: string,
  config: string,
  ids: { uid: number; gid: number },
  onRecord: (record: Record<string, unknown>, stop: () => void) => void,
): { stop: () => void; exited: Promise<AgentRun> } {
  const child = spawn(join(root, 'usr/bin/edge-agent'), ['run', '--config', config], { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
  let stopping = false;
  // Once: a second signal would make the agent give up its clean stop.
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
  };
  const exited = new Promise<AgentRun>((resolve, reject) => {
    const records: Record<string, unknown>[] = [];
    let partial = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        const record = JSON.parse(line) as Record<string, unknown>;
        records.push(record);
        onRecord(record, stop);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, records, stderr });
    });
  });
  return { stop, exited };
}

rootTest('two boards install into two roots: user, owners, modes, units, config, identity; the agents run from there', async (t) => {
  const tmp = await tempDir(t);
  const boards = [
    { bundle: x64, board: 'x86-64-dev', ptp: false },
    { bundle: arm64, board: 'rpi-5', ptp: true },
  ];
  for (const [i, { bundle, board, ptp }] of boards.entries()) {
    const root = join(tmp, `root${i}`);
    await mkdir(root);
    const b = await makeBoard(join(tmp, `board${i}`), board);
    const r = await install(bundle.dir, ['--root', root, '--board', b.dir]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, new RegExp(`installed edge-agent ${VERSION.replace(/\./g, '\\.')} \\(linux-${bundle.description.arch}\\)`));

    const ids = await idsIn(root, 'edge-agent');
    t.truthy(ids, 'the user exists in the root');
    const { uid, gid } = ids!;
    t.true((await readFile(join(root, 'etc/group'), 'utf8')).split('\n').some((l) => l.startsWith(`edge-agent:x:${gid}:`)));

    await checkInstalledLib(t, root, bundle);
    t.is(await mode(join(root, 'usr/lib/edge-agent')), 0o755);
    t.is(await owner(join(root, 'usr/lib/edge-agent/app/package.json')), '0:0');
    t.is(await mode(join(root, 'usr/bin/edge-agent')), 0o755);
    t.is(await mode(join(root, 'usr/lib/systemd/system/edge-agent.service')), 0o644);
    t.is(await mode(join(root, 'usr/lib/sysusers.d/edge-agent.conf')), 0o644);
    t.deepEqual(await readFile(join(root, 'usr/lib/systemd/system/edge-agent.service')), await readFile(join(bundle.dir, 'systemd/edge-agent.service')));
    t.is(existsSync(join(root, 'usr/lib/systemd/system/edge-agent.service.d/ptp-hwclock.conf')), ptp, `${board}: PTP drop-in`);

    t.is(await mode(join(root, 'etc/edge-agent')), 0o750);
    t.is(await owner(join(root, 'etc/edge-agent')), `0:${gid}`);
    t.is(await mode(join(root, 'etc/edge-agent/config.json')), 0o640);
    t.is(await owner(join(root, 'etc/edge-agent/config.json')), `0:${gid}`);
    t.deepEqual(await readFile(join(root, 'etc/edge-agent/config.json')), await readFile(join(b.dir, 'config.json')));
    t.is(await mode(join(root, 'var/lib/edge-agent')), 0o700);
    t.is(await owner(join(root, 'var/lib/edge-agent')), `${uid}:${gid}`);
    t.is(await mode(join(root, 'var/log/edge-agent')), 0o750);
    t.is(await owner(join(root, 'var/log/edge-agent')), `${uid}:${gid}`);
    for (const f of ['identity.json', 'keystore.bin', 'device.secret']) {
      t.is(await mode(join(root, 'var/lib/edge-agent', f)), 0o600, f);
      t.is(await owner(join(root, 'var/lib/edge-agent', f)), `${uid}:${gid}`, f);
      t.deepEqual(await readFile(join(root, 'var/lib/edge-agent', f)), await readFile(join(b.dir, 'state', f)), f);
    }

    // The installed wrapper runs the installed code (this machine's node: no runtime bundled).
    const version = await runProcess(join(root, 'usr/bin/edge-agent'), ['--version']);
    t.is(version.stdout.trim(), VERSION, version.stderr);
    const check = await runProcess(join(root, 'usr/bin/edge-agent'), ['config', 'check', join(root, 'etc/edge-agent/config.json')]);
    t.is(check.code, 0, check.stderr);

    // And the agent itself runs from the root as its own user, with its provisioned identity.
    const config = JSON.parse(await readFile(join(root, 'etc/edge-agent/config.json'), 'utf8')) as Record<string, unknown>;
    const runConfig = join(root, 'etc/edge-agent/run-here.json');
    await writeFile(runConfig, JSON.stringify({ ...config, board: 'x86-64-dev', dataDir: join(root, 'var/lib/edge-agent'), network: { listen: '127.0.0.1:0' } }), { mode: 0o644 });
    const agent = await startAgent(root, runConfig, { uid, gid }, (r, stop) => r.to === 'OPERATIONAL' && stop()).exited;
    t.is(agent.code, 0, agent.stderr);
    t.true(agent.records.some((r) => r.peerId === b.peerId), 'the provisioned identity');
    t.true(agent.records.some((r) => r.to === 'OPERATIONAL'));
  }
});

rootTest('installing again upgrades in place and keeps config and state byte for byte', async (t) => {
  const tmp = await tempDir(t);
  const root = join(tmp, 'root');
  await mkdir(root);
  const b = await makeBoard(join(tmp, 'board'), 'rpi-4b');
  t.is((await install(arm64.dir, ['--root', root, '--board', b.dir])).code, 0);
  // What the agent wrote since, and a file of an older version the upgrade must not keep.
  await mkdir(join(root, 'var/lib/edge-agent/audit'));
  await writeFile(join(root, 'var/lib/edge-agent/audit/log'), 'entries');
  await writeFile(join(root, 'usr/lib/edge-agent/app/stale.js'), 'old');
  const state = await snapshot(join(root, 'var/lib/edge-agent'));
  const etc = await snapshot(join(root, 'etc'));

  // The root from DESTDIR this time, as packaging tools pass it.
  const plain = await install(arm64.dir, [], { ...process.env, DESTDIR: root });
  t.is(plain.code, 0, plain.stderr);
  t.regex(plain.stdout, new RegExp(`into ${root} `));
  t.deepEqual(await snapshot(join(root, 'var/lib/edge-agent')), state);
  t.deepEqual(await snapshot(join(root, 'etc')), etc);
  t.false(existsSync(join(root, 'usr/lib/edge-agent/app/stale.js')));
  t.deepEqual((await readdir(join(root, 'usr/lib'))).filter((n) => n.startsWith('.')), [], 'no staging folder left');
  await checkInstalledLib(t, root, arm64);

  // The same board again: its identity is already there, so it is kept as it is.
  const same = await install(arm64.dir, ['--root', root, '--board', b.dir]);
  t.is(same.code, 0, same.stderr);
  t.regex(same.stdout, /already installed; kept it/);
  t.deepEqual(await snapshot(join(root, 'var/lib/edge-agent')), state);

  // Another bundle (x64) over it: an upgrade like any other.
  t.is((await install(x64.dir, ['--root', root])).code, 0);
  await checkInstalledLib(t, root, x64);
  t.deepEqual(await snapshot(join(root, 'var/lib/edge-agent')), state);
});

rootTest('another identity never replaces the one installed', async (t) => {
  const tmp = await tempDir(t);
  const root = join(tmp, 'root');
  await mkdir(root);
  const first = await makeBoard(join(tmp, 'a'), 'rpi-4b');
  const second = await makeBoard(join(tmp, 'b'), 'rpi-4b');
  t.is((await install(arm64.dir, ['--root', root, '--board', first.dir])).code, 0);
  const before = await snapshot(root, { untouched: true });
  const r = await install(arm64.dir, ['--root', root, '--board', second.dir]);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`identity of peer ${first.peerId}, not the one in .* \\(peer ${second.peerId}\\); refusing`));
  t.deepEqual(await snapshot(root, { untouched: true }), before, 'nothing changed');
});

rootTest('one changed byte anywhere in the bundle: install refuses and the root stays as it was', async (t) => {
  const tmp = await tempDir(t);
  const bundle = join(tmp, 'bundle');
  await cp(x64.dir, bundle, { recursive: true });
  const fresh = join(tmp, 'fresh');
  const used = join(tmp, 'used');
  await mkdir(fresh);
  await mkdir(used);
  const b = await makeBoard(join(tmp, 'board'), 'rpi-cm4');
  t.is((await install(bundle, ['--root', used, '--board', b.dir])).code, 0);
  const roots = [fresh, used];
  const before = await Promise.all(roots.map((r) => snapshot(r, { untouched: true })));

  const targets = [
    'lib/app/edge-agent/dist/cli/main.js',
    'lib/app/node_modules/cbor-x/package.json',
    'lib/app/board-config/rpi-5.json',
    'lib/app/package.json',
    'bin/edge-agent',
    'bundle.json',
    'systemd/edge-agent.service',
    'systemd/sysusers.d/edge-agent.conf',
    'install.sh',
    'MANIFEST.sha256',
  ];
  const cases: [string, number | 'middle'][] = targets.map((rel) => [rel, rel === 'install.sh' ? 14 : 'middle']);
  // A byte of install.sh's code may break the script itself: it must still stop before main runs.
  cases.push(['install.sh', 'middle']);
  for (const [rel, where] of cases) {
    const file = join(bundle, rel);
    const original = await readFile(file);
    const at = where === 'middle' ? Math.floor(original.length / 2) : where;
    const changed = Buffer.from(original);
    changed[at] = changed[at]! ^ 0x01;
    await writeFile(file, changed);
    for (const [i, root] of roots.entries()) {
      const r = await install(bundle, ['--root', root, '--board', b.dir]);
      const what = `${rel} byte ${at}`;
      t.not(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
      if (!(rel === 'install.sh' && where === 'middle')) {
        t.is(r.code, 1, what);
        t.regex(r.stderr, /refusing to install a tampered bundle; nothing was changed/, what);
      }
      t.deepEqual(await snapshot(root, { untouched: true }), before[i], `${what}: the root is untouched`);
    }
    await writeFile(file, original);
  }
  t.is((await install(bundle, ['--root', fresh])).code, 0, 'the restored bundle installs');
});

rootTest('an added file, folder or link is tampering too', async (t) => {
  const tmp = await tempDir(t);
  const bundle = join(tmp, 'bundle');
  await cp(arm64.dir, bundle, { recursive: true });
  const root = join(tmp, 'root');
  await mkdir(root);
  const cases: [string, () => Promise<void>, () => Promise<void>, RegExp][] = [
    ['file', () => writeFile(join(bundle, 'lib/app/edge-agent/dist/evil.js'), 'x'), () => rm(join(bundle, 'lib/app/edge-agent/dist/evil.js')), /files its MANIFEST.sha256 does not list \(lib\/app\/edge-agent\/dist\/evil.js\)/],
    ['folder', () => mkdir(join(bundle, 'lib/extra')), () => rm(join(bundle, 'lib/extra'), { recursive: true }), /folders its MANIFEST.sha256 does not account for \(lib\/extra\)/],
    ['link', () => symlink('/etc/passwd', join(bundle, 'lib/passwd')), () => rm(join(bundle, 'lib/passwd')), /symbolic links/],
    ['missing file', () => rm(join(bundle, 'lib/app/board-config/rpi-5.json')), () => cp(join(arm64.dir, 'lib/app/board-config/rpi-5.json'), join(bundle, 'lib/app/board-config/rpi-5.json')), /does not match its MANIFEST.sha256/],
  ];
  const before = await snapshot(root, { untouched: true });
  for (const [name, add, undo, message] of cases) {
    await add();
    const r = await install(bundle, ['--root', root]);
    t.is(r.code, 1, name);
    t.regex(r.stderr, message, name);
    t.deepEqual(await snapshot(root, { untouched: true }), before, `${name}: the root is untouched`);
    await undo();
  }
  t.is((await install(bundle, ['--root', root])).code, 0);
});

rootTest('uninstall keeps config and state; --purge removes them', async (t) => {
  const tmp = await tempDir(t);
  const root = join(tmp, 'root');
  await mkdir(root);
  const b = await makeBoard(join(tmp, 'board'), 'rpi-5');
  t.is((await install(arm64.dir, ['--root', root, '--board', b.dir])).code, 0);
  await mkdir(join(root, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  await symlink('/usr/lib/systemd/system/edge-agent.service', join(root, 'etc/systemd/system/multi-user.target.wants/edge-agent.service'));
  const state = await snapshot(join(root, 'var/lib/edge-agent'));

  const r = await install(arm64.dir, ['--root', root, '--uninstall']);
  t.is(r.code, 0, r.stderr);
  for (const gone of ['usr/lib/edge-agent', 'usr/bin/edge-agent', 'usr/lib/systemd/system/edge-agent.service', 'usr/lib/systemd/system/edge-agent.service.d', 'usr/lib/sysusers.d/edge-agent.conf', 'etc/systemd/system/multi-user.target.wants/edge-agent.service']) {
    t.false(existsSync(join(root, gone)), gone);
  }
  t.deepEqual(await snapshot(join(root, 'var/lib/edge-agent')), state);
  t.true(existsSync(join(root, 'etc/edge-agent/config.json')));

  // Installing again finds the kept identity and uses it.
  const again = await install(arm64.dir, ['--root', root, '--board', b.dir]);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(await snapshot(join(root, 'var/lib/edge-agent')), state);

  const purge = await install(arm64.dir, ['--root', root, '--uninstall', '--purge']);
  t.is(purge.code, 0, purge.stderr);
  for (const gone of ['var/lib/edge-agent', 'etc/edge-agent', 'var/log/edge-agent', 'usr/lib/edge-agent']) t.false(existsSync(join(root, gone)), gone);
  t.truthy(await idsIn(root, 'edge-agent'), 'the user stays: files it owned elsewhere keep a known owner');
});

rootTest('the PTP drop-in follows the profile the agent will pick, also with board "auto"', async (t) => {
  const tmp = await tempDir(t);
  const cases: [string, string | undefined, boolean, RegExp][] = [
    ['auto', 'Raspberry Pi Compute Module 4 Rev 1.1', true, /board: rpi-cm4 \(config: auto\)/],
    ['auto', 'Raspberry Pi 4 Model B Rev 1.5', false, /board: rpi-4b \(config: auto\)/],
    ['auto', 'Raspberry Pi 500 Rev 1.0', false, /board: generic-arm64 \(config: auto\)/],
    ['auto', undefined, false, /board: generic-arm64 \(config: auto\)/],
    ['rpi-cm4', undefined, true, /board: rpi-cm4 \(config: rpi-cm4\)/],
  ];
  for (const [i, [board, model, ptp, line]] of cases.entries()) {
    const root = join(tmp, `root${i}`);
    if (model !== undefined) {
      await mkdir(join(root, 'proc/device-tree'), { recursive: true });
      await writeFile(join(root, 'proc/device-tree/model'), `${model}\0`);
    } else await mkdir(root);
    const b = await makeBoard(join(tmp, `board${i}`), board);
    const r = await install(arm64.dir, ['--root', root, '--board', b.dir]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, line);
    t.is(existsSync(join(root, 'usr/lib/systemd/system/edge-agent.service.d/ptp-hwclock.conf')), ptp, `${board} ${model ?? ''}`);
  }
  // A board that changes profile loses the drop-in on the next install.
  const root = join(tmp, 'root4');
  const config = JSON.parse(await readFile(join(root, 'etc/edge-agent/config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(root, 'etc/edge-agent/config.json'), JSON.stringify({ ...config, board: 'rpi-4b' }));
  t.is((await install(arm64.dir, ['--root', root])).code, 0);
  t.false(existsSync(join(root, 'usr/lib/systemd/system/edge-agent.service.d')));
});

rootTest('without systemd-sysusers the user comes from groupadd and useradd', async (t) => {
  const tmp = await tempDir(t);
  // A PATH with every tool of this machine but systemd-sysusers.
  const bin = join(tmp, 'bin');
  await mkdir(bin);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) if (n !== 'systemd-sysusers' && !existsSync(join(bin, n))) await symlink(join(dir, n), join(bin, n));
  }
  const root = join(tmp, 'root');
  await mkdir(root);
  const b = await makeBoard(join(tmp, 'board'), 'rpi-4b');
  const r = await install(arm64.dir, ['--root', root, '--board', b.dir], { ...process.env, PATH: bin });
  t.is(r.code, 0, r.stderr);
  const ids = await idsIn(root, 'edge-agent');
  t.truthy(ids);
  t.is(await owner(join(root, 'var/lib/edge-agent/keystore.bin')), `${ids!.uid}:${ids!.gid}`);
  t.regex(await readFile(join(root, 'etc/passwd'), 'utf8'), /^edge-agent:[^:]*:\d+:\d+:[^:]*:\/var\/lib\/edge-agent:\/usr\/sbin\/nologin$/m);
});

rootTest('a provisioned 7-board fleet installs into temp roots, and its agents run from there as their own users and mesh', async (t) => {
  const tmp = await tempDir(t);
  const ports: number[] = [];
  for (let i = 0; i < 7; i++) ports.push(await freePort());
  const boards = ['rpi-4b', 'rpi-5', 'rpi-cm4', 'rpi-zero-2w', 'generic-arm64', 'rpi-4b', 'x86-64-dev'].map((board, i) => ({
    hostname: `node-${i + 1}`,
    board,
    role: i < 3 ? 'committee' : 'worker',
    addresses: [`127.0.0.1:${ports[i]!}`],
  }));
  const manifest = join(tmp, 'fleet.json');
  await writeFile(manifest, JSON.stringify({ fleet: { name: 'bundle-test', committee: { size: 3, threshold: 2 }, powDifficulty: 4 }, boards }));
  const out = join(tmp, 'provisioned');
  const provision = await cli(['provision', '--manifest', manifest, '--out', out]);
  t.is(provision.code, 0, provision.stderr);
  const inventory = JSON.parse(await readFile(join(out, 'inventory.json'), 'utf8')) as { boards: { hostname: string; peerId: string }[] };

  const agents = await Promise.all(
    boards.map(async (b, i) => {
      const root = join(tmp, 'roots', b.hostname);
      await mkdir(root, { recursive: true });
      const bundle = b.board === 'x86-64-dev' ? x64 : arm64;
      const r = await install(bundle.dir, ['--root', root, '--board', join(out, 'boards', b.hostname)]);
      t.is(r.code, 0, `${b.hostname}: ${r.stderr}`);
      t.is(existsSync(join(root, 'usr/lib/systemd/system/edge-agent.service.d/ptp-hwclock.conf')), b.board === 'rpi-5' || b.board === 'rpi-cm4', b.hostname);
      // Here rather than on a board: the state in the root, its own port on this machine.
      const config = JSON.parse(await readFile(join(root, 'etc/edge-agent/config.json'), 'utf8')) as { network: Record<string, unknown> };
      const here = join(root, 'etc/edge-agent/run-here.json');
      await writeFile(here, JSON.stringify({ ...config, dataDir: join(root, 'var/lib/edge-agent'), network: { ...config.network, listen: `127.0.0.1:${ports[i]!}` }, status: { intervalMs: 200 } }), { mode: 0o644 });
      return { root, here, ids: (await idsIn(root, 'edge-agent'))! };
    }),
  );
  // All run until each has held a channel to every one of the six others.
  const meshed = new Set<number>();
  const started = agents.map((a, i) =>
    startAgent(a.root, a.here, a.ids, (r) => {
      if (r.event === 'status' && r.orchestrator === 'OPERATIONAL' && r.channels === 6) meshed.add(i);
      if (meshed.size === agents.length) for (const s of started) s.stop();
    }),
  );
  const runs = await Promise.all(started.map((s) => s.exited));
  for (const [i, run] of runs.entries()) {
    const b = boards[i]!;
    t.is(run.code, 0, `${b.hostname}: ${run.stderr}`);
    t.true(run.records.some((r) => r.channels === 6), `${b.hostname} meshed with all six others`);
    t.true(run.records.some((r) => r.peerId === inventory.boards.find((x) => x.hostname === b.hostname)?.peerId), `${b.hostname} runs with its provisioned identity`);
  }
});

test('install.sh: usage errors exit 2, --help exits 0, and bad --board folders are refused before anything happens', async (t) => {
  const tmp = await tempDir(t);
  for (const args of [['--purge'], ['--frobnicate'], ['--root'], ['--uninstall', '--board', tmp]]) {
    const r = await install(arm64.dir, args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^install\.sh: /);
  }
  const help = await install(arm64.dir, ['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /usage: install\.sh/);
  const missingRoot = await install(arm64.dir, ['--root', join(tmp, 'nope')]);
  t.is(missingRoot.code, 1);
  if (!IS_ROOT) return;
  const root = join(tmp, 'root');
  await mkdir(root);
  await mkdir(join(tmp, 'board/state'), { recursive: true });
  const r = await install(arm64.dir, ['--root', root, '--board', join(tmp, 'board')]);
  t.is(r.code, 1);
  t.regex(r.stderr, /no config\.json/);
  t.deepEqual(await readdir(root), []);
});
