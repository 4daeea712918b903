import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ea-native-build-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs build.mjs as npm install would, from the repository root. Only paths that never replace the .node run here. */
function build(env: Record<string, string>): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, ['native-napi/build.mjs'], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, lines: r.stdout.trimEnd().split('\n') };
}

test('EDGE_AGENT_NATIVE=off skips the build in one line and exits 0', (t) => {
  const r = build({ EDGE_AGENT_NATIVE: 'off' });
  t.is(r.status, 0);
  t.deepEqual(r.lines, ['native: skipped (EDGE_AGENT_NATIVE=off); the agent uses its TypeScript fallbacks']);
});

test('no cargo skips the build in one line and exits 0', (t) => {
  const r = build({ CARGO: join(tmp, 'no-such-cargo') });
  t.is(r.status, 0);
  t.is(r.lines.length, 1);
  t.regex(r.lines[0] ?? '', /^native: skipped \(.*no-such-cargo not found\); the agent uses its TypeScript fallbacks$/);
});

test('a failed build says so in one line, shows the tail of cargo stderr, and exits 0', (t) => {
  const fake = join(tmp, 'cargo');
  writeFileSync(fake, '#!/bin/sh\nif [ "$1" = --version ]; then echo "cargo 0.0.0 (fake)"; exit 0; fi\necho "error[E0425]: cannot find value" >&2\nexit 101\n');
  chmodSync(fake, 0o755);
  const r = build({ CARGO: fake });
  t.is(r.status, 0);
  t.is(r.lines[0], 'native: build failed (cargo exited with 101); the agent uses its TypeScript fallbacks');
  t.is(r.lines[1], 'error[E0425]: cannot find value');
});
