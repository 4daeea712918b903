/**
 * Typed messaging above the channels of a ConnectionManager: wire/ envelopes
 * (canonical CBOR, checked against a MessageRegistry), fire-and-forget sends,
 * requests with correlated responses and timeouts, and handlers.
 *
 * Trust: the channel authenticated the peer, so an envelope's `from` must be
 * that peer's id and `to`, when present, ours; anything else, or an envelope
 * that does not decode, closes the channel with PROTOCOL. Replays inside a
 * channel cannot happen (every BOLT 8 frame uses the next nonce, so a repeated
 * frame fails its MAC). The inbound rate limit is the channel's (RATE_LIMIT).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import {
  ENVELOPE_VERSION,
  MessageRegistry,
  WireError,
  decodeEnvelope,
  encodeEnvelope,
  type DecodeLimits,
  type Envelope,
  type MessageType,
} from '../wire/index.js';
import type { Channel } from './channel.js';
import { TransportError } from './errors.js';
import { logSink, messageOf, type LogSink } from './log.js';
import type { ConnectionManager } from './manager.js';
import { clockOf, integerOption } from './options.js';
import { MAX_REPLY_ERROR, isRequestType, isResponse, pairOfRequest, type ReplyBody, type RequestType } from './request.js';

export interface Incoming<B> {
  /** The authenticated sender. */
  readonly peerId: Uint8Array;
  readonly body: B;
  readonly envelope: Envelope<string, B>;
}

export interface MessengerOptions {
  readonly manager: ConnectionManager;
  /** Every type that may arrive: messages, requests and their responses. */
  readonly registry: MessageRegistry<MessageType>;
  readonly clock?: Clock;
  readonly logger?: LogSink;
  /** Default for request() (10 s). */
  readonly requestTimeoutMs?: number;
  /** Requests awaiting a response, all peers together (default 1024). */
  readonly maxPendingRequests?: number;
  /** Handler calls still running per channel before reading from it pauses (default 64). */
  readonly maxInFlight?: number;
  /** Limits for decoding envelopes; sizes default to 4 MiB, the channel's message bound. */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

type MessageHandler = (message: Incoming<unknown>) => unknown;


interface Pending {
  readonly channel: Channel;
  readonly response: MessageType;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: Timer;
}

/** Handler calls in progress on one channel, and who waits for a free slot. */
interface Flow {
  inFlight: number;
  wake: (() => void) | undefined;
}

const MiB = 1024 * 1024;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** What a failed handler tells the requester: its error code if it has one, never its message. */
function replyError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code.slice(0, MAX_REPLY_ERROR) : 'HANDLER_FAILED';
}

export class Messenger {
  readonly #manager: ConnectionManager;
  readonly #registry: MessageRegistry<MessageType>;
  readonly #clock: Clock;
  readonly #log: LogSink;
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #maxInFlight: number;
  readonly #limits: Partial<DecodeLimits>;
  readonly #ourId: Uint8Array;
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #pending = new Map<string, Pending>();
  readonly #unsubscribe: (() => void)[];
  #closed = false;

  constructor(options: MessengerOptions) {
    if (typeof options !== 'object' || options === null) throw new TransportError('BAD_ARGUMENT', 'The messenger options must be an object.');
    if (!(options.registry instanceof MessageRegistry)) throw new TransportError('BAD_ARGUMENT', 'The messenger needs a MessageRegistry.');
    if (typeof options.manager?.onOpen !== 'function') throw new TransportError('BAD_ARGUMENT', 'The messenger needs a ConnectionManager.');
    this.#manager = options.manager;
    this.#registry = options.registry;
    this.#clock = clockOf(options.clock);
    this.#log = logSink(options.logger);
    this.#timeoutMs = integerOption(options.requestTimeoutMs, 10_000, 'requestTimeoutMs', 1);
    this.#maxPending = integerOption(options.maxPendingRequests, 1024, 'maxPendingRequests', 1);
    this.#maxInFlight = integerOption(options.maxInFlight, 64, 'maxInFlight', 1);
    this.#limits = { maxBytes: 4 * MiB, maxStringBytes: 4 * MiB, ...options.decodeLimits };
    this.#ourId = this.#manager.peerId;
    this.#unsubscribe = [
      this.#manager.onOpen((channel) => this.#start(channel)),
      this.#manager.onClose(({ channel }) => this.#rejectPending(channel)),
    ];
    for (const channel of this.#manager.channels()) this.#start(channel);
  }

  /** The connection manager it sends over (for its channel events). */
  get manager(): ConnectionManager {
    return this.#manager;
  }

