/**
 * Shared test material: deterministic keys (seeded, never random), a local CA signer, temp
 * files and the openssl CLI. Keys come from fixed seeds so every run signs the same bytes.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localEd25519Signer, type DistinguishedName, type Signer } from '../../src/pki/index.js';

export const seedBytes = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(`edge-agent/test/pki/${label}`).digest());

/** An Ed25519 private key from a label (PKCS#8 = fixed prefix ‖ 32-byte seed, RFC 8410). */
export function ed25519Key(label: string): KeyObject {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seedBytes(label)]), format: 'der', type: 'pkcs8' });
}

/** A P-256 private key from a label (SEC1 ECPrivateKey without the public key; OpenSSL derives it). */
export function p256Key(label: string): KeyObject {
  const d = seedBytes(`p256/${label}`);
  d[0] = d[0]! & 0x7f; // below the group order
  const der = Buffer.concat([Buffer.from('30310201010420', 'hex'), d, Buffer.from('a00a06082a8648ce3d030107', 'hex')]);
  return createPrivateKey({ key: der, format: 'der', type: 'sec1' });
}

export const publicOf = (k: KeyObject): KeyObject => createPublicKey(k);

export function rawEd25519(k: KeyObject): Uint8Array {
  const spki = createPublicKey(k).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

export const CA_NAME: DistinguishedName = { commonName: 'edge-agent fleet CA', organization: 'edge-agent' };
export const caSigner = (): Signer => localEd25519Signer(ed25519Key('ca'));
export const peerIdOf = (label: string): Uint8Array => seedBytes(`peer/${label}`);

export const NOW = new Date('2026-06-01T12:00:00Z');
export const YEAR = 365 * 86_400_000;

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'pki-test-'));
  write(name: string, data: string | Uint8Array): string {
    const p = join(this.path, name);
    writeFileSync(p, data);
    return p;
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface RunResult {
  readonly code: number;
  readonly out: string;
}

/** Runs openssl; never rejects, so tests can assert on failures too. */
export async function openssl(args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)('openssl', args, { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
