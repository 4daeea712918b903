/**
 * Board metrics, sampled cheaply (docs/telemetry-sampler.md).
 *
 * Nothing here spawns a process: every figure comes from a file the kernel keeps
 * (/proc, /sys), from Node (statfs, os.uptime) or from systeminformation's mem(),
 * which only reads /proc/meminfo. systeminformation's other calls for these figures
 * spawn a shell on Linux (currentLoad: `cat /proc/stat | grep`, cpuTemperature: `cat`
 * and a loop over hwmon, networkStats: seven `cat`s, time(): `date`, fsSize: `df`),
 * which costs 5-15 ms of CPU each per sample: spawning every period is exactly the
 * cost this module avoids.
 */
import { readdir, statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, uptime } from 'node:os';
import { join } from 'node:path';
import { mem } from 'systeminformation';
import { type Clock, systemClock } from '../clock/index.js';
import { PI4_POW_SLOWDOWN } from '../identity/index.js';
import { TelemetryError } from './errors.js';

/** Default sampling period. */
export const DEFAULT_SAMPLE_PERIOD_MS = 10_000;

/**
 * How many times more CPU time the same work takes on a Pi 4 core than here: the
 * estimate identity/ made for its proof of work (SHA-256 calls from Node), reused as
 * an estimate for this small-file and parsing work. Not a measurement on a Pi.
 */
export const PI4_SLOWDOWN = PI4_POW_SLOWDOWN;

/** Where the Raspberry Pi firmware driver publishes its throttling bitmask (hex, no 0x). */
export const PI_THROTTLED_PATH = '/sys/devices/platform/soc/soc:firmware/get_throttled';

/** get_throttled, decoded. The first four are "now", the `*Occurred` ones "since boot". */
export interface ThrottledFlags {
  readonly undervoltage: boolean;
  readonly frequencyCapped: boolean;
  readonly throttled: boolean;
  readonly softTempLimit: boolean;
  readonly undervoltageOccurred: boolean;
  readonly frequencyCappedOccurred: boolean;
  readonly throttledOccurred: boolean;
  readonly softTempLimitOccurred: boolean;
  /** The mask as read, for bits not named here. */
  readonly raw: number;
}

/**
 * Decodes the firmware's throttling mask: bit 0 under-voltage, 1 ARM frequency
 * capped, 2 throttled, 3 soft temperature limit; bits 16-19 the same, since boot.
 */
export function decodeThrottled(mask: number): ThrottledFlags {
  if (typeof mask !== 'number' || !Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) {
    throw new TelemetryError('BAD_ARGUMENT', `decodeThrottled: the mask must be an integer from 0 to 0xffffffff, got ${String(mask)}`);
  }
  const bit = (n: number): boolean => ((mask >>> n) & 1) === 1;
  return {
    undervoltage: bit(0),
    frequencyCapped: bit(1),
    throttled: bit(2),
    softTempLimit: bit(3),
    undervoltageOccurred: bit(16),
    frequencyCappedOccurred: bit(17),
    throttledOccurred: bit(18),
    softTempLimitOccurred: bit(19),
    raw: mask,
  };
}

/** One sample. A figure the board does not offer, or that could not be read, is null. */
export interface BoardSample {
  /** Busy share of all cores since the previous sample (since boot for the first), 0-100. */
  readonly cpuLoadPercent: number;
  readonly cpuTemperatureC: number | null;
  readonly memTotalBytes: number;
  readonly memAvailableBytes: number;
  /** Of the filesystem holding the data directory; free = available to unprivileged users. */
  readonly diskTotalBytes: number | null;
  readonly diskFreeBytes: number | null;
  /** Counters of the configured interface, or of all but loopback summed. */
  readonly netRxBytes: number | null;
  readonly netTxBytes: number | null;
  /** Since the previous sample; null on the first and when a counter went back (reset, wrap). */
  readonly netRxBytesPerSec: number | null;
  readonly netTxBytesPerSec: number | null;
  readonly uptimeSec: number;
  /** null where the board has no such file (anything but a Raspberry Pi). */
  readonly throttled: ThrottledFlags | null;
}

