import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { ManualClock } from '../../src/clock/index.js';
import { TelemetryError } from '../../src/telemetry/errors.js';
import {
  BoardSampler,
  DEFAULT_SAMPLE_PERIOD_MS,
  PI4_SLOWDOWN,
  decodeThrottled,
  measureSamplerCost,
  parseMilliCelsius,
  parseNetDev,
  parseProcStat,
  parseThrottled,
  scaleToPi,
  type BoardSamplerOptions,
} from '../../src/telemetry/sampler.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-sampler-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const NONE = { undervoltage: false, frequencyCapped: false, throttled: false, softTempLimit: false, undervoltageOccurred: false, frequencyCappedOccurred: false, throttledOccurred: false, softTempLimitOccurred: false };

test('decodeThrottled: known masks', (t) => {
  t.deepEqual(decodeThrottled(0), { ...NONE, raw: 0 });
  // 0x50005: under-voltage and throttled now, and both have occurred since boot (a weak supply).
  t.deepEqual(decodeThrottled(0x50005), { ...NONE, undervoltage: true, throttled: true, undervoltageOccurred: true, throttledOccurred: true, raw: 0x50005 });
  // 0x50000: it happened since boot but is over now.
  t.deepEqual(decodeThrottled(0x50000), { ...NONE, undervoltageOccurred: true, throttledOccurred: true, raw: 0x50000 });
  t.deepEqual(decodeThrottled(0x20002), { ...NONE, frequencyCapped: true, frequencyCappedOccurred: true, raw: 0x20002 });
  t.deepEqual(decodeThrottled(0x80008), { ...NONE, softTempLimit: true, softTempLimitOccurred: true, raw: 0x80008 });
  const all = decodeThrottled(0xf000f);
  t.true(Object.entries(all).every(([k, v]) => k === 'raw' || v === true));
  t.deepEqual({ ...decodeThrottled(0xfff0fff0), raw: 0 }, { ...NONE, raw: 0 }, 'bits outside 0-3 and 16-19 name nothing');
  t.is(decodeThrottled(0xffffffff).raw, 0xffffffff);
});

test('decodeThrottled refuses what is not a 32-bit mask', (t) => {
  for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, '5', null]) {
    const err = t.throws(() => decodeThrottled(bad as number), { instanceOf: TelemetryError });
    t.is(err?.code, 'BAD_ARGUMENT');
  }
});

