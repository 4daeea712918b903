/**
 * Several runs sharing one Messenger and one message type (DKG sessions, PBFT
 * groups): the Messenger takes one handler per type, so one handler per
 * (Messenger, type) dispatches each message by the session id its body
 * carries to the run that registered that id. Unknown sessions are dropped.
 */
import type { MessageType } from '../wire/index.js';
import { TransportError } from './errors.js';
import type { Incoming, Messenger } from './messenger.js';

type Route = (msg: Incoming<{ sessionId: Uint8Array }>) => void;

const tables = new WeakMap<Messenger, Map<MessageType, Map<string, Route>>>();

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/**
 * Routes messages of `type` whose body's `sessionId` equals `sessionId` to `fn` until the returned function is
 * called. A session already routed on this Messenger and type is refused (TransportError BAD_ARGUMENT).
 */
export function routeSession<B extends { sessionId: Uint8Array }>(messenger: Messenger, type: MessageType<string, B>, sessionId: Uint8Array, fn: (msg: Incoming<B>) => void): () => void {
  if (!(sessionId instanceof Uint8Array)) throw new TransportError('BAD_ARGUMENT', 'routeSession: sessionId must be a Uint8Array');
  if (typeof fn !== 'function') throw new TransportError('BAD_ARGUMENT', 'routeSession: fn must be a function');
  let byType = tables.get(messenger);
  if (byType === undefined) tables.set(messenger, (byType = new Map()));
  let routes = byType.get(type);
  if (routes === undefined) {
    const table = new Map<string, Route>();
    byType.set(type, table);
    messenger.handle(type, (msg) => table.get(hexOf(msg.body.sessionId))?.(msg));
    routes = table;
  }
  const key = hexOf(sessionId);
  if (routes.has(key)) throw new TransportError('BAD_ARGUMENT', `routeSession: session ${key.slice(0, 16)} of ${type.type} is already routed`);
  routes.set(key, fn as Route);
  let routed = true;
  return () => {
    if (routed) routes.delete(key);
    routed = false;
  };
}
