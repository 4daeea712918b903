// Builds the zero-knowledge circuits for `npm install` (run from the repository root:
// `node circuits/build.mjs`, or `npm run build:circuits`): compiles each main circuit with
// circom2 (Circom 2 as WebAssembly) and runs a DEVELOPMENT Groth16 setup with snarkjs:
// one local powers of tau (2^POWER, two contributions of fresh random entropy), phase 2 per
// circuit with one contribution, verification keys exported. Everything lands in the
// git-ignored circuits/build/ and is rebuilt only when an input changes:
//   - phase 1 (ptau) is keyed by the power and the snarkjs version only, so editing a
//     circuit reruns compile + phase 2 (seconds), not the powers of tau (the slow part);
//   - its preparation for phase 2 computes only the Lagrange bases the circuits' domains read
//     (prepare.mjs), keyed by phase 1 and those domain sizes;
//   - each circuit is keyed by its main file and the local files it includes, this script,
//     and the versions of circom2, circomlib and snarkjs (and rebuilt when phase 1 is).
// A production fleet does NOT use these keys: see docs/zkp.md (setup at provisioning).
// EDGE_AGENT_CIRCUITS=off skips the build; FORCE=1 (or --force) rebuilds everything.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePhase2For } from './prepare.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const out = join(here, 'build');
const modules = join(root, 'node_modules');

/** 2^11 constraints hold key possession (453) and membership up to depth 6 (1,905). */
export const POWER = 11;
/** The development membership depth: 64 boards. Production depth 20 needs 2^13 (docs/zkp.md). */
export const DEV_DEPTH = 6;
/** Main components: one file per configured depth for membership. */
export const CIRCUITS = [
  { name: 'key_possession', main: 'key_possession.circom' },
  { name: `membership_${DEV_DEPTH}`, main: `membership_${DEV_DEPTH}.circom`, depth: DEV_DEPTH },
];

const started = Date.now();
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (line) => console.log(`circuits: ${line}`);

if ((process.env.EDGE_AGENT_CIRCUITS ?? '').toLowerCase() === 'off') {
  say('skipped (EDGE_AGENT_CIRCUITS=off); zero-knowledge proofs are unavailable until `npm run build:circuits`');
  process.exit(0);
}
const force = process.argv.includes('--force') || process.env.FORCE === '1';

function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : p);
  return h.digest('hex');
}
const fileHash = (path) => sha256(readFileSync(path));
const versionOf = (pkg) => JSON.parse(readFileSync(join(modules, pkg, 'package.json'), 'utf8')).version;
const readJson = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined);

/** Writes through a temporary name and a rename, so a crash never leaves a half file behind a valid stamp. */
function writeAtomic(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** Fresh entropy for every contribution: never a fixed string (the toxic waste must be unknown). */
const entropy = () => randomBytes(32).toString('hex');

/** A child at lower priority: the compilers fill the cycles phase 1 leaves, rather than slow it. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      if (child.pid !== undefined) setPriority(child.pid, 10);
    } catch {
      // Not allowed to renice here: the build is only slower.
    }
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${text}`))));
  });
}

const versions = { circom2: versionOf('circom2'), circomlib: versionOf('circomlib'), snarkjs: versionOf('snarkjs') };
/** A circuit's own sources: its main file and the local files it includes, transitively. */
function localSources(main, seen = new Set()) {
  if (seen.has(main)) return seen;
  seen.add(main);
  const text = readFileSync(join(here, main), 'utf8');
  for (const m of text.matchAll(/^\s*include\s+"([^"]+)"/gm)) {
    if (existsSync(join(here, m[1]))) localSources(m[1], seen);
  }
  return seen;
}
/** The preparation's own code: the prepared ptau (and so every zkey) depends on it. */
const prepareHash = fileHash(join(here, 'prepare.mjs'));
/** What a circuit's outputs depend on: its sources, this script and prepare.mjs, the tool and library versions. */
function inputsHashOf(c) {
  const files = [...localSources(c.main)].sort();
  return sha256(
    ...files.map((f) => `${f}\0${fileHash(join(here, f))}\0`),
    fileHash(fileURLToPath(import.meta.url)),
    prepareHash,
    JSON.stringify(versions),
  );
}

mkdirSync(out, { recursive: true });
// circom's generated witness_calculator.js is CommonJS; the repository is ESM.
writeAtomic(join(out, 'package.json'), '{ "type": "commonjs" }\n');