export interface SamplerPaths {
  /** Default /proc/stat. */
  readonly procStat?: string;
  /** Default /proc/net/dev. */
  readonly procNetDev?: string;
  /** Searched once for the CPU's thermal zone; default /sys/class/thermal. */
  readonly thermalDir?: string;
  /** A temperature file (millidegrees Celsius) to use instead of searching thermalDir. */
  readonly temperature?: string;
  /** Default PI_THROTTLED_PATH. */
  readonly throttled?: string;
}

export interface BoardSamplerOptions {
  /** The agent's data directory: disk figures are of its filesystem. */
  readonly dataDir: string;
  /** The board's network interface (its profile's networkInterface); null or absent: all but loopback. */
  readonly interface?: string | null;
  /** For the network rates; default systemClock. */
  readonly clock?: Clock;
  readonly paths?: SamplerPaths;
}

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
  /** /proc/stat counts jiffies, os.cpus() milliseconds: never subtract one from the other. */
  readonly source: 'proc' | 'os';
}

interface NetPoint {
  readonly rx: number;
  readonly tx: number;
  readonly at: number;
}

const INTERFACE_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
/** Thermal zone types that are the CPU's (Pi: cpu-thermal; x86: x86_pkg_temp; many SoCs: soc or cpu). */
const CPU_ZONE = /cpu|soc|x86_pkg_temp|package/i;

/**
 * A small kernel file's text, or null if it cannot be read (absent on this board, no
 * permission). Read synchronously: /proc and /sys files are generated by the kernel on
 * read and never wait for a disk, and a synchronous read costs 25-60 µs of CPU here
 * where fs.promises.readFile costs 180-210 µs (its thread-pool round trips).
 */
function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Aggregate busy and total jiffies from /proc/stat's first line. */
export function parseProcStat(text: string): CpuTimes | null {
  const nl = text.indexOf('\n');
  const fields = (nl < 0 ? text : text.slice(0, nl)).trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 5) return null;
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const n = fields.slice(1, 9).map(Number);
  if (!n.every((v) => Number.isFinite(v) && v >= 0)) return null;
  const total = n.reduce((a, b) => a + b, 0);
  const idle = n[3]! + (n[4] ?? 0);
  return { busy: total - idle, total, source: 'proc' };
}

/** The same from os.cpus(), where there is no /proc/stat. */
function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total, source: 'os' };
}

/**
 * Byte counters from /proc/net/dev: of `iface`, or of every interface but `lo`
 * summed; null if the file does not parse or `iface` is not in it.
 */
export function parseNetDev(text: string, iface: string | null): { rx: number; tx: number } | null {
  let rx = 0;
  let tx = 0;
  let found = false;
  let any = false;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    any = true;
    if (iface === null ? name === 'lo' : name !== iface) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    const r = Number(fields[0]);
    const t = Number(fields[8]);
    if (fields.length < 16 || !Number.isFinite(r) || !Number.isFinite(t)) return null;
    rx += r;
    tx += t;
    found = true;
  }
  return found || (iface === null && any) ? { rx, tx } : null;
}

/** A throttling mask as the firmware driver prints it ("%x\n"; a 0x prefix is accepted too). */
export function parseThrottled(text: string): ThrottledFlags | null {
  const m = /^\s*(?:0x)?([0-9a-f]{1,8})\s*$/i.exec(text);
  return m === null ? null : decodeThrottled(parseInt(m[1]!, 16));
}

/** Millidegrees Celsius as in thermal_zone*\/temp, to degrees (one decimal); null if implausible. */
export function parseMilliCelsius(text: string): number | null {
  if (!/^\s*-?\d{1,7}\s*$/.test(text)) return null;
  const c = Number(text) / 1000;
  return c < -60 || c > 200 ? null : Math.round(c * 10) / 10;
}

function optionalPath(value: unknown, name: string): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new TelemetryError('BAD_ARGUMENT', `BoardSampler: paths.${name} must be a non-empty string`);
  }
  return value;
}

/**
 * Takes board samples. It keeps the previous CPU and network counters to turn them
 * into a load and rates; calls made while one is running wait for it.
 */
