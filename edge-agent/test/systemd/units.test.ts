/**
 * The systemd files in systemd/, checked by systemd's own tools offline:
 * `systemd-analyze verify` (clean: no output at all, so no "Unknown key"),
 * `systemd-analyze security --offline=true` (exposure 2.0 or lower for the
 * unit; recorded for the unit with the PTP drop-in) and `systemd-sysusers`
 * into a temporary root.
 *
 * verify insists that ExecStart's binary exists and that the units the
 * service depends on load, so each check builds a small root: a fake
 * /usr/bin/edge-agent, stub targets, and the files where install puts them.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';

const SYSTEMD = fileURLToPath(new URL('../../../systemd/', import.meta.url));
const UNIT = join(SYSTEMD, 'edge-agent.service');
const DROP_IN = join(SYSTEMD, 'ptp-hwclock.conf');
const SYSUSERS = join(SYSTEMD, 'sysusers.d', 'edge-agent.conf');
const MAX_EXPOSURE = 2.0;

function run(command: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', LC_ALL: 'C.UTF-8' } });
}

function found(command: string): boolean {
  return run('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** systemd-analyze and systemd-sysusers come with Debian's systemd package: installed here only when we may. */
test.before(() => {
  if (found('systemd-analyze') && found('systemd-sysusers')) return;
  if (process.getuid?.() !== 0) {
    throw new Error('systemd-analyze or systemd-sysusers is missing: install the Debian package "systemd" (apt-get install systemd), or run these tests as root to let them install it');
  }
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'systemd']]) {
    const r = spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr.slice(-500)}`);
  }
});

/** What install puts under ROOT, plus what verify needs to load the unit: stub targets and a fake ExecStart. */
async function unitRoot(t: ExecutionContext, opts: { dropIn?: boolean; unitText?: string } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edge-units-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const units = join(root, 'usr/lib/systemd/system');
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await mkdir(units, { recursive: true });
  await writeFile(join(root, 'usr/bin/edge-agent'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  for (const stub of ['sysinit.target', 'basic.target', 'shutdown.target', 'network-online.target', 'multi-user.target']) {
    await writeFile(join(units, stub), `[Unit]\nDescription=stub ${stub}\n`);
  }
  await writeFile(join(units, 'modprobe@.service'), '[Unit]\nDescription=stub modprobe %i\n[Service]\nType=oneshot\nExecStart=/bin/true\n');
  if (opts.unitText !== undefined) await writeFile(join(units, 'edge-agent.service'), opts.unitText);
  else await copyFile(UNIT, join(units, 'edge-agent.service'));
  if (opts.dropIn) {
    await mkdir(join(units, 'edge-agent.service.d'));
    await copyFile(DROP_IN, join(units, 'edge-agent.service.d', 'ptp-hwclock.conf'));
  }
  return root;
}

function verify(root: string): { status: number | null; output: string } {
  const r = run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', 'edge-agent.service']);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

function security(root: string): { score: number; output: string } {
  const r = run('systemd-analyze', ['security', '--offline=true', `--root=${root}`, '--no-pager', 'edge-agent.service']);
  const output = `${r.stdout}${r.stderr}`;
  const m = /Overall exposure level for edge-agent\.service: (\d+\.\d+)/.exec(output);
  if (r.status !== 0 || !m) throw new Error(`systemd-analyze security failed (${r.status}): ${output.slice(-800)}`);
  return { score: Number(m[1]), output };
}

/** Key=value pairs of a unit file, by section; repeated keys keep every value. */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    const key = `${section}.${line.slice(0, eq)}`;
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

test('the unit verifies with no output at all (no unknown key, no warning)', async (t) => {
  const root = await unitRoot(t);
  t.deepEqual(verify(root), { status: 0, output: '' });
});

test(`the unit's exposure is ${MAX_EXPOSURE.toFixed(1)} or lower`, async (t) => {
  const { score, output } = security(await unitRoot(t));
  t.log(`systemd-analyze security: ${score}`);
  t.true(score <= MAX_EXPOSURE, output);
  // The sandbox keeps what the agent needs: one capability, the network.
  t.regex(output, /✗ CapabilityBoundingSet=~CAP_NET_\(BIND_SERVICE\|BROADCAST\|RAW\)/);
  t.regex(output, /✓ CapabilityBoundingSet=~CAP_SYS_TIME/);
  t.regex(output, /✓ User=\/DynamicUser=/);
});

