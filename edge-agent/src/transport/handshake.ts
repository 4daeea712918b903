/**
 * BOLT 8 handshake (Noise_XK_secp256k1_ChaChaPoly_SHA256) as two pure state
 * machines: bytes in, bytes out, no I/O. The shell reads exactly ACT_*_SIZE
 * bytes from the socket and hands them over.
 */
import { TransportError } from './errors.js';
import {
  EMPTY,
  PUBLIC_KEY_SIZE,
  TAG_SIZE,
  ecdh,
  publicKeyOf,
  randomSecretKey,
  requireBytes,
  requirePublicKey,
  requireSecretKey,
} from './primitives.js';
import { SymmetricState } from './symmetric.js';

export const ACT_ONE_SIZE = 1 + PUBLIC_KEY_SIZE + TAG_SIZE; // 50
export const ACT_TWO_SIZE = 1 + PUBLIC_KEY_SIZE + TAG_SIZE; // 50
export const ACT_THREE_SIZE = 1 + PUBLIC_KEY_SIZE + TAG_SIZE + TAG_SIZE; // 66

const VERSION = 0;

/** What a completed handshake yields. Keys are secret: wipe them once consumed. */
export interface HandshakeResult {
  /** The peer's 33-byte compressed static public key (authenticated). */
  readonly remoteStatic: Uint8Array;
  readonly sendingKey: Uint8Array;
  readonly receivingKey: Uint8Array;
  /** Final ck; each direction starts key rotation from its own copy of it. */
  readonly chainingKey: Uint8Array;
  /** Final h (as BOLT 8 defines it: the act-three tag is not hashed in). */
  readonly handshakeHash: Uint8Array;
}

export interface InitiatorOptions {
  /** Our 32-byte static secret key. */
  readonly localStatic: Uint8Array;
  /** The responder's 33-byte compressed static public key. */
  readonly remoteStatic: Uint8Array;
  /** Fixed ephemeral secret key, for test vectors only; random when omitted. */
  readonly ephemeral?: Uint8Array;
}

export interface ResponderOptions {
  /** Our 32-byte static secret key. */
  readonly localStatic: Uint8Array;
  /** Fixed ephemeral secret key, for test vectors only; random when omitted. */
  readonly ephemeral?: Uint8Array;
}

/**
 * Enforces call order and makes any failure terminal: once a step threw, every
 * later call rethrows that same error, because a failed handshake must be
 * dropped, never resumed.
 */
class Steps<S extends string> {
  #state: S;
  readonly #done: S;
  readonly #onFailure: () => void;
  #failed = false;
  #failure: unknown;

  constructor(initial: S, done: S, onFailure: () => void) {
    this.#state = initial;
    this.#done = done;
    this.#onFailure = onFailure;
  }

  run<T>(expected: S, next: S, call: string, step: () => T): T {
    this.#ensureAlive();
    if (this.#state !== expected) {
      throw new TransportError(
        'OUT_OF_ORDER',
        this.#state === this.#done
          ? `${call} was called after the handshake had completed.`
          : `${call} was called out of order; the handshake expects ${this.#state}() next.`,
      );
    }
    try {
      const out = step();
      this.#state = next;
      return out;
    } catch (err) {
      this.#failed = true;
      this.#failure = err;
      this.#onFailure();
      throw err;
    }
  }

  /** Abandons the handshake: wipes its secrets and makes every later call throw DEAD. */
  abandon(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = new TransportError('DEAD', 'The handshake was abandoned and its keys wiped.');
    this.#onFailure();
  }

  requireDone(call: string): void {
    this.#ensureAlive();
    if (this.#state !== this.#done) {
      throw new TransportError('OUT_OF_ORDER', `${call} was called before the handshake completed.`);
    }
  }

  #ensureAlive(): void {
    if (this.#failed) throw this.#failure;
  }
}

function requireOptions(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    throw new TransportError('BAD_ARGUMENT', `${what} options must be an object.`);
  }
  return value as Record<string, unknown>;
}

/** The ephemeral secret (random unless injected); wipes `localSecret` if it is invalid. */
function ephemeralOrWipe(value: unknown, localSecret: Buffer): Buffer {
  if (value === undefined) {
    const fresh = randomSecretKey();
    const copy = Buffer.from(fresh);
    fresh.fill(0);
    return copy;
  }
  try {
    return requireSecretKey(value, 'The ephemeral key');
  } catch (err) {
    localSecret.fill(0);
    throw err;
  }
}

