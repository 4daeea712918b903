/** One row of the demo's status table. */
export interface AgentRow {
  readonly name: string;
  readonly peerId: string | null;
  readonly pid: number | null;
  readonly listen: string | null;
  readonly state: string;
  readonly channels: number | null;
  readonly detail: string;
}

const COLUMNS = ['AGENT', 'PEER ID', 'PID', 'LISTEN', 'STATE', 'CHANNELS', 'DETAIL'] as const;

/** Renders rows as a fixed-width text table (no colours: it also goes to logs and pipes). */
export function renderTable(rows: readonly AgentRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.peerId ? r.peerId.slice(0, 16) : '-',
    r.pid === null ? '-' : String(r.pid),
    r.listen ?? '-',
    r.state,
    r.channels === null ? '-' : String(r.channels),
    r.detail,
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(COLUMNS), ...cells.map(line)].join('\n');
}
