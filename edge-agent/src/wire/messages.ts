import * as s from '../schema/index.js';
import { MessageRegistry, defineMessage } from './registry.js';

/** Liveness probe; the peer answers with a pong carrying the same seq. */
export const ping = defineMessage('ping', s.object({ seq: s.int({ min: 0 }) }));
export const pong = defineMessage('pong', s.object({ seq: s.int({ min: 0 }) }));

/** The message types every agent speaks; rooms add theirs with `coreMessages.with(...)`. */
export const coreMessages = MessageRegistry.of(ping, pong);
