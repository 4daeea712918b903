/**
 * The Noise "symmetric state" of a BOLT 8 handshake: chaining key `ck`,
 * handshake hash `h` and the current temporary key (temp_k1/2/3). Steps are
 * kept explicit (mixHash separate from encrypt) because BOLT 8 does not hash
 * the final act-three tag, unlike generic Noise.
 */
import {
  EMPTY,
  KEY_SIZE,
  NONCE_SIZE,
  TAG_SIZE,
  hkdf,
  open,
  seal,
  sha256,
  writeNonce,
} from './primitives.js';

const PROTOCOL_NAME = 'Noise_XK_secp256k1_ChaChaPoly_SHA256';
const PROLOGUE = 'lightning';

// Both initial values depend only on constants, so compute them once.
const INITIAL_CK = sha256(Buffer.from(PROTOCOL_NAME, 'ascii'));
const INITIAL_H = sha256(INITIAL_CK, Buffer.from(PROLOGUE, 'ascii'));

export class SymmetricState {
  #ck: Buffer;
  #h: Buffer;
  #tempKey: Buffer = Buffer.alloc(KEY_SIZE);
  readonly #nonce = Buffer.alloc(NONCE_SIZE);

  /** `responderStatic` is the pre-message `s` both sides mix in first. */
  constructor(responderStatic: Uint8Array) {
    this.#ck = Buffer.from(INITIAL_CK);
    this.#h = sha256(INITIAL_H, responderStatic);
  }

  get handshakeHash(): Uint8Array {
    return Uint8Array.from(this.#h);
  }

  get chainingKey(): Uint8Array {
    return Uint8Array.from(this.#ck);
  }

  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  /** ck, temp_k = HKDF(ck, ss); wipes `ss` and the replaced keys. */
  mixKey(sharedSecret: Buffer): void {
    const [ck, tempKey] = hkdf(this.#ck, sharedSecret);
    sharedSecret.fill(0);
    this.#ck.fill(0);
    this.#tempKey.fill(0);
    this.#ck = ck;
    this.#tempKey = tempKey;
  }

  /** encryptWithAD(temp_k, n, h, plaintext) */
  encrypt(counter: number, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + TAG_SIZE);
    writeNonce(this.#nonce, counter);
    seal(this.#tempKey, this.#nonce, this.#h, plaintext, out, 0);
    return out;
  }

  /** decryptWithAD(temp_k, n, h, ciphertext || tag); null when the MAC fails. */
  decrypt(counter: number, sealed: Uint8Array): Buffer | null {
    const split = sealed.length - TAG_SIZE;
    writeNonce(this.#nonce, counter);
    return open(this.#tempKey, this.#nonce, this.#h, sealed.subarray(0, split), sealed.subarray(split));
  }

  /** Final HKDF(ck, zero): the two transport keys in initiator-send order. */
  split(): [Buffer, Buffer] {
    return hkdf(this.#ck, EMPTY);
  }

  wipe(): void {
    this.#ck.fill(0);
    this.#tempKey.fill(0);
  }
}
