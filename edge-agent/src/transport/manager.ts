/**
 * The connection manager: listens, dials (once, or for good with redialling),
 * keeps exactly one channel per remote peer, caps handshakes and connections,
 * and counts and logs every end of a connection by its reason. One failing
 * connection never disturbs another.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { HostPort, PeerAddress } from '../config/index.js';
import { hostPort, peerAddress } from './address.js';
import { peerIdOf, shortId, toHex } from '../identity/index.js';
import { resolveBackoff, type BackoffOptions } from './backoff.js';
import type { Channel, CloseInfo } from './channel.js';
import { acceptWith, localKeys, startDial, type LocalKeys } from './connection.js';
import { TransportError } from './errors.js';
import { integerOption, resolveChannelOptions, type ChannelOptions, type ResolvedChannelOptions } from './options.js';
import { logSink, messageOf, type LogSink } from './log.js';
import { isRoutine, reasonOf, type CloseReason } from './reasons.js';
import { Redialer } from './redial.js';

export interface ManagerOptions extends ChannelOptions {
  /** Our 32-byte static secret key; copied, and the copy wiped by close(). */
  readonly secretKey: Uint8Array;
  readonly logger?: LogSink;
  /** Handshakes in progress, both ways (default 32). */
  readonly maxHandshakes?: number;
  /** Handshakes plus open channels (default 128). */
  readonly maxConnections?: number;
  /** Redial delays for bootstrap peers. */
  readonly backoff?: Partial<BackoffOptions>;
}

export interface ChannelClosed {
  readonly channel: Channel;
  /** Hex peer id. */
  readonly peer: string;
  readonly info: CloseInfo;
}

function peerKey(peerId: unknown): string {
  if (!(peerId instanceof Uint8Array) || peerId.length !== 32) {
    throw new TransportError('BAD_ARGUMENT', 'A peer id is 32 bytes (SHA-256 of the public key).');
  }
  return toHex(peerId);
}

export class ConnectionManager {
  readonly #keys: LocalKeys;
  readonly #peerId: Uint8Array;
  readonly #options: ResolvedChannelOptions;
  readonly #log: LogSink;
  readonly #maxHandshakes: number;
  readonly #maxConnections: number;
  readonly #redialer: Redialer;

  readonly #channels = new Map<string, Channel>();
  readonly #dialing = new Map<string, Promise<Channel>>();
  readonly #handshaking = new Set<Socket>();
  readonly #counters = new Map<CloseReason, number>();
  readonly #openListeners = new Set<(channel: Channel) => void>();
  readonly #closeListeners = new Set<(event: ChannelClosed) => void>();
  /** Channels announced through onOpen, so that their close is announced too. */
  readonly #opened = new WeakSet<Channel>();
  #server: Server | undefined;
  #closed = false;

