/**
 * One direction of the post-handshake stream: key, nonce counter and the
 * chaining key used for BOLT 8 key rotation. Each direction rotates
 * independently from its own copy of the final handshake ck. Internal.
 */
import {
  EMPTY,
  NONCE_SIZE,
  hkdf,
  open,
  openStream,
  requireSymmetricKey,
  type OpeningStream,
  seal,
  sealDetached,
  sealVector,
  writeNonce,
} from './primitives.js';

/** Rotate once 1000 nonces (500 messages: length + body each) were used. */
const ROTATION_INTERVAL = 1000;

export class CipherState {
  #key: Buffer;
  #chainingKey: Buffer;
  #counter = 0;
  // Reused for every operation: only bytes 4..7 ever change.
  readonly #nonce = Buffer.alloc(NONCE_SIZE);

  constructor(key: unknown, chainingKey: unknown) {
    this.#key = requireSymmetricKey(key, 'The session key');
    this.#chainingKey = requireSymmetricKey(chainingKey, 'The chaining key');
  }

  /** Encrypts with the next nonce into `out` at `offset` (ciphertext || tag). */
  seal(plaintext: Uint8Array, out: Uint8Array, offset: number): void {
    writeNonce(this.#nonce, this.#counter);
    seal(this.#key, this.#nonce, EMPTY, plaintext, out, offset);
    this.#advance();
  }

  /** Encrypts with the next nonce; returns ciphertext and tag separately, uncopied. */
  sealDetached(plaintext: Uint8Array): [Buffer, Buffer] {
    writeNonce(this.#nonce, this.#counter);
    const sealed = sealDetached(this.#key, this.#nonce, EMPTY, plaintext);
    this.#advance();
    return sealed;
  }

  /** Encrypts the concatenation of `parts` with the next nonce: ciphertext pieces, then the tag. */
  sealVector(parts: readonly Uint8Array[]): Buffer[] {
    writeNonce(this.#nonce, this.#counter);
    const sealed = sealVector(this.#key, this.#nonce, parts);
    this.#advance();
    return sealed;
  }

  /** Decrypts with the next nonce; null when the tag does not verify. */
  open(ciphertext: Uint8Array, tag: Uint8Array): Buffer | null {
    writeNonce(this.#nonce, this.#counter);
    const plaintext = open(this.#key, this.#nonce, EMPTY, ciphertext, tag);
    this.#advance();
    return plaintext;
  }

  /** Starts decrypting one ciphertext in pieces with the next nonce. */
  openStream(): OpeningStream {
    writeNonce(this.#nonce, this.#counter);
    const stream = openStream(this.#key, this.#nonce);
    this.#advance();
    return stream;
  }

  wipe(): void {
    this.#key.fill(0);
    this.#chainingKey.fill(0);
  }

  #advance(): void {
    this.#counter += 1;
    if (this.#counter < ROTATION_INTERVAL) return;
    // ck', k' = HKDF(ck, k); the old pair is wiped so past traffic stays safe.
    const [chainingKey, key] = hkdf(this.#chainingKey, this.#key);
    this.wipe();
    this.#chainingKey = chainingKey;
    this.#key = key;
    this.#counter = 0;
  }
}