export class BoardSampler {
  readonly #dataDir: string;
  readonly #iface: string | null;
  readonly #clock: Clock;
  readonly #procStat: string;
  readonly #procNetDev: string;
  readonly #thermalDir: string;
  readonly #throttledPath: string;
  /** The temperature file: undefined until searched for, null if there is none. */
  #temperaturePath: string | null | undefined;
  #cpu: CpuTimes | null = null;
  #net: NetPoint | null = null;
  #last: Promise<unknown> = Promise.resolve();

  constructor(opts: BoardSamplerOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TelemetryError('BAD_ARGUMENT', 'BoardSampler: options must be an object');
    if (typeof opts.dataDir !== 'string' || opts.dataDir === '') throw new TelemetryError('BAD_ARGUMENT', 'BoardSampler: dataDir must be a non-empty string');
    const iface = opts.interface ?? null;
    if (iface !== null && (typeof iface !== 'string' || !INTERFACE_NAME.test(iface))) {
      throw new TelemetryError('BAD_ARGUMENT', `BoardSampler: interface must be an interface name (1-15 of A-Z a-z 0-9 _ . : @ -), got ${JSON.stringify(iface)}`);
    }
    const clock = opts.clock ?? systemClock;
    if (typeof clock?.now !== 'function') throw new TelemetryError('BAD_ARGUMENT', 'BoardSampler: clock must be a Clock');
    const paths = opts.paths ?? {};
    if (typeof paths !== 'object' || paths === null) throw new TelemetryError('BAD_ARGUMENT', 'BoardSampler: paths must be an object');
    this.#dataDir = opts.dataDir;
    this.#iface = iface;
    this.#clock = clock;
    this.#procStat = optionalPath(paths.procStat, 'procStat') ?? '/proc/stat';
    this.#procNetDev = optionalPath(paths.procNetDev, 'procNetDev') ?? '/proc/net/dev';
    this.#thermalDir = optionalPath(paths.thermalDir, 'thermalDir') ?? '/sys/class/thermal';
    this.#throttledPath = optionalPath(paths.throttled, 'throttled') ?? PI_THROTTLED_PATH;
    this.#temperaturePath = optionalPath(paths.temperature, 'temperature');
  }

  /** One sample. Never rejects for a source it cannot read: that figure is null. */
  sample(): Promise<BoardSample> {
    const next = this.#last.then(() => this.#sampleNow());
    this.#last = next.catch(() => {});
    return next;
  }

