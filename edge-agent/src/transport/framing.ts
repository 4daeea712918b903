/**
 * The BOLT 8 message stream after the handshake. Each message travels as
 *   encrypted 2-byte big-endian length || tag || encrypted body || tag
 * using two nonces of the sending key. The decoder accepts arbitrary TCP
 * chunks and only ever trusts a length after its tag verified.
 */
import { CipherState } from './cipher.js';
import { TransportError } from './errors.js';
import { TAG_SIZE, requireBytes } from './primitives.js';

export const MAX_MESSAGE_SIZE = 65535;
const LENGTH_SIZE = 2;
/** Encrypted length prefix plus its tag. */
export const HEADER_SIZE = LENGTH_SIZE + TAG_SIZE;
/** Largest frame on the wire: 18 + 65535 + 16 = 65569 bytes. */
export const MAX_FRAME_SIZE = HEADER_SIZE + MAX_MESSAGE_SIZE + TAG_SIZE;

/** Key material of one direction; both fields are copied, so callers may wipe theirs. */
export interface DirectionKeys {
  readonly key: Uint8Array;
  readonly chainingKey: Uint8Array;
}

function cipherFrom(keys: DirectionKeys, what: string): CipherState {
  if (typeof keys !== 'object' || keys === null) {
    throw new TransportError('BAD_ARGUMENT', `${what} keys must be an object with key and chainingKey.`);
  }
  return new CipherState(keys.key, keys.chainingKey);
}

export class Encryptor {
  readonly #cipher: CipherState;
  readonly #length = Buffer.alloc(LENGTH_SIZE);
  #destroyed = false;

  constructor(keys: DirectionKeys) {
    this.#cipher = cipherFrom(keys, 'Encryptor');
  }

  /** Returns the whole frame for `message` (0..65535 bytes) in one buffer. */
  encrypt(message: Uint8Array): Uint8Array {
    this.#check(message);
    // Every byte is written by the two seals below, so unsafe allocation is fine.
    const frame = Buffer.allocUnsafe(HEADER_SIZE + message.length + TAG_SIZE);
    this.#length.writeUInt16BE(message.length, 0);
    this.#cipher.seal(this.#length, frame, 0);
    this.#cipher.seal(message, frame, HEADER_SIZE);
    return frame;
  }

  /**
   * Same frame as encrypt(), as [header, ciphertext, tag] without the copy
   * into one buffer (node:crypto cannot encrypt in place). For socket writev /
   * cork: at 64 KiB the copy costs about as much as the length header.
   */
  encryptParts(message: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    this.#check(message);
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    this.#length.writeUInt16BE(message.length, 0);
    this.#cipher.seal(this.#length, header, 0);
    const [ciphertext, tag] = this.#cipher.sealDetached(message);
    return [header, ciphertext, tag];
  }

  /** Wipes the keys; later encrypt() calls throw DEAD. */
  destroy(): void {
    this.#destroyed = true;
    this.#cipher.wipe();
  }

  /** Validates before any nonce is used, so a rejected call leaves the stream intact. */
  #check(message: Uint8Array): void {
    if (this.#destroyed) {
      throw new TransportError('DEAD', 'The encryptor was destroyed and its keys wiped.');
    }
    requireBytes(message, 'The message');
    if (message.length > MAX_MESSAGE_SIZE) {
      throw new TransportError(
        'TOO_LARGE',
        `A message may hold at most ${MAX_MESSAGE_SIZE} bytes, got ${message.length}.`,
      );
    }
  }
}

/** Sentinel for "reading the header": no authenticated body size yet. */
const NO_BODY = -1;

export class Decoder {
  readonly #cipher: CipherState;
  // Partial header: 18 bytes at most, kept in a fixed scratch buffer.
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerFill = 0;
  // Authenticated body + tag size of the current frame, or NO_BODY.
  #bodySize = NO_BODY;
  // Partial body, allocated only once its size was authenticated.
  #body: Buffer | undefined;
  #bodyFill = 0;
  #failed = false;
  #failure: unknown;
  #destroyed = false;

