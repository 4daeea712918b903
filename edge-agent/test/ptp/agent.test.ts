/**
 * PTP inside the agent: config.ptp turns it on, the agent's clock follows the
 * port, and a port that cannot open leaves the agent running on the system
 * clock with one error line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { Agent } from '../../src/agent/index.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { createIdentity } from '../../src/identity/index.js';
import { loadNativeUncached } from '../../src/native/index.js';
import { PtpClock, PtpShellError, openTransport } from '../../src/ptp/index.js';

async function agentDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-ptp-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const identity = await createIdentity(dir, { difficulty: 4 });
  identity.destroy();
  return dir;
}

function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

test('config: ptp is off by default, every field has a default, and bad values are refused', (t) => {
  const c = parseConfig({ fleet: 'f', dataDir: '/tmp/x' });
  t.like(c.ptp, { enabled: false, interface: null, role: 'auto', servo: 'median', timestamping: 'auto', domain: 0, priority1: 128, logSyncInterval: -3 });
  t.throws(() => parseConfig({ fleet: 'f', dataDir: '/tmp/x', ptp: { role: 'boss' } }), { instanceOf: ConfigError, message: /ptp\.role/ });
  t.throws(() => parseConfig({ fleet: 'f', dataDir: '/tmp/x', ptp: { logSyncInterval: -9 } }), { instanceOf: ConfigError, message: /ptp\.logSyncInterval/ });
  t.throws(() => parseConfig({ fleet: 'f', dataDir: '/tmp/x', ptp: { interface: 'a b' } }), { instanceOf: ConfigError, message: /ptp\.interface/ });
});

test("PtpClock: the system clock until a port is attached, then the port's time, and back after detach", (t) => {
  const clock = new PtpClock();
  t.false(clock.following);
  const before = Date.now();
  t.true(Math.abs(clock.now() - before) < 1000);
  const ahead = 5_000_000_000_000n; // a source 5000 s ahead of the system clock
  clock.attach({ nowNs: () => BigInt(Date.now()) * 1_000_000n + ahead });
  t.true(clock.following);
  t.true(Math.abs(clock.now() - Date.now() - 5_000_000) < 1000);
  t.true(clock.nowNs() > BigInt(Date.now()) * 1_000_000n + ahead - 1_000_000_000n);
  clock.detach();
  t.true(Math.abs(clock.now() - Date.now()) < 1000);
  t.throws(() => clock.attach({} as never), { instanceOf: TypeError });
  let fired = false;
  clock.setTimer(1, () => (fired = true));
  return new Promise<void>((resolve) => setTimeout(() => (t.true(fired), resolve()), 50));
});

test('the agent runs on the system clock, with one error line, when its PTP interface does not exist', async (t) => {
  const dataDir = await agentDir(t);
  const { log, lines } = capture();
  const config = parseConfig({ fleet: 'ptp', dataDir, board: 'x86-64-dev', network: { listen: '127.0.0.1:0' }, liveness: { challenge: false }, ptp: { enabled: true, interface: 'nosuch0' } });
  const agent = new Agent(config, { log });
  await agent.start();
  t.teardown(() => agent.stop());
  const err = lines.find((l) => l['event'] === 'ptp' && l['level'] === 50);
  t.truthy(err, JSON.stringify(lines.filter((l) => l['event'] === 'ptp')));
  t.regex(String(err!['msg']), /nosuch0.*system clock/);
  t.is(agent.metrics.snapshot()['ptp'], undefined);
  t.is(agent.status().orchestrator, 'OPERATIONAL');
});

test('the agent as PTP master on lo: the port runs, reports through metrics, and the clock follows it', async (t) => {
  const dataDir = await agentDir(t);
  const { log, lines } = capture();
  const config = parseConfig({
    fleet: 'ptp',
    dataDir,
    board: 'x86-64-dev',
    network: { listen: '127.0.0.1:0' },
    liveness: { challenge: false },
    ptp: { enabled: true, interface: 'lo', role: 'master', timestamping: 'software' },
  });
  const agent = new Agent(config, { log });
  await agent.start();
  const ptp = agent.metrics.snapshot()['ptp'] as Record<string, unknown> | undefined;
  t.truthy(ptp, JSON.stringify(lines.filter((l) => String(l['event']).startsWith('ptp'))));
  t.like(ptp, { state: 'MASTER', stamps: 'software' });
  t.true(lines.some((l) => l['event'] === 'ptp.state' && l['to'] === 'MASTER'));
  t.true(Number(ptp!['samples']) === 0, 'a master takes no samples');
  const report = await agent.stop();
  t.deepEqual(report.unclean, []);
});

test('without the addon, PTP falls back to Node dgram with user-space stamps and says why; asking for kernel stamps is refused', async (t) => {
  const native = loadNativeUncached({ env: { EDGE_AGENT_NATIVE: 'off' } });
  t.is(native.addon, null);
  await t.throwsAsync(openTransport({ interface: 'lo', timestamping: 'software', native, eventPort: 0, generalPort: 0 }), { instanceOf: PtpShellError, message: /native addon/ });
  const transport = await openTransport({ interface: 'lo', native, eventPort: 0, generalPort: 0 });
  t.teardown(() => transport.close());
  t.is(transport.stamps, 'user-space');
  t.regex(transport.reason, /degraded.*EDGE_AGENT_NATIVE=off/);
  const a = transport.nowNs();
  t.true(transport.nowNs() >= a);
  t.true(Math.abs(Number(a / 1_000_000n) - Date.now()) < 1000);
});