test('the unit declares what the agent relies on', async (t) => {
  const d = directives(await readFile(UNIT, 'utf8'));
  const expect: [string, string][] = [
    ['Service.Type', 'notify'],
    ['Service.NotifyAccess', 'all'],
    ['Service.ExecStart', '/usr/bin/edge-agent run --config /etc/edge-agent/config.json'],
    ['Service.User', 'edge-agent'],
    ['Service.Group', 'edge-agent'],
    ['Service.StateDirectory', 'edge-agent'],
    ['Service.StateDirectoryMode', '0700'],
    ['Service.ConfigurationDirectory', 'edge-agent'],
    ['Service.LogsDirectory', 'edge-agent'],
    ['Service.Restart', 'on-failure'],
    ['Service.AmbientCapabilities', 'CAP_NET_BIND_SERVICE'],
    ['Service.CapabilityBoundingSet', 'CAP_NET_BIND_SERVICE'],
    ['Service.MemoryDenyWriteExecute', 'no'],
    ['Service.ProtectSystem', 'strict'],
  ];
  for (const [key, value] of expect) t.deepEqual(d.get(key), [value], key);
  // The watchdog and the stop timeout fit the agent: pings at half, a 10 s shutdown inside the stop timeout.
  t.true(Number(d.get('Service.WatchdogSec')?.[0]) >= 10);
  t.true(Number(d.get('Service.TimeoutStopSec')?.[0]) > 10);
  t.truthy(d.get('Unit.StartLimitIntervalSec'));
  t.truthy(d.get('Unit.StartLimitBurst'));
  // Telemetry and board detection read /proc/stat, /proc/net/dev, /proc/device-tree: ProcSubset=pid would hide them.
  t.is(d.get('Service.ProcSubset'), undefined);
  // Capabilities in a user namespace do not bind ports below 1024 in the host's network namespace.
  t.is(d.get('Service.PrivateUsers'), undefined);
  const families = d.get('Service.RestrictAddressFamilies')?.[0]?.split(/\s+/) ?? [];
  t.deepEqual(families.sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
});

test('with the PTP drop-in the unit still verifies; it trades exposure for the clock (recorded)', async (t) => {
  const root = await unitRoot(t, { dropIn: true });
  t.deepEqual(verify(root), { status: 0, output: '' });
  const base = security(await unitRoot(t)).score;
  const { score, output } = security(root);
  t.log(`systemd-analyze security with ptp-hwclock.conf: ${score} (unit alone: ${base})`);
  t.true(score > base, 'the drop-in took effect');
  t.regex(output, /✗ CapabilityBoundingSet=~CAP_SYS_TIME/);
  t.regex(output, /✗ ProtectClock=/);
  t.regex(output, /DeviceAllow=.*char-ptp:rw/);
  // Still no other capability than the two.
  t.regex(output, /✓ CapabilityBoundingSet=~CAP_SYS_ADMIN/);
  t.regex(output, /✓ CapabilityBoundingSet=~CAP_NET_ADMIN/);
  const d = directives(await readFile(DROP_IN, 'utf8'));
  t.deepEqual(d.get('Service.AmbientCapabilities'), ['CAP_SYS_TIME']);
  t.deepEqual(d.get('Service.CapabilityBoundingSet'), ['CAP_SYS_TIME']);
});

test('the checks can fail: an unknown key is reported, a bare unit rates far above the bar', async (t) => {
  const text = await readFile(UNIT, 'utf8');
  const typo = verify(await unitRoot(t, { unitText: text.replace('ProtectHome=yes', 'ProtectHome=yes\nProtectHomes=yes') }));
  t.regex(typo.output, /Unknown key( name)? '?ProtectHomes'?/);
  const bare = text
    .split('\n')
    .filter((l) => !/^(Protect|Private|Restrict|SystemCall|CapabilityBoundingSet|NoNewPrivileges|User|Group)/.test(l))
    .join('\n');
  t.true(security(await unitRoot(t, { unitText: bare })).score > MAX_EXPOSURE);
});

test('sysusers creates the edge-agent system user and group, nologin, home in the state directory; again changes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'edge-sysusers-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc'));
  const once = run('systemd-sysusers', [`--root=${root}`, SYSUSERS]);
  t.is(once.status, 0, once.stderr);
  const passwd = await readFile(join(root, 'etc/passwd'), 'utf8');
  const group = await readFile(join(root, 'etc/group'), 'utf8');
  const user = /^edge-agent:x:(\d+):(\d+):edge-agent fleet agent:\/var\/lib\/edge-agent:(\/usr)?\/sbin\/nologin$/m.exec(passwd);
  t.truthy(user, passwd);
  const [uid, gid] = [Number(user?.[1]), Number(user?.[2])];
  t.true(uid > 0 && uid < 1000, `a system UID, got ${uid}`);
  t.regex(group, new RegExp(`^edge-agent:x:${gid}:$`, 'm'));
  const shadow = await readFile(join(root, 'etc/shadow'), 'utf8');
  t.regex(shadow, /^edge-agent:!\*?:/m); // locked: no password login
  const again = run('systemd-sysusers', [`--root=${root}`, SYSUSERS]);
  t.is(again.status, 0, again.stderr);
  t.is(await readFile(join(root, 'etc/passwd'), 'utf8'), passwd);
  t.is(await readFile(join(root, 'etc/group'), 'utf8'), group);
});
