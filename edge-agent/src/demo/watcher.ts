/**
 * What the demo reads back from MQTT, per agent: the retained status (with
 * the orchestrator's state), the last telemetry record, and command results.
 * The table shows this, not the agents' own logs, so `npm start` proves the
 * monitoring path end to end.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { decodePayload, fleetWildcard, parseTopic } from '../telemetry/index.js';

export interface SeenAgent {
  mqtt?: string;
  agentState?: string;
  telemetrySeq?: number;
  cpuLoadPercent?: number;
  peersAlive?: number;
  lastCommand?: string;
  /** The last committee-sign result, kept apart so the COMMAND column keeps the ping's. */
  committeeSign?: { ok: boolean; reason?: string; signature?: string; groupKey?: string; signers?: number[] };
  /** committee-order results, in the order they came. */
  committeeOrders?: CommitteeOrderSeen[];
  /** seal-config and read-sealed results, in the order they came (kept apart: the COMMAND column keeps the ping's). */
  sealed?: SealedSeen[];
}

/** A seal-config or read-sealed result: refused (reason, the sealed code), or the record and state; a read's value only by its length. */
export interface SealedSeen {
  readonly name: 'seal-config' | 'read-sealed';
  readonly ok: boolean;
  readonly reason?: string;
  readonly record?: string;
  readonly state?: number;
  readonly valueBytes?: number;
}

/** A committee-order result: refused or failed (reason), or what the state machine said and where it executed. */
export interface CommitteeOrderSeen {
  readonly ok: boolean;
  readonly reason?: string;
  readonly value?: string;
  readonly view?: number;
  readonly seq?: number;
}

export class FleetWatcher {
  readonly agents = new Map<string, SeenAgent>();
  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, fleet: string): Promise<FleetWatcher> {
    const client = await connectAsync(url, { clientId: `demo-watcher-${process.pid}`, reconnectPeriod: 1000 });
    const watcher = new FleetWatcher(client);
    client.on('message', (topic, payload) => watcher.onMessage(topic, payload));
    await client.subscribeAsync([fleetWildcard(fleet, 'status'), fleetWildcard(fleet, 'telemetry'), fleetWildcard(fleet, 'cmd/result')], { qos: 1 });
    return watcher;
  }

  /** Publishes raw bytes (a signed command) to a topic. */
  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.client.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => {});
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    const where = parseTopic(topic);
    if (where === undefined || payload.length === 0) return;
    let body: Record<string, unknown>;
    try {
      body = decodePayload(payload) as Record<string, unknown>;
    } catch {
      return; // not ours to judge: the table shows only what decodes
    }
    const seen = this.agents.get(where.peer) ?? {};
    this.agents.set(where.peer, seen);
    if (where.kind === 'status') {
      if (typeof body.state === 'string') seen.mqtt = body.state === 'offline' && typeof body.reason === 'string' ? `offline (${body.reason})` : body.state;
      if (typeof body.agentState === 'string') seen.agentState = body.agentState;
    } else if (where.kind === 'telemetry') {
      if (typeof body.seq === 'number') seen.telemetrySeq = body.seq;
      const board = body.board as Record<string, unknown> | undefined;
      if (typeof board?.cpuLoadPercent === 'number') seen.cpuLoadPercent = board.cpuLoadPercent;
      const agent = body.agent as Record<string, Record<string, unknown>> | undefined;
      if (typeof agent?.liveness?.peersOnline === 'number') seen.peersAlive = agent.liveness.peersOnline;
    } else if (where.kind === 'cmd/result') {
      const name = typeof body.name === 'string' ? body.name : 'command';
      if (name === 'committee-sign') {
        seen.committeeSign = committeeSignResult(body);
        return;
      }
      if (name === 'committee-order') {
        (seen.committeeOrders ??= []).push(committeeOrderResult(body));
        return;
      }
      if (name === 'seal-config' || name === 'read-sealed') {
        (seen.sealed ??= []).push(sealedResult(name, body));
        return;
      }
      seen.lastCommand = body.ok === true ? `${name} ok` : `${name} ${String(body.reason ?? 'failed')}`;
    }
  }
}

function committeeSignResult(body: Record<string, unknown>): NonNullable<SeenAgent['committeeSign']> {
  if (body.ok !== true) return { ok: false, reason: `${String(body.reason ?? 'failed')}${typeof body.message === 'string' ? `: ${body.message}` : ''}` };
  const r = (body.result ?? {}) as Record<string, unknown>;
  const hex = (v: unknown): string | undefined => (typeof v === 'string' && /^[0-9a-f]+$/.test(v) ? v : undefined);
  return {
    ok: true,
    signature: hex(r.signature),
    groupKey: hex(r.groupKey),
    signers: Array.isArray(r.signers) ? r.signers.filter((x): x is number => typeof x === 'number') : [],
  };
}

function committeeOrderResult(body: Record<string, unknown>): CommitteeOrderSeen {
  if (body.ok !== true) return { ok: false, reason: `${String(body.reason ?? 'failed')}${typeof body.message === 'string' ? `: ${body.message}` : ''}` };
  const r = (body.result ?? {}) as Record<string, unknown>;
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  const view = num(r.view);
  const seq = num(r.seq);
  return {
    ok: r.ok === true,
    ...(r.ok !== true ? { reason: String(r.error ?? 'not ok') } : {}),
    ...(typeof r.value === 'string' && /^[0-9a-f]*$/.test(r.value) ? { value: r.value } : {}),
    ...(view !== undefined ? { view } : {}),
    ...(seq !== undefined ? { seq } : {}),
  };
}

function sealedResult(name: SealedSeen['name'], body: Record<string, unknown>): SealedSeen {
  if (body.ok !== true) return { name, ok: false, reason: String(body.reason ?? 'failed') };
  const r = (body.result ?? {}) as Record<string, unknown>;
  return {
    name,
    ok: true,
    ...(typeof r.record === 'string' && /^[0-9a-f]{64}$/.test(r.record) ? { record: r.record } : {}),
    ...(typeof r.state === 'number' && Number.isSafeInteger(r.state) ? { state: r.state } : {}),
    ...(typeof r.value === 'string' && /^(?:[0-9a-f]{2})*$/.test(r.value) ? { valueBytes: r.value.length / 2 } : {}),
  };
}