/** Checks length and version byte of an act; both failures end the handshake. */
function checkAct(input: Uint8Array, size: number, act: string): void {
  if (input.length !== size) {
    throw new TransportError('BAD_LENGTH', `${act} must be exactly ${size} bytes, got ${input.length}.`);
  }
  if (input[0] !== VERSION) {
    throw new TransportError('BAD_VERSION', `${act} carries unknown handshake version ${input[0]}.`);
  }
}

function remoteEphemeral(input: Uint8Array, act: string): Uint8Array {
  return requirePublicKey(input.subarray(1, 1 + PUBLIC_KEY_SIZE), `The ephemeral key in ${act}`);
}

function macFailure(act: string): TransportError {
  return new TransportError('BAD_MAC', `${act} failed authentication.`);
}

/** Acts one and two share the layout version || e.pub || tag. */
function actMessage(ephemeralPublic: Uint8Array, tag: Uint8Array): Uint8Array {
  const out = new Uint8Array(ACT_ONE_SIZE);
  out[0] = VERSION;
  out.set(ephemeralPublic, 1);
  out.set(tag, 1 + PUBLIC_KEY_SIZE);
  return out;
}

/** Copies the split keys into the result and wipes the HKDF output. */
function finish(
  sym: SymmetricState,
  remoteStatic: Uint8Array,
  initiatorSide: boolean,
): HandshakeResult {
  const [first, second] = sym.split();
  const result: HandshakeResult = {
    remoteStatic,
    sendingKey: Uint8Array.from(initiatorSide ? first : second),
    receivingKey: Uint8Array.from(initiatorSide ? second : first),
    chainingKey: sym.chainingKey,
    handshakeHash: sym.handshakeHash,
  };
  first.fill(0);
  second.fill(0);
  sym.wipe();
  return result;
}

type InitiatorStep = 'actOne' | 'actTwo' | 'done';

export class Initiator {
  readonly #sym: SymmetricState;
  readonly #localSecret: Buffer;
  readonly #localPublic: Uint8Array;
  readonly #remoteStatic: Uint8Array;
  readonly #ephemeralSecret: Buffer;
  readonly #steps: Steps<InitiatorStep>;
  #result: HandshakeResult | undefined;

  constructor(options: InitiatorOptions) {
    const opts = requireOptions(options, 'Initiator');
    this.#remoteStatic = requirePublicKey(opts['remoteStatic'], 'The remote static key');
    this.#localSecret = requireSecretKey(opts['localStatic'], 'The local static key');
    this.#ephemeralSecret = ephemeralOrWipe(opts['ephemeral'], this.#localSecret);
    this.#localPublic = publicKeyOf(this.#localSecret);
    this.#sym = new SymmetricState(this.#remoteStatic);
    this.#steps = new Steps<InitiatorStep>('actOne', 'done', () => this.#wipe());
  }

  /** -> e, es: returns the 50-byte act one to send. */
  actOne(): Uint8Array {
    return this.#steps.run('actOne', 'actTwo', 'Initiator.actOne()', () => {
      const ephemeralPublic = publicKeyOf(this.#ephemeralSecret);
      this.#sym.mixHash(ephemeralPublic);
      this.#sym.mixKey(ecdh(this.#ephemeralSecret, this.#remoteStatic));
      const tag = this.#sym.encrypt(0, EMPTY);
      this.#sym.mixHash(tag);
      return actMessage(ephemeralPublic, tag);
    });
  }

  /** <- e, ee then -> s, se: consumes the 50-byte act two, returns the 66-byte act three. */
  actTwo(input: Uint8Array): Uint8Array {
    requireBytes(input, 'Act two');
    return this.#steps.run('actTwo', 'done', 'Initiator.actTwo()', () => {
      checkAct(input, ACT_TWO_SIZE, 'Act two');
      const re = remoteEphemeral(input, 'act two');
      this.#sym.mixHash(re);
      this.#sym.mixKey(ecdh(this.#ephemeralSecret, re));
      const tag = input.subarray(1 + PUBLIC_KEY_SIZE);
      if (this.#sym.decrypt(0, tag) === null) throw macFailure('Act two');
      this.#sym.mixHash(tag);
      this.#ephemeralSecret.fill(0);

      const sealedStatic = this.#sym.encrypt(1, this.#localPublic);
      this.#sym.mixHash(sealedStatic);
      this.#sym.mixKey(ecdh(this.#localSecret, re));
      this.#localSecret.fill(0);
      const finalTag = this.#sym.encrypt(0, EMPTY);
      this.#result = finish(this.#sym, this.#remoteStatic, true);

      const out = new Uint8Array(ACT_THREE_SIZE);
      out[0] = VERSION;
      out.set(sealedStatic, 1);
      out.set(finalTag, 1 + sealedStatic.length);
      return out;
    });
  }

  /** The session keys; only after actTwo() succeeded. */
  result(): HandshakeResult {
    this.#steps.requireDone('Initiator.result()');
    return this.#result as HandshakeResult;
  }

  /**
   * Wipes the secrets of a handshake that will not complete (timeout, closed
   * socket); later calls throw DEAD. The result of a completed handshake is
   * the caller's and stays untouched.
   */
  destroy(): void {
    this.#steps.abandon();
  }

  #wipe(): void {
    this.#ephemeralSecret.fill(0);
    this.#localSecret.fill(0);
    this.#sym.wipe();
  }
}

