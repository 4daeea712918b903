/**
 * sd_notify(3) for the agent under systemd (Type=notify): READY=1, STATUS=,
 * STOPPING=1 and the watchdog's WATCHDOG=1. See docs/systemd.md.
 *
 * Node cannot send an AF_UNIX datagram, so a message goes through the first of:
 * the native addon (native-napi; not built yet, the seam is loadNativeNotify),
 * then the `systemd-notify` tool, else nothing (one log line says so). Without
 * NOTIFY_SOCKET (not started by systemd) the notifier is off and silent.
 *
 * `systemd-notify` runs as our child, so its message carries its own PID unless
 * it may forge ours (root only): the unit needs NotifyAccess=all. Since systemd
 * 246 the tool then waits for the manager to have read the message (BARRIER=1),
 * which keeps it alive, and so attributable to our cgroup, until then.
 */
import { spawn as nodeSpawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isClock, systemClock, type Clock, type Timer } from '../clock/index.js';

export type NotifyErrorCode =
  /** A caller passed something of the wrong type or shape. */
  | 'BAD_ARGUMENT'
  /** NOTIFY_SOCKET, WATCHDOG_USEC or WATCHDOG_PID is set but malformed. */
  | 'BAD_ENVIRONMENT'
  /** A backend could not deliver a message (systemd-notify failed, timed out or could not start). */
  | 'SEND_FAILED';

