/**
 * A real Mosquitto broker for tests: installed from Debian if missing (CI and
 * fresh machines run as root), started on a free loopback port with a config
 * written here, stopped and restarted on the same port at will.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinary } from './debian.js';
import { freePort } from './ports.js';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

/** The mosquitto binary, installing the Debian package once if it is absent. */
export function ensureMosquitto(): string {
  return ensureBinary(CANDIDATES, 'mosquitto');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Broker {
  readonly url: string;
  readonly port: number;
  /** Stops the broker (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface MosquittoOptions {
  /** Extra lines for the listener section (TLS and the like). */
  readonly listenerLines?: readonly string[];
  readonly protocol?: 'mqtt' | 'mqtts';
  /** Keep sessions and queued messages across a restart (saved on SIGTERM, as a real broker would). */
  readonly persistence?: boolean;
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Broker> {
  const binary = ensureMosquitto();
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  await writeFile(
    config,
    [
      // As root, mosquitto would drop to its own user before reading key files; tests keep root.
      'user root',
      ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`, 'max_queued_messages 100000'] : ['persistence false']),
      'log_dest stderr',
      'log_type error',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(options.listenerLines ?? []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `${options.protocol ?? 'mqtt'}://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