  constructor(options: ManagerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TransportError('BAD_ARGUMENT', 'The manager options must be an object.');
    }
    this.#options = resolveChannelOptions(options);
    this.#log = logSink(options.logger);
    this.#maxHandshakes = integerOption(options.maxHandshakes, 32, 'maxHandshakes', 1);
    this.#maxConnections = integerOption(options.maxConnections, 128, 'maxConnections', 1);
    const backoff = resolveBackoff(options.backoff);
    this.#keys = localKeys(options.secretKey);
    this.#peerId = peerIdOf(this.#keys.publicKey);
    this.#redialer = new Redialer({
      clock: this.#options.clock,
      backoff,
      busy: (peer) => this.#channels.has(peer) || this.#dialing.has(peer),
      dial: (address) => this.dial(address).then((channel) => channel.isOpen),
    });
  }

  /** Our 33-byte static public key. */
  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#keys.publicKey);
  }

  /** Our peer id (SHA-256 of the public key). */
  get peerId(): Uint8Array {
    return Uint8Array.from(this.#peerId);
  }

  /** Connections closed (or refused, or failed) so far, by reason. */
  counters(): Record<string, number> {
    return Object.fromEntries(this.#counters);
  }

  /** The open channel to `peerId`, if there is one. */
  channel(peerId: Uint8Array): Channel | undefined {
    return this.#channels.get(peerKey(peerId));
  }

  /** Every open channel, one per peer. */
  channels(): Channel[] {
    return [...this.#channels.values()];
  }

  /** Calls `listener` for every channel that opens; returns the unsubscribe function. */
  onOpen(listener: (channel: Channel) => void): () => void {
    if (typeof listener !== 'function') throw new TransportError('BAD_ARGUMENT', 'The listener must be a function.');
    this.#openListeners.add(listener);
    return () => this.#openListeners.delete(listener);
  }

  /** Calls `listener` for every opened channel that closes; returns the unsubscribe function. */
  onClose(listener: (event: ChannelClosed) => void): () => void {
    if (typeof listener !== 'function') throw new TransportError('BAD_ARGUMENT', 'The listener must be a function.');
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Listens on "host:port" (port 0 picks a free port); resolves with the bound address. */
  async listen(address: string | HostPort): Promise<HostPort> {
    this.#requireOpen();
    if (this.#server !== undefined) throw new TransportError('BAD_ARGUMENT', 'This manager is already listening.');
    const { host, port } = hostPort(address);
    const server = createServer((socket) => this.#inbound(socket));
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.#server = undefined;
      throw new TransportError('SOCKET_ERROR', `Cannot listen on ${host}:${port}: ${messageOf(err)}`);
    }
    server.on('error', (err) => this.#log.warn({ event: 'transport.server_error', err: err.message }, 'transport: server error'));
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new TransportError('SOCKET_ERROR', 'The server has no TCP address.');
    return { host, port: bound.port };
  }

  /**
   * Dials `address` once. Resolves with the channel to that peer: the one
   * just made, or the one that won against it (an existing channel, or a dial
   * already in progress). Rejects with a TransportError naming the failure.
   */
  dial(address: string | PeerAddress): Promise<Channel> {
    try {
      this.#requireOpen();
      const target = peerAddress(address);
      const peer = toHex(peerIdOf(target.publicKey));
      const existing = this.#channels.get(peer);
      if (existing !== undefined) return Promise.resolve(existing);
      const pending = this.#dialing.get(peer);
      if (pending !== undefined) return pending;
      const attempt = this.#dial(peer, target);
      this.#dialing.set(peer, attempt);
      const done = (): void => {
        this.#dialing.delete(peer);
      };
      attempt.then(done, done);
      return attempt;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Keeps a channel to each of `addresses` for good, redialling with jittered
   * backoff. Our own key is skipped (a fleet-wide list names every node).
   */
  connect(addresses: readonly (string | PeerAddress)[]): void {
    this.#requireOpen();
    if (!Array.isArray(addresses)) throw new TransportError('BAD_ARGUMENT', 'connect() needs an array of peer addresses.');
    const targets = addresses.map(peerAddress);
    for (const target of targets) {
      if (Buffer.compare(target.publicKey, this.#keys.publicKey) === 0) continue;
      this.#redialer.add(toHex(peerIdOf(target.publicKey)), target);
    }
  }

  /** Stops listening and redialling, closes every connection (LOCAL) and wipes our secret. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#redialer.stop();
    for (const socket of this.#handshaking) socket.destroy();
    for (const channel of this.#channels.values()) channel.close('LOCAL');
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#keys.secretKey.fill(0);
  }

  async #dial(peer: string, target: PeerAddress): Promise<Channel> {
    if (!this.#hasRoom()) {
      this.#count('CAPACITY', { event: 'transport.refused', peer: peer.slice(0, 8), direction: 'out' });
      this.#redialer.lost(peer);
      throw new TransportError('CAPACITY', 'The handshake or connection cap is reached; not dialling.');
    }
    let channel: Channel;
    try {
      const { socket, channel: attempt } = startDial(target, this.#keys, this.#options);
      channel = await this.#handshake(socket, attempt);
    } catch (err) {
      this.#failed(err, { peer: peer.slice(0, 8), remote: `${target.host}:${target.port}`, direction: 'out' });
      this.#redialer.lost(peer);
      throw err;
    }
    return this.#register(channel);
  }

  #inbound(socket: Socket): void {
    socket.on('error', () => {}); // failures are reported through the handshake or the channel
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.#closed || !this.#hasRoom()) {
      // A reset (not a FIN) also tells the dialler this is not a key mismatch.
      socket.resetAndDestroy();
      if (!this.#closed) this.#count('CAPACITY', { event: 'transport.refused', remote, direction: 'in' });
      return;
    }
    this.#handshake(socket, acceptWith(socket, this.#keys, this.#options)).then(
      (channel) => this.#register(channel),
      (err: unknown) => this.#failed(err, { remote, direction: 'in' }),
    );
  }

  /** Tracks the socket of a handshake in progress (for caps and shutdown). */
  async #handshake(socket: Socket, attempt: Promise<Channel>): Promise<Channel> {
    this.#handshaking.add(socket);
    try {
      return await attempt;
    } finally {
      this.#handshaking.delete(socket);
    }
  }

  #hasRoom(): boolean {
    const handshakes = this.#handshaking.size;
    return handshakes < this.#maxHandshakes && handshakes + this.#channels.size < this.#maxConnections;
  }

  /**
   * Adds a channel whose handshake just completed, resolving duplicates so
   * both ends keep the same one: the channel dialled by the peer with the
   * smaller public key wins; between two dialled by the same peer, the newer
   * wins (the older one is a leftover the dialler has already given up).
   */
  #register(channel: Channel): Channel {
    const peer = toHex(channel.remotePeerId);
    channel.onClose((info) => this.#closedChannel(channel, peer, info));
    if (!channel.isOpen) return channel;
    if (this.#closed) {
      channel.close('LOCAL');
      return channel;
    }
    const existing = this.#channels.get(peer);
    if (existing !== undefined && !this.#prefer(channel, existing)) {
      channel.close('DUPLICATE');
      // The survivor may be a dead leftover: a ping makes TCP find out fast.
      existing.ping();
      return existing;
    }
    this.#channels.set(peer, channel);
    this.#opened.add(channel);
    this.#redialer.opened(peer);
    existing?.close('DUPLICATE');
    for (const listener of this.#openListeners) this.#notify(() => listener(channel));
    return channel;
  }

  #prefer(candidate: Channel, existing: Channel): boolean {
    const dialler = (c: Channel): Uint8Array => (c.initiator ? this.#keys.publicKey : c.remotePublicKey);
    const order = Buffer.compare(dialler(candidate), dialler(existing));
    return order === 0 ? true : order < 0;
  }

  #closedChannel(channel: Channel, peer: string, info: CloseInfo): void {
    const wasOpen = this.#opened.delete(channel);
    if (this.#channels.get(peer) === channel) this.#channels.delete(peer);
    this.#count(info.reason, {
      event: 'transport.close',
      peer: shortId(channel.remotePeerId),
      remote: channel.remoteAddress,
      initiator: channel.initiator,
      err: info.error?.message,
    });
    if (!wasOpen) return;
    if (!this.#closed) this.#redialer.lost(peer);
    for (const listener of this.#closeListeners) this.#notify(() => listener({ channel, peer, info }));
  }

  #failed(err: unknown, context: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#count(reasonOf(err), { event: 'transport.handshake_failed', ...context, err: messageOf(err) });
  }

  #count(reason: CloseReason, context: Record<string, unknown>): void {
    this.#counters.set(reason, (this.#counters.get(reason) ?? 0) + 1);
    const entry = { ...context, reason };
    if (isRoutine(reason)) this.#log.info(entry, `transport: connection ended (${reason})`);
    else this.#log.warn(entry, `transport: connection ended (${reason})`);
  }

  /** A throwing listener is logged, never allowed to break the socket that triggered it. */
  #notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.#log.warn({ event: 'transport.listener_error', err: messageOf(err) }, 'transport: a listener threw');
    }
  }

  #requireOpen(): void {
    if (this.#closed) throw new TransportError('CLOSED', 'The connection manager is closed.');
  }
}
