import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('--help prints usage and exits 0', async (t) => {
  const r = await cli(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /Usage:/);
  t.regex(r.stdout, /audit verify --dir DIR/);
});

test('usage errors exit 2 with one line on stderr', async (t) => {
  for (const args of [[], ['frobnicate'], ['run'], ['config', 'check'], ['audit', 'verify', '--bogus'], ['demo', '--agents', 'x']]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1, args.join(' '));
    t.regex(r.stderr, /^edge-agent: .*\(see edge-agent --help\)\n$/);
  }
});

test('config check names the bad field and exits 1', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ network: { listen: 42 } }));
  const r = await cli(['config', 'check', bad]);
  t.is(r.code, 1);
  t.true(r.stderr.startsWith(`edge-agent: ${bad}: network.listen`), r.stderr);
  t.is(r.stderr.trim().split('\n').length, 1);

  const good = join(dir, 'good.json');
  await writeFile(good, JSON.stringify({ fleet: 'lab', dataDir: dir }));
  const ok = await cli(['config', 'check', good, '--print']);
  t.is(ok.code, 0, ok.stderr);
  const printed = JSON.parse(ok.stdout) as { fleet: string; shutdownTimeoutMs: number };
  t.is(printed.fleet, 'lab');
  t.true(printed.shutdownTimeoutMs > 0);

  const missing = await cli(['config', 'check', join(dir, 'nope.json')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope\.json/);
});

test('keygen, then run until SIGTERM: ready, clean stop, exit 0, audit trail verifies', async (t) => {
  const dir = await tempDir(t);
  const gen = await cli(['keygen', '--data-dir', dir, '--difficulty', '8']);
  t.is(gen.code, 0, gen.stderr);
  const peerId = /peer id\s+([0-9a-f]{64})/.exec(gen.stdout)?.[1];
  t.truthy(peerId, gen.stdout);

  const again = await cli(['keygen', '--data-dir', dir, '--difficulty', '8']);
  t.is(again.code, 1, 'an existing identity is never overwritten');

  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ dataDir: dir, board: 'x86-64-dev', status: { intervalMs: 100 }, network: { listen: '127.0.0.1:0' } }));
  const run = await cli(['run', '--config', config], {
    onStdout: (chunk, kill) => {
      if (chunk.includes('"to":"OPERATIONAL"')) kill('SIGTERM');
    },
  });
  t.is(run.code, 0, run.stderr);
  const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const states = records.filter((r) => r.event === 'state').map((r) => r.state);
  t.deepEqual(states, ['starting', 'ready', 'stopping', 'stopped']);
  t.true(records.some((r) => r.peerId === peerId));
  const transitions = records.filter((r) => r.event === 'orchestrator.transition').map((r) => r.to);
  t.deepEqual(transitions, ['DKG_PHASE', 'READY', 'OPERATIONAL', 'SHUTDOWN']);

  const verify = await cli(['audit', 'verify', '--dir', join(dir, 'audit')]);
  t.is(verify.code, 0, verify.stderr);
  t.regex(verify.stdout, /ok, 6 entries/, 'start, four transitions, stop');
});

test('run refuses a data dir without an identity, in one line, exit 1', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ dataDir: dir, board: 'x86-64-dev' }));
  const r = await cli(['run', '--config', config]);
  t.is(r.code, 1);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^edge-agent: identity: /);
});

test('demo --exit-when-ready: four agents mesh on an embedded broker, the 4-member committee signs (openssl verifies) and orders a put through PBFT, a sealed attribute is read by its role only, then all exit 0', async (t) => {
  // The committee's DKG and signature come on top of the mesh: a generous deadline for a loaded machine.
  const r = await cli(['demo', '--agents', '4', '--exit-when-ready', '--timeout', '100'], { timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /embedded broker at mqtt:\/\/127\.0\.0\.1:\d+/);
  t.regex(r.stdout, /all agents OPERATIONAL on MQTT, each with 3 channels and 3 live peers, signed ping answered/);
  // The four agents are the committee: they ran the DKG, and their signature passed `openssl pkeyutl -verify`.
  t.regex(r.stdout, /committee signature: verified by openssl \(group key [0-9a-f]{16}…, signers \d,\d, coordinated by agent-1\)/);
  const keys = new Set([...r.stdout.matchAll(/committee key ([0-9a-f]{16})… \(dkg\)/g)].map((m) => m[1]));
  t.is(keys.size, 1, 'one group key in every row');
  // They order a put through PBFT and read it back with a get ordered after it.
  const order = /committee order: committed in view (\d+) at seq (\d+) \(put demo-key, asked of agent-1\); read back by a get at seq (\d+): the same value/.exec(r.stdout);
  t.truthy(order, r.stdout);
  t.true(Number(order![3]) > Number(order![2]), 'the get is ordered after the put');
  // A sealed attribute: the gateways (agents 2 and 3) read it, agent-4 is refused by the policy.
  t.regex(r.stdout, /sealed: agent-1 sealed wifi-psk for role gateway \(agent-2, agent-3\)/);
  t.regex(r.stdout, /sealed: agent-2 read ok \(\d+ bytes\)/);
  t.regex(r.stdout, /sealed: agent-3 read ok \(\d+ bytes\)/);
  t.regex(r.stdout, /sealed: agent-4 refused \(NOT_AUTHORIZED\)/);
  const row = (name: string, rest: string): RegExp => new RegExp(`${name}\\s+[0-9a-f]{16}\\s+\\d+\\s+127\\.0\\.0\\.1:\\d+\\s+${rest}`);
  for (const name of ['agent-1', 'agent-2', 'agent-3', 'agent-4']) {
    t.regex(r.stdout, row(name, 'ready\\s+3\\s+online\\s+OPERATIONAL\\s+#\\d+ cpu \\d+%\\s+3\\s+ping ok'));
    t.regex(r.stdout, row(name, 'exited \\(0\\)\\s+0\\s+offline \\(stopped\\)\\s+SHUTDOWN'));
  }
  const dir = /data in (\S+)/.exec(r.stdout)?.[1];
  t.truthy(dir);
  await t.throwsAsync(readFile(join(dir!, 'agent-1', 'config.json')), undefined, 'the demo cleans up after itself');
});

