/**
 * One registry every room publishes its figures into, so telemetry reads a
 * single snapshot instead of knowing each room. A room either keeps counters
 * and gauges here, or registers a collector that is asked for its figures at
 * snapshot time (cheaper for figures the room already holds).
 */
import { MetricsError } from './errors.js';

export type MetricValue = number | string | boolean | null;
export type MetricsSnapshot = Record<string, Record<string, MetricValue>>;
export type Collector = () => Readonly<Record<string, MetricValue>>;

const NAME = /^[a-z][a-zA-Z0-9_.-]{0,63}$/;

function requireName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new MetricsError('BAD_NAME', `${what} must be 1-64 characters: a lowercase letter, then letters, digits, '_', '.' or '-'; got ${JSON.stringify(name)}.`);
  }
  return name;
}

export class Counter {
  #value = 0;
  get value(): number {
    return this.#value;
  }
  inc(by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new MetricsError('BAD_VALUE', `A counter only grows: inc(${String(by)}).`);
    this.#value += by;
  }
}

export class Gauge {
  #value: MetricValue = null;
  get value(): MetricValue {
    return this.#value;
  }
  set(value: MetricValue): void {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new MetricsError('BAD_VALUE', `A gauge holds finite numbers: set(${String(value)}).`);
    this.#value = value;
  }
}

interface Room {
  readonly metrics: Map<string, Counter | Gauge>;
  readonly collectors: Set<Collector>;
}

export class MetricsRegistry {
  readonly #rooms = new Map<string, Room>();

  #room(name: string): Room {
    requireName(name, 'A room name');
    let room = this.#rooms.get(name);
    if (room === undefined) {
      room = { metrics: new Map(), collectors: new Set() };
      this.#rooms.set(name, room);
    }
    return room;
  }

  /** The counter `room.name`, created on first use; asking twice returns the same one. */
  counter(room: string, name: string): Counter {
    return this.#metric(room, name, Counter);
  }

  /** The gauge `room.name`, created on first use. */
  gauge(room: string, name: string): Gauge {
    return this.#metric(room, name, Gauge);
  }

  /** Adds a collector for `room`; returns the function that removes it. */
  register(room: string, collect: Collector): () => void {
    if (typeof collect !== 'function') throw new MetricsError('BAD_VALUE', 'A collector must be a function.');
    const r = this.#room(room);
    r.collectors.add(collect);
    return () => {
      r.collectors.delete(collect);
    };
  }

  /**
   * Every room's figures as plain data. A collector that throws or returns
   * something other than a record of plain values is reported under
   * `<room>.collectorErrors` instead of breaking the whole snapshot.
   */
  snapshot(): MetricsSnapshot {
    const out: MetricsSnapshot = {};
    for (const [name, room] of this.#rooms) {
      const figures: Record<string, MetricValue> = {};
      for (const [metric, m] of room.metrics) figures[metric] = m.value;
      let errors = 0;
      for (const collect of room.collectors) {
        try {
          for (const [key, value] of Object.entries(collect())) {
            if (NAME.test(key) && isPlain(value)) figures[key] = value;
            else errors += 1;
          }
        } catch {
          errors += 1;
        }
      }
      if (errors > 0) figures.collectorErrors = errors;
      out[name] = figures;
    }
    return out;
  }

  #metric<T extends Counter | Gauge>(room: string, name: string, Kind: new () => T): T {
    const r = this.#room(room);
    requireName(name, 'A metric name');
    const existing = r.metrics.get(name);
    if (existing !== undefined) {
      if (!(existing instanceof Kind)) throw new MetricsError('KIND_MISMATCH', `${room}.${name} is already a ${existing.constructor.name}.`);
      return existing;
    }
    const metric = new Kind();
    r.metrics.set(name, metric);
    return metric;
  }
}

function isPlain(value: unknown): value is MetricValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}
