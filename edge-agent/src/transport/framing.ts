/**
 * The BOLT 8 message stream after the handshake. Each message travels as
 *   encrypted 2-byte big-endian length || tag || encrypted body || tag
 * using two nonces of the sending key. The decoder accepts arbitrary TCP
 * chunks and only ever trusts a length after its tag verified.
 */
import { CipherState } from './cipher.js';
import { TransportError } from './errors.js';
import { TAG_SIZE, requireBytes, type OpeningStream } from './primitives.js';

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

  /**
   * The frame for the concatenation of `parts` (0..65535 bytes in total) as
   * [header, ...ciphertext pieces, tag], never joining the parts: this is how
   * the shell prefixes a one-byte kind to a 64 KiB payload without copying it.
   */
  encryptVector(parts: readonly Uint8Array[]): Uint8Array[] {
    if (!Array.isArray(parts)) {
      throw new TransportError('BAD_ARGUMENT', 'The parts must be an array of Uint8Array.');
    }
    let length = 0;
    for (const part of parts) length += requireBytes(part, 'Each part').length;
    this.#checkLength(length);
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    this.#length.writeUInt16BE(length, 0);
    this.#cipher.seal(this.#length, header, 0);
    const sealed: Uint8Array[] = this.#cipher.sealVector(parts);
    sealed.unshift(header);
    return sealed;
  }

  /** Wipes the keys; later encrypt() calls throw DEAD. */
  destroy(): void {
    this.#destroyed = true;
    this.#cipher.wipe();
  }

  /** Validates before any nonce is used, so a rejected call leaves the stream intact. */
  #check(message: Uint8Array): void {
    requireBytes(message, 'The message');
    this.#checkLength(message.length);
  }

  #checkLength(length: number): void {
    if (this.#destroyed) {
      throw new TransportError('DEAD', 'The encryptor was destroyed and its keys wiped.');
    }
    if (length > MAX_MESSAGE_SIZE) {
      throw new TransportError('TOO_LARGE', `A message may hold at most ${MAX_MESSAGE_SIZE} bytes, got ${length}.`);
    }
  }
}

/** Sentinel for "reading the header": no authenticated body size yet. */
const NO_BODY = -1;
/**
 * Bodies up to this size that arrive in pieces are copied together; larger
 * ones are decrypted piece by piece as they arrive, which saves a copy of up
 * to 64 KiB per frame (socket reads are 64 KiB, so most big frames straddle).
 */
const SMALL_BODY = 4096;

function join(pieces: readonly Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces);
}

export class Decoder {
  readonly #cipher: CipherState;
  // Partial header: 18 bytes at most, kept in a fixed scratch buffer.
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerFill = 0;
  // Authenticated body + tag size of the current frame, or NO_BODY.
  #bodySize = NO_BODY;
  // Bytes of the current body (and its tag) consumed so far.
  #bodyFill = 0;
  // A small body arriving in pieces is gathered here, allocated only once a size was authenticated.
  #scratch: Buffer | undefined;
  // A large body arriving in pieces: its decryption so far, held back until the tag verifies.
  #stream: OpeningStream | undefined;
  #pieces: Buffer[] = [];
  readonly #tag = Buffer.alloc(TAG_SIZE);
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
    return this.pushPieces(chunk).map(join);
  }

  /**
   * push() without joining: a large message whose body came in several
   * chunks is returned as several pieces (in order), so a caller that joins
   * messages anyway (fragments) copies each byte once.
   */
  pushPieces(chunk: Uint8Array): Uint8Array[][] {
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

  #consume(chunk: Uint8Array): Uint8Array[][] {
    const messages: Uint8Array[][] = [];
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
        continue;
      }
      const size = this.#bodySize;
      if (this.#bodyFill === 0 && available >= size) {
        // Whole body in the chunk: decrypted straight from it, no copy.
        messages.push([this.#openBody(chunk.subarray(offset, offset + size))]);
        offset += size;
        this.#bodySize = NO_BODY;
        continue;
      }
      const n = Math.min(size - this.#bodyFill, available);
      const part = chunk.subarray(offset, offset + n);
      offset += n;
      if (size <= SMALL_BODY) this.#gather(part);
      else this.#decryptPart(part, size);
      if (this.#bodyFill < size) break;
      messages.push(size <= SMALL_BODY ? [this.#openBody(this.#smallScratch().subarray(0, size))] : this.#finishStream());
      this.#bodyFill = 0;
      this.#bodySize = NO_BODY;
    }
    return messages;
  }

  /** Copies part of a small body into the scratch buffer (a size was authenticated, so allocating is safe). */
  #gather(part: Uint8Array): void {
    this.#smallScratch().set(part, this.#bodyFill);
    this.#bodyFill += part.length;
  }

  #smallScratch(): Buffer {
    this.#scratch ??= Buffer.allocUnsafe(SMALL_BODY);
    return this.#scratch;
  }

  /** Feeds part of a large body: ciphertext to the decryption, the last 16 bytes to the tag. */
  #decryptPart(part: Uint8Array, size: number): void {
    this.#stream ??= this.#cipher.openStream();
    const ciphertextSize = size - TAG_SIZE;
    let used = 0;
    if (this.#bodyFill < ciphertextSize) {
      used = Math.min(ciphertextSize - this.#bodyFill, part.length);
      const piece = this.#stream.update(part.subarray(0, used));
      if (piece.length > 0) this.#pieces.push(piece);
    }
    if (used < part.length) this.#tag.set(part.subarray(used), this.#bodyFill + used - ciphertextSize);
    this.#bodyFill += part.length;
  }

  #finishStream(): Uint8Array[] {
    const stream = this.#stream as OpeningStream;
    this.#stream = undefined;
    const pieces = this.#pieces;
    this.#pieces = [];
    if (!stream.verify(this.#tag)) {
      for (const piece of pieces) piece.fill(0);
      throw new TransportError('BAD_MAC', 'The body of an incoming message failed authentication.');
    }
    return pieces;
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
    this.#scratch = undefined;
    this.#stream = undefined;
    for (const piece of this.#pieces) piece.fill(0);
    this.#pieces = [];
    this.#bodyFill = 0;
    this.#headerFill = 0;
    this.#bodySize = NO_BODY;
  }
}
