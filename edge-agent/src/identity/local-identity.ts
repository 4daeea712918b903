/** This board's own identity in memory: its key pair and proof of work. */
import { IdentityError } from './errors.js';
import { peerIdOf, sign } from './keys.js';

export interface ProofOfWork {
  readonly nonce: Uint8Array;
  readonly difficulty: number;
}

export interface LocalIdentity {
  /** 33-byte compressed public key (a copy). */
  readonly publicKey: Uint8Array;
  /** SHA-256 of the public key (a copy). */
  readonly peerId: Uint8Array;
  readonly pow: ProofOfWork;
  /** sign() from keys.ts with this identity's secret key; IdentityError('DESTROYED') after destroy(). */
  sign(message: Uint8Array): Uint8Array;
  /**
   * A copy of the secret key for a protocol that needs it raw (the BOLT 8
   * handshake's ECDH). The caller owns the copy and must wipe it.
   */
  secretKeyCopy(): Uint8Array;
  /** Wipes the secret key. Idempotent. */
  destroy(): void;
}

/**
 * Takes ownership of `secretKey` (wiped by destroy()). The caller has checked
 * that the parts belong together; identity-files.ts is the only caller.
 */
export function localIdentity(secretKey: Uint8Array, publicKey: Uint8Array, pow: ProofOfWork): LocalIdentity {
  const pub = Uint8Array.from(publicKey);
  const peerId = peerIdOf(pub);
  const nonce = Uint8Array.from(pow.nonce);
  const { difficulty } = pow;
  let destroyed = false;
  return {
    get publicKey() {
      return Uint8Array.from(pub);
    },
    get peerId() {
      return Uint8Array.from(peerId);
    },
    get pow() {
      return { nonce: Uint8Array.from(nonce), difficulty };
    },
    sign(message: Uint8Array): Uint8Array {
      if (destroyed) throw new IdentityError('DESTROYED', 'this identity was destroyed and its secret key wiped');
      return sign(secretKey, message);
    },
    secretKeyCopy(): Uint8Array {
      if (destroyed) throw new IdentityError('DESTROYED', 'this identity was destroyed and its secret key wiped');
      return Uint8Array.from(secretKey);
    },
    destroy(): void {
      destroyed = true;
      secretKey.fill(0);
    },
  };
}