  constructor(keys: DirectionKeys) {
    this.#cipher = cipherFrom(keys, 'Decoder');
  }

  /**
   * Consumes one chunk of the stream and returns every message it completed,
   * in order. After a failure the decoder is dead and rethrows that error;
   * messages the failing chunk had completed are dropped along with it.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw this.#failure;
    if (this.#destroyed) {
      throw new TransportError('DEAD', 'The decoder was destroyed and its keys wiped.');
    }
    requireBytes(chunk, 'The chunk');
    try {
      return this.#consume(chunk);
    } catch (err) {
      // A stream that failed once is never resynchronised: the connection must close.
      this.#failed = true;
      this.#failure = err;
      this.#release();
      throw err;
    }
  }

  /**
   * Bytes of the current, incomplete frame held so far (never above
   * MAX_FRAME_SIZE); non-zero at EOF means the peer stopped mid-frame. 0 once dead.
   */
  get pending(): number {
    return this.#bodySize === NO_BODY ? this.#headerFill : HEADER_SIZE + this.#bodyFill;
  }

  /** Wipes the keys and drops buffered input; later push() calls throw DEAD. */
  destroy(): void {
    this.#destroyed = true;
    this.#release();
  }

  #consume(chunk: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const available = chunk.length - offset;
      if (this.#bodySize === NO_BODY) {
        let header: Uint8Array;
        if (this.#headerFill === 0 && available >= HEADER_SIZE) {
          header = chunk.subarray(offset, offset + HEADER_SIZE); // whole header in chunk: no copy
          offset += HEADER_SIZE;
        } else {
          const n = Math.min(HEADER_SIZE - this.#headerFill, available);
          this.#header.set(chunk.subarray(offset, offset + n), this.#headerFill);
          this.#headerFill += n;
          offset += n;
          if (this.#headerFill < HEADER_SIZE) break;
          header = this.#header;
          this.#headerFill = 0;
        }
        this.#bodySize = this.#openLength(header) + TAG_SIZE;
      } else {
        const size = this.#bodySize;
        let sealed: Uint8Array;
        if (this.#body === undefined && available >= size) {
          sealed = chunk.subarray(offset, offset + size); // whole body in chunk: no copy
          offset += size;
        } else {
          // The size is authenticated by now, so allocating it is safe.
          this.#body ??= Buffer.allocUnsafe(size);
          const n = Math.min(size - this.#bodyFill, available);
          this.#body.set(chunk.subarray(offset, offset + n), this.#bodyFill);
          this.#bodyFill += n;
          offset += n;
          if (this.#bodyFill < size) break;
          sealed = this.#body;
          this.#body = undefined;
          this.#bodyFill = 0;
        }
        this.#bodySize = NO_BODY;
        messages.push(this.#openBody(sealed));
      }
    }
    return messages;
  }

  #openLength(header: Uint8Array): number {
    const length = this.#cipher.open(header.subarray(0, LENGTH_SIZE), header.subarray(LENGTH_SIZE));
    if (length === null) {
      throw new TransportError('BAD_MAC', 'The length prefix of an incoming message failed authentication.');
    }
    return length.readUInt16BE(0);
  }

  #openBody(sealed: Uint8Array): Uint8Array {
    const split = sealed.length - TAG_SIZE;
    const message = this.#cipher.open(sealed.subarray(0, split), sealed.subarray(split));
    if (message === null) {
      throw new TransportError('BAD_MAC', 'The body of an incoming message failed authentication.');
    }
    return message;
  }

  #release(): void {
    this.#cipher.wipe();
    this.#body = undefined;
    this.#bodyFill = 0;
    this.#headerFill = 0;
    this.#bodySize = NO_BODY;
  }
}
