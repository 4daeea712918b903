import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireAddon } from './helpers.js';

test('version is the crate version', (t) => {
  t.regex(requireAddon().version(), /^\d+\.\d+\.\d+$/);
});

test("interfaceTimestamping('lo') reports software timestamping and no PHC", (t) => {
  const info = requireAddon().interfaceTimestamping('lo');
  t.true(info.software);
  t.false(info.hardware);
  t.is(info.phcIndex, -1);
  t.true(info.ifindex >= 1);
  // SOF_TIMESTAMPING_TX_SOFTWARE | RX_SOFTWARE | SOFTWARE
  t.is(info.soTimestamping & 0b11010, 0b11010);
});

test('interfaceTimestamping refuses unknown interfaces with ENODEV and bad names with typed errors', (t) => {
  const addon = requireAddon();
  const e = t.throws(() => addon.interfaceTimestamping('nope0'));
  t.is((e as Error & { code?: string }).code, 'ENODEV');
  t.regex(e?.message ?? '', /nope0.*ENODEV/);
  t.throws(() => addon.interfaceTimestamping('x'.repeat(16)), { instanceOf: RangeError, message: /1 to 15 bytes/ });
  t.throws(() => addon.interfaceTimestamping(''), { instanceOf: RangeError });
  t.throws(() => addon.interfaceTimestamping(7 as unknown as string), { instanceOf: TypeError, message: /ifname must be a string, got number/ });
});

test('clockGettime reads named and numbered clocks and refuses others', (t) => {
  const addon = requireAddon();
  const before = Date.now();
  const [s, ns] = addon.clockGettime('realtime');
  const after = Date.now();
  const ms = s * 1000 + Math.floor(ns / 1e6);
  t.true(ms >= before - 1 && ms <= after + 1, `${ms} not within [${before}, ${after}]`);
  t.true(Number.isInteger(s) && Number.isInteger(ns) && ns >= 0 && ns < 1e9);
  const [m1, mn1] = addon.clockGettime('monotonic');
  const [m2, mn2] = addon.clockGettime(1);
  t.true(m2 * 1e9 + mn2 >= m1 * 1e9 + mn1);
  t.is(addon.clockGettime('tai').length, 2);
  t.throws(() => addon.clockGettime('boot' as 'tai'), { instanceOf: RangeError, message: /'realtime', 'monotonic', 'tai'/ });
  t.throws(() => addon.clockGettime(1.5), { instanceOf: RangeError });
  t.throws(() => addon.clockGettime({} as unknown as number), { instanceOf: TypeError });
  t.is((t.throws(() => addon.clockGettime(-1234)) as Error & { code?: string }).code, 'EINVAL');
});

test('PHC functions: missing device is ENOENT, a non-clock file is refused, unknown fds are EBADF', (t) => {
  const addon = requireAddon();
  const code = (f: () => unknown): string | undefined => (t.throws(f) as Error & { code?: string }).code;
  t.is(code(() => addon.phcOpen('/dev/ptp-missing')), 'ENOENT');
  const dir = mkdtempSync(join(tmpdir(), 'ea-phc-'));
  try {
    const file = join(dir, 'not-a-clock');
    writeFileSync(file, 'x');
    t.is(code(() => addon.phcOpen(file)), 'EINVAL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // fds this addon did not open are never touched: 0 is stdin, not a PHC.
  t.is(code(() => addon.phcGettime(0)), 'EBADF');
  t.is(code(() => addon.phcAdjustFrequency(0, 10)), 'EBADF');
  t.is(code(() => addon.phcStep(0, 0, 1)), 'EBADF');
  t.is(code(() => addon.phcFrequency(0)), 'EBADF');
  t.false(addon.phcClose(0));
  t.throws(() => addon.phcOpen(''), { instanceOf: RangeError });
  t.throws(() => addon.phcOpen(3 as unknown as string), { instanceOf: TypeError });
  t.throws(() => addon.phcGettime(-1), { instanceOf: RangeError });
});

test('a PTP hardware clock, when this machine has one, can be read and closed (never adjusted here)', (t) => {
  const addon = requireAddon();
  const phcs = readdirSync('/dev').filter((n) => /^ptp\d+$/.test(n));
  if (phcs.length === 0) {
    t.log('no /dev/ptp* here: only the error paths above were exercised');
    t.pass();
    return;
  }
  let fd: number;
  try {
    fd = addon.phcOpen(`/dev/${phcs[0]}`);
  } catch (err) {
    t.is((err as Error & { code?: string }).code, 'EACCES');
    return;
  }
  const [s, ns] = addon.phcGettime(fd);
  t.true(Number.isInteger(s) && ns >= 0 && ns < 1e9);
  t.is(typeof addon.phcFrequency(fd), 'number');
  t.throws(() => addon.phcAdjustFrequency(fd, Number.NaN), { instanceOf: RangeError });
  t.throws(() => addon.phcStep(fd, 0, 1e9), { instanceOf: RangeError });
  t.true(addon.phcClose(fd));
  t.false(addon.phcClose(fd));
});
