import * as s from '../schema/index.js';
import { headerShape } from './shape.js';

type EnvelopeFields<B> = s.ObjectOf<typeof headerShape & { body: s.Schema<B> }>;

/**
 * s.object({ ...headerShape, body }) with a fast path for a whole envelope (path ''): the
 * same field schemas, read and applied in the same order, into an object of fixed shape,
 * which spares object() its path strings and dynamic keys on every message. Anything the
 * fast path does not accept is parsed again by object() itself, so every error is its own.
 */
export function envelopeSchema<B>(body: s.Schema<B>): s.Schema<EnvelopeFields<B>> {
  const full = s.object({ ...headerShape, body });
  const known: object = full.shape;
  const h = headerShape;

  function fast(value: unknown): EnvelopeFields<B> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) if (!Object.hasOwn(known, keys[i]!)) return undefined;
    const record = value as Record<string, unknown>;
    try {
      // Like object(): properties in shape order, those parsed as undefined left out.
      const out: Record<string, unknown> = {
        v: h.v.parse(record['v'], 'v'),
        type: h.type.parse(record['type'], 'type'),
        from: h.from.parse(record['from'], 'from'),
      };
      const to = h.to.parse(record['to'], 'to');
      if (to !== undefined) out['to'] = to;
      out['ts'] = h.ts.parse(record['ts'], 'ts');
      out['nonce'] = h.nonce.parse(record['nonce'], 'nonce');
      const sig = h.sig.parse(record['sig'], 'sig');
      if (sig !== undefined) out['sig'] = sig;
      // A path only names a failure, and any failure is parsed again by object() with the
      // real one; the empty path spares the body schema a 'body.<key>' string per field.
      const parsedBody = body.parse(record['body'], '');
      if (parsedBody !== undefined) out['body'] = parsedBody;
      return out as EnvelopeFields<B>;
    } catch (err) {
      if (err instanceof s.SchemaError) return undefined;
      throw err;
    }
  }

  return {
    expected: full.expected,
    parse(value: unknown, path = ''): EnvelopeFields<B> {
      return (path === '' ? fast(value) : undefined) ?? full.parse(value, path);
    },
  };
}
