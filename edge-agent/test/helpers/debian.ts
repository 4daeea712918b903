/**
 * Real peers from Debian for the tests: the first of `candidates` that exists,
 * installing `pkg` once with apt-get if none does (CI and fresh machines run as root).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function ensureBinary(candidates: readonly string[], pkg: string): string {
  const found = (): string | undefined => candidates.find((p) => existsSync(p));
  const present = found();
  if (present !== undefined) return present;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore', env });
  const installed = found();
  if (installed === undefined) throw new Error(`apt-get install ${pkg} did not provide any of ${candidates.join(', ')}`);
  return installed;
}
