/**
 * A typed socket over the addon's udpOpen/udpSend/udpClose: stamps as bigint
 * nanoseconds, several listeners, errors as NativeError. The addon's thread
 * for the socket does the sends; messages, TX stamps and send failures arrive
 * from it through Node's event loop.
 */
import { NativeError, fromAddonError } from './errors.js';
import type { NativeAddon, TimestampingMode, UdpOpenOptions, UdpStats } from './types.js';

export interface ReceivedMessage {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  /**
   * Receive stamp in ns since the epoch of the stamping clock, or null when the
   * datagram had none (Linux enables RX stamping lazily, so the first datagrams
   * after the first stamping socket opens may have none).
   */
  readonly rxNs: bigint | null;
}

export interface TxTimestamp {
  /** The id send() returned for that datagram. */
  readonly id: number;
  readonly txNs: bigint;
}

export interface TimestampedSocketOptions extends Omit<UdpOpenOptions, 'timestamping'> {
  /** 'auto': hardware when `interface` offers it and enabling it works, else software. */
  readonly timestamping: TimestampingMode | 'auto';
}

const NS_PER_SEC = 1_000_000_000n;

/** [sec, nsec] as nanoseconds. */
export function timespecToNs(sec: number, nsec: number): bigint {
  if (!Number.isSafeInteger(sec) || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) {
    throw new NativeError('BAD_ARGUMENT', `timespecToNs: expected integer seconds and nanoseconds in [0, 1e9), got ${sec}, ${nsec}`);
  }
  return BigInt(sec) * NS_PER_SEC + BigInt(nsec);
}

function isAddon(value: unknown): value is NativeAddon {
  const a = value as Partial<NativeAddon> | null;
  return typeof a === 'object' && a !== null && typeof a.udpOpen === 'function' && typeof a.udpSend === 'function';
}

export class TimestampedSocket {
  private readonly messageListeners = new Set<(msg: ReceivedMessage) => void>();
  private readonly txListeners = new Set<(tx: TxTimestamp) => void>();
  private readonly sendErrorListeners = new Set<(id: number, error: NativeError) => void>();
  private isClosed = false;

  private constructor(
    private readonly addon: NativeAddon,
    private readonly handle: number,
    /** The bound port (the ephemeral one when 0 was asked for). */
    readonly port: number,
    /** The timestamping actually in use. */
    readonly mode: TimestampingMode,
    /** Why this mode ('auto' explains its choice). */
    readonly modeReason: string,
  ) {}

  static open(addon: NativeAddon, options: TimestampedSocketOptions): TimestampedSocket {
    if (!isAddon(addon)) throw new NativeError('BAD_ARGUMENT', 'TimestampedSocket.open: addon must be the loaded native addon');
    if (typeof options !== 'object' || options === null) throw new NativeError('BAD_ARGUMENT', 'TimestampedSocket.open: options must be an object');
    const wanted = options.timestamping;
    if (wanted !== 'auto') {
      return TimestampedSocket.openMode(addon, options, wanted, `asked for '${wanted}'`);
    }
    if (typeof options.interface === 'string') {
      let offers = false;
      try {
        offers = addon.interfaceTimestamping(options.interface).hardware;
      } catch (err) {
        throw fromAddonError(err);
      }
      if (offers) {
        try {
          return TimestampedSocket.openMode(addon, options, 'hardware', `${options.interface} offers hardware timestamping`);
        } catch (err) {
          if (!(err instanceof NativeError) || err.code !== 'OS_ERROR') throw err;
          return TimestampedSocket.openMode(addon, options, 'software', `hardware timestamping on ${options.interface} failed (${err.errno ?? err.message})`);
        }
      }
      return TimestampedSocket.openMode(addon, options, 'software', `${options.interface} offers no hardware timestamping`);
    }
    return TimestampedSocket.openMode(addon, options, 'software', 'no interface given, so no NIC clock to use');
  }

