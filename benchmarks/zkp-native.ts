/**
 * The native Groth16 prover (native-napi's groth16/) against snarkjs, both warm and in
 * process, in the same run: key possession, and membership at the production depth 20
 * (compiled with --O2; its zkey is built here once, on a local 2^13 powers of tau, and
 * cached in circuits/build/bench/), on all cores and on one. Times are prove-only medians:
 * witness in (.wtns), proof out, as rapidsnark is measured. peakRssMb is the process's peak
 * resident set after the native runs and before snarkjs's curve is loaded (baseRssMb of it is
 * Node, tsx and the zkp room's imports before any prover); tableMb is what the parsed
 * membership key's fixed-base tables hold in the addon (keyMb: the parsed key). The native
 * provers use the default table budget; noTableMembershipMs is the same proof without tables. Every native proof is checked with snarkjs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  circuitArtifacts,
  commitmentOf,
  DEFAULT_TABLE_MB,
  DEFAULT_BUILD_DIR,
  keyPossessionInput,
  membershipInput,
  MerkleTree,
  NativeProver,
  nativeProverStatus,
  SnarkjsProver,
  Verifier,
  type CircuitArtifacts,
  type CircuitInput,
  type ProofResult,
  type StagedProver,
} from '../edge-agent/src/zkp/index.js';
import { ensureCircuitsSync, REPO } from '../edge-agent/test/zkp/build.js';
import type { BenchResult } from './run.js';
import { median, round } from './lib/measure.js';

const DEPTH = 20;
const POWER = 13; // 2^13 ≥ 5,293 constraints + public inputs
const PROOFS = 9;
const SNARKJS_PROOFS = 5;

/** Set when this run had to build the depth-20 zkey (snarkjs's setup then dominates peakRssMb). */
let builtThisRun = false;

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const peakRssMb = (): number => round(process.resourceUsage().maxRSS / 1024, 1);