  async #sampleNow(): Promise<BoardSample> {
    const [memory, disk, temperature] = await Promise.all([mem(), statfs(this.#dataDir).catch(() => null), this.#temperature()]);
    const stat = readText(this.#procStat);
    const netDev = readText(this.#procNetDev);
    const throttled = readText(this.#throttledPath);
    const at = this.#clock.now();

    const cpu = (stat === null ? null : parseProcStat(stat)) ?? osCpuTimes();
    const prev = this.#cpu?.source === cpu.source ? this.#cpu : null;
    const dBusy = cpu.busy - (prev?.busy ?? 0);
    const dTotal = cpu.total - (prev?.total ?? 0);
    // Counters that did not move give 0 rather than a division by zero; iowait may go
    // back (proc(5)), which could push the share past 0-100 for one sample: clamp it.
    const cpuLoadPercent = dTotal > 0 ? Math.round(Math.min(1, Math.max(0, dBusy / dTotal)) * 1000) / 10 : 0;
    this.#cpu = cpu;

    const net = netDev === null ? null : parseNetDev(netDev, this.#iface);
    const rate = (now: number, before: number): number | null => {
      const prev = this.#net;
      if (prev === null || at <= prev.at || now < before) return null;
      return Math.round(((now - before) * 1000) / (at - prev.at));
    };
    const netRxBytesPerSec = net === null || this.#net === null ? null : rate(net.rx, this.#net.rx);
    const netTxBytesPerSec = net === null || this.#net === null ? null : rate(net.tx, this.#net.tx);
    this.#net = net === null ? null : { ...net, at };

    return {
      cpuLoadPercent,
      cpuTemperatureC: temperature,
      memTotalBytes: memory.total,
      memAvailableBytes: memory.available,
      diskTotalBytes: disk === null ? null : disk.blocks * disk.bsize,
      diskFreeBytes: disk === null ? null : disk.bavail * disk.bsize,
      netRxBytes: net?.rx ?? null,
      netTxBytes: net?.tx ?? null,
      netRxBytesPerSec,
      netTxBytesPerSec,
      uptimeSec: Math.floor(uptime()),
      throttled: throttled === null ? null : parseThrottled(throttled),
    };
  }

  async #temperature(): Promise<number | null> {
    if (this.#temperaturePath === undefined) this.#temperaturePath = await findCpuZone(this.#thermalDir);
    if (this.#temperaturePath === null) return null;
    const text = readText(this.#temperaturePath);
    return text === null ? null : parseMilliCelsius(text);
  }
}

/**
 * The temperature file of the CPU's thermal zone, searched once: the first zone whose
 * type names the CPU or SoC, else the first zone with a temperature; null if none.
 */
async function findCpuZone(dir: string): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith('thermal_zone')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return null;
  }
  let fallback: string | null = null;
  for (const name of names) {
    const temp = join(dir, name, 'temp');
    if (readText(temp) === null) continue;
    const type = readText(join(dir, name, 'type')) ?? '';
    if (CPU_ZONE.test(type)) return temp;
    fallback ??= temp;
  }
  return fallback;
}

export interface SamplerCost {
  readonly samples: number;
  /** CPU time of this process and of any child it waited for, per sample. */
  readonly cpuMsPerSample: number;
  /** Of which children (processes spawned); null where /proc/self/stat is not there to tell. */
  readonly childCpuMsPerSample: number | null;
  readonly wallMsPerSample: number;
}

/** CPU ms of waited-for children (cutime + cstime, in USER_HZ = 100 ticks/s on Linux). */
function childCpuMs(): number | null {
  try {
    const text = readFileSync('/proc/self/stat', 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * Measures what `samples` consecutive samples cost, after one warm-up sample (the
 * first one searches for the thermal zone). CPU time is process.cpuUsage() (all of
 * this process's threads, so run it while little else runs) plus children's time,
 * so a sampler that spawned processes could not hide their cost.
 */
export async function measureSamplerCost(sampler: { sample(): Promise<unknown> }, samples: number): Promise<SamplerCost> {
  if (typeof sampler?.sample !== 'function') throw new TelemetryError('BAD_ARGUMENT', 'measureSamplerCost: sampler must have a sample() method');
  if (!Number.isInteger(samples) || samples < 1 || samples > 1_000_000) {
    throw new TelemetryError('BAD_ARGUMENT', `measureSamplerCost: samples must be an integer from 1 to 1000000, got ${String(samples)}`);
  }
  await sampler.sample();
  const children = childCpuMs();
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < samples; i++) await sampler.sample();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const childrenAfter = childCpuMs();
  const child = children === null || childrenAfter === null ? null : (childrenAfter - children) / samples;
  return {
    samples,
    cpuMsPerSample: (used.user + used.system) / 1000 / samples + (child ?? 0),
    childCpuMsPerSample: child,
    wallMsPerSample: wall / samples,
  };
}

/** A measured cost, as it would be on a Raspberry Pi 4 (an estimate: see PI4_SLOWDOWN). */
export interface PiCost {
  readonly periodMs: number;
  readonly piCpuMsPerSample: number;
  /** Share of one Pi 4 core spent sampling at this period, in percent. */
  readonly piCoreSharePercent: number;
}

export function scaleToPi(cost: { readonly cpuMsPerSample: number }, periodMs: number = DEFAULT_SAMPLE_PERIOD_MS): PiCost {
  const ms = cost?.cpuMsPerSample;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TelemetryError('BAD_ARGUMENT', `scaleToPi: cpuMsPerSample must be a finite number >= 0, got ${String(ms)}`);
  if (typeof periodMs !== 'number' || !Number.isFinite(periodMs) || periodMs <= 0) throw new TelemetryError('BAD_ARGUMENT', `scaleToPi: periodMs must be a positive number, got ${String(periodMs)}`);
  const piCpuMsPerSample = ms * PI4_SLOWDOWN;
  return { periodMs, piCpuMsPerSample, piCoreSharePercent: (piCpuMsPerSample / periodMs) * 100 };
}
