/**
 * The demo's zero-knowledge lines: every agent logs each membership proof it judged
 * ('zkp.proof': prover, accepted, ms); this turns them into one line per proof, with the
 * agents' names. Without a circuits build the agents make no proofs and the demo waits for none.
 */
import { FleetProofs } from '../agent/fleet-proofs.js';

export class ProofLines {
  readonly enabled: boolean;
  readonly #lines: string[] = [];
  readonly #provers = new Set<string>();
  readonly #verifiers = new Set<string>();
  #refused = 0;

  constructor(private readonly nameOf: (peerId: string) => string | undefined) {
    this.enabled = !('missing' in FleetProofs.artifacts());
  }

  /** Takes a log record of agent `verifier` (its name); ignores anything but 'zkp.proof'. */
  take(verifier: string, record: Record<string, unknown>): void {
    if (record.event !== 'zkp.proof' || typeof record.prover !== 'string') return;
    const prover = this.nameOf(record.prover) ?? record.prover.slice(0, 8);
    const ms = typeof record.ms === 'number' ? record.ms : NaN;
    const accepted = record.accepted === true;
    if (!accepted) this.#refused++;
    this.#provers.add(prover);
    this.#verifiers.add(verifier);
    const verdict = accepted ? 'accepted' : `REFUSED (${String(record.reason)})`;
    this.#lines.push(`zkp: ${prover} proved fleet membership to ${verifier}: ${verdict}, ${ms} ms (root ${String(record.root)}…)`);
  }

  /** Every agent has proved its membership to another, and judged another's proof (each asks its successor). */
  complete(agents: number): boolean {
    return !this.enabled || (this.#provers.size >= agents && this.#verifiers.size >= agents);
  }

  get refused(): number {
    return this.#refused;
  }

  lines(): readonly string[] {
    return this.#lines;
  }
}
