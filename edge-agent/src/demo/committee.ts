/**
 * The demo's committee signature, checked by a program that knows nothing of
 * FROST: the group key is written as an ordinary Ed25519 public key (PEM), the
 * message and the signature as files, and `openssl pkeyutl -verify -rawin`
 * decides. OpenSSL 3 is needed (-rawin is how it verifies pure Ed25519).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** SubjectPublicKeyInfo DER for Ed25519 (RFC 8410) up to the 32-byte key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface OpensslVerdict {
  readonly verified: boolean;
  /** What openssl said (or why it could not run), one line. */
  readonly output: string;
  /** The files it was given. */
  readonly dir: string;
}

/** The group key as a PEM public key. */
export function ed25519Pem(groupKey: Uint8Array): string {
  if (!(groupKey instanceof Uint8Array) || groupKey.length !== 32) throw new TypeError('ed25519Pem: the group key must be 32 bytes');
  const der = Buffer.concat([ED25519_SPKI_PREFIX, groupKey]).toString('base64');
  return `-----BEGIN PUBLIC KEY-----\n${der}\n-----END PUBLIC KEY-----\n`;
}

/** Writes key.pem, message and sig into `dir` and asks openssl whether the signature is the group's. */
export async function opensslVerify(dir: string, groupKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<OpensslVerdict> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = join(dir, 'key.pem');
  const msg = join(dir, 'message');
  const sig = join(dir, 'sig');
  await writeFile(key, ed25519Pem(groupKey));
  await writeFile(msg, message);
  await writeFile(sig, signature);
  const { code, output } = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', key, '-rawin', '-in', msg, '-sigfile', sig]);
  const line = output.trim().split('\n')[0] ?? '';
  return { verified: code === 0 && /Signature Verified Successfully/i.test(output), output: line, dir };
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', (err) => resolve({ code: null, output: `${command}: ${err.message}` }));
    child.once('close', (code) => resolve({ code, output }));
  });
}
