// Phase 2 preparation of a powers of tau, limited to the powers our circuits read.
//
// snarkjs's `powersoftau prepare phase2` computes, for every power p = 0 … POWER (and POWER + 1
// for τ·G1), the Lagrange basis of each of the four point sections (τ·G1, τ·G2, α·τ·G1,
// β·τ·G1): an inverse FFT over curve points per power and section, the slowest step of the
// build. `zkey new` for a circuit whose domain is 2^d reads only the bases at d (all four
// sections) and at d + 1 (τ·G1, for the H query), at offsets that assume every lower power is
// present. So here the bases are computed only at those powers; the others are zero-filled
// to keep the layout. The result serves `zkey new` exactly as snarkjs's file would (the bases
// it reads are the same), but it is not a complete prepared ptau: `snarkjs powersoftau verify`
// refuses it. The complete, verifiable phase 1 (before preparation) is kept beside it.
//
// The ptau container ("binfile"): "ptau", version u32, section count u32, then per section
// type u32, byte length u64, bytes; little-endian.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';

const SRC_TAU_G1 = 2;
const SRC_TAU_G2 = 3;
const SRC_ALPHA_G1 = 4;
const SRC_BETA_G1 = 5;

function readSections(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== 'ptau') throw new Error('not a ptau file');
  const count = view.getUint32(8, true);
  const sections = new Map();
  let at = 12;
  for (let i = 0; i < count; i++) {
    const type = view.getUint32(at, true);
    const size = Number(view.getBigUint64(at + 4, true));
    if (sections.has(type)) throw new Error(`ptau section ${type} appears twice`);
    sections.set(type, bytes.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return { version: view.getUint32(4, true), sections };
}

function writeFile(path, version, sections) {
  const parts = [];
  const head = new Uint8Array(12);
  head.set(new TextEncoder().encode('ptau'));
  new DataView(head.buffer).setUint32(4, version, true);
  new DataView(head.buffer).setUint32(8, sections.length, true);
  parts.push(head);
  for (const [type, chunks] of sections) {
    const size = chunks.reduce((n, c) => n + c.byteLength, 0);
    const h = new Uint8Array(12);
    const v = new DataView(h.buffer);
    v.setUint32(0, type, true);
    v.setBigUint64(4, BigInt(size), true);
    parts.push(h, ...chunks);
  }
  writeFileSync(`${path}.tmp`, Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  renameSync(`${path}.tmp`, path);
}

/**
 * Writes to `outPath` the phase-2-ready ptau for circuits whose domains are 2^d for d in
 * `domainPowers`, from the phase 1 file `inPath` (at 2^power). `curve` is snarkjs's bn128.
 */
export async function preparePhase2For(curve, inPath, outPath, domainPowers) {
  const { version, sections } = readSections(readFileSync(inPath));
  const header = sections.get(1);
  const n8 = new DataView(header.buffer, header.byteOffset).getUint32(0, true);
  const power = new DataView(header.buffer, header.byteOffset).getUint32(4 + n8, true);
  for (const d of domainPowers) if (!(Number.isInteger(d) && d >= 1 && d <= power)) throw new Error(`domain 2^${d} does not fit a 2^${power} ptau`);
  const wantAll = new Set(domainPowers);
  const wantTauG1 = new Set(domainPowers.flatMap((d) => [d, d + 1]));

  async function lagrange(src, groupName, maxPower, wanted) {
    const G = curve[groupName];
    const sG = G.F.n8 * 2;
    const points = sections.get(src);
    const chunks = [];
    for (let p = 0; p <= maxPower; p++) {
      const n = 2 ** p;
      if (!wanted.has(p)) {
        chunks.push(new Uint8Array(n * sG));
        continue;
      }
      const buff = new Uint8Array(n * sG);
      // τ·G1 holds 2^(power+1) − 1 points: the basis at power + 1 takes them all and the point at infinity.
      const have = Math.min(n, points.byteLength / sG);
      buff.set(points.subarray(0, have * sG));
      if (have < n) buff.set(G.zeroAffine, have * sG);
      chunks.push(await G.lagrangeEvaluations(buff, 'affine', 'affine'));
    }
    return chunks;
  }

  const out = [];
  for (const id of [1, 2, 3, 4, 5, 6, 7]) {
    if (!sections.has(id)) throw new Error(`the phase 1 ptau has no section ${id}`);
    out.push([id, [sections.get(id)]]);
  }
  out.push([12, await lagrange(SRC_TAU_G1, 'G1', power + 1, wantTauG1)]);
  out.push([13, await lagrange(SRC_TAU_G2, 'G2', power, wantAll)]);
  out.push([14, await lagrange(SRC_ALPHA_G1, 'G1', power, wantAll)]);
  out.push([15, await lagrange(SRC_BETA_G1, 'G1', power, wantAll)]);
  writeFile(outPath, version, out);
}
