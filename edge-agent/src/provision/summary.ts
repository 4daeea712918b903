/** What a run did, as a table for stdout: public values only (host names, roles, short peer ids). */
import type { Role } from '../config/index.js';

/** new: minted in this run; kept: found from an earlier run, untouched; removed: marked in the inventory. */
export type BoardStatus = 'new' | 'kept' | 'removed';

export interface BoardOutcome {
  readonly hostname: string;
  readonly board: string;
  readonly role: Role;
  /** 64 hex digits. */
  readonly peerId: string;
  readonly status: BoardStatus;
}

export interface ProvisionSummary {
  readonly fleet: string;
  readonly inventoryFile: string;
  /** Sorted by host name. */
  readonly boards: readonly BoardOutcome[];
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`);
}

export function formatSummary(s: ProvisionSummary): string {
  const count = (f: (b: BoardOutcome) => boolean): number => s.boards.filter(f).length;
  const live = (b: BoardOutcome): boolean => b.status !== 'removed';
  const head =
    `fleet ${s.fleet}: ${count(live)} boards (${count((b) => live(b) && b.role === 'committee')} committee, ` +
    `${count((b) => live(b) && b.role === 'worker')} workers): ${count((b) => b.status === 'new')} new, ` +
    `${count((b) => b.status === 'kept')} kept, ${count((b) => b.status === 'removed')} removed`;
  const rows = [['hostname', 'board', 'role', 'peer id', 'status'], ...s.boards.map((b) => [b.hostname, b.board, b.role, b.peerId.slice(0, 8), b.status])];
  return `${[head, ...table(rows), `inventory: ${s.inventoryFile}`].join('\n')}\n`;
}
