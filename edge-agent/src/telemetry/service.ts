/**
 * The agent's voice on MQTT. Telemetry, events and command results all go
 * through one durable outbox (store/'s DurableQueue) and leave it in order,
 * one QoS 1 publish at a time, only while the broker is connected: so an
 * outage or a restart loses nothing but the oldest telemetry once the bound
 * is reached. Each published record carries the outbox's sequence number;
 * delivery is at-least-once (a crash between the broker's ack and ours
 * resends), so consumers dedupe by (peerId, stream, seq): `stream` names the
 * outbox file, under which sequence numbers never repeat.
 */
import type { Clock, Timer } from '../clock/index.js';
import type { MetricsRegistry } from '../metrics/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { encodePayload, type PayloadFormat } from './codec.js';
import { TelemetryError } from './errors.js';
import { MqttLink, type LinkLog, type LinkTls } from './link.js';
import { topicsFor, type Topics } from './topics.js';

/** What the service needs of the durable queue (store/'s DurableQueue has it). */
export interface Outbox {
  push(payload: Uint8Array, opts: { droppable: boolean }): Promise<unknown>;
  peek(n: number): readonly { readonly seq: number; readonly payload: Uint8Array }[];
  ack(seq: number): Promise<unknown>;
  readonly size: number;
  readonly bytes: number;
  readonly dropped: { readonly droppable: number; readonly kept: number };
  /** Names the outbox file: sequence numbers restart under a new id if the file is lost. */
  readonly id?: string;
}

export type RecordKind = 'telemetry' | 'events' | 'cmd/result';
const KINDS: readonly RecordKind[] = ['telemetry', 'events', 'cmd/result'];

export interface TelemetryOptions {
  readonly url: string;
  readonly fleet: string;
  readonly peerId: string;
  readonly format: PayloadFormat;
  readonly intervalMs: number;
  readonly keepaliveSec: number;
  readonly clock: Clock;
  readonly log: LinkLog;
  readonly outbox: Outbox;
  readonly metrics: MetricsRegistry;
  /** The figures of one telemetry record besides the metrics registry's (board, per-peer liveness...). */
  readonly sample: () => Promise<Readonly<Record<string, unknown>>>;
  /** What the retained status says besides online/offline (the orchestrator's state, for one). */
  readonly status: () => Readonly<Record<string, unknown>>;
  /** Handles one command payload and returns the result to publish. Never throws. */
  readonly onCommand?: (payload: Uint8Array) => Promise<Readonly<Record<string, unknown>>>;
  readonly tls?: LinkTls;
  readonly clientId?: string;
  readonly random?: () => number;
}

/** Publishes taken from the outbox per pass before the ack is written. */
const BATCH = 32;
/** Commands waiting for their turn; beyond this, new ones are answered BUSY. */
const MAX_PENDING_COMMANDS = 64;

export class TelemetryService {
  readonly #o: TelemetryOptions;
  readonly #topics: Topics;
  readonly #link: MqttLink;
  #timer: Timer | undefined;
  #flushing: Promise<void> | undefined;
  #flushAgain = false;
  #commands: Promise<void> = Promise.resolve();
  #pendingCommands = 0;
  #stopped = false;
  #cycles = 0;
  #cycleErrors = 0;
  #unregister: (() => void) | undefined;

