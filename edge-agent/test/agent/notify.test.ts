/**
 * sd_notify: the message sequences and the watchdog against a fake spawn and a
 * ManualClock; then the real `systemd-notify` into a datagram socket bound by
 * python3 (Node cannot bind one), first through SdNotifier, then from a real
 * `edge-agent run` process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { pino } from 'pino';
import {
  Agent,
  NotifyError,
  SdNotifier,
  findOnPath,
  loadNativeNotify,
  type NotifierLog,
  type NotifyBackend,
  type SdNotifierOptions,
  type SpawnFn,
} from '../../src/agent/index.js';
import { RecordingNotifier } from '../helpers/notifier.js';
import { ManualClock } from '../../src/clock/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createIdentity } from '../../src/identity/index.js';

const PID = 4242;
const TOOL = '/usr/bin/systemd-notify';
const SOCKET = '/run/systemd/notify';

class FakeChild extends EventEmitter {
  readonly stderr = new EventEmitter();
  killedWith: NodeJS.Signals | undefined;
  kill(signal?: NodeJS.Signals): boolean {
    this.killedWith = signal;
    return true;
  }
  exit(code: number | null, stderr = ''): void {
    if (stderr) this.stderr.emit('data', Buffer.from(stderr));
    this.emit('close', code, code === null ? 'SIGKILL' : null);
  }
}

interface Spawned {
  readonly command: string;
  readonly args: string[];
  readonly env: Readonly<Record<string, string>>;
  readonly child: FakeChild;
}

interface LogLine {
  readonly level: 'info' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

function harness(env: Record<string, string>, opts: Partial<SdNotifierOptions> = {}) {
  const clock = new ManualClock(0);
  const spawned: Spawned[] = [];
  const fakeSpawn: SpawnFn = (command, args, options) => {
    const child = new FakeChild();
    spawned.push({ command, args: [...args], env: options.env, child });
    return child;
  };
  const logs: LogLine[] = [];
  const log: NotifierLog = {
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
  };
  const notifier = new SdNotifier({ env, pid: PID, clock, log, spawn: fakeSpawn, findExecutable: () => TOOL, ...opts });
  /** What each child was asked to send: its arguments after --pid and --. */
  const sent = (): string[] => spawned.map((s) => s.args.slice(2).join('\n'));
  const last = (): FakeChild => spawned[spawned.length - 1]!.child;
  return { clock, spawned, logs, notifier, sent, last };
}

