/**
 * The operator's side: builds, signs and encodes a command. The agent never signs commands;
 * this is for the CLI, tools and tests.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock/index.js';
import { SchemaError } from '../schema/index.js';
import { CommandError } from './errors.js';
import { COMMAND_VERSION, NONCE_LENGTH, encodeBody, encodeMessage, signingBytes, type CommandBody } from './format.js';
import { operatorPublicKey, operatorSign, requireAlgorithm, type KeyAlgorithm } from './keys.js';
import { COMMAND_ARGS, COMMAND_NAMES, isCommandName, type CommandArgs, type CommandName } from './registry.js';

/** Longest lifetime signCommand will give a command; an agent accepts at most its own maxLifetimeMs. */
export const MAX_SIGN_TTL_MS = 24 * 60 * 60 * 1000;

export interface SignCommandOptions<N extends CommandName = CommandName> {
  /** The operator's 32-byte secret key; the caller owns it (it is neither kept nor wiped here). */
  readonly secretKey: Uint8Array;
  /** Default 'secp256k1'. */
  readonly algorithm?: KeyAlgorithm;
  readonly fleet: string;
  /** A peer id in lowercase hex, or "*" for every agent of the fleet. */
  readonly target: string;
  readonly name: N;
  /** Default {}. Checked against the command's schema before signing. */
  readonly args?: CommandArgs<N>;
  /** How long the command stays valid, from issuedAt (the clock's now). */
  readonly ttlMs: number;
  readonly clock?: Clock;
  /** 16 bytes; a fresh random one unless given. */
  readonly nonce?: Uint8Array;
}

/** Fields of a body that signBody fills in itself. */
export type UnsignedBody = Omit<CommandBody, 'v' | 'signer'>;

/**
 * Signs any well-formed body, without checking the command's name or arguments against this
 * build's table (a newer agent may know more commands). Returns the CBOR form of the message.
 */
export function signBody(body: UnsignedBody, secretKey: Uint8Array, algorithm: KeyAlgorithm = 'secp256k1'): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new CommandError('BAD_ARGUMENT', 'signBody: body must be an object');
  requireAlgorithm(algorithm);
  const signer = operatorPublicKey(algorithm, secretKey);
  const encoded = encodeBody({ ...body, v: COMMAND_VERSION, signer });
  const toSign = signingBytes(encoded);
  const sig = operatorSign(algorithm, secretKey, toSign);
  return encodeMessage(encoded, sig);
}

/** Builds and signs a command this build knows; throws CommandError for anything an agent would refuse as malformed. */
export function signCommand<N extends CommandName>(opts: SignCommandOptions<N>): Uint8Array {
  if (typeof opts !== 'object' || opts === null) throw new CommandError('BAD_ARGUMENT', 'signCommand: options must be an object');
  const { name, ttlMs, clock = systemClock } = opts;
  if (!isCommandName(name)) {
    throw new CommandError('BAD_ARGUMENT', `signCommand: unknown command ${JSON.stringify(name)} (known: ${COMMAND_NAMES.join(', ')})`);
  }
  const args = opts.args ?? {};
  try {
    COMMAND_ARGS[name].parse(args, 'args');
  } catch (err) {
    if (err instanceof SchemaError) throw new CommandError('BAD_ARGUMENT', `signCommand ${name}: ${err.message}`);
    throw err;
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_SIGN_TTL_MS) {
    throw new CommandError('BAD_ARGUMENT', `signCommand: ttlMs must be an integer from 1 to ${MAX_SIGN_TTL_MS}, got ${String(ttlMs)}`);
  }
  if (opts.nonce !== undefined && (!(opts.nonce instanceof Uint8Array) || opts.nonce.length !== NONCE_LENGTH)) {
    throw new CommandError('BAD_ARGUMENT', `signCommand: nonce must be ${NONCE_LENGTH} bytes`);
  }
  const nonce = opts.nonce === undefined ? new Uint8Array(randomBytes(NONCE_LENGTH)) : Uint8Array.from(opts.nonce);
  const issuedAt = Math.floor(clock.now());
  const body: UnsignedBody = { fleet: opts.fleet, target: opts.target, name, args, nonce, issuedAt, expiresAt: issuedAt + ttlMs };
  return signBody(body, opts.secretKey, opts.algorithm ?? 'secp256k1');
}