  constructor(options: TelemetryOptions) {
    if (!Number.isInteger(options.intervalMs) || options.intervalMs < 100) {
      throw new TelemetryError('BAD_ARGUMENT', 'intervalMs must be an integer of at least 100.');
    }
    this.#o = options;
    this.#topics = topicsFor(options.fleet, options.peerId);
    const topics = this.#topics;
    this.#link = new MqttLink({
      url: options.url,
      clientId: options.clientId ?? `edge-${options.fleet}-${options.peerId.slice(0, 16)}`,
      keepaliveSec: options.keepaliveSec,
      will: { topic: topics.status, payload: this.#statusPayload('offline', 'lost') },
      online: () => ({ topic: topics.status, payload: this.#statusPayload('online') }),
      subscriptions: options.onCommand ? [topics.cmd, topics.fleetCmd] : [],
      clock: options.clock,
      log: options.log,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  get topics(): Topics {
    return this.#topics;
  }

  get connected(): boolean {
    return this.#link.connected;
  }

  start(): void {
    const link = this.#link;
    link.onConnect(() => {
      // The status may have changed between the connect packet and now.
      void this.updateStatus();
      this.#flush();
    });
    link.onMessage((topic, payload) => this.#onMessage(topic, payload));
    this.#unregister = this.#o.metrics.register('telemetry', () => ({
      connected: link.connected,
      queued: this.#o.outbox.size,
      queuedBytes: this.#o.outbox.bytes,
      droppedTelemetry: this.#o.outbox.dropped.droppable,
      droppedEvents: this.#o.outbox.dropped.kept,
      published: link.counters.published,
      connects: link.counters.connects,
      disconnects: link.counters.disconnects,
      cycles: this.#cycles,
      cycleErrors: this.#cycleErrors,
    }));
    link.start();
    this.#schedule();
  }

  /** Takes a telemetry sample now (the report-now command) and queues it. */
  async reportNow(): Promise<void> {
    await this.#cycle();
  }

  /** Queues an event; it is kept over telemetry when the outbox is full. */
  async event(type: string, data: Readonly<Record<string, unknown>> = {}): Promise<void> {
    await this.#enqueue('events', { type, ...data }, false);
  }

  /** Republishes the retained status (after a state change), if connected. */
  async updateStatus(): Promise<void> {
    if (!this.#link.connected) return;
    await this.#link.publish(this.#topics.status, this.#statusPayload('online'), { retain: true }).catch(() => {});
  }

  /** Flushes what it can within `timeoutMs`, then says a clean, retained "offline" and disconnects. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    this.#unregister?.();
    await this.#commands.catch(() => {});
    this.#flush();
    await Promise.race([this.#flushing ?? Promise.resolve(), new Promise((r) => this.#o.clock.setTimer(timeoutMs, () => r(undefined)))]);
    await this.#link.stop({ topic: this.#topics.status, payload: this.#statusPayload('offline', 'stopped') }, timeoutMs);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.intervalMs, () => {
      void this.#cycle().finally(() => this.#schedule());
    });
  }

  async #cycle(): Promise<void> {
    try {
      const sampled = await this.#o.sample();
      await this.#enqueue('telemetry', { ...sampled, agent: this.#o.metrics.snapshot() }, true);
      this.#cycles += 1;
    } catch (err) {
      this.#cycleErrors += 1;
      this.#o.log.warn({ event: 'telemetry', error: err instanceof Error ? err.message : String(err) }, 'telemetry cycle failed');
    }
  }

  async #enqueue(kind: RecordKind, data: Readonly<Record<string, unknown>>, droppable: boolean): Promise<void> {
    // Stored as canonical CBOR whatever the wire format: the sequence number is only known once queued.
    const record = encodeCanonical({ k: KINDS.indexOf(kind), at: this.#o.clock.now(), d: data });
    await this.#o.outbox.push(record, { droppable });
    this.#flush();
  }

  #statusPayload(state: 'online' | 'offline', reason?: string): Uint8Array {
    const { fleet, peerId } = this.#o;
    const extra = state === 'online' ? this.#o.status() : {};
    return encodePayload({ ...extra, state, ...(reason ? { reason } : {}), fleet, peerId, at: this.#o.clock.now() }, this.#o.format);
  }

  /** One flush at a time; a request during a flush makes it go round once more. */
  #flush(): void {
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = this.#drain().finally(() => {
      this.#flushing = undefined;
      if (this.#flushAgain) {
        this.#flushAgain = false;
        if (this.#link.connected) this.#flush();
      }
    });
  }

  async #drain(): Promise<void> {
    const outbox = this.#o.outbox;
    while (this.#link.connected) {
      const batch = outbox.peek(BATCH);
      if (batch.length === 0) return;
      let last = -1;
      try {
        for (const entry of batch) {
          await this.#publishRecord(entry.seq, entry.payload);
          last = entry.seq;
        }
      } catch (err) {
        if (!(err instanceof TelemetryError && err.code === 'NOT_CONNECTED')) {
          this.#o.log.warn({ event: 'telemetry', error: err instanceof Error ? err.message : String(err) }, 'publish failed');
        }
      } finally {
        if (last >= 0) await outbox.ack(last);
      }
      if (last !== batch[batch.length - 1]?.seq) return;
    }
  }

  async #publishRecord(seq: number, stored: Uint8Array): Promise<void> {
    const { k, at, d } = decodeCanonical(stored) as { k: number; at: number; d: Record<string, unknown> };
    const kind = KINDS[k];
    if (kind === undefined) {
      // Written by a newer version, or damaged past the log's checksum: skip it, loudly.
      this.#o.log.warn({ event: 'telemetry', seq }, 'outbox record of unknown kind skipped');
      return;
    }
    const topic = kind === 'telemetry' ? this.#topics.telemetry : kind === 'events' ? this.#topics.events : this.#topics.cmdResult;
    const stream = this.#o.outbox.id;
    const body = { seq, ...(stream !== undefined ? { stream } : {}), at, peerId: this.#o.peerId, ...d };
    await this.#link.publish(topic, encodePayload(body, this.#o.format));
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    const handler = this.#o.onCommand;
    if (handler === undefined || (topic !== this.#topics.cmd && topic !== this.#topics.fleetCmd)) return;
    if (this.#pendingCommands >= MAX_PENDING_COMMANDS) {
      void this.#enqueue('cmd/result', { ok: false, reason: 'BUSY', message: 'Too many commands are waiting.' }, false);
      return;
    }
    this.#pendingCommands += 1;
    const copy = Uint8Array.from(payload);
    // One command at a time, in arrival order.
    this.#commands = this.#commands.then(async () => {
      try {
        const result = await handler(copy);
        await this.#enqueue('cmd/result', result, false);
      } catch (err) {
        this.#o.log.warn({ event: 'command', error: err instanceof Error ? err.message : String(err) }, 'command handling failed');
      } finally {
        this.#pendingCommands -= 1;
      }
    });
  }
}
