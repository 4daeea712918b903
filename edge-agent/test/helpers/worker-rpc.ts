/**
 * Worker processes for tests and benchmarks that need real separate processes
 * (threshold members, PBFT replicas). They speak JSON lines: the parent writes
 * `{id, cmd, ...}` to the worker's stdin; the worker prints `{t: 'ready', port,
 * publicKey}` once, then `{t: 'ok', id, ...}` or `{t: 'error', id, message}` per
 * command (id −1: a failure of the worker itself). A worker leaves when its
 * stdin closes, so it never outlives its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Reply = Record<string, unknown>;
export type Command = { readonly id: number; readonly cmd: string } & Reply;

export interface WorkerSpawn {
  /** The worker script (run with `node --import=tsx`). */
  readonly script: string;
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --max-old-space-size=96). */
  readonly nodeFlags?: readonly string[];
  /** Where the worker's stderr goes (default: inherited). */
  readonly stderr?: 'inherit' | 'ignore';
}

/** The parent's handle on one worker process: JSON-line RPC, stop, SIGKILL. */
export class WorkerProcess {
  readonly name: string;
  readonly #proc: ChildProcess;
  readonly #pending = new Map<number, { cmd: string; resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | undefined;
  readonly ready: Promise<{ port: number; publicKey: string }>;
  readonly exited: Promise<void>;

  constructor(name: string, o: WorkerSpawn) {
    this.name = name;
    this.#proc = spawn(process.execPath, [...(o.nodeFlags ?? []), '--import=tsx', o.script], {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['pipe', 'pipe', o.stderr ?? 'inherit'],
    });
    let onReady: ((r: { port: number; publicKey: string }) => void) | undefined;
    let onFail: ((e: Error) => void) | undefined;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => this.#proc.once('exit', () => resolve()));
    createInterface({ input: this.#proc.stdout! }).on('line', (line) => {
      let msg: Reply;
      try {
        msg = JSON.parse(line) as Reply;
      } catch {
        return; // a stray log line
      }
      if (msg['t'] === 'ready') onReady?.({ port: msg['port'] as number, publicKey: msg['publicKey'] as string });
      else if (msg['t'] === 'error' && msg['id'] === -1) this.#fail(new Error(`${name}: ${String(msg['message'])}`), onFail);
      else {
        const p = this.#pending.get(msg['id'] as number);
        if (p === undefined) return;
        this.#pending.delete(msg['id'] as number);
        if (msg['t'] === 'ok') p.resolve(msg);
        else p.reject(new Error(`${name} failed "${p.cmd}": ${String(msg['message'])}`));
      }
    });
    this.#proc.on('exit', (code, signal) => this.#fail(new Error(`${name} exited (code ${code}, signal ${signal})`), onFail));
    this.#proc.on('error', (err) => this.#fail(new Error(`${name} could not run: ${err.message}`), onFail));
    this.#proc.stdin!.on('error', () => {}); // a dead worker's pipe: reported through 'exit'
  }

  #fail(err: Error, onFail?: (e: Error) => void): void {
    if (this.#dead !== undefined) return;
    this.#dead = err;
    onFail?.(err);
    for (const p of this.#pending.values()) p.reject(new Error(`${err.message} during "${p.cmd}"`));
    this.#pending.clear();
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  call(cmd: string, args: Reply = {}, timeoutMs = 60_000): Promise<Reply> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: "${cmd}" got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = <T>(fn: (v: T) => void) => (v: T): void => {
        clearTimeout(timer);
        fn(v);
      };
      this.#pending.set(id, { cmd, resolve: settle(resolve), reject: settle(reject) });
      this.#proc.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** Closes stdin (the worker leaves) and SIGKILLs it if it has not after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    this.#proc.stdin!.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL: no chance to flush or close anything. */
  kill(): void {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGKILL');
  }
}

/**
 * The worker's side: answers each command line with `handle`'s reply (or its error), leaves through `shutdown`
 * (once) on the `exit` command, when stdin closes or when something throws uncaught, and announces itself as ready.
 */
export function serveCommands(handle: (c: Command) => Promise<Reply>, shutdown: (code: number) => void | Promise<void>, ready: { port: number; publicKey: string }): void {
  const out = (o: Reply): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  let leaving = false;
  const leave = (code: number): void => {
    if (leaving) return;
    leaving = true;
    void shutdown(code);
  };
  const answer = (c: Command): Promise<Reply> => {
    if (c.cmd !== 'exit') return handle(c);
    setImmediate(() => leave(0)); // after the answer is out
    return Promise.resolve({});
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let c: Command;
    try {
      c = JSON.parse(line) as Command;
    } catch {
      out({ t: 'error', id: -1, message: `not JSON: ${line.slice(0, 80)}` });
      return;
    }
    answer(c).then(
      (r) => out({ t: 'ok', id: c.id, ...r }),
      (err: unknown) => out({ t: 'error', id: c.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  // The parent went away (or closed our stdin): leave.
  lines.on('close', () => leave(0));
  process.on('uncaughtException', (err) => {
    out({ t: 'error', id: -1, message: `uncaught: ${err.stack ?? err.message}` });
    leave(1);
  });
  out({ t: 'ready', ...ready });
}

// ---------------------------------------------------------------- reading a command's arguments

export const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** A finite number argument, or an error naming it. */
export const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} must be a number`);
  return v;
};

/** A string argument, or an error naming it. */
export const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
};