const manifestPath = join(out, 'manifest.json');
const previous = force ? undefined : readJson(manifestPath);
/** Phase 1 after its contributions: complete, `snarkjs powersoftau verify` checks it. */
const phase1Path = join(out, `pot${POWER}_phase1.ptau`);
/** Prepared for phase 2 at the circuits' domains only (prepare.mjs): what `zkey new` reads. */
const ptauPath = join(out, `pot${POWER}_final.ptau`);
const phase1Key = sha256(`power=${POWER}`, `snarkjs=${versions.snarkjs}`, 'layout=2');
const phase1Fresh =
  previous?.phase1?.key === phase1Key &&
  existsSync(phase1Path) &&
  fileHash(phase1Path) === previous.phase1.phase1Sha256 &&
  existsSync(ptauPath) &&
  fileHash(ptauPath) === previous.phase1.ptauSha256;

const pending = CIRCUITS.filter((c) => {
  const had = previous?.circuits?.[c.name];
  if (!phase1Fresh || !had || had.inputsHash !== inputsHashOf(c)) return true;
  const dir = join(out, c.name);
  return !['zkey', 'vkey', 'wasm'].every((k) => existsSync(join(dir, had.files[k])) && fileHash(join(dir, had.files[k])) === had.sha256[k]);
});

if (phase1Fresh && pending.length === 0) {
  say(`up to date (${CIRCUITS.map((c) => c.name).join(', ')}; ${secs(started)})`);
  process.exit(0);
}

const snarkjs = await import('snarkjs');
const quiet = { debug() {}, info() {}, warn: (m) => say(`snarkjs: ${m}`), error: (m) => say(`snarkjs: ${m}`) };

