/**
 * Request/response pairs on top of wire/ message types. A request is an
 * ordinary envelope; its response is a second message type, named
 * "<request>/reply", whose body names the request by its envelope nonce:
 *   { re: <16-byte nonce of the request>, ok: <response body> }   or
 *   { re: <nonce>, error: <short code> }
 * Both types must be in the registry the messenger decodes with.
 */
import * as s from '../schema/index.js';
import { defineMessage, WireError, type MessageType } from '../wire/index.js';
import { TransportError } from './errors.js';

export interface ReplyBody<R> {
  readonly re: Uint8Array;
  readonly ok?: R;
  readonly error?: string;
}

export interface RequestType<T extends string = string, Q = unknown, R = unknown> {
  readonly request: MessageType<T, Q>;
  readonly response: MessageType<`${T}/reply`, ReplyBody<R>>;
  /** The schema of a successful answer. */
  readonly result: s.Schema<R>;
}

/** Longest error code a reply may carry: a code, not a story (and no internals). */
export const MAX_REPLY_ERROR = 64;

// Made here only, so a decoded type can be recognised as a request or a reply.
const defined = new WeakSet<object>();
const byRequest = new WeakMap<MessageType, RequestType>();
const byResponse = new WeakMap<MessageType, RequestType>();

export function defineRequest<const T extends string, Q, R>(type: T, request: s.Schema<Q>, response: s.Schema<R>): RequestType<T, Q, R> {
  if (typeof response !== 'object' || response === null || typeof response.parse !== 'function') {
    throw new TransportError('BAD_ARGUMENT', `defineRequest(${String(type)}): the response must be a schema.`);
  }
  const reply = s.refine(
    s.object({ re: s.bytes({ len: 16 }), ok: s.optional(response), error: s.optional(s.text({ min: 1, max: MAX_REPLY_ERROR })) }),
    'a reply with exactly one of ok and error',
    (body) => (body.ok === undefined) !== (body.error === undefined),
  );
  try {
    const out: RequestType<T, Q, R> = Object.freeze({
      request: defineMessage(type, request),
      response: defineMessage(`${type}/reply` as const, reply as s.Schema<ReplyBody<R>>),
      result: response,
    });
    defined.add(out);
    byRequest.set(out.request, out);
    byResponse.set(out.response, out);
    return out;
  } catch (err) {
    if (err instanceof WireError) throw new TransportError('BAD_ARGUMENT', err.message);
    throw err;
  }
}

export function isRequestType(value: unknown): value is RequestType {
  return typeof value === 'object' && value !== null && defined.has(value);
}

/** The request/response pair `message` is the request of, if any. */
export function pairOfRequest(message: MessageType): RequestType | undefined {
  return byRequest.get(message);
}

/** True when `message` is the response half of a pair. */
export function isResponse(message: MessageType): boolean {
  return byResponse.has(message);
}
