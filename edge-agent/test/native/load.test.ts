import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ADDON_PATH, NativeError, describeCapabilities, loadNative, requireNative } from '../../src/native/index.js';
import { requireAddon } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ea-native-load-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

test('the default load finds the built addon and reports each capability', (t) => {
  requireAddon();
  const load = loadNative();
  t.is(load.path, DEFAULT_ADDON_PATH);
  t.regex(load.path, /native-napi\/edge_agent_native\.node$/);
  t.is(loadNative(), load, 'memoised');
  t.deepEqual(
    load.capabilities.map((c) => c.capability),
    ['ptp-timestamping', 'phc', 'sd-notify'],
  );
  const by = new Map(load.capabilities.map((c) => [c.capability, c]));
  t.is(by.get('ptp-timestamping')?.backend, 'native');
  t.regex(by.get('ptp-timestamping')?.reason ?? '', /SO_TIMESTAMPING.*edge_agent_native \d+\.\d+\.\d+/);
  t.is(by.get('sd-notify')?.backend, 'native');
  t.true(['native', 'fallback'].includes(by.get('phc')?.backend ?? ''));
  for (const line of describeCapabilities(load)) t.regex(line, /^[a-z-]+: (native|fallback) \(.+\)$/);
  t.log(describeCapabilities(load).join('\n'));
});

test('EDGE_AGENT_NATIVE=off gives every capability the fallback, with that reason', (t) => {
  const load = loadNative({ env: { EDGE_AGENT_NATIVE: 'off' } });
  t.is(load.addon, null);
  t.is(load.capabilities.length, 3);
  for (const c of load.capabilities) {
    t.is(c.backend, 'fallback');
    t.is(c.reason, 'EDGE_AGENT_NATIVE=off');
  }
  const e = t.throws(() => requireNative({ env: { EDGE_AGENT_NATIVE: 'OFF' } }), { instanceOf: NativeError });
  t.is(e?.code, 'UNAVAILABLE');
  t.regex(e?.message ?? '', /EDGE_AGENT_NATIVE=off/);
});

test('a missing file falls back and says how to build it', (t) => {
  const path = join(tmp, 'missing.node');
  const load = loadNative({ path, env: {} });
  t.is(load.addon, null);
  for (const c of load.capabilities) {
    t.is(c.backend, 'fallback');
    t.true(c.reason.includes(`${path} not found`));
    t.true(c.reason.includes('node native-napi/build.mjs'));
  }
});

test('a file that is not an addon, or a stale one, falls back with the cause', (t) => {
  const junk = join(tmp, 'junk.node');
  writeFileSync(junk, 'not an ELF file');
  const bad = loadNative({ path: junk, env: {} });
  t.is(bad.addon, null);
  t.regex(bad.capabilities[0]?.reason ?? '', /^cannot load .*junk\.node: /);

  const stale = join(tmp, 'stale.cjs');
  writeFileSync(stale, "module.exports = { version: () => '0.0.1', udpOpen() {} };");
  const old = loadNative({ path: stale, env: {} });
  t.is(old.addon, null);
  t.regex(old.capabilities[0]?.reason ?? '', /lacks interfaceTimestamping, udpSend/);
});

test('phc is native only where a /dev/ptpN exists', (t) => {
  requireAddon();
  const empty = loadNative({ env: {}, devDir: join(tmp, 'nodev') });
  t.deepEqual(
    empty.capabilities.find((c) => c.capability === 'phc'),
    { capability: 'phc', backend: 'fallback', reason: `no PTP hardware clock (${join(tmp, 'nodev')}/ptp*) on this machine` },
  );
  // A directory holding a ptp0 entry stands for a board with a PHC.
  const boardDev = mkdtempSync(join(tmp, 'dev-'));
  writeFileSync(join(boardDev, 'ptp0'), '');
  writeFileSync(join(boardDev, 'ptp-not-a-clock'), '');
  const board = loadNative({ env: {}, devDir: boardDev });
  t.deepEqual(board.capabilities.find((c) => c.capability === 'phc'), {
    capability: 'phc',
    backend: 'native',
    reason: `clock_adjtime on ${boardDev}/ptp0`,
  });
});

test('bad loader options are refused with NativeError', (t) => {
  t.is(t.throws(() => loadNative({ path: '' }), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => loadNative({ path: 5 as unknown as string }), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => loadNative(null as unknown as object), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => loadNative({ env: 'off' as unknown as Record<string, string> }), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
});
