/** The logger the transport writes to: the two methods of a pino logger it uses. */
import { TransportError } from './errors.js';

export interface LogSink {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silent: LogSink = { info: () => {}, warn: () => {} };

/** The given sink after checking its shape, or one that drops everything. */
export function logSink(value: unknown): LogSink {
  if (value === undefined) return silent;
  const l = value as Partial<LogSink> | null;
  if (typeof l !== 'object' || l === null || typeof l.info !== 'function' || typeof l.warn !== 'function') {
    throw new TransportError('BAD_ARGUMENT', 'The logger needs info(obj, msg) and warn(obj, msg).');
  }
  return l as LogSink;
}

/** An error's message for a log line, whatever was thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
