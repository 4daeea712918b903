// Builds the Rust addon for `npm install` (run from the repository root:
// `node native-napi/build.mjs`). Never fails the install: when cargo is
// missing, the build is switched off or it fails, it says so in one line and the
// agent uses its TypeScript fallbacks. Offline on purpose: the crate has no
// dependencies, so boards build it without the crates registry.
import { spawnSync } from 'node:child_process';
import { copyFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = join(here, 'Cargo.toml');
const built = join(here, 'target', 'release', 'libedge_agent_native.so');
const out = join(here, 'edge_agent_native.node');
const shown = relative(process.cwd(), out) || out;
const fallback = 'the agent uses its TypeScript fallbacks';

function skip(reason) {
  console.log(`native: skipped (${reason}); ${fallback}`);
  process.exit(0);
}

if ((process.env.EDGE_AGENT_NATIVE ?? '').toLowerCase() === 'off') skip('EDGE_AGENT_NATIVE=off');
if (process.platform !== 'linux') skip(`platform ${process.platform}: the addon is Linux-only`);

const cargo = process.env.CARGO || 'cargo';
const probe = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) skip(`${cargo} not found`);

const started = Date.now();
const build = spawnSync(cargo, ['build', '--release', '--offline', '--manifest-path', manifest], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
if (build.error || build.status !== 0) {
  const why = build.error ? build.error.message : `cargo exited with ${build.status ?? build.signal}`;
  console.log(`native: build failed (${why}); ${fallback}`);
  const tail = (build.stderr ?? '').trimEnd().split('\n').slice(-20).join('\n');
  if (tail) console.log(tail);
  process.exit(0);
}
try {
  // Copy then rename, so a running process never loads a half-written file.
  copyFileSync(built, `${out}.tmp`);
  renameSync(`${out}.tmp`, out);
} catch (err) {
  console.log(`native: build failed (cannot copy ${built}: ${err.message}); ${fallback}`);
  process.exit(0);
}
const kib = Math.round(statSync(out).size / 1024);
console.log(`native: built ${shown} (${probe.stdout.trim()}, ${kib} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
