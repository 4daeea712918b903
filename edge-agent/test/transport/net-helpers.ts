/** Helpers for the live-socket transport tests (not a test file itself). */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { generateKeyPair, toHex, type KeyPair } from '../../src/identity/index.js';
import {
  ACT_TWO_SIZE,
  ConnectionManager,
  accept,
  initiator,
  openSession,
  type Channel,
  type ManagerOptions,
  type Session,
} from '../../src/transport/index.js';

export const LOCAL = '127.0.0.1';
export const unlimited = { messagesPerSec: Infinity, bytesPerSec: Infinity };

export function address(key: KeyPair | Uint8Array, port: number): string {
  return `${toHex(key instanceof Uint8Array ? key : key.publicKey)}@${LOCAL}:${port}`;
}

/** Polls `check` every 10 ms until it holds; fails after `ms` (a safety net, never a speed assertion). */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A manager on a random port with a fresh key; closed by the returned cleanup. */
export async function startManager(options: Partial<ManagerOptions> = {}): Promise<{ manager: ConnectionManager; keys: KeyPair; port: number }> {
  const keys = generateKeyPair();
  const manager = new ConnectionManager({ secretKey: keys.secretKey, ...options });
  const { port } = await manager.listen(`${LOCAL}:0`);
  return { manager, keys, port };
}

/** A plain TCP server whose accepted sockets become channels through accept(). */
export async function channelServer(options: Omit<Parameters<typeof accept>[1], 'secretKey'> = {}): Promise<{
  keys: KeyPair;
  port: number;
  channels: Promise<Channel>[];
  close: () => Promise<void>;
}> {
  const keys = generateKeyPair();
  const channels: Promise<Channel>[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const attempt = accept(socket, { secretKey: keys.secretKey, ...options });
    attempt.catch(() => {});
    channels.push(attempt);
  });
  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
  return {
    keys,
    port: (server.address() as AddressInfo).port,
    channels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads exactly `n` bytes from a raw socket. */
function readExactly(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= n) {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        if (got.length > n) socket.unshift(got.subarray(n));
        resolve(got.subarray(0, n));
      }
    };
    const onClose = (): void => reject(new Error('socket closed during read'));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

export interface RawPeer {
  readonly socket: Socket;
  readonly session: Session;
  readonly keys: KeyPair;
}

/** A misbehaving peer: a raw socket that completes a real handshake as initiator, then writes whatever the test wants. */
export async function rawHandshake(port: number, responderKey: Uint8Array): Promise<RawPeer> {
  const keys = generateKeyPair();
  const socket = await rawConnect(port);
  const core = initiator({ localStatic: keys.secretKey, remoteStatic: responderKey });
  socket.write(core.actOne());
  socket.write(core.actTwo(await readExactly(socket, ACT_TWO_SIZE)));
  socket.resume();
  return { socket, session: openSession(core.result()), keys };
}

export function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOCAL, port }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves once the raw socket is closed by the other side. */
export function closedByOther(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.resume();
  });
}