  private static openMode(addon: NativeAddon, options: TimestampedSocketOptions, mode: TimestampingMode, reason: string): TimestampedSocket {
    // The callbacks need the instance, which needs the handle: route through a late-bound holder.
    let self: TimestampedSocket | null = null;
    let opened: { handle: number; port: number };
    try {
      opened = addon.udpOpen(
        { ...options, timestamping: mode },
        (data, address, port, rxSec, rxNsec) => self?.emitMessage(data, address, port, rxSec, rxNsec),
        (id, sec, nsec) => self?.emitTx(id, sec, nsec),
        (id, code, message) => self?.emitSendError(id, code, message),
      );
    } catch (err) {
      throw fromAddonError(err);
    }
    self = new TimestampedSocket(addon, opened.handle, opened.port, mode, reason);
    return self;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Queues one datagram for the socket's thread; returns the id its TX stamp
   * (or its send error, see onSendError) will carry. Throws NativeError at once
   * for bad arguments, a closed socket, EMSGSIZE, or EAGAIN when 1024 datagrams
   * are already waiting.
   */
  send(data: Buffer, address: string, port: number): number {
    if (this.isClosed) throw new NativeError('CLOSED', `TimestampedSocket.send: socket on port ${this.port} is closed`);
    try {
      return this.addon.udpSend(this.handle, data, address, port);
    } catch (err) {
      throw fromAddonError(err);
    }
  }

  /** Adds a listener; returns the function that removes it. */
  onMessage(listener: (msg: ReceivedMessage) => void): () => void {
    if (typeof listener !== 'function') throw new NativeError('BAD_ARGUMENT', 'TimestampedSocket.onMessage: listener must be a function');
    this.messageListeners.add(listener);
    return () => void this.messageListeners.delete(listener);
  }

  onTxTimestamp(listener: (tx: TxTimestamp) => void): () => void {
    if (typeof listener !== 'function') throw new NativeError('BAD_ARGUMENT', 'TimestampedSocket.onTxTimestamp: listener must be a function');
    this.txListeners.add(listener);
    return () => void this.txListeners.delete(listener);
  }

  /** The OS refused to send datagram `id` (error.code 'OS_ERROR', error.errno e.g. 'EACCES'); no TX stamp follows for it. */
  onSendError(listener: (id: number, error: NativeError) => void): () => void {
    if (typeof listener !== 'function') throw new NativeError('BAD_ARGUMENT', 'TimestampedSocket.onSendError: listener must be a function');
    this.sendErrorListeners.add(listener);
    return () => void this.sendErrorListeners.delete(listener);
  }

  stats(): UdpStats {
    if (this.isClosed) throw new NativeError('CLOSED', `TimestampedSocket.stats: socket on port ${this.port} is closed`);
    try {
      return this.addon.udpStats(this.handle);
    } catch (err) {
      throw fromAddonError(err);
    }
  }

  /** Stops the socket's thread and closes the socket; datagrams still queued are dropped and no events follow. Closing twice is harmless. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.messageListeners.clear();
    this.txListeners.clear();
    this.sendErrorListeners.clear();
    this.addon.udpClose(this.handle);
  }

  private emitMessage(data: Buffer, address: string, port: number, rxSec: number, rxNsec: number): void {
    if (this.isClosed) return;
    const msg: ReceivedMessage = { data, address, port, rxNs: rxSec < 0 ? null : timespecToNs(rxSec, rxNsec) };
    for (const l of this.messageListeners) l(msg);
  }

  private emitTx(id: number, sec: number, nsec: number): void {
    if (this.isClosed) return;
    const tx: TxTimestamp = { id, txNs: timespecToNs(sec, nsec) };
    for (const l of this.txListeners) l(tx);
  }

  private emitSendError(id: number, code: string, message: string): void {
    if (this.isClosed) return;
    const error = new NativeError('OS_ERROR', message, code);
    for (const l of this.sendErrorListeners) l(id, error);
  }
}