  /**
   * Registers the handler of a message type, or of a request type (whose
   * return value, or the value its promise resolves to, is the response).
   * One handler per type; the type must be in the registry.
   */
  handle<T extends string, B>(type: MessageType<T, B>, fn: (message: Incoming<B>) => void | Promise<void>): void;
  handle<T extends string, Q, R>(type: RequestType<T, Q, R>, fn: (request: Incoming<Q>) => R | Promise<R>): void;
  handle(type: MessageType | RequestType, fn: (message: Incoming<never>) => unknown): void {
    if (typeof fn !== 'function') throw new TransportError('BAD_ARGUMENT', 'A handler must be a function.');
    const message = isRequestType(type) ? this.#requireRequest(type).request : this.#requireType(type);
    if (this.#handlers.has(message.type)) throw new TransportError('BAD_ARGUMENT', `A handler for ${message.type} is already registered.`);
    this.#handlers.set(message.type, fn as MessageHandler);
  }

  /** Sends one message; resolves once the channel took it (waiting while its buffer is full). */
  async send<T extends string, B>(peerId: Uint8Array, type: MessageType<T, B>, body: B): Promise<void> {
    this.#requireOpen();
    const message = this.#requireType(type);
    const channel = this.#channelTo(peerId);
    await channel.send(this.#encode(channel, message, body, randomBytes(16)));
  }

  /**
   * Sends a request and resolves with the response body. Rejects with
   * TIMEOUT when none came in time, CLOSED when the channel closed first,
   * REMOTE_ERROR when the peer's handler failed, NO_CHANNEL, or CAPACITY.
   */
  async request<T extends string, Q, R>(peerId: Uint8Array, type: RequestType<T, Q, R>, body: Q, options: { timeoutMs?: number } = {}): Promise<R> {
    this.#requireOpen();
    const pair = this.#requireRequest(type);
    const timeoutMs = integerOption(options?.timeoutMs, this.#timeoutMs, 'timeoutMs', 1);
    const channel = this.#channelTo(peerId);
    if (this.#pending.size >= this.#maxPending) throw new TransportError('CAPACITY', `${this.#maxPending} requests are already waiting for responses.`);
    const nonce = randomBytes(16);
    const bytes = this.#encode(channel, pair.request, body, nonce);
    const id = toHex(nonce);
    const answer = new Promise<R>((resolve, reject) => {
      const timer = this.#clock.setTimer(timeoutMs, () => {
        this.#pending.delete(id);
        reject(new TransportError('TIMEOUT', `No response to ${pair.request.type} within ${timeoutMs} ms.`));
      });
      this.#pending.set(id, { channel, response: pair.response, resolve: resolve as (value: unknown) => void, reject, timer });
    });
    try {
      await channel.send(bytes);
    } catch (err) {
      this.#settle(id, undefined, err instanceof Error ? err : new TransportError('CLOSED', String(err)));
    }
    return answer;
  }

  /** Stops handling channels and rejects every waiting request with CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, new TransportError('CLOSED', 'The messenger was closed.'));
  }

  #start(channel: Channel): void {
    this.#pump(channel).catch((err: unknown) => {
      // Only a bug gets here; the channel cannot be trusted to be in step any more.
      this.#log.warn({ event: 'transport.messenger_error', err: messageOf(err) }, 'transport: reading a channel failed');
      channel.close('PROTOCOL', err instanceof Error ? err : undefined);
    });
  }

  /** Reads one channel until it closes, bounded by the handler calls in flight. */
  async #pump(channel: Channel): Promise<void> {
    const flow: Flow = { inFlight: 0, wake: undefined };
    while (!this.#closed && (await channel.readable())) {
      let bytes: Uint8Array | undefined;
      while (!this.#closed && (bytes = channel.read()) !== undefined) {
        this.#dispatch(channel, bytes, flow);
        // A channel we closed for a bad envelope gets nothing more from us.
        if (channel.closeInfo?.reason === 'PROTOCOL') return;
        while (flow.inFlight >= this.#maxInFlight) await new Promise<void>((wake) => (flow.wake = wake));
      }
    }
  }

  #dispatch(channel: Channel, bytes: Uint8Array, flow: Flow): void {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(bytes, this.#registry, this.#limits);
    } catch (err) {
      if (err instanceof WireError && err.code === 'UNKNOWN_TYPE') {
        // A newer peer may speak types we do not know yet: dropped, not fatal.
        this.#log.warn({ event: 'transport.unknown_type', peer: toHex(channel.remotePeerId).slice(0, 8), err: err.message }, 'transport: message of unknown type dropped');
        return;
      }
      channel.close('PROTOCOL', err instanceof Error ? err : undefined);
      return;
    }
    const remote = channel.remotePeerId;
    if (!sameBytes(envelope.from, remote) || (envelope.to !== undefined && !sameBytes(envelope.to, this.#ourId))) {
      channel.close('PROTOCOL', new TransportError('PROTOCOL', 'An envelope named a sender other than the channel peer, or a recipient other than us.'));
      return;
    }
    const type = this.#registry.get(envelope.type) as MessageType;
    if (isResponse(type)) {
      this.#reply(channel, type, envelope.body as ReplyBody<unknown>);
      return;
    }
    const pair = pairOfRequest(type);
    const handler = this.#handlers.get(envelope.type);
    if (handler === undefined) {
      if (pair !== undefined) this.#answer(channel, pair, envelope, undefined, 'NO_HANDLER', flow);
      return;
    }
    const incoming: Incoming<unknown> = { peerId: remote, body: envelope.body, envelope };
    this.#run(flow, () => handler(incoming)).then(
      (result) => {
        if (pair !== undefined) this.#answer(channel, pair, envelope, result, undefined, flow);
      },
      (err: unknown) => {
        if (pair !== undefined) this.#answer(channel, pair, envelope, undefined, replyError(err), flow);
        else this.#log.warn({ event: 'transport.handler_error', type: envelope.type, err: messageOf(err) }, 'transport: a message handler failed');
      },
    );
  }

  /** Calls `fn` and counts it in flight until its promise (if any) settles. */
  async #run(flow: Flow, fn: () => unknown): Promise<unknown> {
    flow.inFlight += 1;
    try {
      return await fn();
    } finally {
      flow.inFlight -= 1;
      const wake = flow.wake;
      flow.wake = undefined;
      wake?.();
    }
  }

