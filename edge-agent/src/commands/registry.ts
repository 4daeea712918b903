/**
 * The commands an agent understands, and the arguments each one takes: one table, so a
 * new command is one line here (and its handler in the agent, which dispatches).
 */
import { LOG_LEVELS } from '../config/index.js';
import { int, object, oneOf, optional, refine, text, type Infer, type Schema } from '../schema/index.js';

export const COMMAND_NAMES = ['ping', 'report-now', 'set-log-level', 'enter-maintenance', 'leave-maintenance', 'restart', 'committee-sign', 'committee-order', 'seal-config', 'read-sealed'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Longest maintenance reason, in characters. */
export const MAX_MAINTENANCE_REASON = 200;
/** Longest delay a restart may ask for. */
export const MAX_RESTART_DELAY_MS = 60_000;
/**
 * Longest message the committee signs on command, in bytes (hex in the command, so twice the characters).
 * A command body is at most MAX_BODY_BYTES (1536), which leaves room for 512 bytes and the other fields.
 */
export const MAX_COMMITTEE_SIGN_BYTES = 512;

/**
 * Longest key and value of a committee-order command. The key is printable ASCII (one byte a character) so
 * that the longest key and value (hex, twice the bytes) and the other fields stay within MAX_BODY_BYTES.
 */
export const MAX_COMMITTEE_ORDER_KEY = 256;
export const MAX_COMMITTEE_ORDER_VALUE_BYTES = 448;

/**
 * seal-config: the value (hex) and the readers (peer ids, comma-separated so the CLI's --arg can carry them) share
 * one budget, value bytes + 33 × readers ≤ SEAL_CONFIG_BUDGET, so that with the longest attribute and fleet name
 * the body stays within MAX_BODY_BYTES: 448 bytes for up to 4 readers, 52 bytes for 16.
 */
export const MAX_SEAL_CONFIG_VALUE_BYTES = 448;
export const MAX_SEAL_CONFIG_READERS = 16;
export const SEAL_CONFIG_BUDGET = 580;

const PEER_ID = /^[0-9a-f]{64}$/;
const CONFIG_ATTRIBUTE = text({ min: 1, max: 64, pattern: /^(?!__proto__$)[a-z0-9._-]{1,64}$/, hint: 'an attribute name: 1 to 64 characters of a-z 0-9 . _ -' });
const PEER_LIST = new RegExp(`^[0-9a-f]{64}(?:,[0-9a-f]{64}){0,${MAX_SEAL_CONFIG_READERS - 1}}$`);

const sealConfigArgs = object({
  attribute: CONFIG_ATTRIBUTE,
  value: text({ min: 2, max: 2 * MAX_SEAL_CONFIG_VALUE_BYTES, pattern: /^(?:[0-9a-f]{2})+$/, hint: `the value in lowercase hex, 1 to ${MAX_SEAL_CONFIG_VALUE_BYTES} bytes` }),
  readers: text({ min: 64, max: 65 * MAX_SEAL_CONFIG_READERS - 1, pattern: PEER_LIST, hint: `1 to ${MAX_SEAL_CONFIG_READERS} peer ids (64 lowercase hex each), comma-separated` }),
});

export const COMMAND_ARGS = {
  ping: object({}),
  'report-now': object({}),
  'set-log-level': object({ level: oneOf(LOG_LEVELS) }),
  'enter-maintenance': object({ reason: optional(text({ max: MAX_MAINTENANCE_REASON })) }),
  'leave-maintenance': object({}),
  restart: object({ delayMs: optional(int({ min: 0, max: MAX_RESTART_DELAY_MS })) }),
  'committee-sign': object({
    message: text({ max: 2 * MAX_COMMITTEE_SIGN_BYTES, pattern: /^(?:[0-9a-f]{2})*$/, hint: `the message in lowercase hex, at most ${MAX_COMMITTEE_SIGN_BYTES} bytes` }),
  }),
  'committee-order': object({
    op: oneOf(['put', 'get', 'delete'] as const),
    key: text({ min: 1, max: MAX_COMMITTEE_ORDER_KEY, pattern: /^[\x20-\x7e]+$/, hint: `a key of 1 to ${MAX_COMMITTEE_ORDER_KEY} printable ASCII characters` }),
    value: optional(
      text({ max: 2 * MAX_COMMITTEE_ORDER_VALUE_BYTES, pattern: /^(?:[0-9a-f]{2})*$/, hint: `the value in lowercase hex, at most ${MAX_COMMITTEE_ORDER_VALUE_BYTES} bytes (put only)` }),
    ),
  }),
  'seal-config': refine(
    sealConfigArgs,
    `distinct readers, and value bytes + 33 × readers at most ${SEAL_CONFIG_BUDGET}`,
    (a) => {
      const readers = a.readers.split(',');
      return new Set(readers).size === readers.length && a.value.length / 2 + 33 * readers.length <= SEAL_CONFIG_BUDGET;
    },
  ),
  'read-sealed': object({
    record: text({ min: 64, max: 64, pattern: PEER_ID, hint: 'a record id: 64 lowercase hex characters' }),
    attribute: CONFIG_ATTRIBUTE,
    from: text({ min: 64, max: 64, pattern: PEER_ID, hint: 'the peer id (64 lowercase hex) of the agent to read from' }),
  }),
} as const satisfies Record<CommandName, Schema<unknown>>;

export type CommandArgs<N extends CommandName> = Infer<(typeof COMMAND_ARGS)[N]>;

export function isCommandName(value: unknown): value is CommandName {
  return COMMAND_NAMES.includes(value as CommandName);
}