/** Lets the promise chains that follow a child's exit run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('off without NOTIFY_SOCKET: nothing spawned, nothing logged, every call resolves', async (t) => {
  const h = harness({ WATCHDOG_USEC: '30000000' });
  t.false(h.notifier.enabled);
  t.is(h.notifier.backend, null);
  t.is(h.notifier.watchdogPeriodMs, null);
  await h.notifier.ready();
  await h.notifier.status('OPERATIONAL');
  await h.notifier.stopping();
  h.notifier.startWatchdog();
  h.clock.advance(120_000);
  t.deepEqual(h.spawned, []);
  t.deepEqual(h.logs, []);
  t.like(h.notifier.stats(), { enabled: false, backend: null, sent: 0 });
  // Empty counts as absent, as sd_notify(3) has it.
  t.false(harness({ NOTIFY_SOCKET: '' }).notifier.enabled);
});

test('with NOTIFY_SOCKET but no backend: exactly one log line, and nothing else ever', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '2000000' }, { findExecutable: () => null });
  t.true(h.notifier.enabled);
  t.is(h.notifier.backend, null);
  t.is(h.logs.length, 1);
  t.is(h.logs[0]!.level, 'warn');
  t.regex(h.logs[0]!.msg, /native addon not present and no systemd-notify on PATH/);
  await h.notifier.ready();
  await h.notifier.status('READY');
  h.notifier.startWatchdog();
  h.clock.advance(10_000);
  await h.notifier.stopping();
  t.is(h.logs.length, 1);
  t.deepEqual(h.spawned, []);
});

test('READY, STATUS and STOPPING: one child at a time, in order, later ones merged while one is in flight', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET, PATH: '/usr/bin' });
  t.is(h.notifier.backend?.name, 'systemd-notify');
  t.is(h.logs.length, 1);
  t.regex(h.logs[0]!.msg, /^sd_notify through systemd-notify \(native addon not present\)$/);

  let readyDone = false;
  const ready = h.notifier.ready().then(() => (readyDone = true));
  t.is(h.spawned.length, 1);
  const first = h.spawned[0]!;
  t.is(first.command, TOOL);
  t.deepEqual(first.args, [`--pid=${PID}`, '--', 'READY=1']);
  t.is(first.env.NOTIFY_SOCKET, SOCKET);
  t.is(first.env.PATH, '/usr/bin');

  const later = [h.notifier.status('DKG_PHASE'), h.notifier.status('READY'), h.notifier.stopping()];
  t.is(h.spawned.length, 1, 'nothing else starts while a child runs');
  await settle();
  t.false(readyDone);
  first.child.exit(0);
  await ready;
  await settle();
  // The latest STATUS wins; keys keep the order they first came in.
  t.deepEqual(h.sent(), ['READY=1', 'STATUS=READY\nSTOPPING=1']);
  h.last().exit(0);
  await Promise.all(later);
  t.like(h.notifier.stats(), { sent: 2, failed: 0 });
});

test('each message resolves only once its child has exited', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET });
  let done = false;
  const p = h.notifier.status('SHUTDOWN').then(() => (done = true));
  await settle();
  t.false(done);
  h.last().exit(0);
  await p;
  t.true(done);
  t.deepEqual(h.sent(), ['STATUS=SHUTDOWN']);
  t.like(h.notifier.stats(), { sent: 1, failed: 0 });
});

test('the watchdog pings every half of WATCHDOG_USEC from timers on the injected clock, until stopped', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(PID) });
  t.is(h.notifier.watchdogPeriodMs, 15_000);
  h.notifier.startWatchdog();
  h.notifier.startWatchdog(); // a second start changes nothing
  h.clock.advance(14_999);
  t.is(h.spawned.length, 0);
  h.clock.advance(1);
  t.deepEqual(h.sent(), ['WATCHDOG=1']);
  h.last().exit(0);
  await settle();
  h.clock.advance(15_000);
  t.deepEqual(h.sent(), ['WATCHDOG=1', 'WATCHDOG=1']);
  h.last().exit(0);
  await settle();
  h.notifier.stopWatchdog();
  h.clock.advance(120_000);
  t.is(h.spawned.length, 2);
  t.like(h.notifier.stats(), { watchdogPeriodMs: 15_000, watchdogSent: 2, watchdogSkippedBusy: 0, sent: 2 });

  // Very short timeouts still give a positive period.
  t.is(harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '3000' }).notifier.watchdogPeriodMs, 1);
  t.is(harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '1' }).notifier.watchdogPeriodMs, 1);
});

test('a ping due while a child is still running is skipped and counted, never a second child', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '2000000' });
  t.is(h.notifier.watchdogPeriodMs, 1000);
  h.notifier.startWatchdog();
  h.clock.advance(1000);
  t.is(h.spawned.length, 1);
  h.clock.advance(1000);
  h.clock.advance(1000);
  t.is(h.spawned.length, 1);
  t.like(h.notifier.stats(), { watchdogSent: 1, watchdogSkippedBusy: 2 });
  // A status change meanwhile waits for the child in flight as well.
  const status = h.notifier.status('MAINTENANCE');
  t.is(h.spawned.length, 1);
  h.last().exit(0);
  await settle();
  t.deepEqual(h.sent(), ['WATCHDOG=1', 'STATUS=MAINTENANCE']);
  h.clock.advance(1000);
  t.like(h.notifier.stats(), { watchdogSkippedBusy: 3 });
  h.last().exit(0);
  await status;
  h.clock.advance(1000);
  t.deepEqual(h.sent(), ['WATCHDOG=1', 'STATUS=MAINTENANCE', 'WATCHDOG=1']);
  h.notifier.stopWatchdog();
});

test('WATCHDOG_PID of another process: no pings, one warning that says why', (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' });
  t.is(h.notifier.watchdogPeriodMs, null);
  h.notifier.startWatchdog();
  h.clock.advance(120_000);
  t.is(h.spawned.length, 0);
  const warnings = h.logs.filter((l) => l.level === 'warn');
  t.is(warnings.length, 1);
  t.regex(warnings[0]!.msg, /WATCHDOG_PID=1 is not this process \(4242\)/);
});

test('malformed NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID is a typed error naming the variable', (t) => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ NOTIFY_SOCKET: 'run/notify' }, /^NOTIFY_SOCKET: expected/],
    [{ NOTIFY_SOCKET: `/${'x'.repeat(120)}` }, /^NOTIFY_SOCKET: /],
    [{ NOTIFY_SOCKET: 'vsock:x:1' }, /^NOTIFY_SOCKET: /],
    [{ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '0' }, /^WATCHDOG_USEC: /],
    [{ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '-5' }, /^WATCHDOG_USEC: /],
    [{ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '3e7' }, /^WATCHDOG_USEC: /],
    [{ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: ' 30000000' }, /^WATCHDOG_USEC: /],
    [{ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '30000000', WATCHDOG_PID: 'self' }, /^WATCHDOG_PID: /],
  ];
  for (const [env, message] of bad) {
    const err = t.throws(() => harness(env), { instanceOf: NotifyError });
    t.is(err?.code, 'BAD_ENVIRONMENT');
    t.regex(err?.message ?? '', message);
  }
  // What systemd really sets is accepted.
  for (const socket of ['/run/systemd/notify', '@/org/freedesktop/systemd1/notify/1', 'vsock:2:1234']) {
    t.true(harness({ NOTIFY_SOCKET: socket }).notifier.enabled);
  }
});

test('fuzz: any WATCHDOG_USEC either gives half of it in ms or a BAD_ENVIRONMENT error', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.nat().map(String), fc.integer().map(String)), (usec) => {
      let period: number | null;
      try {
        period = harness({ NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: usec }).notifier.watchdogPeriodMs;
      } catch (err) {
        return err instanceof NotifyError && err.code === 'BAD_ENVIRONMENT';
      }
      if (usec === '') return period === null;
      return /^[1-9]\d*$/.test(usec) && period === Math.max(1, Math.floor(Number(usec) / 2000));
    }),
  );
  t.pass();
});

test('status text and options are checked', (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET });
  for (const text of ['two\nlines', 'nul\0', 'x'.repeat(1025), 42 as unknown as string]) {
    const err = t.throws(() => h.notifier.status(text), { instanceOf: NotifyError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
  t.is(h.spawned.length, 0);
  t.throws(() => new SdNotifier({ env: { NOTIFY_SOCKET: SOCKET }, pid: 0 }), { instanceOf: NotifyError });
  t.throws(() => new SdNotifier({ env: { NOTIFY_SOCKET: SOCKET }, spawn: 'sh' as unknown as SpawnFn }), { instanceOf: NotifyError });
  t.throws(() => new SdNotifier(null as unknown as SdNotifierOptions), { instanceOf: NotifyError });
});

test('a failing systemd-notify is logged once per run of failures, counted, and the next message still goes', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET });
  const p1 = h.notifier.ready();
  h.last().exit(1, 'Failed to notify init system: Connection refused\n');
  await p1; // failures resolve: the agent goes on
  const p2 = h.notifier.status('READY');
  h.last().exit(1);
  await p2;
  let warnings = h.logs.filter((l) => l.level === 'warn');
  t.is(warnings.length, 1);
  t.is(warnings[0]!.msg, `sd_notify failed: ${TOOL} exited with 1: Failed to notify init system: Connection refused`);
  const p3 = h.notifier.status('OPERATIONAL');
  h.last().exit(0);
  await p3;
  t.is(h.logs[h.logs.length - 1]!.msg, 'sd_notify works again');
  const p4 = h.notifier.stopping();
  h.last().exit(2);
  await p4;
  warnings = h.logs.filter((l) => l.level === 'warn');
  t.is(warnings.length, 2);
  t.like(h.notifier.stats(), { sent: 1, failed: 3 });
});

test('a child that hangs is killed after the timeout; one that cannot start is a failed send', async (t) => {
  const h = harness({ NOTIFY_SOCKET: SOCKET }, { childTimeoutMs: 5000 });
  const p = h.notifier.ready();
  const stuck = h.last();
  h.clock.advance(4999);
  t.is(stuck.killedWith, undefined);
  h.clock.advance(1);
  t.is(stuck.killedWith, 'SIGKILL');
  await p;
  t.regex(h.logs[h.logs.length - 1]!.msg, /no answer within 5000 ms, killed/);
  stuck.exit(null); // its late exit changes nothing
  const q = h.notifier.status('READY');
  t.is(h.spawned.length, 2);
  h.last().emit('error', Object.assign(new Error('spawn /usr/bin/systemd-notify ENOENT'), { code: 'ENOENT' }));
  await q;
  t.like(h.notifier.stats(), { sent: 0, failed: 2 });

  // A spawn that throws is the same.
  const throwing = new SdNotifier({
    env: { NOTIFY_SOCKET: SOCKET },
    findExecutable: () => TOOL,
    spawn: () => {
      throw new Error('EAGAIN');
    },
  });
  await throwing.ready();
  t.like(throwing.stats(), { failed: 1 });
});

test('the native backend, when there is one, comes before systemd-notify', async (t) => {
  t.deepEqual(loadNativeNotify(), { backend: null, reason: 'native addon not present' });
  const states: string[] = [];
  const native: NotifyBackend = { name: 'native', send: async (s) => void states.push(s) };
  let looked = false;
  const h = harness(
    { NOTIFY_SOCKET: SOCKET, WATCHDOG_USEC: '1000000' },
    { native: () => ({ backend: native }), findExecutable: () => ((looked = true), TOOL) },
  );
  t.false(looked);
  t.is(h.notifier.backend, native);
  t.regex(h.logs[0]!.msg, /^sd_notify through native$/);
  await h.notifier.ready();
  h.notifier.startWatchdog();
  h.clock.advance(500);
  await settle();
  h.notifier.stopWatchdog();
  t.deepEqual(states, ['READY=1', 'WATCHDOG=1']);
  t.is(h.spawned.length, 0);
});

test('findOnPath takes the first executable file and skips relative PATH entries', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edge-notify-path-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [a, b, c] = ['a', 'b', 'c'].map((d) => join(dir, d)) as [string, string, string];
  await Promise.all([mkdir(a), mkdir(b), mkdir(join(c, 'systemd-notify'), { recursive: true })]);
  await writeFile(join(a, 'systemd-notify'), '#!/bin/sh\n', { mode: 0o644 }); // not executable
  await writeFile(join(b, 'systemd-notify'), '#!/bin/sh\n');
  await chmod(join(b, 'systemd-notify'), 0o755);
  t.is(findOnPath('systemd-notify', { PATH: `relative:${c}:${a}::${b}` }), join(b, 'systemd-notify'));
  t.is(findOnPath('systemd-notify', { PATH: `${a}:${c}` }), null);
  t.throws(() => findOnPath('../systemd-notify', {}), { instanceOf: NotifyError });
});

// ---------------------------------------------------------------------------
// The agent's use of its notifier.


async function agentDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-notify-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const identity = await createIdentity(dir, { difficulty: 4 });
  identity.destroy();
  return dir;
}

test('the agent: watchdog from start, STATUS on each transition, READY once OPERATIONAL, STOPPING first in stop', async (t) => {
  const dataDir = await agentDir(t);
  const notifier = new RecordingNotifier();
  const config = parseConfig({ fleet: 'notify', dataDir, board: 'x86-64-dev', network: { listen: '127.0.0.1:0' }, liveness: { challenge: false } });
  const agent = new Agent(config, { log: pino({ level: 'silent' }), notifier });
  await agent.start();
  t.deepEqual(notifier.events, ['watchdog on', 'STATUS=DKG_PHASE', 'STATUS=READY', 'STATUS=OPERATIONAL', 'READY=1']);
  t.like(agent.metrics.snapshot().notify, { backend: 'recording' });
  notifier.events.length = 0;
  const report = await agent.stop();
  t.deepEqual(report.unclean, []);
  t.deepEqual(notifier.events, ['STOPPING=1', 'STATUS=SHUTDOWN', 'watchdog off']);
});

test('the agent: a failed start stops the watchdog and never says READY', async (t) => {
  const dataDir = await agentDir(t);
  const notifier = new RecordingNotifier();
  const config = parseConfig({ fleet: 'notify', dataDir, board: 'no-such-board', network: { listen: '127.0.0.1:0' } });
  const agent = new Agent(config, { log: pino({ level: 'silent' }), notifier });
  await t.throwsAsync(agent.start());
  t.deepEqual(notifier.events, ['watchdog on', 'watchdog off']);
});

// ---------------------------------------------------------------------------
// For real: systemd-notify into a socket we bind. Node cannot bind an AF_UNIX
// datagram socket, python3 can; it closes the fds it receives as systemd does,
// which is what systemd-notify's BARRIER=1 waits for.

const RECEIVER = `
import array, json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"bound": True}), flush=True)
while True:
    data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64) + socket.CMSG_SPACE(12))
    fds, pid = [], None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i"); a.frombytes(payload[: len(payload) - len(payload) % 4]); fds.extend(a)
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    for fd in fds:
        os.close(fd)
    print(json.dumps({"state": data.decode(), "fds": len(fds), "pid": pid}), flush=True)
`;

function have(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}
const python = have('python3', ['-c', 'pass']);
const systemdNotify = findOnPath('systemd-notify', process.env);
const missing = [python ? null : 'python3', systemdNotify ? null : 'systemd-notify'].filter((m) => m !== null);
const real = missing.length === 0 ? test.serial : test.skip;
const because = missing.length === 0 ? '' : ` (skipped: ${missing.join(' and ')} not found on PATH)`;

interface Received {
  readonly state: string;
  readonly fds: number;
  readonly pid: number | null;
}

async function receiver(t: ExecutionContext): Promise<{ socket: string; seen: Received[]; until: (what: string, ok: (r: Received[]) => boolean) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-notify-'));
  const socket = join(dir, 'notify');
  const child = spawn('python3', ['-u', '-c', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  const seen: Received[] = [];
  let bound!: () => void;
  const ready = new Promise<void>((resolve) => (bound = resolve));
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, nl)) as Received & { bound?: boolean };
      buffered = buffered.slice(nl + 1);
      if (line.bound) bound();
      else seen.push(line);
    }
  });
  await ready;
  const until = async (what: string, ok: (r: Received[]) => boolean): Promise<void> => {
    const end = Date.now() + 30_000;
    while (!ok(seen)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { socket, seen, until };
}

const states = (seen: readonly Received[]): string[] => seen.filter((r) => r.fds === 0).map((r) => r.state);

real(`a real systemd-notify delivers through SdNotifier, with our PID as MAINPID and its barrier answered${because}`, async (t) => {
  const r = await receiver(t);
  const notifier = new SdNotifier({ env: { NOTIFY_SOCKET: r.socket, PATH: process.env.PATH } });
  t.is(notifier.backend?.name, 'systemd-notify');
  await notifier.ready();
  await notifier.status('OPERATIONAL');
  await r.until('both messages', (seen) => states(seen).length >= 2);
  t.deepEqual(states(r.seen), [`MAINPID=${process.pid}\nREADY=1`, `MAINPID=${process.pid}\nSTATUS=OPERATIONAL`]);
  // Each message is followed by BARRIER=1 carrying one fd: systemd-notify waited for us to read it.
  t.true(r.seen.some((m) => m.state === 'BARRIER=1' && m.fds === 1));
  t.like(notifier.stats(), { sent: 2, failed: 0 });
});

real(`a real \`edge-agent run\` says READY=1, its states and WATCHDOG=1, and STOPPING=1 on SIGTERM${because}`, async (t) => {
  const r = await receiver(t);
  const dataDir = await agentDir(t);
  const config = join(dataDir, 'config.json');
  await writeFile(config, JSON.stringify({ fleet: 'notify', dataDir, board: 'x86-64-dev', network: { listen: '127.0.0.1:0' }, liveness: { challenge: false } }));
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  // WATCHDOG_PID is left out: it would have to name the child before it exists (and absent means "you").
  const agent: ChildProcess = spawn(process.execPath, ['--import=tsx', main, 'run', '--config', config], {
    env: { ...process.env, NOTIFY_SOCKET: r.socket, WATCHDOG_USEC: '1000000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  t.teardown(() => void agent.kill('SIGKILL'));
  await r.until('READY=1', (seen) => states(seen).some((s) => s.includes('READY=1')));
  await r.until('a watchdog ping', (seen) => states(seen).some((s) => s.includes('WATCHDOG=1')));
  agent.kill('SIGTERM');
  t.is(await exited, 0);
  await r.until('STOPPING=1', (seen) => states(seen).some((s) => s.includes('STOPPING=1')));
  const lines = states(r.seen).flatMap((s) => s.split('\n'));
  t.true(lines.every((l) => l === `MAINPID=${agent.pid}` || /^(READY=1|STOPPING=1|WATCHDOG=1|STATUS=[A-Z_]+)$/.test(l)), lines.join(' | '));
  // A state that was overtaken while a child was in flight is merged away: the ones sent keep the machine's order.
  const order = lines.filter((l) => l !== 'WATCHDOG=1' && !l.startsWith('MAINPID='));
  const statuses = order.filter((l) => l.startsWith('STATUS='));
  const machine = ['STATUS=DKG_PHASE', 'STATUS=READY', 'STATUS=OPERATIONAL', 'STATUS=SHUTDOWN'];
  t.deepEqual(statuses, machine.filter((s) => statuses.includes(s)), order.join(' '));
  t.true(statuses.includes('STATUS=OPERATIONAL') && statuses.includes('STATUS=SHUTDOWN'), order.join(' '));
  t.true(order.indexOf('READY=1') > order.indexOf('STATUS=OPERATIONAL'), order.join(' '));
  t.true(order.indexOf('STOPPING=1') > order.indexOf('READY=1'), order.join(' '));
});
