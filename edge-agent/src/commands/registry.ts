/**
 * The commands an agent understands, and the arguments each one takes: one table, so a
 * new command is one line here (and its handler in the agent, which dispatches).
 */
import { LOG_LEVELS } from '../config/index.js';
import { int, object, oneOf, optional, text, type Infer, type Schema } from '../schema/index.js';

export const COMMAND_NAMES = ['ping', 'report-now', 'set-log-level', 'enter-maintenance', 'leave-maintenance', 'restart', 'committee-sign', 'committee-order'] as const;
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
} as const satisfies Record<CommandName, Schema<unknown>>;

export type CommandArgs<N extends CommandName> = Infer<(typeof COMMAND_ARGS)[N]>;

export function isCommandName(value: unknown): value is CommandName {
  return COMMAND_NAMES.includes(value as CommandName);
}
