/**
 * Offline measurements on a finished topology: the correlated failure (whole
 * regions gone at once) and neighbourhood-overlap statistics.
 */
import { components, graphFromLists, neighbourhoodOverlap } from '../overlay/index.js';
import { SimError } from './errors.js';

/** Fraction of surviving peers in the largest connected component once `removed` peers are gone (1 when none survive). */
export function survivorsConnected(lists: readonly (readonly number[])[], removed: (peer: number) => boolean): { survivors: number; largest: number; fraction: number } {
  if (!Array.isArray(lists)) throw new SimError('BAD_ARGUMENT', 'survivorsConnected: lists must be an array');
  if (typeof removed !== 'function') throw new SimError('BAD_ARGUMENT', 'survivorsConnected: removed must be a function');
  const alive = lists.map((_, p) => !removed(p));
  const pruned = lists.map((l, p) => (alive[p] ? l.filter((q: number) => alive[q] === true) : []));
  const base = graphFromLists(pruned);
  const survivorsList = pruned.flatMap((_, p) => (alive[p] ? [p] : []));
  const graph = { neighboursOf: (p: number) => base.neighboursOf(p), peers: () => survivorsList };
  const summary = components(graph, lists.length);
  const fraction = survivorsList.length === 0 ? 1 : summary.largest / survivorsList.length;
  return { survivors: survivorsList.length, largest: summary.largest, fraction };
}

/**
 * Regions to take down so that about `fraction` of the peers go: regions in a
 * seeded order (`order`), added while the total stays nearest the target.
 */
export function pickRegions(region: Uint8Array, regions: number, fraction: number, order: readonly number[]): number[] {
  if (!(fraction >= 0 && fraction <= 1)) throw new SimError('BAD_ARGUMENT', 'pickRegions: fraction must be in [0, 1]');
  const count = new Array<number>(regions).fill(0);
  for (const r of region) count[r] = (count[r] ?? 0) + 1;
  const target = fraction * region.length;
  const out: number[] = [];
  let total = 0;
  for (const r of order) {
    const c = count[r] ?? 0;
    if (Math.abs(total + c - target) >= Math.abs(total - target)) break;
    out.push(r);
    total += c;
  }
  return out;
}

export interface Stats {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}

export function stats(values: ArrayLike<number>): Stats {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) return { mean: 0, p50: 0, p90: 0, max: 0 };
  let sum = 0;
  for (const x of v) sum += x;
  const at = (q: number): number => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { mean: sum / v.length, p50: at(0.5), p90: at(0.9), max: v[v.length - 1]! };
}

/** neighbourhoodOverlap of every peer with at least two neighbours. */
export function overlapStats(lists: readonly (readonly number[])[]): Stats {
  const graph = graphFromLists(lists);
  const values: number[] = [];
  lists.forEach((l, p) => {
    if (l.length >= 2) values.push(neighbourhoodOverlap(p, l as number[], graph));
  });
  return stats(values);
}