  #answer(channel: Channel, pair: RequestType, request: Envelope, result: unknown, error: string | undefined, flow: Flow): void {
    if (!channel.isOpen) return;
    let body: ReplyBody<unknown> = error === undefined ? { re: request.nonce, ok: result } : { re: request.nonce, error };
    let bytes: Uint8Array;
    try {
      bytes = this.#encode(channel, pair.response, body, randomBytes(16));
    } catch (err) {
      // The handler returned something its response schema refuses: our bug, the peer learns only that it failed.
      this.#log.warn({ event: 'transport.bad_response', type: request.type, err: messageOf(err) }, 'transport: a request handler returned an invalid response');
      body = { re: request.nonce, error: 'BAD_RESPONSE' };
      bytes = this.#encode(channel, pair.response, body, randomBytes(16));
    }
    this.#run(flow, () => channel.send(bytes)).catch(() => {
      // The channel closed under the reply; the requester sees CLOSED or TIMEOUT.
    });
  }

  #reply(channel: Channel, type: MessageType, body: ReplyBody<unknown>): void {
    const id = toHex(body.re);
    const pending = this.#pending.get(id);
    // Only the peer we asked, on the channel we asked on, with the matching type may answer.
    if (pending === undefined || pending.channel !== channel || pending.response !== type) return;
    if (body.error !== undefined) this.#settle(id, undefined, new TransportError('REMOTE_ERROR', `The peer answered with error ${body.error}.`));
    else this.#settle(id, body.ok);
  }

  #settle(id: string, value: unknown, error?: Error): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    pending.timer.cancel();
    if (error === undefined) pending.resolve(value);
    else pending.reject(error);
  }

  #rejectPending(channel: Channel): void {
    for (const [id, pending] of this.#pending) {
      if (pending.channel === channel) this.#settle(id, undefined, new TransportError('CLOSED', `The channel closed (${channel.closeInfo?.reason ?? 'unknown'}) before the response came.`));
    }
  }

  #encode(channel: Channel, type: MessageType, body: unknown, nonce: Uint8Array): Uint8Array {
    let parsed: unknown;
    try {
      parsed = type.body.parse(body, 'body');
    } catch (err) {
      throw new TransportError('BAD_ARGUMENT', `The ${type.type} body is invalid: ${messageOf(err)}`);
    }
    const envelope: Envelope = { v: ENVELOPE_VERSION, type: type.type, from: this.#ourId, to: channel.remotePeerId, ts: this.#clock.now(), nonce, body: parsed };
    return encodeEnvelope(envelope);
  }

  #channelTo(peerId: Uint8Array): Channel {
    const channel = this.#manager.channel(peerId);
    if (channel === undefined) throw new TransportError('NO_CHANNEL', 'There is no open channel to that peer.');
    return channel;
  }

  #requireType(type: unknown): MessageType {
    const t = type as MessageType | null;
    if (typeof t !== 'object' || t === null || typeof t.type !== 'string' || this.#registry.get(t.type) !== t) {
      throw new TransportError('BAD_ARGUMENT', 'The message type must be one of the registry the messenger decodes with.');
    }
    return t;
  }

  #requireRequest(type: RequestType): RequestType {
    if (!isRequestType(type)) throw new TransportError('BAD_ARGUMENT', 'The request type must come from defineRequest().');
    this.#requireType(type.request);
    this.#requireType(type.response);
    return type;
  }

  #requireOpen(): void {
    if (this.#closed) throw new TransportError('CLOSED', 'The messenger is closed.');
  }
}