type ResponderStep = 'actOne' | 'actThree' | 'done';

export class Responder {
  readonly #sym: SymmetricState;
  readonly #localSecret: Buffer;
  readonly #ephemeralSecret: Buffer;
  readonly #steps: Steps<ResponderStep>;
  #result: HandshakeResult | undefined;

  constructor(options: ResponderOptions) {
    const opts = requireOptions(options, 'Responder');
    this.#localSecret = requireSecretKey(opts['localStatic'], 'The local static key');
    this.#ephemeralSecret = ephemeralOrWipe(opts['ephemeral'], this.#localSecret);
    this.#sym = new SymmetricState(publicKeyOf(this.#localSecret));
    this.#steps = new Steps<ResponderStep>('actOne', 'done', () => this.#wipe());
  }

  /** Consumes the 50-byte act one (e, es), returns the 50-byte act two (e, ee). */
  actOne(input: Uint8Array): Uint8Array {
    requireBytes(input, 'Act one');
    return this.#steps.run('actOne', 'actThree', 'Responder.actOne()', () => {
      checkAct(input, ACT_ONE_SIZE, 'Act one');
      const re = remoteEphemeral(input, 'act one');
      this.#sym.mixHash(re);
      this.#sym.mixKey(ecdh(this.#localSecret, re));
      this.#localSecret.fill(0);
      const tag = input.subarray(1 + PUBLIC_KEY_SIZE);
      if (this.#sym.decrypt(0, tag) === null) throw macFailure('Act one');
      this.#sym.mixHash(tag);

      const ephemeralPublic = publicKeyOf(this.#ephemeralSecret);
      this.#sym.mixHash(ephemeralPublic);
      this.#sym.mixKey(ecdh(this.#ephemeralSecret, re));
      const ownTag = this.#sym.encrypt(0, EMPTY);
      this.#sym.mixHash(ownTag);
      return actMessage(ephemeralPublic, ownTag);
    });
  }

  /** Consumes the 66-byte act three (s, se) and completes the handshake. */
  actThree(input: Uint8Array): HandshakeResult {
    requireBytes(input, 'Act three');
    return this.#steps.run('actThree', 'done', 'Responder.actThree()', () => {
      checkAct(input, ACT_THREE_SIZE, 'Act three');
      const sealedStatic = input.subarray(1, 1 + PUBLIC_KEY_SIZE + TAG_SIZE);
      const opened = this.#sym.decrypt(1, sealedStatic);
      if (opened === null) throw macFailure('The static key in act three');
      const remoteStatic = requirePublicKey(opened, 'The static key in act three');
      this.#sym.mixHash(sealedStatic);
      this.#sym.mixKey(ecdh(this.#ephemeralSecret, remoteStatic));
      this.#ephemeralSecret.fill(0);
      if (this.#sym.decrypt(0, input.subarray(1 + sealedStatic.length)) === null) {
        throw macFailure('Act three');
      }
      this.#result = finish(this.#sym, remoteStatic, false);
      return this.#result;
    });
  }

  /** The session keys; only after actThree() succeeded. */
  result(): HandshakeResult {
    this.#steps.requireDone('Responder.result()');
    return this.#result as HandshakeResult;
  }

  /**
   * Wipes the secrets of a handshake that will not complete (timeout, closed
   * socket); later calls throw DEAD. The result of a completed handshake is
   * the caller's and stays untouched.
   */
  destroy(): void {
    this.#steps.abandon();
  }

  #wipe(): void {
    this.#ephemeralSecret.fill(0);
    this.#localSecret.fill(0);
    this.#sym.wipe();
  }
}

export function initiator(options: InitiatorOptions): Initiator {
  return new Initiator(options);
}

export function responder(options: ResponderOptions): Responder {
  return new Responder(options);
}
