/**
 * Where the circuits build (circuits/build.mjs) left a circuit's files, read from its
 * manifest.json. The build folder sits at the repository root, three levels above both
 * edge-agent/src/zkp and edge-agent/dist/zkp.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZkpError } from './errors.js';

export const DEFAULT_BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'circuits', 'build');

/** The two circuits: key possession, and membership at the development depth. */
export type CircuitKind = 'keyPossession' | 'membership';

export interface CircuitArtifacts {
  readonly name: string;
  readonly kind: CircuitKind;
  /** The membership tree depth; undefined for key possession. */
  readonly depth: number | undefined;
  readonly constraints: number;
  readonly nPublic: number;
  readonly wasm: string;
  readonly witnessCalculator: string;
  readonly zkey: string;
  readonly vkey: string;
  readonly r1cs: string;
}

interface ManifestEntry {
  name: string;
  depth?: number;
  constraints: number;
  nPublic: number;
  files: Record<'r1cs' | 'wasm' | 'witnessCalculator' | 'zkey' | 'vkey', string>;
}

function readManifest(buildDir: string): Record<string, ManifestEntry> {
  const path = join(buildDir, 'manifest.json');
  if (!existsSync(path)) {
    throw new ZkpError('ARTIFACT', `no circuits build at ${buildDir}: run \`npm run build:circuits\``);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ZkpError('ARTIFACT', `${path} is not JSON`, { cause: err });
  }
  const circuits = (parsed as { circuits?: unknown }).circuits;
  if (typeof circuits !== 'object' || circuits === null) throw new ZkpError('ARTIFACT', `${path} lists no circuits`);
  return circuits as Record<string, ManifestEntry>;
}

/** The built files of a circuit: 'keyPossession', or 'membership' (the one depth built, or the depth asked for). */
export function circuitArtifacts(kind: CircuitKind, opts: { buildDir?: string; depth?: number } = {}): CircuitArtifacts {
  if (kind !== 'keyPossession' && kind !== 'membership') throw new ZkpError('ARGUMENT', `unknown circuit ${String(kind)}`);
  const buildDir = opts.buildDir ?? DEFAULT_BUILD_DIR;
  if (typeof buildDir !== 'string' || !isAbsolute(buildDir)) throw new ZkpError('ARGUMENT', 'buildDir must be an absolute path');
  const entries = Object.values(readManifest(buildDir));
  const entry =
    kind === 'keyPossession'
      ? entries.find((e) => e.name === 'key_possession')
      : entries.find((e) => e.name.startsWith('membership_') && (opts.depth === undefined || e.depth === opts.depth));
  if (!entry) throw new ZkpError('ARTIFACT', `the circuits build has no ${kind}${opts.depth ? ` at depth ${opts.depth}` : ''}`);
  const dir = join(buildDir, entry.name);
  const at = (k: keyof ManifestEntry['files']): string => {
    const p = join(dir, entry.files[k]);
    if (!existsSync(p)) throw new ZkpError('ARTIFACT', `${p} is missing: run \`npm run build:circuits\``);
    return p;
  };
  return {
    name: entry.name,
    kind,
    depth: entry.depth,
    constraints: entry.constraints,
    nPublic: entry.nPublic,
    wasm: at('wasm'),
    witnessCalculator: at('witnessCalculator'),
    zkey: at('zkey'),
    vkey: at('vkey'),
    r1cs: at('r1cs'),
  };
}
