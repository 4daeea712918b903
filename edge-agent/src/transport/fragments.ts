/**
 * Application messages inside BOLT 8 messages. Every BOLT 8 message starts
 * with a one-byte kind:
 *   0 MESSAGE  a whole application message (0..65534 bytes follow)
 *   1 MORE     a fragment of exactly 65534 bytes; more fragments follow
 *   2 LAST     the last fragment (1..65534 bytes) of a fragmented message
 *   3 PING     keepalive probe, nothing follows
 *   4 PONG     the answer to a PING, nothing follows
 * Fragmentation is canonical (full MORE fragments, non-empty LAST, MESSAGE for
 * anything that fits), so a peer cannot make us spend effort on tiny pieces.
 * Pure: no I/O, no time.
 */
import { TransportError } from './errors.js';
import { MAX_MESSAGE_SIZE } from './framing.js';

export const KIND_MESSAGE = 0;
export const KIND_MORE = 1;
export const KIND_LAST = 2;
export const KIND_PING = 3;
export const KIND_PONG = 4;

/** Payload bytes per BOLT 8 message once the kind byte is taken. */
export const FRAGMENT_SIZE = MAX_MESSAGE_SIZE - 1;

// Read-only prefixes shared by every frame; encryption only reads them.
const PREFIX = [KIND_MESSAGE, KIND_MORE, KIND_LAST, KIND_PING, KIND_PONG].map((k) => Uint8Array.of(k));
export const PING_FRAME: readonly Uint8Array[] = [PREFIX[KIND_PING] as Uint8Array];
export const PONG_FRAME: readonly Uint8Array[] = [PREFIX[KIND_PONG] as Uint8Array];

/**
 * The BOLT 8 messages that carry `message`, each as [kind byte, payload view]
 * for Encryptor.encryptVector: the payload is never copied.
 */
export function fragment(message: Uint8Array): Uint8Array[][] {
  if (!(message instanceof Uint8Array)) {
    throw new TransportError('BAD_ARGUMENT', 'The message must be a Uint8Array.');
  }
  if (message.length <= FRAGMENT_SIZE) return [[PREFIX[KIND_MESSAGE] as Uint8Array, message]];
  const frames: Uint8Array[][] = [];
  for (let offset = 0; offset < message.length; offset += FRAGMENT_SIZE) {
    const end = offset + FRAGMENT_SIZE;
    const kind = end < message.length ? KIND_MORE : KIND_LAST;
    frames.push([PREFIX[kind] as Uint8Array, message.subarray(offset, end)]);
  }
  return frames;
}

/** Receives what the assembler decodes; the channel implements it. */
export interface AssemblySink {
  message(data: Uint8Array): void;
  ping(): void;
  pong(): void;
}

/** Joins fragments back into messages and enforces the total size bound. */
export class Assembler {
  readonly #maxMessageSize: number;
  #parts: Uint8Array[] = [];
  #size = 0;

  constructor(maxMessageSize: number) {
    if (!Number.isSafeInteger(maxMessageSize) || maxMessageSize < 0) {
      throw new TransportError('BAD_ARGUMENT', 'The maximum message size must be a non-negative integer.');
    }
    this.#maxMessageSize = maxMessageSize;
  }

  /** Bytes of an unfinished fragmented message held so far. */
  get pending(): number {
    return this.#size;
  }

  /**
   * Consumes one decrypted BOLT 8 message, given as the pieces the decoder
   * returned (Decoder.pushPieces). Throws PROTOCOL for an unknown kind or a
   * non-canonical fragment, TOO_LARGE before storing a fragment that would
   * take the message past the bound.
   */
  push(pieces: readonly Uint8Array[], sink: AssemblySink): void {
    const first = pieces[0];
    if (first === undefined || first.length === 0) {
      throw new TransportError('PROTOCOL', 'An empty BOLT 8 message carries no kind byte.');
    }
    const kind = first[0];
    const payload = pieces.length === 1 ? [first.subarray(1)] : [first.subarray(1), ...pieces.slice(1)];
    let length = -1;
    for (const piece of pieces) length += piece.length;
    switch (kind) {
      case KIND_MESSAGE:
        this.#expectNoFragments('a whole message');
        this.#checkSize(length);
        sink.message(payload.length === 1 ? (payload[0] as Uint8Array) : this.#join(payload, length));
        return;
      case KIND_MORE:
        if (length !== FRAGMENT_SIZE) {
          throw new TransportError('PROTOCOL', `A MORE fragment must carry ${FRAGMENT_SIZE} bytes, got ${length}.`);
        }
        this.#checkSize(this.#size + length);
        this.#parts.push(...payload);
        this.#size += length;
        return;
      case KIND_LAST: {
        if (this.#parts.length === 0 || length === 0) {
          throw new TransportError('PROTOCOL', 'A LAST fragment must follow MORE fragments and carry at least one byte.');
        }
        this.#checkSize(this.#size + length);
        this.#parts.push(...payload);
        const message = this.#join(this.#parts, this.#size + length);
        this.reset();
        sink.message(message);
        return;
      }
      case KIND_PING:
      case KIND_PONG:
        if (length !== 0) throw new TransportError('PROTOCOL', 'A ping or pong must carry nothing after its kind.');
        if (kind === KIND_PING) sink.ping();
        else sink.pong();
        return;
      default:
        throw new TransportError('PROTOCOL', `Unknown message kind ${String(kind)}.`);
    }
  }

  /** Drops a partial message (on close). */
  reset(): void {
    this.#parts = [];
    this.#size = 0;
  }

  /** The one copy of a fragmented (or pieced) message. */
  #join(parts: readonly Uint8Array[], length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  #expectNoFragments(what: string): void {
    if (this.#parts.length > 0) throw new TransportError('PROTOCOL', `${what} arrived inside a fragmented message.`);
  }

  #checkSize(size: number): void {
    if (size > this.#maxMessageSize) {
      throw new TransportError('TOO_LARGE', `An incoming message exceeds the ${this.#maxMessageSize}-byte bound.`);
    }
  }
}
