/** One row of the demo's status table. */
export interface AgentRow {
  readonly name: string;
  readonly peerId: string | null;
  readonly pid: number | null;
  readonly listen: string | null;
  /** The process as the demo sees it (starting, ready, exited...). */
  readonly state: string;
  readonly channels: number | null;
  /** Read back from MQTT: status topic, orchestrator state, telemetry, liveness, last command result. */
  readonly mqtt: string | null;
  readonly agentState: string | null;
  readonly telemetry: string | null;
  readonly alive: number | null;
  readonly command: string | null;
  readonly detail: string;
}

const COLUMNS = ['AGENT', 'PEER ID', 'PID', 'LISTEN', 'PROCESS', 'CHANNELS', 'MQTT', 'STATE', 'TELEMETRY', 'ALIVE', 'COMMAND', 'DETAIL'] as const;

const dash = (v: string | number | null): string => (v === null ? '-' : String(v));

/** Renders rows as a fixed-width text table (no colours: it also goes to logs and pipes). */
export function renderTable(rows: readonly AgentRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.peerId ? r.peerId.slice(0, 16) : '-',
    dash(r.pid),
    dash(r.listen),
    r.state,
    dash(r.channels),
    dash(r.mqtt),
    dash(r.agentState),
    dash(r.telemetry),
    dash(r.alive),
    dash(r.command),
    r.detail,
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(COLUMNS), ...cells.map(line)].join('\n');
}
