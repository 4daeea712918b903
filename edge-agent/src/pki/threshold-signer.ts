/**
 * The committee as a Signer: each sign() runs one FROST signing round through the threshold
 * room's coordinator (coordinateSignature), whose aggregate is a plain Ed25519 signature under
 * the group key. signChecked still verifies it before it enters a certificate.
 */
import { coordinateSignature, type CoordinateOptions } from '../threshold/index.js';
import { argument } from './errors.js';
import type { Signer } from './signer.js';

/** Everything coordinateSignature needs except the message, which is the TBS to sign. */
export type ThresholdSignerOptions = Omit<CoordinateOptions, 'message'>;

export function thresholdSigner(o: ThresholdSignerOptions): Signer {
  if (typeof o !== 'object' || o === null) argument('thresholdSigner options must be an object');
  const key = o.group?.groupKey;
  if (!(key instanceof Uint8Array) || key.length !== 32) argument('thresholdSigner needs a group whose groupKey is a 32-byte Ed25519 key');
  return {
    publicKey: new Uint8Array(key),
    sign: async (tbsDer) => (await coordinateSignature({ ...o, message: tbsDer })).signature,
  };
}