export class NotifyError extends Error {
  override readonly name = 'NotifyError';
  constructor(
    readonly code: NotifyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One way of handing newline-separated assignments ("READY=1\nSTATUS=x") to the service manager. */
export interface NotifyBackend {
  readonly name: string;
  send(state: string): Promise<void>;
}

export type NativeNotifyLoad = { readonly backend: NotifyBackend } | { readonly backend: null; readonly reason: string };

/**
 * Where the Rust addon's sd_notify will plug in (native-napi, with the PTP work).
 * Nothing is built yet, so there is nothing to load: it says so rather than
 * pretending.
 */
export function loadNativeNotify(): NativeNotifyLoad {
  return { backend: null, reason: 'native addon not present' };
}

/** What the notifier needs of a child process; node:child_process's ChildProcess has it. */
export interface NotifyChild {
  once(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  kill(signal?: NodeJS.Signals): boolean;
  readonly stderr: { on(event: 'data', listener: (chunk: Buffer) => void): unknown } | null;
}

export type SpawnFn = (command: string, args: readonly string[], options: { readonly env: Readonly<Record<string, string>> }) => NotifyChild;

export type Environment = Readonly<Record<string, string | undefined>>;

export const defaultSpawn: SpawnFn = (command, args, options) =>
  nodeSpawn(command, [...args], { env: { ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });

/** A systemd-notify that outlives this is stuck: its own barrier gives up after 5 s. */
export const DEFAULT_CHILD_TIMEOUT_MS = 10_000;
const MAX_STDERR = 1024;
/** systemd's default PATH for services, used when the environment has none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The first executable regular file called `name` in PATH; relative entries are skipped (they would mean the cwd). */
export function findOnPath(name: string, env: Environment): string | null {
  if (typeof name !== 'string' || name === '' || name.includes('/')) {
    throw new NotifyError('BAD_ARGUMENT', `findOnPath: name must be a bare file name, got ${JSON.stringify(name)}`);
  }
  for (const dir of (env.PATH ?? DEFAULT_PATH).split(':')) {
    if (!isAbsolute(dir)) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here: try the next entry
    }
  }
  return null;
}

export interface SystemdNotifyBackendOptions {
  /** Absolute path of systemd-notify. */
  readonly path: string;
  /** The environment the child gets (it reads NOTIFY_SOCKET from it). */
  readonly env: Environment;
  /** Our PID, passed as --pid: see send(). */
  readonly pid: number;
  readonly spawn?: SpawnFn;
  readonly clock?: Clock;
  /** After this the child is killed and the send fails. */
  readonly timeoutMs?: number;
}

/** sd_notify through the `systemd-notify` tool, one child per message. */
export class SystemdNotifyBackend implements NotifyBackend {
  readonly name = 'systemd-notify';
  readonly #path: string;
  readonly #env: Readonly<Record<string, string>>;
  readonly #pid: number;
  readonly #spawn: SpawnFn;
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(opts: SystemdNotifyBackendOptions) {
    if (typeof opts !== 'object' || opts === null) throw new NotifyError('BAD_ARGUMENT', 'SystemdNotifyBackend: options must be an object');
    if (typeof opts.path !== 'string' || !isAbsolute(opts.path)) {
      throw new NotifyError('BAD_ARGUMENT', `SystemdNotifyBackend: path must be absolute, got ${JSON.stringify(opts.path)}`);
    }
    this.#path = opts.path;
    this.#env = definedEntries(checkEnv(opts.env, 'SystemdNotifyBackend'));
    this.#pid = checkPid(opts.pid, 'SystemdNotifyBackend: pid');
    this.#spawn = checkFunction(opts.spawn, 'spawn') ?? defaultSpawn;
    this.#clock = checkClock(opts.clock);
    this.#timeoutMs = checkTimeout(opts.timeoutMs);
  }

  /**
   * Runs `systemd-notify --pid=<us> -- LINE...`. --pid adds MAINPID=<us> (we are
   * the main process: the wrapper execs node) and, where the sender may forge
   * credentials (root), makes the message ours rather than the short-lived
   * child's. Unprivileged, the kernel refuses the forgery and the tool falls
   * back to its own PID; its barrier then covers the exit race.
   */
  send(state: string): Promise<void> {
    const lines = checkState(state);
    return new Promise<void>((resolve, reject) => {
      let child: NotifyChild;
      try {
        child = this.#spawn(this.#path, [`--pid=${this.#pid}`, '--', ...lines], { env: this.#env });
      } catch (err) {
        reject(new NotifyError('SEND_FAILED', `${this.#path}: could not start (${describe(err)})`, { cause: err }));
        return;
      }
      let stderr = '';
      let done = false;
      const finish = (err: NotifyError | null): void => {
        if (done) return;
        done = true;
        timer.cancel();
        if (err) reject(err);
        else resolve();
      };
      const timer: Timer = this.#clock.setTimer(this.#timeoutMs, () => {
        child.kill('SIGKILL');
        finish(new NotifyError('SEND_FAILED', `${this.#path}: no answer within ${this.#timeoutMs} ms, killed`));
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8', 0, MAX_STDERR - stderr.length);
      });
      child.once('error', (err) => finish(new NotifyError('SEND_FAILED', `${this.#path}: ${describe(err)}`, { cause: err })));
      child.once('close', (code, signal) => {
        if (code === 0) return finish(null);
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with ${code}`;
        const said = stderr.trim().replace(/\s+/g, ' ');
        finish(new NotifyError('SEND_FAILED', `${this.#path} ${how}${said ? `: ${said}` : ''}`));
      });
    });
  }
}

/** What the agent needs of a notifier; tests inject their own. */
export interface Notifier {
  /** READY=1: the agent serves. */
  ready(): Promise<void>;
  /** STATUS=<text>: shown by `systemctl status`. */
  status(text: string): Promise<void>;
  /** STOPPING=1: the agent has begun to stop. */
  stopping(): Promise<void>;
  /** Sends WATCHDOG=1 every half of WATCHDOG_USEC until stopWatchdog(); no-op without a watchdog. */
  startWatchdog(): void;
  stopWatchdog(): void;
  stats(): NotifyStats;
}

export interface NotifyStats {
  [key: string]: number | string | boolean | null;
  readonly enabled: boolean;
  /** The backend in use, null when off or when none is available. */
  readonly backend: string | null;
  /** Half of WATCHDOG_USEC, in ms; null without a watchdog for this process. */
  readonly watchdogPeriodMs: number | null;
  /** Messages delivered (several queued assignments may share one). */
  readonly sent: number;
  readonly failed: number;
  readonly watchdogSent: number;
  /** Watchdog pings skipped because the previous message was still in flight. */
  readonly watchdogSkippedBusy: number;
}

export interface NotifierLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SdNotifierOptions {
  /** Defaults to process.env. */
  readonly env?: Environment;
  /** Defaults to process.pid. */
  readonly pid?: number;
  readonly clock?: Clock;
  readonly log?: NotifierLog;
  /** How systemd-notify is started; defaults to node:child_process. */
  readonly spawn?: SpawnFn;
  /** Finds systemd-notify; defaults to a PATH search. */
  readonly findExecutable?: (name: string, env: Environment) => string | null;
  /** Loads the native backend; defaults to loadNativeNotify. */
  readonly native?: () => NativeNotifyLoad;
  readonly childTimeoutMs?: number;
}

const MAX_STATUS_LENGTH = 1024;
const silent: NotifierLog = { info: () => {}, warn: () => {} };

/**
 * The agent's sd_notify: reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID
 * once, picks a backend, and sends one message at a time (later assignments
 * wait and are merged, so the manager sees them in order and a slow
 * systemd-notify never piles up children).
 */
export class SdNotifier implements Notifier {
  readonly enabled: boolean;
  readonly backend: NotifyBackend | null;
  /** Half of WATCHDOG_USEC in ms, or null: no watchdog for this process. */
  readonly watchdogPeriodMs: number | null;
  readonly #clock: Clock;
  readonly #log: NotifierLog;
  #inFlight = false;
  /** Assignments waiting for the message in flight; the latest value of a key wins. */
  #pending = new Map<string, string>();
  #waiters: (() => void)[] = [];
  #watchdog: Timer | null = null;
  #failing = false;
  #sent = 0;
  #failed = 0;
  #watchdogSent = 0;
  #watchdogSkippedBusy = 0;

  constructor(opts: SdNotifierOptions = {}) {
    if (typeof opts !== 'object' || opts === null) throw new NotifyError('BAD_ARGUMENT', 'SdNotifier: options must be an object');
    const env = checkEnv(opts.env ?? process.env, 'SdNotifier');
    const pid = checkPid(opts.pid ?? process.pid, 'SdNotifier: pid');
    this.#clock = checkClock(opts.clock);
    this.#log = checkLog(opts.log);
    const spawn = checkFunction(opts.spawn, 'spawn');
    const find = checkFunction(opts.findExecutable, 'findExecutable') ?? findOnPath;
    const native = checkFunction(opts.native, 'native') ?? loadNativeNotify;

    const socket = parseNotifySocket(env.NOTIFY_SOCKET);
    this.enabled = socket !== null;
    this.watchdogPeriodMs = null;
    this.backend = null;
    if (socket === null) return; // not under systemd: off, and nothing worth a log line

    const watchdog = parseWatchdog(env.WATCHDOG_USEC, env.WATCHDOG_PID);
    if (watchdog !== null && watchdog.pid !== null && watchdog.pid !== pid) {
      this.#log.warn(
        { event: 'sd-notify', watchdogPid: watchdog.pid, pid },
        `WATCHDOG_PID=${watchdog.pid} is not this process (${pid}): no watchdog pings; ExecStart must exec the agent`,
      );
    } else if (watchdog !== null) {
      // Half the timeout, as sd_watchdog_enabled(3) advises: one late tick is not yet a kill.
      this.watchdogPeriodMs = Math.max(1, Math.floor(watchdog.usec / 2000));
    }

    const loaded = native();
    const tool = loaded.backend === null ? find('systemd-notify', env) : null;
    if (loaded.backend !== null) {
      this.backend = loaded.backend;
    } else if (tool !== null) {
      this.backend = new SystemdNotifyBackend({
        path: tool,
        env,
        pid,
        clock: this.#clock,
        ...(spawn ? { spawn } : {}),
        ...(opts.childTimeoutMs !== undefined ? { timeoutMs: opts.childTimeoutMs } : {}),
      });
    } else {
      // Type=notify waits for READY=1: without a way to send it, systemd will time the start out.
      this.#log.warn(
        { event: 'sd-notify', enabled: false, native: loaded.reason },
        `sd_notify skipped: ${loaded.reason} and no systemd-notify on PATH (NOTIFY_SOCKET=${socket})`,
      );
      return;
    }
    const why = loaded.backend === null ? ` (${loaded.reason})` : '';
    this.#log.info(
      { event: 'sd-notify', backend: this.backend.name, watchdogPeriodMs: this.watchdogPeriodMs },
      `sd_notify through ${this.backend.name}${why}`,
    );
  }

  ready(): Promise<void> {
    return this.#send([['READY', '1']]);
  }

  status(text: string): Promise<void> {
    if (typeof text !== 'string' || text.length > MAX_STATUS_LENGTH || /[\n\0]/.test(text)) {
      throw new NotifyError('BAD_ARGUMENT', `status: expected a line of at most ${MAX_STATUS_LENGTH} characters without newline or NUL, got ${describeValue(text)}`);
    }
    return this.#send([['STATUS', text]]);
  }

  stopping(): Promise<void> {
    return this.#send([['STOPPING', '1']]);
  }

  startWatchdog(): void {
    const period = this.watchdogPeriodMs;
    if (period === null || this.backend === null || this.#watchdog !== null) return;
    // A timer on the event loop: a stuck loop stops the pings, and systemd kills us.
    const tick = (): void => {
      this.#watchdog = this.#clock.setTimer(period, tick);
      if (this.#inFlight) {
        this.#watchdogSkippedBusy++;
        return;
      }
      this.#watchdogSent++;
      void this.#send([['WATCHDOG', '1']]);
    };
    this.#watchdog = this.#clock.setTimer(period, tick);
  }

  stopWatchdog(): void {
    this.#watchdog?.cancel();
    this.#watchdog = null;
  }

  stats(): NotifyStats {
    return {
      enabled: this.enabled,
      backend: this.backend?.name ?? null,
      watchdogPeriodMs: this.watchdogPeriodMs,
      sent: this.#sent,
      failed: this.#failed,
      watchdogSent: this.#watchdogSent,
      watchdogSkippedBusy: this.#watchdogSkippedBusy,
    };
  }

  /** Resolves once the message carrying these assignments is delivered or has failed (failures are logged, never thrown). */
  #send(assignments: readonly (readonly [string, string])[]): Promise<void> {
    if (this.backend === null) return Promise.resolve();
    for (const [key, value] of assignments) this.#pending.set(key, value);
    const delivered = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#pump();
    return delivered;
  }

  #pump(): void {
    const backend = this.backend;
    if (backend === null || this.#inFlight || this.#pending.size === 0) return;
    const state = [...this.#pending].map(([k, v]) => `${k}=${v}`).join('\n');
    const waiters = this.#waiters;
    this.#pending = new Map();
    this.#waiters = [];
    this.#inFlight = true;
    let sending: Promise<void>;
    try {
      sending = backend.send(state);
    } catch (err) {
      sending = Promise.reject(err);
    }
    void sending
      .then(
        () => {
          this.#sent++;
          if (this.#failing) this.#log.info({ event: 'sd-notify', backend: backend.name }, 'sd_notify works again');
          this.#failing = false;
        },
        (err: unknown) => {
          this.#failed++;
          // Once per run of failures: a broken tool would otherwise log every watchdog period.
          if (!this.#failing) this.#log.warn({ event: 'sd-notify', backend: backend.name, state }, `sd_notify failed: ${describe(err)}`);
          this.#failing = true;
        },
      )
      .finally(() => {
        this.#inFlight = false;
        for (const w of waiters) w();
        this.#pump();
      });
  }
}

/** NOTIFY_SOCKET as systemd sets it: an absolute path, an abstract "@name", or (systemd 253+) "vsock:CID:PORT". */
function parseNotifySocket(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  const ok = (value.startsWith('/') && Buffer.byteLength(value) < 108) || /^@[^\0]{1,106}$/.test(value) || /^vsock(-stream|-dgram|-seqpacket)?:\d+:\d+$/.test(value);
  if (!ok || value.includes('\0')) {
    throw new NotifyError('BAD_ENVIRONMENT', `NOTIFY_SOCKET: expected an absolute socket path (under 108 bytes), "@name" or "vsock:CID:PORT", got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseWatchdog(usec: string | undefined, pid: string | undefined): { usec: number; pid: number | null } | null {
  if (usec === undefined || usec === '') return null;
  if (!/^[1-9]\d{0,15}$/.test(usec)) {
    throw new NotifyError('BAD_ENVIRONMENT', `WATCHDOG_USEC: expected a positive decimal number of microseconds, got ${JSON.stringify(usec)}`);
  }
  if (pid === undefined || pid === '') return { usec: Number(usec), pid: null };
  if (!/^[1-9]\d{0,9}$/.test(pid)) {
    throw new NotifyError('BAD_ENVIRONMENT', `WATCHDOG_PID: expected a positive decimal PID, got ${JSON.stringify(pid)}`);
  }
  return { usec: Number(usec), pid: Number(pid) };
}

function checkState(state: string): string[] {
  if (typeof state !== 'string' || state === '' || state.includes('\0')) {
    throw new NotifyError('BAD_ARGUMENT', `send: expected newline-separated KEY=VALUE lines, got ${describeValue(state)}`);
  }
  const lines = state.split('\n');
  for (const line of lines) {
    if (!/^[A-Z][A-Z0-9_]*=/.test(line)) throw new NotifyError('BAD_ARGUMENT', `send: expected KEY=VALUE, got ${JSON.stringify(line)}`);
  }
  return lines;
}

function checkEnv(env: unknown, who: string): Environment {
  if (typeof env !== 'object' || env === null) throw new NotifyError('BAD_ARGUMENT', `${who}: env must be an object`);
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && typeof v !== 'string') throw new NotifyError('BAD_ARGUMENT', `${who}: env.${k} must be a string`);
  }
  return env as Environment;
}

function definedEntries(env: Environment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function checkPid(pid: unknown, what: string): number {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) throw new NotifyError('BAD_ARGUMENT', `${what} must be a positive integer, got ${describeValue(pid)}`);
  return pid;
}

function checkClock(clock: unknown): Clock {
  if (clock === undefined) return systemClock;
  if (!isClock(clock)) {
    throw new NotifyError('BAD_ARGUMENT', 'clock must be a Clock');
  }
  return clock;
}

function checkTimeout(ms: unknown): number {
  if (ms === undefined) return DEFAULT_CHILD_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0) throw new NotifyError('BAD_ARGUMENT', `timeoutMs must be a positive integer, got ${describeValue(ms)}`);
  return ms;
}

function checkLog(log: unknown): NotifierLog {
  if (log === undefined) return silent;
  const l = log as Partial<NotifierLog>;
  if (typeof l !== 'object' || l === null || typeof l.info !== 'function' || typeof l.warn !== 'function') {
    throw new NotifyError('BAD_ARGUMENT', 'log must have info() and warn()');
  }
  return log as NotifierLog;
}

function checkFunction<T>(fn: T | undefined, what: string): T | undefined {
  if (fn !== undefined && typeof fn !== 'function') throw new NotifyError('BAD_ARGUMENT', `${what} must be a function`);
  return fn;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return v === null ? 'null' : typeof v;
}