/** Membership at `DEPTH`, built once and cached (keyed by the circuit sources and tool versions). */
async function depthCircuit(): Promise<CircuitArtifacts> {
  const dir = join(DEFAULT_BUILD_DIR, 'bench', `membership_${DEPTH}`);
  const name = `membership_${DEPTH}`;
  const modules = join(REPO, 'node_modules');
  const version = (p: string): string => (JSON.parse(readFileSync(join(modules, p, 'package.json'), 'utf8')) as { version: string }).version;
  const key = createHash('sha256')
    .update(readFileSync(join(REPO, 'circuits', 'membership.circom')))
    .update(JSON.stringify([DEPTH, POWER, version('circom2'), version('circomlib'), version('snarkjs')]))
    .digest('hex');
  const files = {
    r1cs: join(dir, `${name}.r1cs`),
    wasm: join(dir, `${name}_js`, `${name}.wasm`),
    witnessCalculator: join(dir, `${name}_js`, 'witness_calculator.js'),
    zkey: join(dir, `${name}.zkey`),
    vkey: join(dir, `${name}.vkey.json`),
  };
  const stamp = join(dir, 'stamp.json');
  const cached = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as { key?: string; constraints?: number }) : {};
  if (cached.key !== key || !Object.values(files).every(existsSync)) {
    const t0 = Date.now();
    const why = cached.key === undefined ? 'no cached build' : cached.key !== key ? 'the circuit or a tool version changed' : 'a cached file is missing';
    process.stderr.write(`zkp-native: building membership at depth ${DEPTH} (${why}; once, a few minutes)\n`);
    // Built in a private folder and renamed into place: a concurrent run never sees half a build.
    const final = dir;
    const dirTmp = `${final}.${process.pid}.tmp`;
    rmSync(dirTmp, { recursive: true, force: true });
    mkdirSync(dirTmp, { recursive: true });
    const at = (p: string): string => p.replace(final, dirTmp);
    writeFileSync(join(dirTmp, `${name}.circom`), `pragma circom 2.0.0;\ninclude "membership.circom";\ncomponent main { public [root, challenge] } = Membership(${DEPTH});\n`);
    const c = spawnSync(process.execPath, [join(modules, 'circom2', 'cli.js'), join(dirTmp, `${name}.circom`), '--O2', '--r1cs', '--wasm', '-l', modules, '-l', join(REPO, 'circuits'), '-o', dirTmp], { encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`circom failed: ${c.stderr || c.stdout}`);
    const nonLinear = Number(/non-linear constraints: (\d+)/.exec(c.stdout)?.[1] ?? NaN);
    const linear = Number(/(?<!non-)linear constraints: (\d+)/.exec(c.stdout)?.[1] ?? 0);
    const snarkjs = await import('snarkjs');
    const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => process.stderr.write(`snarkjs: ${m}\n`) };
    // snarkjs exports its curves, though its type declarations do not say so.
    const curves = (snarkjs as unknown as { curves: { getCurveFromName(n: string): Promise<unknown> } }).curves;
    const curve = await curves.getCurveFromName('bn128');
    const p0 = join(dirTmp, 'pot_0.ptau');
    const p1 = join(dirTmp, 'pot_1.ptau');
    const pf = join(dirTmp, 'pot_final.ptau');
    const z0 = join(dirTmp, `${name}_0.zkey`);
    const rand = (): string => createHash('sha256').update(`${Date.now()}${Math.random()}`).digest('hex');
    await snarkjs.powersOfTau.newAccumulator(curve, POWER, p0, quiet);
    await snarkjs.powersOfTau.contribute(p0, p1, 'bench contribution', rand(), quiet);
    await snarkjs.powersOfTau.preparePhase2(p1, pf, quiet);
    await snarkjs.zKey.newZKey(at(files.r1cs), pf, z0, quiet);
    await snarkjs.zKey.contribute(z0, at(files.zkey), 'bench phase 2', rand(), quiet);
    writeFileSync(at(files.vkey), JSON.stringify(await snarkjs.zKey.exportVerificationKey(at(files.zkey), quiet)));
    for (const p of [p0, p1, pf, z0]) rmSync(p, { force: true });
    writeFileSync(at(stamp), JSON.stringify({ key, constraints: nonLinear + linear }));
    rmSync(final, { recursive: true, force: true });
    renameSync(dirTmp, final);
    cached.constraints = nonLinear + linear;
    builtThisRun = true;
    process.stderr.write(`zkp-native: built in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  return { name, kind: 'membership', depth: DEPTH, constraints: cached.constraints ?? 0, nPublic: 3, ...files };
}

interface Timing {
  medianMs: number;
  results: ProofResult[];
}

async function timeProofs(prover: StagedProver, witnesses: Uint8Array[], n: number): Promise<Timing> {
  await prover.proveWitness(witnesses[0]!); // warm-up: JIT, thread pools, page faults
  const times: number[] = [];
  const results: ProofResult[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    results.push(await prover.proveWitness(witnesses[i % witnesses.length]!));
    times.push(ms(t0));
  }
  return { medianMs: round(median(times), 1), results };
}

async function checkAll(circuit: CircuitArtifacts, results: ProofResult[]): Promise<void> {
  const v = await Verifier.fromFile(circuit.vkey);
  try {
    for (const r of results) if (!(await v.verify(r.publicSignals, r.proof))) throw new Error(`${circuit.name}: a native proof did not verify`);
  } finally {
    await v.close();
  }
}

export default async function zkpNativeBench(): Promise<BenchResult> {
  const status = nativeProverStatus();
  if (status.addon === null) return { skipped: true, reason: status.reason };
  ensureCircuitsSync();
  const kp = circuitArtifacts('keyPossession');
  let mem: CircuitArtifacts;
  let depthNote = `built for this benchmark with --O2 (cached in circuits/build/bench/)`;
  try {
    mem = await depthCircuit();
    if (builtThisRun) depthNote += '; built in this run, so peakRssMb includes the setup: run again for the prover alone';
  } catch (err) {
    mem = circuitArtifacts('membership');
    depthNote = `depth ${DEPTH} build failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); measured the development depth`;
  }
  const secrets = Array.from({ length: 6 }, (_, i) => 0xb0a4dn * BigInt(i + 3));
  const tree = MerkleTree.fromLeaves(mem.depth!, secrets.map(commitmentOf));
  const kpInputs: CircuitInput[] = secrets.map((s, i) => keyPossessionInput(s, 0xc0ffeen + BigInt(i)));
  const memInputs: CircuitInput[] = secrets.map((s, i) => membershipInput(s, 0xc0ffeen + BigInt(i), tree));

  // Native first, so the peak RSS is the native prover's (snarkjs's curve is not loaded yet).
  const rssBefore = process.memoryUsage().rss;
  const kpNative = await NativeProver.load(kp);
  const memNative = await NativeProver.load(mem);
  const memNative1 = await NativeProver.load(mem, { threads: 1 });
  const kpNative1 = await NativeProver.load(kp, { threads: 1 });
  const memNoTable = await NativeProver.load(mem, { tableMb: 0 });
  const kpW = await Promise.all(kpInputs.map((i) => kpNative.witness(i)));
  const memW = await Promise.all(memInputs.map((i) => memNative.witness(i)));
  const native = {
    kp: await timeProofs(kpNative, kpW, PROOFS),
    mem: await timeProofs(memNative, memW, PROOFS),
    kp1: await timeProofs(kpNative1, kpW, PROOFS),
    mem1: await timeProofs(memNative1, memW, PROOFS),
    memNoTable: await timeProofs(memNoTable, memW, PROOFS),
  };
  const rss = peakRssMb();
  const growth = process.memoryUsage().rss - rssBefore;
  const info = memNative.keyInfo();
  await Promise.all([kpNative.close(), memNative.close(), memNative1.close(), kpNative1.close(), memNoTable.close()]);

  const kpSnark = await SnarkjsProver.load(kp);
  const memSnark = await SnarkjsProver.load(mem);
  const snark = { kp: await timeProofs(kpSnark, kpW, SNARKJS_PROOFS), mem: await timeProofs(memSnark, memW, SNARKJS_PROOFS) };
  await Promise.all([kpSnark.close(), memSnark.close()]);

  await checkAll(kp, [...native.kp.results, ...native.kp1.results]);
  await checkAll(mem, [...native.mem.results, ...native.mem1.results, ...native.memNoTable.results]);

  return {
    keyPossessionMs: native.kp.medianMs,
    membershipMs: native.mem.medianMs,
    speedupVsSnarkjsKeyPossession: round(snark.kp.medianMs / native.kp.medianMs, 2),
    speedupVsSnarkjsMembership: round(snark.mem.medianMs / native.mem.medianMs, 2),
    oneThreadKeyPossessionMs: native.kp1.medianMs,
    oneThreadMembershipMs: native.mem1.medianMs,
    snarkjsKeyPossessionMs: snark.kp.medianMs,
    snarkjsMembershipMs: snark.mem.medianMs,
    peakRssMb: rss,
    // What loading four native provers (and their witness calculators) and proving added.
    nativeRssGrowthMb: round(growth / 2 ** 20, 1),
    baseRssMb: round(rssBefore / 2 ** 20, 1),
    // The fixed-base tables of the membership key (budget DEFAULT_TABLE_MB), and the parsed key itself.
    tableMb: round(info.tableBytes / 2 ** 20, 2),
    tableBudgetMb: DEFAULT_TABLE_MB,
    keyMb: round(info.memoryBytes / 2 ** 20, 2),
    noTableMembershipMs: native.memNoTable.medianMs,
    membershipDepth: mem.depth!,
    membershipConstraints: mem.constraints,
    membershipDomain: info.domainSize,
    membershipNote: depthNote,
    fixedBasePrecomputation: info.tableBytes > 0,
    threads: availableParallelism(),
    proofs: PROOFS,
    verified: true,
  };
}
