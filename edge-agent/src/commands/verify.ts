/**
 * CommandVerifier: decides whether this agent runs a command. Checks, in order:
 * decode → signature → address → time → name and arguments → replay.
 * Nothing in the body is trusted before the signature is checked (only the signer field is
 * read, to pick the key), and the nonce is recorded only for a command that passed every
 * other check, so a refused command never uses up its nonce.
 */
import type { Clock } from '../clock/index.js';
import { toHex } from '../identity/index.js';
import { SchemaError, deepFreeze } from '../schema/index.js';
import { CommandError } from './errors.js';
import { ALL_TARGETS, FormatFault, decodeBody, decodeMessage, signingBytes, type CommandBody, type CommandMessage } from './format.js';
import { OPERATOR_SIGNATURE_LENGTH, operatorKeyOf, verifyOperatorSignature, type OperatorKey } from './keys.js';
import { lifetimeOption, skewOption } from './policy.js';
import type { RejectReason } from './reasons.js';
import { COMMAND_ARGS, COMMAND_NAMES, isCommandName, type CommandArgs, type CommandName } from './registry.js';
import { ReplayGuard } from './replay.js';

export interface CommandVerifierOptions {
  /** This agent's fleet. */
  readonly fleet: string;
  /** This agent's peer id, 64 lowercase hex characters. */
  readonly peerId: string;
  /** The keys allowed to command the fleet (parseOperatorKey); none: every command is refused. */
  readonly operators: readonly OperatorKey[];
  readonly clock: Clock;
  readonly replay: ReplayGuard;
  /** Longest expiresAt - issuedAt accepted; default 10 min, at most the replay guard's. */
  readonly maxLifetimeMs?: number;
  /** How far issuedAt may lie ahead of this agent's clock; default 30 s, at most the replay guard's. */
  readonly maxSkewMs?: number;
}

interface CommandBase {
  /** The nonce in hex: what results are correlated by. */
  readonly id: string;
  readonly fleet: string;
  readonly target: string;
  readonly nonce: Uint8Array;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The operator key that signed it. */
  readonly signer: OperatorKey;
}

/** A verified command, its arguments typed by its name. */
export type Command = { [N in CommandName]: CommandBase & { readonly name: N; readonly args: CommandArgs<N> } }[CommandName];

export interface Rejection {
  readonly ok: false;
  readonly reason: RejectReason;
  /** One sentence for a human. */
  readonly message: string;
  /** The nonce in hex, whenever the body could be decoded (even if the command is forged). */
  readonly id?: string;
  /** The command's name, under the same condition. */
  readonly name?: string;
}

export type Verdict = { readonly ok: true; readonly command: Command } | Rejection;

const FLEET = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PEER_ID = /^[0-9a-f]{64}$/;

function reject(reason: RejectReason, message: string, body?: CommandBody): Rejection {
  if (body === undefined) return { ok: false, reason, message };
  return { ok: false, reason, message, id: toHex(body.nonce), name: body.name };
}

function requireOperators(value: unknown): Map<string, OperatorKey> {
  if (!Array.isArray(value)) throw new CommandError('BAD_ARGUMENT', 'CommandVerifier: operators must be a list of operator keys');
  const out = new Map<string, OperatorKey>();
  value.forEach((item: unknown, i) => {
    const given = item as Partial<OperatorKey> | null;
    // Re-derived from the key bytes, so the scheme a key is checked under cannot be set by hand.
    const key = typeof given === 'object' && given !== null && given.publicKey instanceof Uint8Array ? operatorKeyOf(given.publicKey) : null;
    if (key === null || key.algorithm !== given?.algorithm) {
      throw new CommandError('BAD_KEY', `CommandVerifier: operators[${i}] is not an operator key (use parseOperatorKey)`);
    }
    out.set(key.id, key);
  });
  return out;
}

export class CommandVerifier {
  readonly fleet: string;
  readonly peerId: string;
  readonly maxLifetimeMs: number;
  readonly maxSkewMs: number;
  readonly #operators: Map<string, OperatorKey>;
  readonly #clock: Clock;
  readonly #replay: ReplayGuard;