// Compiling is single-threaded WebAssembly: run both compilers while phase 1 uses the cores.
async function compile(c) {
  const t0 = Date.now();
  const dir = join(out, c.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log = await run(process.execPath, [
    join(modules, 'circom2', 'cli.js'),
    join(here, c.main),
    '--O2', '--r1cs', '--wasm', '--sym',
    '-l', modules,
    '-o', dir,
  ]);
  const nonLinear = Number(/non-linear constraints: (\d+)/.exec(log)?.[1] ?? NaN);
  const linear = Number(/(?<!non-)linear constraints: (\d+)/.exec(log)?.[1] ?? 0);
  say(`compiled ${c.name}: ${nonLinear + linear} constraints (${secs(t0)})`);
  return { constraints: nonLinear + linear, compileMs: Date.now() - t0 };
}

/**
 * The power of the circuit's Groth16 domain as snarkjs's `zkey new` sizes it:
 * floor(log2(constraints + public inputs + outputs)) + 1, from the r1cs header (section 1:
 * n8, prime, nWires, nOutputs, nPubInputs, nPrvInputs, nLabels u64, nConstraints).
 */
function domainPowerOf(c) {
  const bytes = readFileSync(join(out, c.name, `${c.name}.r1cs`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  for (let i = 0, n = view.getUint32(8, true); i < n; i++) {
    const type = view.getUint32(at, true);
    const size = Number(view.getBigUint64(at + 4, true));
    if (type === 1) {
      const h = at + 12;
      const n8 = view.getUint32(h, true);
      const nOutputs = view.getUint32(h + 4 + n8 + 4, true);
      const nPubInputs = view.getUint32(h + 4 + n8 + 8, true);
      const nConstraints = view.getUint32(h + 4 + n8 + 24, true);
      return Math.floor(Math.log2(nConstraints + nPubInputs + nOutputs)) + 1;
    }
    at += 12 + size;
  }
  throw new Error(`${c.name}.r1cs has no header section`);
}

async function phase1() {
  if (phase1Fresh) return { phase1Sha256: previous.phase1.phase1Sha256, ms: 0 };
  const t0 = Date.now();
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const p0 = join(out, `pot${POWER}_0.ptau`);
  const p1 = join(out, `pot${POWER}_1.ptau`);
  await snarkjs.powersOfTau.newAccumulator(curve, POWER, p0, quiet);
  await snarkjs.powersOfTau.contribute(p0, p1, 'dev contribution 1', entropy(), quiet);
  await snarkjs.powersOfTau.contribute(p1, `${phase1Path}.tmp`, 'dev contribution 2', entropy(), quiet);
  renameSync(`${phase1Path}.tmp`, phase1Path);
  for (const p of [p0, p1]) rmSync(p, { force: true });
  say(`powers of tau 2^${POWER}: 2 contributions (${secs(t0)})`);
  return { phase1Sha256: fileHash(phase1Path), ms: Date.now() - t0 };
}

/** The Lagrange bases at the domains of every circuit (pending or cached), unless they are there already. */
async function prepare(powers) {
  const same = JSON.stringify(previous?.phase1?.preparedPowers) === JSON.stringify(powers) && previous?.phase1?.preparedBy === prepareHash;
  if (phase1Fresh && same) {
    return previous.phase1.ptauSha256;
  }
  const t0 = Date.now();
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  await preparePhase2For(curve, phase1Path, ptauPath, powers);
  say(`powers of tau prepared for phase 2 at 2^${powers.join(', 2^')} (${secs(t0)})`);
  return fileHash(ptauPath);
}

async function phase2(c, compiled) {
  const t0 = Date.now();
  const dir = join(out, c.name);
  const r1cs = join(dir, `${c.name}.r1cs`);
  const z0 = join(dir, `${c.name}_0.zkey`);
  const zkey = join(dir, `${c.name}.zkey`);
  const vkey = join(dir, `${c.name}.vkey.json`);
  if ((await snarkjs.zKey.newZKey(r1cs, ptauPath, z0, quiet)) === -1) throw new Error(`zkey new failed for ${c.name}`);
  await snarkjs.zKey.contribute(z0, `${zkey}.tmp`, 'dev phase 2 contribution', entropy(), quiet);
  renameSync(`${zkey}.tmp`, zkey);
  rmSync(z0, { force: true });
  const vk = await snarkjs.zKey.exportVerificationKey(zkey, quiet);
  writeAtomic(vkey, `${JSON.stringify(vk, null, 1)}\n`);
  say(`phase 2 ${c.name}: zkey + verification key (${secs(t0)})`);
  const files = {
    r1cs: `${c.name}.r1cs`,
    sym: `${c.name}.sym`,
    wasm: `${c.name}_js/${c.name}.wasm`,
    witnessCalculator: `${c.name}_js/witness_calculator.js`,
    zkey: `${c.name}.zkey`,
    vkey: `${c.name}.vkey.json`,
  };
  return {
    name: c.name,
    ...(c.depth === undefined ? {} : { depth: c.depth }),
    constraints: compiled.constraints,
    nPublic: vk.nPublic,
    inputsHash: inputsHashOf(c),
    files,
    sha256: { zkey: fileHash(zkey), vkey: fileHash(vkey), wasm: fileHash(join(dir, files.wasm)) },
    compileMs: compiled.compileMs,
    setupMs: Date.now() - t0,
  };
}

try {
  const steps = {};
  const compiling = pending.map((c) => compile(c));
  const p1 = await phase1();
  steps.phase1Ms = p1.ms;
  const compiled = await Promise.all(compiling);
  steps.compiledAtMs = Date.now() - started;
  const powers = [...new Set(CIRCUITS.map(domainPowerOf))].sort((a, b) => a - b);
  const t2 = Date.now();
  const ptauSha256 = await prepare(powers);
  steps.prepareMs = Date.now() - t2;
  // Keep the entries still current; circuits dropped from CIRCUITS leave the manifest.
  const circuits = Object.fromEntries(
    CIRCUITS.filter((c) => !pending.includes(c)).map((c) => [c.name, previous.circuits[c.name]]),
  );
  // Both circuits' phase 2 at once: their single-threaded stretches (file writes, hashing) overlap.
  const t3 = Date.now();
  const done = await Promise.all(pending.map((c, i) => phase2(c, compiled[i])));
  steps.phase2Ms = Date.now() - t3;
  for (const entry of done) circuits[entry.name] = entry;
  const manifest = {
    note: 'DEVELOPMENT Groth16 parameters from a local ceremony; never use them for a fleet (docs/zkp.md).',
    versions,
    phase1: {
      key: phase1Key,
      power: POWER,
      contributions: 2,
      phase1: relative(out, phase1Path),
      phase1Sha256: p1.phase1Sha256,
      ptau: relative(out, ptauPath),
      ptauSha256,
      preparedPowers: powers,
      preparedBy: prepareHash,
    },
    circuits,
    builtAt: new Date().toISOString(),
    buildMs: Date.now() - started,
    steps,
  };
  writeAtomic(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  say(`built ${pending.map((c) => c.name).join(', ')} in ${secs(started)}${phase1Fresh ? ' (powers of tau reused)' : ''}`);
  // snarkjs keeps worker threads alive; the build is done.
  process.exit(0);
} catch (err) {
  say(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
