/**
 * An authenticated, encrypted message channel over one TCP socket, after the
 * handshake. Every byte written goes through the Encryptor: not one plaintext
 * byte reaches the socket. Both directions are bounded:
 * - outbound, trySend() refuses (and send() waits for 'drain') once the socket
 *   holds highWaterMark bytes;
 * - inbound, reading pauses once the application leaves maxQueuedBytes
 *   unread, so TCP flow control slows the writer down.
 */
import type { Socket } from 'node:net';
import type { Timer } from '../clock/index.js';
import { TransportError } from './errors.js';
import { Assembler, PING_FRAME, PONG_FRAME, fragment, type AssemblySink } from './fragments.js';
import type { Session } from './session.js';
import type { ResolvedChannelOptions } from './options.js';
import { InboundLimiter } from './rate-limit.js';
import { isCloseReason, reasonOf, type CloseReason } from './reasons.js';
import { requireBytes } from './primitives.js';

export interface CloseInfo {
  readonly reason: CloseReason;
  /** The failure behind the reason, when there was one. */
  readonly error?: Error;
}

/** What the connection shell hands over once the handshake is done. */
export interface ChannelParams {
  readonly socket: Socket;
  readonly session: Session;
  readonly remotePublicKey: Uint8Array;
  readonly remotePeerId: Uint8Array;
  readonly handshakeHash: Uint8Array;
  /** True on the side that dialled. */
  readonly initiator: boolean;
  readonly options: ResolvedChannelOptions;
  /** Bytes that arrived with the end of the handshake. */
  readonly leftover: Uint8Array;
}

