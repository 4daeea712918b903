/**
 * Sealed records, per 1 KiB private attribute and 10 readers: sealing an
 * attribute (fresh key, AES-256-GCM, commitment and key check) and opening
 * it (commitment, key check, AES-256-GCM), wrapping its key for one member
 * (ephemeral ECDH on secp256k1, HKDF, AES-256-GCM) and unwrapping it, and a
 * whole attribute sealed for all 10. Side by side with the references they
 * build on: raw node:crypto AES-256-GCM on the same bytes, and raw OpenSSL
 * ECDH (fresh ephemeral key + agreement), so the ratios show our overhead.
 */
import { createCipheriv, createDecipheriv, createECDH, randomBytes } from 'node:crypto';
import { generateKeyPair } from '../edge-agent/src/identity/index.js';
import { createRecord, memberId, openAttribute, sealAttribute, unwrapKey, wrapKey } from '../edge-agent/src/sealed/index.js';
import type { BenchResult } from './run.js';
import { compareOpsPerSec, round } from './lib/measure.js';

const ATTRIBUTE_BYTES = 1024;
const MEMBERS = 10;

export default async function sealedBench(): Promise<BenchResult> {
  const record = randomBytes(32);
  const plaintext = randomBytes(ATTRIBUTE_BYTES);
  const members = Array.from({ length: MEMBERS }, () => generateKeyPair());
  const reader = members[0]!;

  const sealed = sealAttribute(record, 0, 'config/blob', plaintext);
  const entry = { commitment: sealed.commitment, keyCheck: sealed.keyCheck };
  const wrapped = wrapKey(sealed.key, reader.publicKey, record, 0, 'config/blob');

  // The reference: AES-256-GCM on the same 1 KiB with a fixed key and a fresh nonce, nothing else.
  const rawKey = randomBytes(32);
  const aad = randomBytes(64);
  const rawSeal = () => {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', rawKey, nonce);
    c.setAAD(aad);
    const body = c.update(plaintext);
    c.final();
    return [nonce, body, c.getAuthTag()] as const;
  };
  const [rawNonce, rawBody, rawTag] = rawSeal();
  const rawOpen = () => {
    const d = createDecipheriv('aes-256-gcm', rawKey, rawNonce);
    d.setAAD(aad);
    d.setAuthTag(rawTag);
    const out = d.update(rawBody);
    d.final();
    return out;
  };

  const aead = compareOpsPerSec(
    {
      seal: () => sealAttribute(record, 0, 'config/blob', plaintext).key.fill(0),
      open: () => openAttribute(record, 0, 'config/blob', sealed.key, sealed.blob, entry).fill(0),
      rawSeal,
      rawOpen,
    },
    { rounds: 7, roundMs: 250 },
  );

  const ecdh = compareOpsPerSec(
    {
      wrap: () => wrapKey(sealed.key, reader.publicKey, record, 0, 'config/blob'),
      unwrap: () => unwrapKey(wrapped, reader.secretKey).fill(0),
      rawEcdh: () => {
        const e = createECDH('secp256k1');
        e.generateKeys();
        return e.computeSecret(reader.publicKey);
      },
    },
    { rounds: 5, roundMs: 400 },
  );

  // One attribute for all 10 members: a seal and 10 wraps, as createRecord does it.
  const ids = members.map((m) => memberId(m.publicKey));
  const author = members[0]!;
  const whole = compareOpsPerSec(
    {
      record: () =>
        createRecord({
          secretKey: author.secretKey,
          record,
          members: members.map((m) => m.publicKey),
          roles: { all: { attributes: ['config/blob'], members: ids } },
          private: { 'config/blob': plaintext },
        }),
    },
    { rounds: 3, roundMs: 400 },
  );

  return {
    attributeBytes: ATTRIBUTE_BYTES,
    members: MEMBERS,
    sealPerSec: round(aead.seal, 0),
    openPerSec: round(aead.open, 0),
    wrapPerSec: round(ecdh.wrap, 0),
    unwrapPerSec: round(ecdh.unwrap, 0),
    recordFor10PerSec: round(whole.record, 1),
    reference: {
      kind: 'raw node:crypto AES-256-GCM on the same 1 KiB; raw OpenSSL secp256k1 ECDH with a fresh ephemeral key',
      gcmSealPerSec: round(aead.rawSeal, 0),
      gcmOpenPerSec: round(aead.rawOpen, 0),
      ecdhPerSec: round(ecdh.rawEcdh, 0),
      sealRatio: round(aead.seal / aead.rawSeal, 3),
      openRatio: round(aead.open / aead.rawOpen, 3),
      wrapRatio: round(ecdh.wrap / ecdh.rawEcdh, 3),
    },
  };
}