  constructor(opts: CommandVerifierOptions) {
    if (typeof opts !== 'object' || opts === null) throw new CommandError('BAD_ARGUMENT', 'CommandVerifier: options must be an object');
    const { fleet, peerId, clock, replay } = opts;
    if (typeof fleet !== 'string' || !FLEET.test(fleet)) throw new CommandError('BAD_ARGUMENT', `CommandVerifier: ${String(fleet)} is not a fleet name`);
    if (typeof peerId !== 'string' || !PEER_ID.test(peerId)) {
      throw new CommandError('BAD_ARGUMENT', 'CommandVerifier: peerId must be 64 lowercase hex characters');
    }
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
      throw new CommandError('BAD_ARGUMENT', 'CommandVerifier: clock must be a Clock');
    }
    if (!(replay instanceof ReplayGuard)) throw new CommandError('BAD_ARGUMENT', 'CommandVerifier: replay must be a ReplayGuard');
    this.maxLifetimeMs = lifetimeOption(opts.maxLifetimeMs);
    this.maxSkewMs = skewOption(opts.maxSkewMs);
    // The guard keeps nonces and sets its watermark from these: shorter ones would leave gaps.
    if (replay.maxLifetimeMs < this.maxLifetimeMs || replay.maxSkewMs < this.maxSkewMs) {
      throw new CommandError(
        'BAD_ARGUMENT',
        `CommandVerifier: the replay guard's maxLifetimeMs and maxSkewMs (${replay.maxLifetimeMs}, ${replay.maxSkewMs}) must be at least the verifier's (${this.maxLifetimeMs}, ${this.maxSkewMs})`,
      );
    }
    this.fleet = fleet;
    this.peerId = peerId;
    this.#operators = requireOperators(opts.operators);
    this.#clock = clock;
    this.#replay = replay;
  }

  /**
   * The verdict on one payload (CBOR or JSON form). Never throws for any bytes; throws
   * CommandError only for a non-byte argument or a closed replay guard.
   */
  async verify(payload: Uint8Array): Promise<Verdict> {
    if (!(payload instanceof Uint8Array)) throw new CommandError('BAD_ARGUMENT', 'CommandVerifier.verify: payload must be a Uint8Array');
    let message: CommandMessage;
    let body: CommandBody;
    try {
      message = decodeMessage(payload);
      body = decodeBody(message.body);
    } catch (err) {
      if (err instanceof FormatFault) return reject('MALFORMED', err.message);
      throw err;
    }

    // Signature.
    const { sig } = message;
    if (sig === undefined || sig.length === 0) return reject('UNSIGNED', 'the command carries no signature', body);
    const signerId = toHex(body.signer);
    const signer = this.#operators.get(signerId);
    if (signer === undefined) return reject('UNKNOWN_SIGNER', `key ${signerId} is not an operator key of fleet ${this.fleet}`, body);
    if (sig.length !== OPERATOR_SIGNATURE_LENGTH) {
      return reject('BAD_SIGNATURE', `the signature is ${sig.length} bytes, not ${OPERATOR_SIGNATURE_LENGTH}`, body);
    }
    if (!verifyOperatorSignature(signer, signingBytes(message.body), sig)) {
      return reject('BAD_SIGNATURE', `the signature does not verify under ${signer.algorithm} key ${signer.id}`, body);
    }

    // Address.
    if (body.fleet !== this.fleet) return reject('MISADDRESSED', `addressed to fleet ${body.fleet}, this agent is in fleet ${this.fleet}`, body);
    if (body.target !== this.peerId && body.target !== ALL_TARGETS) {
      return reject('MISADDRESSED', `addressed to peer ${body.target}, not to this agent`, body);
    }

    // Time.
    const now = this.#clock.now();
    const lifetime = body.expiresAt - body.issuedAt;
    if (lifetime > this.maxLifetimeMs) {
      return reject('TOO_LONG_LIVED', `valid for ${lifetime} ms, longer than the ${this.maxLifetimeMs} ms allowed`, body);
    }
    if (body.issuedAt > now + this.maxSkewMs) {
      return reject('NOT_YET_VALID', `issued ${body.issuedAt - now} ms in the future, more than the ${this.maxSkewMs} ms of skew allowed`, body);
    }
    if (body.expiresAt <= now) return reject('EXPIRED', `expired ${now - body.expiresAt} ms ago`, body);

    // Name and arguments.
    const { name } = body;
    if (!isCommandName(name)) return reject('UNKNOWN_COMMAND', `unknown command ${name} (known: ${COMMAND_NAMES.join(', ')})`, body);
    let args: unknown;
    try {
      args = COMMAND_ARGS[name].parse(body.args, 'args');
    } catch (err) {
      if (err instanceof SchemaError) return reject('BAD_ARGUMENTS', `${name}: ${err.message}`, body);
      throw err;
    }

    // Replay, last: only a command that passed everything else takes up its nonce.
    const admission = await this.#replay.admit(body.nonce, body.issuedAt, body.expiresAt);
    if (!admission.ok) return reject(admission.reason, admission.message, body);

    const command = {
      id: toHex(body.nonce),
      fleet: body.fleet,
      target: body.target,
      name,
      args,
      nonce: body.nonce,
      issuedAt: body.issuedAt,
      expiresAt: body.expiresAt,
      signer,
    } as Command;
    return { ok: true, command: deepFreeze(command) as Command };
  }
}