/** Queue cost of a message beyond its bytes, so empty messages are bounded too. */
const MESSAGE_OVERHEAD = 64;
/** Frames up to this many bytes are written as one buffer, larger ones in pieces. */
const SMALL_FRAME = 4096;
/** Read slots dropped from the front of the queue array once this many pile up. */
const COMPACT_AFTER = 1024;
/** How long a gracefully closed socket may take to say goodbye. */
const LINGER_MS = 2_000;

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class Channel {
  readonly #socket: Socket;
  readonly #session: Session;
  readonly #options: ResolvedChannelOptions;
  readonly #remotePublicKey: Uint8Array;
  readonly #remotePeerId: Uint8Array;
  readonly #handshakeHash: Uint8Array;
  readonly #initiator: boolean;
  readonly #remoteAddress: string;
  readonly #assembler: Assembler;
  readonly #limiter: InboundLimiter;
  readonly #sink: AssemblySink;
  readonly #highWaterMark: number;

  // Inbound queue: messages[head..] are unread.
  #queue: (Uint8Array | undefined)[] = [];
  #head = 0;
  #queuedBytes = 0;
  #paused = false;
  #readable: Deferred<boolean> | undefined;

  #drain: Deferred<void> | undefined;
  #corked = false;

  #lastReceived: number;
  #pinged = false;
  #timer: Timer | undefined;

  #closeInfo: CloseInfo | undefined;
  readonly #closed = deferred<CloseInfo>();
  readonly #closeListeners: ((info: CloseInfo) => void)[] = [];

  constructor(params: ChannelParams) {
    this.#socket = params.socket;
    this.#session = params.session;
    this.#options = params.options;
    this.#remotePublicKey = params.remotePublicKey;
    this.#remotePeerId = params.remotePeerId;
    this.#handshakeHash = params.handshakeHash;
    this.#initiator = params.initiator;
    this.#remoteAddress = `${params.socket.remoteAddress ?? '?'}:${params.socket.remotePort ?? '?'}`;
    this.#assembler = new Assembler(params.options.maxMessageSize);
    this.#limiter = new InboundLimiter(params.options.rateLimit, params.options.clock);
    this.#sink = {
      message: (data) => this.#enqueue(data),
      ping: () => this.#answerPing(),
      pong: () => {},
    };
    this.#lastReceived = params.options.clock.now();
    // 'drain' only comes once the socket itself reported a full buffer, so we never wait below its own mark.
    this.#highWaterMark = Math.max(params.options.highWaterMark, params.socket.writableHighWaterMark);

    const socket = this.#socket;
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onSocketClose);
    this.#arm(Math.min(this.#options.keepaliveMs, this.#options.idleTimeoutMs));
    if (params.leftover.length > 0) this.#onData(params.leftover);
  }

  /** The peer's 33-byte static public key, authenticated by the handshake. */
  get remotePublicKey(): Uint8Array {
    return Uint8Array.from(this.#remotePublicKey);
  }

  /** SHA-256 of the peer's public key (identity's peer id). */
  get remotePeerId(): Uint8Array {
    return Uint8Array.from(this.#remotePeerId);
  }

  /** The final BOLT 8 handshake hash h: identical on both ends of this channel only. */
  get handshakeHash(): Uint8Array {
    return Uint8Array.from(this.#handshakeHash);
  }

  /** True on the side that dialled. */
  get initiator(): boolean {
    return this.#initiator;
  }

  /** "address:port" of the peer's socket, for logs. */
  get remoteAddress(): string {
    return this.#remoteAddress;
  }

  get isOpen(): boolean {
    return this.#closeInfo === undefined;
  }

  /** Why the channel closed, once it has. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** Resolves (never rejects) with the close reason once the channel closes. */
  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }

  /** Encrypted bytes waiting in the socket (bounded by about highWaterMark plus one message). */
  get outboundBytes(): number {
    return this.#socket.writableLength;
  }

  /** Received bytes the application has not read yet (bounded by about maxQueuedBytes plus one read). */
  get inboundBytes(): number {
    return this.#queuedBytes;
  }

  /** Runs `listener` once, synchronously, when the channel closes (at once if it already has). */
  onClose(listener: (info: CloseInfo) => void): void {
    if (typeof listener !== 'function') throw new TransportError('BAD_ARGUMENT', 'The close listener must be a function.');
    if (this.#closeInfo !== undefined) listener(this.#closeInfo);
    else this.#closeListeners.push(listener);
  }

  /**
   * Encrypts and writes `message` if the socket holds less than highWaterMark
   * bytes and returns true; otherwise sends nothing and returns false: wait
   * for drained() and try again. The synchronous form for hot loops.
   */
  trySend(message: Uint8Array): boolean {
    requireBytes(message, 'The message');
    this.#requireOpen();
    if (message.length > this.#options.maxMessageSize) {
      throw new TransportError('TOO_LARGE', `A message may hold at most ${this.#options.maxMessageSize} bytes, got ${message.length}.`);
    }
    if (this.#socket.writableLength >= this.#highWaterMark) return false;
    for (const frame of fragment(message)) this.#write(frame);
    return true;
  }

  /** Resolves once trySend() may succeed again; rejects with CLOSED if the channel closes first. */
  drained(): Promise<void> {
    if (this.#closeInfo !== undefined) return Promise.reject(this.#closedError());
    if (this.#socket.writableLength < this.#highWaterMark) return Promise.resolve();
    this.#drain ??= deferred<void>();
    return this.#drain.promise;
  }

  /** Sends `message`, waiting while the socket is full; rejects with CLOSED if the channel closes first. */
  async send(message: Uint8Array): Promise<void> {
    while (!this.trySend(message)) await this.drained();
  }

  /** The next received message, or undefined when none is queued. Never waits. */
  read(): Uint8Array | undefined {
    if (this.#head === this.#queue.length) return undefined;
    const message = this.#queue[this.#head] as Uint8Array;
    this.#queue[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#queue.length) {
      // A reader that never quite catches up must not grow the array forever.
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#queuedBytes -= message.length + MESSAGE_OVERHEAD;
    // Resume at half the bound, so one read does not flip the socket every time.
    if (this.#paused && this.#queuedBytes <= this.#options.maxQueuedBytes / 2 && this.#closeInfo === undefined) {
      this.#paused = false;
      this.#lastReceived = this.#options.clock.now();
      this.#socket.resume();
    }
    return message;
  }

  /**
   * Resolves true once a message is queued, false once the channel is closed
   * and nothing is left to read. One promise per batch, not per message.
   */
  readable(): Promise<boolean> {
    if (this.#head < this.#queue.length) return Promise.resolve(true);
    if (this.#closeInfo !== undefined) return Promise.resolve(false);
    this.#readable ??= deferred<boolean>();
    return this.#readable.promise;
  }

  /** The next message, waiting for one; undefined once closed and drained. */
  async receive(): Promise<Uint8Array | undefined> {
    for (;;) {
      const message = this.read();
      if (message !== undefined || !(await this.readable())) return message;
    }
  }

  /** Sends a keepalive ping now (the manager uses it to probe a channel it keeps). */
  ping(): void {
    this.#requireOpen();
    this.#write(PING_FRAME);
  }

  /**
   * Closes the channel. LOCAL and DUPLICATE flush what was sent and say
   * goodbye; any other reason drops the socket at once. Idempotent.
   */
  close(reason: CloseReason = 'LOCAL', error?: Error): void {
    if (!isCloseReason(reason)) throw new TransportError('BAD_ARGUMENT', `Unknown close reason ${String(reason)}.`);
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = error === undefined ? { reason } : { reason, error };
    this.#timer?.cancel();
    this.#session.encryptor.destroy();
    this.#session.decoder.destroy();
    this.#assembler.reset();
    const socket = this.#socket;
    if (reason === 'LOCAL' || reason === 'DUPLICATE') {
      socket.end();
      const linger = this.#options.clock.setTimer(LINGER_MS, () => socket.destroy());
      socket.once('close', () => linger.cancel());
    } else {
      socket.destroy();
    }
    this.#readable?.resolve(this.#head < this.#queue.length);
    this.#readable = undefined;
    this.#drain?.reject(this.#closedError());
    this.#drain = undefined;
    const info = this.#closeInfo;
    this.#closed.resolve(info);
    for (const listener of this.#closeListeners.splice(0)) listener(info);
  }

  #write(parts: readonly Uint8Array[]): void {
    // Everything written in one tick leaves in one writev.
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    const encryptor = this.#session.encryptor;
    let length = 0;
    for (const part of parts) length += part.length;
    // Measured (docs/transport.md): small frames are cheaper as one buffer,
    // large ones as pieces, which saves copying the payload.
    if (length <= SMALL_FRAME) {
      this.#socket.write(encryptor.encrypt(Buffer.concat(parts, length)));
      return;
    }
    for (const piece of encryptor.encryptVector(parts)) this.#socket.write(piece);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  readonly #onData = (chunk: Uint8Array): void => {
    if (this.#closeInfo !== undefined) return;
    this.#lastReceived = this.#options.clock.now();
    this.#pinged = false;
    try {
      for (const pieces of this.#session.decoder.pushPieces(chunk)) {
        let length = 0;
        for (const piece of pieces) length += piece.length;
        if (!this.#limiter.bytes(length)) {
          throw new TransportError('RATE_LIMIT', 'The peer exceeded its inbound byte budget.');
        }
        this.#assembler.push(pieces, this.#sink);
      }
    } catch (err) {
      this.close(reasonOf(err), err instanceof Error ? err : undefined);
      return;
    }
    if (this.#queuedBytes >= this.#options.maxQueuedBytes && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    if (this.#readable !== undefined && this.#head < this.#queue.length) {
      this.#readable.resolve(true);
      this.#readable = undefined;
    }
  };

  #enqueue(data: Uint8Array): void {
    if (!this.#limiter.message()) throw new TransportError('RATE_LIMIT', 'The peer exceeded its inbound message budget.');
    this.#queue.push(data);
    this.#queuedBytes += data.length + MESSAGE_OVERHEAD;
  }

  #answerPing(): void {
    if (!this.#limiter.message()) throw new TransportError('RATE_LIMIT', 'The peer exceeded its inbound message budget.');
    // A peer that pings but never reads gets no pongs piling up in our buffer.
    if (this.#socket.writableLength < this.#highWaterMark) this.#write(PONG_FRAME);
  }

  readonly #onDrain = (): void => {
    this.#drain?.resolve();
    this.#drain = undefined;
  };

  readonly #onEnd = (): void => {
    const midway = this.#session.decoder.pending > 0 || this.#assembler.pending > 0;
    this.close(midway ? 'TRUNCATED' : 'CLOSED_BY_PEER');
  };

  readonly #onError = (err: Error): void => {
    this.close('SOCKET_ERROR', err);
  };

  readonly #onSocketClose = (): void => {
    this.close('CLOSED_BY_PEER');
  };

  /** One timer per channel, re-armed for the nearest of the idle and keepalive deadlines. */
  #arm(ms: number): void {
    this.#timer = this.#options.clock.setTimer(Math.max(1, ms), this.#onTimer);
  }

  readonly #onTimer = (): void => {
    if (this.#closeInfo !== undefined) return;
    const { clock, idleTimeoutMs, keepaliveMs } = this.#options;
    const now = clock.now();
    // While we hold reading back, the silence is ours, not the peer's.
    if (this.#paused) this.#lastReceived = now;
    const silent = now - this.#lastReceived;
    if (silent >= idleTimeoutMs) {
      this.close('IDLE_TIMEOUT', new TransportError('IDLE_TIMEOUT', `Nothing was received for ${silent} ms.`));
      return;
    }
    if (!this.#pinged && silent >= keepaliveMs) {
      this.#pinged = true;
      this.#write(PING_FRAME);
    }
    const idleIn = idleTimeoutMs - silent;
    this.#arm(this.#pinged ? idleIn : Math.min(idleIn, keepaliveMs - silent));
  };

  #requireOpen(): void {
    if (this.#closeInfo !== undefined) throw this.#closedError();
  }

  #closedError(): TransportError {
    return new TransportError('CLOSED', `The channel is closed (${this.#closeInfo?.reason ?? 'unknown'}).`);
  }
}
