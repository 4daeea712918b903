/**
 * The Signer: whatever holds the CA key. In the fleet it is the committee's FROST-Ed25519
 * threshold signing service (its signatures are plain Ed25519); tests and tools use a local
 * node:crypto key. Every signature is checked against the signer's public key before it goes
 * into a certificate, so a faulty aggregate never leaves the room as a certificate.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { PkiError, argument } from './errors.js';
import { publicKeyObject } from './keys.js';

export interface Signer {
  /** Ed25519 signature (64 bytes) over exactly these bytes (PureEdDSA: no pre-hash). */
  sign(tbsDer: Uint8Array): Promise<Uint8Array>;
  /** The Ed25519 public key, raw 32 bytes. */
  readonly publicKey: Uint8Array;
}

export function checkSigner(signer: Signer): void {
  if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') argument('signer must have a sign(bytes) method');
  if (!(signer.publicKey instanceof Uint8Array) || signer.publicKey.length !== 32) argument('signer.publicKey must be a raw 32-byte Ed25519 key');
}

/** True when sig is a valid Ed25519 signature of msg under the raw 32-byte key. */
export function verifyEd25519(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  return verify(null, msg, publicKeyObject({ kind: 'ed25519', raw: publicKey }), sig);
}

/** Signs through the signer and checks the result (SIGNER on failure or a wrong signature). */
export async function signChecked(signer: Signer, tbs: Uint8Array): Promise<Uint8Array> {
  checkSigner(signer);
  let sig: Uint8Array;
  try {
    sig = await signer.sign(tbs);
  } catch (err) {
    throw new PkiError('SIGNER', `the signer failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!verifyEd25519(signer.publicKey, tbs, sig)) throw new PkiError('SIGNER', 'the signer returned a signature that does not verify under its public key');
  return new Uint8Array(sig);
}

/** A Signer over a local node:crypto Ed25519 private key (tests, tools, a single-board lab CA). */
export function localEd25519Signer(privateKey: KeyObject): Signer {
  if (typeof privateKey !== 'object' || privateKey === null || privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    argument('localEd25519Signer needs an Ed25519 private KeyObject');
  }
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return {
    publicKey,
    sign: async (tbs) => new Uint8Array(sign(null, tbs, privateKey)),
  };
}
