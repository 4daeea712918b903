import { batchDigest, decodeFrame, sign, type Body, type ReplicaBody } from './messages.js';
import type { SimRandom } from './sim-random.js';
import type { ConsensusSigner, ReplicaAction } from './types.js';

/**
 * Byzantine behaviours for the simulator. A byzantine replica runs the honest core, but
 * everything it sends passes through its behaviours, which drop, rewrite, split, delay,
 * replay or forge it. It only ever signs with its own key.
 */
export type Behaviour =
  /** Sends nothing. */
  | { readonly kind: 'silent' }
  /** As primary, sends a second pre-prepare for the same (view, seq) with another batch to half the backups. */
  | { readonly kind: 'equivocate' }
  /** Sends prepares and commits for made-up digests to half the replicas. */
  | { readonly kind: 'conflicting-prepares' }
  /** Resends old messages (its own and others') to random replicas. */
  | { readonly kind: 'replay' }
  /** Sends copies of its messages claiming another replica as sender (signed with its own key). */
  | { readonly kind: 'forge' }
  /** Replies to clients with made-up results. */
  | { readonly kind: 'bad-replies' }
  /** Delays everything it sends by `delay` ms (a primary slower than the view-change timer). */
  | { readonly kind: 'slow'; readonly delay: number };

export const BEHAVIOUR_KINDS = ['silent', 'equivocate', 'conflicting-prepares', 'replay', 'forge', 'bad-replies', 'slow'] as const;

/** One message the adversary lets out: to a replica (`to` < n) or a client, after extra delay. */
export interface Outgoing {
  readonly to: number;
  readonly bytes: Uint8Array;
  readonly client: boolean;
  readonly delay: number;
}

export class Adversary {
  private readonly seen: Uint8Array[] = [];
  forged = 0;

  constructor(
    readonly replica: number,
    private readonly n: number,
    readonly behaviours: readonly Behaviour[],
    private readonly signer: ConsensusSigner,
    private readonly rng: SimRandom,
  ) {}

  private has(kind: Behaviour['kind']): boolean {
    return this.behaviours.some((b) => b.kind === kind);
  }

  /** Remembers what it received, for replays. */
  observe(bytes: Uint8Array): void {
    if (!this.has('replay')) return;
    if (this.seen.length < 256) this.seen.push(bytes);
    else this.seen[this.rng.int(0, 255)] = bytes;
  }

  transform(actions: readonly ReplicaAction[]): Outgoing[] {
    if (this.has('silent')) return [];
    const slow = this.behaviours.find((b): b is Extract<Behaviour, { kind: 'slow' }> => b.kind === 'slow');
    const delay = slow?.delay ?? 0;
    const out: Outgoing[] = [];
    const toReplica = (to: number, bytes: Uint8Array): void => void out.push({ to, bytes, client: false, delay });
    for (const a of actions) {
      if (a.kind === 'reply') {
        if (this.has('bad-replies')) {
          const f = decodeFrame(a.bytes);
          if (typeof f !== 'string' && f.body.k === 'reply') {
            out.push({ to: a.client, bytes: sign({ ...f.body, result: this.rng.bytes(8) }, this.signer), client: true, delay });
            continue;
          }
        }
        out.push({ to: a.client, bytes: a.bytes, client: true, delay });
        continue;
      }
      if (a.kind !== 'send' && a.kind !== 'broadcast') continue;
      this.observe(a.bytes);
      const targets = a.kind === 'send' ? [a.to] : this.others();
      const f = decodeFrame(a.bytes);
      const body = typeof f === 'string' ? undefined : f.body;
      for (const to of targets) {
        const half = (to + this.replica) % 2 === 0;
        if (body?.k === 'preprepare' && this.has('equivocate') && half && body.batch.length > 0) {
          // Same view and sequence number, a different (shorter) batch: a second valid proposal.
          const alt = body.batch.slice(1);
          toReplica(to, sign({ ...body, batch: alt, d: batchDigest(alt) }, this.signer));
          continue;
        }
        if ((body?.k === 'prepare' || body?.k === 'commit') && this.has('conflicting-prepares') && half) {
          // A vote for a digest nobody proposed, and now and then the honest one too: two votes, one slot.
          toReplica(to, sign({ ...body, d: this.rng.bytes(32) }, this.signer));
          if (this.rng.chance(0.5)) toReplica(to, a.bytes);
          continue;
        }
        toReplica(to, a.bytes);
      }
      if (body !== undefined && body.k !== 'request' && this.has('forge')) {
        const victim = (this.replica + 1 + this.rng.int(0, this.n - 2)) % this.n;
        const forged = { ...body, r: victim } as ReplicaBody;
        this.forged++;
        for (const to of this.others()) if (to !== victim) toReplica(to, sign(forged as Body, this.signer));
      }
    }
    // A replay now and then (not per message received, which would only flood the simulation).
    if (this.has('replay') && this.seen.length > 0 && out.length > 0 && this.rng.chance(0.3)) {
      toReplica(this.rng.int(0, this.n - 1), this.rng.pick(this.seen));
    }
    return out;
  }

  private others(): number[] {
    const list: number[] = [];
    for (let i = 0; i < this.n; i++) if (i !== this.replica) list.push(i);
    return list;
  }
}
