/**
 * What sealed peers ask each other, as transport/ requests:
 *   sealed/get-blob  { commitment }            → { blob }     any holder serves it
 *   sealed/get-key   { record, n, attribute }  → wrapped key  only the asker's own wrap, only if it reads
 *   sealed/get-state { record, n }             → { state }    signed state bytes
 * A refusal travels as the reply's error code (NOT_FOUND, NOT_AUTHORIZED).
 */
import * as s from '../schema/index.js';
import { defineRequest } from '../transport/index.js';
import { MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { SealedError } from './errors.js';
import { MAX_ATTRIBUTE_BYTES, MAX_STATE_BYTES, MAX_STATE_NUMBER, NAME_PATTERN, RECORD_ID_BYTES } from './limits.js';
import { HASH_BYTES, SEAL_OVERHEAD } from './primitives.js';
import { wrappedKeySchema } from './wrap.js';

const recordId = s.bytes({ len: RECORD_ID_BYTES });
const stateNumber = s.int({ min: 0, max: MAX_STATE_NUMBER });

export const sealedGetBlob = defineRequest(
  'sealed/get-blob',
  s.object({ commitment: s.bytes({ len: HASH_BYTES }) }),
  s.object({ blob: s.bytes({ min: SEAL_OVERHEAD, max: MAX_ATTRIBUTE_BYTES + SEAL_OVERHEAD }) }),
);

export const sealedGetKey = defineRequest(
  'sealed/get-key',
  s.object({ record: recordId, n: stateNumber, attribute: s.text({ min: 1, max: 64, pattern: NAME_PATTERN }) }),
  wrappedKeySchema,
);

export const sealedGetState = defineRequest(
  'sealed/get-state',
  s.object({ record: recordId, n: stateNumber }),
  s.object({ state: s.bytes({ min: 1, max: MAX_STATE_BYTES }) }),
);

const all = [sealedGetBlob, sealedGetKey, sealedGetState] as const;
export type SealedMessage = (typeof all)[number]['request'] | (typeof all)[number]['response'];

/** `registry` plus the sealed requests and their replies, for the Messenger every agent runs. */
export function withSealedMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | SealedMessage> {
  if (!(registry instanceof MessageRegistry)) throw new SealedError('BAD_ARGUMENT', 'withSealedMessages needs a MessageRegistry');
  try {
    return registry.with(...all.flatMap((r) => [r.request, r.response] as const));
  } catch (err) {
    if (err instanceof WireError) throw new SealedError('BAD_ARGUMENT', `withSealedMessages: ${err.message}`, { cause: err });
    throw err;
  }
}
