/** Shared fixtures for the sealed tests (not a test file itself): a small fleet and a record over it. */
import { generateKeyPair, type KeyPair } from '../../src/identity/index.js';
import { createRecord, memberId, type SealOutput } from '../../src/sealed/index.js';

export interface Member extends KeyPair {
  readonly id: string;
}

export function member(): Member {
  const keys = generateKeyPair();
  return { ...keys, id: memberId(keys.publicKey) };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/**
 * A record by `operator` with two attributes: `wifi/psk` for the boards role
 * (boardA, boardB) and `telemetry/key` for the operators role (operator).
 * `outsider` is a member of no role.
 */
export function fleetRecord(): { operator: Member; boardA: Member; boardB: Member; outsider: Member; out: SealOutput } {
  const operator = member();
  const boardA = member();
  const boardB = member();
  const outsider = member();
  const out = createRecord({
    secretKey: operator.secretKey,
    members: [operator.publicKey, boardA.publicKey, boardB.publicKey, outsider.publicKey],
    roles: {
      boards: { attributes: ['wifi/psk'], members: [boardA.id, boardB.id] },
      operators: { attributes: ['wifi/psk', 'telemetry/key'], members: [operator.id] },
    },
    public: { site: 'north-field', version: 3 },
    private: { 'wifi/psk': utf8('correct horse battery staple'), 'telemetry/key': utf8('tk-0001') },
  });
  return { operator, boardA, boardB, outsider, out };
}

export function wrapFor(out: SealOutput, attribute: string, id: string) {
  const wrap = out.wraps.find((w) => w.attribute === attribute && w.member === id);
  if (wrap === undefined) throw new Error(`no wrap of ${attribute} for ${id.slice(0, 8)}`);
  return wrap;
}

export function blobOf(out: SealOutput, attribute: string): Uint8Array {
  const entry = out.state.private[attribute]!;
  const blob = out.blobs.find((b) => Buffer.compare(b.commitment, entry.commitment) === 0);
  if (blob === undefined) throw new Error(`no blob of ${attribute}`);
  return blob.blob;
}