test('parsers: throttled text, millidegrees, /proc/stat, /proc/net/dev', (t) => {
  t.is(parseThrottled('50005\n')?.raw, 0x50005, 'as the driver prints it: %x');
  t.is(parseThrottled('0x50005')?.raw, 0x50005, 'as vcgencmd prints it');
  t.is(parseThrottled('0\n')?.raw, 0);
  for (const bad of ['', '\n', 'throttled=0x0', '123456789', '-1', '5 5']) t.is(parseThrottled(bad), null, JSON.stringify(bad));

  t.is(parseMilliCelsius('48312\n'), 48.3);
  t.is(parseMilliCelsius('-5000'), -5);
  for (const bad of ['', 'hot', '48.3', '999999', '-100000']) t.is(parseMilliCelsius(bad), null, JSON.stringify(bad));

  t.deepEqual(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n'), { busy: 150, total: 1000, source: 'proc' });
  t.deepEqual(parseProcStat('cpu 1 2 3 4'), { busy: 6, total: 10, source: 'proc' }, 'old kernels: four fields');
  t.is(parseProcStat('intr 1 2 3 4 5\n'), null);
  t.is(parseProcStat('cpu 1 x 3 4 5\n'), null);

  const dev = netDev({ lo: [999, 999], eth0: [1000, 200], wlan0: [30, 4] });
  t.deepEqual(parseNetDev(dev, null), { rx: 1030, tx: 204 }, 'all but loopback');
  t.deepEqual(parseNetDev(dev, 'eth0'), { rx: 1000, tx: 200 });
  t.is(parseNetDev(dev, 'eth1'), null);
  t.is(parseNetDev('garbage', null), null);
  t.is(parseNetDev(' eth0: 1 2 3\n', 'eth0'), null, 'too few fields');
});

/** /proc/net/dev text for these interfaces' [rx, tx] byte counters. */
function netDev(ifaces: Record<string, [number, number]>): string {
  const head = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  return head + Object.entries(ifaces).map(([name, [rx, tx]]) => `${name.padStart(6)}: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0\n`).join('');
}

interface Fixture {
  dir: string;
  opts: BoardSamplerOptions;
  clock: ManualClock;
  write(name: string, text: string): Promise<void>;
}

/** A board in a temp dir: thermal zones (an ACPI one first, the CPU's second), get_throttled, /proc/stat, /proc/net/dev. */
async function fixture(t: ExecutionContext): Promise<Fixture> {
  const dir = await tempDir(t);
  const write = async (name: string, text: string): Promise<void> => {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  };
  await write('thermal/thermal_zone0/type', 'acpitz\n');
  await write('thermal/thermal_zone0/temp', '27800\n');
  await write('thermal/thermal_zone1/type', 'cpu-thermal\n');
  await write('thermal/thermal_zone1/temp', '48312\n');
  await write('thermal/cooling_device0/type', 'fan\n');
  await write('get_throttled', '50005\n');
  await write('stat', 'cpu  100 0 50 800 50 0 0 0 0 0\n');
  await write('net_dev', netDev({ lo: [5, 5], eth0: [1_000_000, 20_000], wlan0: [0, 0] }));
  const clock = new ManualClock(1_700_000_000_000);
  const opts: BoardSamplerOptions = {
    dataDir: dir,
    clock,
    paths: { procStat: join(dir, 'stat'), procNetDev: join(dir, 'net_dev'), thermalDir: join(dir, 'thermal'), throttled: join(dir, 'get_throttled') },
  };
  return { dir, opts, clock, write };
}

test('fixture board: the CPU thermal zone, the throttling flags, load since boot, counters', async (t) => {
  const f = await fixture(t);
  const s = await new BoardSampler(f.opts).sample();
  t.is(s.cpuTemperatureC, 48.3, 'the cpu-thermal zone, not the first zone');
  t.deepEqual(s.throttled, decodeThrottled(0x50005));
  t.is(s.cpuLoadPercent, 15, 'first sample: since boot (150 busy of 1000 jiffies)');
  t.is(s.netRxBytes, 1_000_000);
  t.is(s.netTxBytes, 20_000);
  t.is(s.netRxBytesPerSec, null, 'no rate from one sample');
  t.is(s.netTxBytesPerSec, null);
  t.true(s.diskTotalBytes! > 0 && s.diskFreeBytes! <= s.diskTotalBytes!);
});

test('fixture board: load and network rates come from the previous sample and the injected clock', async (t) => {
  const f = await fixture(t);
  const sampler = new BoardSampler(f.opts);
  await sampler.sample();
  await f.write('stat', 'cpu  400 0 150 1200 50 0 0 0 0 0\n'); // +400 busy of +800
  await f.write('net_dev', netDev({ lo: [9_999_999, 9_999_999], eth0: [1_012_000, 26_000], wlan0: [500, 0] }));
  f.clock.advance(DEFAULT_SAMPLE_PERIOD_MS);
  const s = await sampler.sample();
  t.is(s.cpuLoadPercent, 50);
  t.is(s.netRxBytes, 1_012_500);
  t.is(s.netRxBytesPerSec, 1250, '12500 bytes in 10 s');
  t.is(s.netTxBytesPerSec, 600, 'loopback traffic not counted');

  // A counter that went back (interface reset, a 32-bit counter wrapping) gives no rate.
  await f.write('net_dev', netDev({ eth0: [100, 27_000] }));
  f.clock.advance(5000);
  const after = await sampler.sample();
  t.is(after.netRxBytesPerSec, null);
  t.is(after.netTxBytesPerSec, 200);

  // No time passed: no rate rather than a division by zero.
  t.is((await sampler.sample()).netTxBytesPerSec, null);
});

test('fixture board: one named interface', async (t) => {
  const f = await fixture(t);
  const sampler = new BoardSampler({ ...f.opts, interface: 'wlan0' });
  await sampler.sample();
  await f.write('net_dev', netDev({ eth0: [5_000_000, 5_000_000], wlan0: [2000, 1000] }));
  f.clock.advance(2000);
  const s = await sampler.sample();
  t.deepEqual([s.netRxBytes, s.netTxBytes, s.netRxBytesPerSec, s.netTxBytesPerSec], [2000, 1000, 1000, 500]);
  const gone = await new BoardSampler({ ...f.opts, interface: 'eth9' }).sample();
  t.deepEqual([gone.netRxBytes, gone.netRxBytesPerSec], [null, null], 'an interface the board does not have');
});

test('fixture board: missing files give null, and the load falls back to os.cpus()', async (t) => {
  const f = await fixture(t);
  const missing = join(f.dir, 'nope');
  const s = await new BoardSampler({
    dataDir: missing,
    clock: f.clock,
    paths: { procStat: join(missing, 'stat'), procNetDev: join(missing, 'dev'), thermalDir: join(missing, 'thermal'), throttled: join(missing, 'get_throttled') },
  }).sample();
  t.is(s.cpuTemperatureC, null);
  t.is(s.throttled, null);
  t.is(s.netRxBytes, null);
  t.is(s.netRxBytesPerSec, null);
  t.is(s.diskTotalBytes, null);
  t.is(s.diskFreeBytes, null);
  t.true(s.cpuLoadPercent >= 0 && s.cpuLoadPercent <= 100);
  t.true(s.memTotalBytes > 0);

  await f.write('get_throttled', 'not hex\n');
  await f.write('thermal/thermal_zone1/temp', 'n/a\n');
  const garbled = await new BoardSampler(f.opts).sample();
  t.is(garbled.throttled, null);
  t.is(garbled.cpuTemperatureC, null);
});

test('fixture board: the thermal zone is searched once; an explicit temperature file skips the search', async (t) => {
  const f = await fixture(t);
  const sampler = new BoardSampler(f.opts);
  t.is((await sampler.sample()).cpuTemperatureC, 48.3);
  await f.write('thermal/thermal_zone1/temp', '61000\n');
  await f.write('thermal/thermal_zone0/type', 'cpu-hotter\n'); // would win a new search
  t.is((await sampler.sample()).cpuTemperatureC, 61, 'the same file, read again');

  await f.write('hwmon_temp', '55500\n');
  const explicit = new BoardSampler({ ...f.opts, paths: { ...f.opts.paths, temperature: join(f.dir, 'hwmon_temp') } });
  t.is((await explicit.sample()).cpuTemperatureC, 55.5);

  await rm(join(f.dir, 'thermal/thermal_zone1/type'));
  await f.write('thermal/thermal_zone0/type', 'acpitz\n');
  const noCpuZone = new BoardSampler(f.opts);
  t.is((await noCpuZone.sample()).cpuTemperatureC, 27.8, 'no zone names the CPU: the first with a temperature');
});

test('concurrent sample() calls run one after the other', async (t) => {
  const f = await fixture(t);
  const sampler = new BoardSampler(f.opts);
  const [a, b] = await Promise.all([sampler.sample(), sampler.sample()]);
  t.is(a.netRxBytesPerSec, null);
  t.is(b.netRxBytesPerSec, null, 'the second saw the first as previous (no time passed), not an empty history');
  t.is(b.cpuLoadPercent, 0, 'nor did it count the jiffies since boot again');
});

test('a real sample on this machine has sane figures', async (t) => {
  const dir = await tempDir(t);
  const sampler = new BoardSampler({ dataDir: dir });
  await sampler.sample();
  const s = await sampler.sample();
  t.log(JSON.stringify(s));
  t.true(s.cpuLoadPercent >= 0 && s.cpuLoadPercent <= 100);
  t.true(s.cpuTemperatureC === null || (s.cpuTemperatureC > -60 && s.cpuTemperatureC < 200));
  t.true(s.memTotalBytes > 0);
  t.true(s.memAvailableBytes >= 0 && s.memAvailableBytes <= s.memTotalBytes);
  t.true(s.diskTotalBytes! > 0);
  t.true(s.diskFreeBytes! >= 0 && s.diskFreeBytes! <= s.diskTotalBytes!);
  t.true(s.netRxBytes === null || (s.netRxBytes >= 0 && s.netTxBytes! >= 0));
  t.true(s.netRxBytesPerSec === null || s.netRxBytesPerSec >= 0);
  t.true(s.uptimeSec > 0);
  t.true(Number.isInteger(s.uptimeSec));
  t.true(s.throttled === null || Number.isInteger(s.throttled.raw));
});

// Serial: ava runs serial tests before the others, so nothing else in this process spawns or works meanwhile.
test.serial('the sampler spawns nothing and, scaled to a Pi 4, costs under 1 % of a core at the default period', async (t) => {
  const dir = await tempDir(t);
  const cost = await measureSamplerCost(new BoardSampler({ dataDir: dir }), 200);
  const pi = scaleToPi(cost);
  t.log(`here: ${cost.cpuMsPerSample.toFixed(3)} ms CPU, ${cost.wallMsPerSample.toFixed(3)} ms wall per sample; Pi 4 estimate: ${pi.piCpuMsPerSample.toFixed(2)} ms, ${pi.piCoreSharePercent.toFixed(3)} % of a core at ${pi.periodMs} ms`);
  t.is(cost.samples, 200);
  t.is(cost.childCpuMsPerSample, 0, 'no child process');
  t.true(cost.cpuMsPerSample > 0);
  t.true(pi.piCoreSharePercent < 1);
});

test.serial('measureSamplerCost counts the CPU time of processes a sampler spawns', async (t) => {
  const run = promisify(execFile);
  const spawning = { sample: () => run('sh', ['-c', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done']) };
  const cost = await measureSamplerCost(spawning, 4);
  t.log(`a spawning sampler: ${cost.cpuMsPerSample.toFixed(1)} ms CPU per sample, ${cost.childCpuMsPerSample} ms of it in children`);
  t.true(cost.childCpuMsPerSample! > 0);
  t.true(cost.cpuMsPerSample >= cost.childCpuMsPerSample!);
});

test('scaleToPi: cpu ms × PI4_SLOWDOWN over the period', (t) => {
  t.is(PI4_SLOWDOWN, 3.6);
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;
  const one = scaleToPi({ cpuMsPerSample: 1 });
  t.is(one.periodMs, DEFAULT_SAMPLE_PERIOD_MS);
  t.true(near(one.piCpuMsPerSample, 3.6) && near(one.piCoreSharePercent, 0.036), JSON.stringify(one));
  t.true(near(scaleToPi({ cpuMsPerSample: 10 }, 1000).piCoreSharePercent, 3.6));
  for (const [cost, period] of [[{ cpuMsPerSample: -1 }, 1000], [{ cpuMsPerSample: Number.NaN }, 1000], [{ cpuMsPerSample: 1 }, 0], [null, 1000]] as const) {
    t.is(t.throws(() => scaleToPi(cost as { cpuMsPerSample: number }, period), { instanceOf: TelemetryError })?.code, 'BAD_ARGUMENT');
  }
});

test('bad options and arguments are refused with TelemetryError', async (t) => {
  const bad: unknown[] = [
    undefined,
    {},
    { dataDir: '' },
    { dataDir: '/tmp', interface: 'eth0/../x' },
    { dataDir: '/tmp', interface: 'a-name-longer-than-15' },
    { dataDir: '/tmp', interface: 7 },
    { dataDir: '/tmp', clock: {} },
    { dataDir: '/tmp', paths: { procStat: '' } },
    { dataDir: '/tmp', paths: { temperature: 3 } },
  ];
  for (const o of bad) {
    t.is(t.throws(() => new BoardSampler(o as BoardSamplerOptions), { instanceOf: TelemetryError })?.code, 'BAD_ARGUMENT', JSON.stringify(o));
  }
  t.notThrows(() => new BoardSampler({ dataDir: '/tmp', interface: null }));
  t.is((await t.throwsAsync(measureSamplerCost({} as { sample(): Promise<unknown> }, 1), { instanceOf: TelemetryError }))?.code, 'BAD_ARGUMENT');
  t.is((await t.throwsAsync(measureSamplerCost(new BoardSampler({ dataDir: '/tmp' }), 0), { instanceOf: TelemetryError }))?.code, 'BAD_ARGUMENT');
});
