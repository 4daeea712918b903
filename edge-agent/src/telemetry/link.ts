/**
 * The MQTT shell: one MQTT.js client at a time, with our own reconnect loop
 * (exponential backoff with jitter, so a fleet that lost its broker does not
 * return in lockstep), a retained Last Will, and a retained "online" status
 * published on every connect. MQTT.js's own reconnect and offline queue are
 * off: what must survive an outage is queued durably by the service above,
 * and publishing while disconnected is refused rather than buffered in memory.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock, Timer } from '../clock/index.js';
import { Backoff, resolveBackoff, type BackoffOptions } from '../transport/index.js';
import { TelemetryError } from './errors.js';

export interface LinkTls {
  readonly ca?: Uint8Array;
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
}

export interface RetainedMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
}

export interface LinkLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface LinkOptions {
  /** mqtt://host:port or mqtts://host:port. */
  readonly url: string;
  readonly clientId: string;
  /** MQTT keepalive; the broker declares us dead after 1.5 times this without a packet. */
  readonly keepaliveSec: number;
  /** Published retained by the broker when we vanish without a clean disconnect. */
  readonly will: RetainedMessage;
  /** Published retained on every connect (read at that moment, so it is current). */
  readonly online: () => RetainedMessage;
  /** Subscribed (QoS 1) on every connect. */
  readonly subscriptions: readonly string[];
  readonly clock: Clock;
  readonly log: LinkLog;
  readonly tls?: LinkTls;
  readonly backoff?: Partial<BackoffOptions>;
  readonly connectTimeoutMs?: number;
  readonly random?: () => number;
}

export interface LinkCounters {
  connects: number;
  disconnects: number;
  attempts: number;
  published: number;
  received: number;
}

type MessageListener = (topic: string, payload: Uint8Array) => void;

export class MqttLink {
  readonly #options: LinkOptions;
  readonly #backoff: Backoff;
  #client: MqttClient | undefined;
  #connected = false;
  #stopped = true;
  #retry: Timer | undefined;
  readonly #connectListeners = new Set<() => void>();
  readonly #messageListeners = new Set<MessageListener>();
  readonly counters: LinkCounters = { connects: 0, disconnects: 0, attempts: 0, published: 0, received: 0 };

  constructor(options: LinkOptions) {
    if (typeof options !== 'object' || options === null) throw new TelemetryError('BAD_ARGUMENT', 'The link options must be an object.');
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new TelemetryError('BAD_ARGUMENT', `The broker URL ${JSON.stringify(options.url)} is not a URL.`);
    }
    if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
      throw new TelemetryError('BAD_ARGUMENT', `The broker URL must start with mqtt:// or mqtts://, got ${url.protocol}//.`);
    }
    if (!Number.isInteger(options.keepaliveSec) || options.keepaliveSec < 1 || options.keepaliveSec > 65535) {
      throw new TelemetryError('BAD_ARGUMENT', 'keepaliveSec must be an integer from 1 to 65535.');
    }
    this.#options = options;
    this.#backoff = new Backoff(resolveBackoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }), options.random);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Starts connecting; connection and reconnection happen in the background. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#dial();
  }

  onConnect(fn: () => void): () => void {
    this.#connectListeners.add(fn);
    return () => this.#connectListeners.delete(fn);
  }

  onMessage(fn: MessageListener): () => void {
    this.#messageListeners.add(fn);
    return () => this.#messageListeners.delete(fn);
  }

  /** Publishes and resolves once the broker acknowledged (QoS 1); rejects NOT_CONNECTED while offline. */
  async publish(topic: string, payload: Uint8Array, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    const client = this.#client;
    if (client === undefined || !this.#connected) throw new TelemetryError('NOT_CONNECTED', 'The broker is not connected.');
    await client.publishAsync(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), {
      qos: opts.qos ?? 1,
      retain: opts.retain ?? false,
    });
    this.counters.published += 1;
  }

  /**
   * Stops for good. With `farewell`, publishes it retained first (the clean
   * "offline"), so the broker does not need the Last Will; a clean disconnect
   * discards the will anyway.
   */
  async stop(farewell?: RetainedMessage, timeoutMs = 2000): Promise<void> {
    this.#stopped = true;
    this.#retry?.cancel();
    this.#retry = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    if (farewell !== undefined && this.#connected) {
      await withTimeout(
        client.publishAsync(farewell.topic, Buffer.from(farewell.payload), { qos: 1, retain: true }),
        timeoutMs,
        this.#options.clock,
      ).catch(() => {});
    }
    this.#connected = false;
    await withTimeout(client.endAsync(false), timeoutMs, this.#options.clock).catch(() => client.end(true));
  }

  #dial(): void {
    if (this.#stopped) return;
    const o = this.#options;
    this.counters.attempts += 1;
    const options: IClientOptions = {
      clientId: o.clientId,
      keepalive: o.keepaliveSec,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
    };
    if (o.tls?.ca) options.ca = Buffer.from(o.tls.ca);
    if (o.tls?.cert) options.cert = Buffer.from(o.tls.cert);
    if (o.tls?.key) options.key = Buffer.from(o.tls.key);
    const client = connect(o.url, options);
    this.#client = client;
    client.on('connect', () => void this.#onConnect(client));
    client.on('message', (topic, payload) => {
      if (client !== this.#client) return;
      this.counters.received += 1;
      for (const fn of this.#messageListeners) fn(topic, payload);
    });
    client.on('error', (err) => {
      o.log.warn({ event: 'mqtt', error: err.message }, `mqtt: ${err.message}`);
    });
    client.on('close', () => this.#onClose(client));
  }

  async #onConnect(client: MqttClient): Promise<void> {
    if (client !== this.#client) return;
    const o = this.#options;
    try {
      const online = o.online();
      await client.publishAsync(online.topic, Buffer.from(online.payload), { qos: 1, retain: true });
      if (o.subscriptions.length > 0) await client.subscribeAsync([...o.subscriptions], { qos: 1 });
    } catch (err) {
      o.log.warn({ event: 'mqtt', error: err instanceof Error ? err.message : String(err) }, 'mqtt: set-up after connect failed');
      client.end(true);
      return;
    }
    if (client !== this.#client) return;
    this.#connected = true;
    this.#backoff.reset();
    this.counters.connects += 1;
    o.log.info({ event: 'mqtt', state: 'connected', url: o.url }, 'mqtt connected');
    for (const fn of this.#connectListeners) fn();
  }

  #onClose(client: MqttClient): void {
    if (client !== this.#client) return;
    client.removeAllListeners('close');
    client.end(true);
    if (this.#connected) {
      this.#connected = false;
      this.counters.disconnects += 1;
      this.#options.log.warn({ event: 'mqtt', state: 'disconnected' }, 'mqtt disconnected');
    }
    this.#client = undefined;
    if (this.#stopped) return;
    const delay = this.#backoff.next();
    this.#retry = this.#options.clock.setTimer(delay, () => {
      this.#retry = undefined;
      this.#dial();
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () => reject(new TelemetryError('STOPPED', `Timed out after ${ms} ms.`)));
    promise.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
