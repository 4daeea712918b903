/**
 * `npm run bench -- NAME` runs benchmarks/NAME.ts alone. A benchmark's default export
 * returns its figures; the runner prints them as one JSON line, last, on stdout.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

export type BenchResult = Record<string, number | string | boolean | null | Record<string, unknown>>;
export type Benchmark = () => Promise<BenchResult>;

const here = dirname(fileURLToPath(import.meta.url));

async function available(): Promise<string[]> {
  const files = await readdir(here);
  return files.filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.slice(0, -3)).sort();
}

async function main(): Promise<number> {
  const name = process.argv[2];
  const names = await available();
  if (name === undefined || !names.includes(name)) {
    process.stderr.write(`usage: npm run bench -- NAME   (NAME is one of: ${names.join(', ')})\n`);
    return 2;
  }
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: Benchmark };
  const result = await mod.default();
  process.stdout.write(`${JSON.stringify({ bench: name, node: process.version, ...result })}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
