import { mkdir } from 'node:fs/promises';
import { defaultConfig, loadConfig } from '../../config/index.js';
import {
  createIdentity,
  DEFAULT_POW_DIFFICULTY,
  expectedPowSeconds,
  measureHashRate,
  toHex,
} from '../../identity/index.js';
import { readPassphrase } from '../../agent/index.js';
import { intOption, parse } from '../args.js';
import { UsageError } from '../errors.js';

function seconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

export async function keygen(args: string[]): Promise<number> {
  const { values } = parse(args, {
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    difficulty: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  if (values['data-dir'] !== undefined && values.config !== undefined) {
    throw new UsageError('give --data-dir or --config, not both');
  }
  const config = values.config !== undefined ? await loadConfig(values.config) : defaultConfig();
  const dataDir = values['data-dir'] ?? config.dataDir;
  const difficulty = intOption('difficulty', values.difficulty, 0, 40) ?? config.identity.powDifficulty ?? DEFAULT_POW_DIFFICULTY;
  const passphraseFile = values['passphrase-file'] ?? config.identity.passphraseFile;

  const rate = measureHashRate(200);
  const err = process.stderr;
  err.write(
    `proof of work: difficulty ${difficulty}, ${2 ** difficulty} hashes expected, ` +
      `about ${seconds(expectedPowSeconds(difficulty, rate))} here at ${Math.round(rate / 1000)}k hashes/s\n`,
  );

  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  const began = performance.now();
  let lastDraw = 0;
  const onProgress = (attempts: number, hashesPerSec: number): void => {
    const now = performance.now();
    if (now - lastDraw < (err.isTTY ? 100 : 5000)) return;
    lastDraw = now;
    const line = `  ${attempts} hashes, ${Math.round(hashesPerSec / 1000)}k/s, ${seconds((now - began) / 1000)} elapsed`;
    err.write(err.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  };

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passphrase = await readPassphrase(passphraseFile);
  try {
    const identity = await createIdentity(dataDir, { difficulty, passphrase, onProgress, signal: abort.signal });
    if (err.isTTY) err.write('\r\x1b[K');
    err.write(`solved in ${seconds((performance.now() - began) / 1000)}\n`);
    process.stdout.write(
      `peer id     ${toHex(identity.peerId)}\npublic key  ${toHex(identity.publicKey)}\ndata dir    ${dataDir}\n`,
    );
    identity.destroy();
    return 0;
  } finally {
    passphrase?.fill(0);
    process.off('SIGINT', onSignal);
  }
}
