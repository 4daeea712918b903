/**
 * The TCP shell's two doors: dial() a peer whose public key we know, accept()
 * a socket and learn the peer's key from act three. Both end in a Channel.
 */
import { connect, type Socket } from 'node:net';
import type { PeerAddress } from '../config/index.js';
import { peerAddress } from './address.js';
import { peerIdOf, publicKeyOf } from '../identity/index.js';
import { Channel } from './channel.js';
import { TransportError } from './errors.js';
import { initiator, responder, type HandshakeResult } from './handshake.js';
import { runHandshake, type HandshakeOutcome } from './handshake-io.js';
import { resolveChannelOptions, type ChannelOptions, type ResolvedChannelOptions } from './options.js';
import { requireSecretKey } from './primitives.js';
import { openSession } from './session.js';

export interface ConnectOptions extends ChannelOptions {
  /** Our 32-byte static secret key; read during the handshake, never kept. */
  readonly secretKey: Uint8Array;
}

/** Our static key pair as the shell needs it. The manager keeps one for all its connections. */
export interface LocalKeys {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function localKeys(secretKey: unknown): LocalKeys {
  const secret = requireSecretKey(secretKey, 'The secret key');
  return { secretKey: secret, publicKey: publicKeyOf(secret) };
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}


/** Opens the channel and wipes the session keys the handshake handed over (the session holds copies). */
function channelFrom(socket: Socket, outcome: HandshakeOutcome, dialled: boolean, options: ResolvedChannelOptions): Channel {
  const { result, leftover } = outcome;
  try {
    return new Channel({
      socket,
      session: openSession(result),
      remotePublicKey: result.remoteStatic,
      remotePeerId: peerIdOf(result.remoteStatic),
      handshakeHash: result.handshakeHash,
      initiator: dialled,
      options,
      leftover,
    });
  } finally {
    wipe(result);
  }
}

function wipe(result: HandshakeResult): void {
  result.sendingKey.fill(0);
  result.receivingKey.fill(0);
  result.chainingKey.fill(0);
}

export interface Dialling {
  /** The connecting socket, so the manager can drop it at shutdown. */
  readonly socket: Socket;
  readonly channel: Promise<Channel>;
}

/** dial() with options already resolved; the manager's entry point. Throws SELF for our own key. */
export function startDial(address: PeerAddress, keys: LocalKeys, options: ResolvedChannelOptions): Dialling {
  if (sameKey(address.publicKey, keys.publicKey)) {
    throw new TransportError('SELF', 'Refusing to dial our own public key.');
  }
  const core = initiator({ localStatic: keys.secretKey, remoteStatic: address.publicKey });
  const socket = connect({ host: address.host, port: address.port });
  socket.setNoDelay(true);
  const channel = runHandshake(
    { socket, clock: options.clock, timeoutMs: options.handshakeTimeoutMs, connecting: true },
    { kind: 'initiator', core },
    (outcome) => channelFrom(socket, outcome, true, options),
  );
  return { socket, channel };
}

/** accept() with options already resolved; the manager's entry point. */
export function acceptWith(socket: Socket, keys: LocalKeys, options: ResolvedChannelOptions): Promise<Channel> {
  socket.setNoDelay(true);
  const core = responder({ localStatic: keys.secretKey });
  return runHandshake(
    { socket, clock: options.clock, timeoutMs: options.handshakeTimeoutMs, connecting: false },
    { kind: 'responder', core },
    (outcome) => {
      // Someone holding our own key (or a loop back to ourselves) is never a peer.
      if (sameKey(outcome.result.remoteStatic, keys.publicKey)) {
        wipe(outcome.result);
        throw new TransportError('SELF', 'The initiator presented our own public key.');
      }
      return channelFrom(socket, outcome, false, options);
    },
  );
}

/**
 * Dials `address` ("<66-hex public key>@host:port" or a parsed PeerAddress)
 * and runs the handshake as initiator. Rejects with a TransportError whose
 * code names the failure: WRONG_KEY, HANDSHAKE_TIMEOUT, CONNECT_FAILED, ...
 */
export function dial(address: string | PeerAddress, options: ConnectOptions): Promise<Channel> {
  try {
    const target = peerAddress(address);
    const resolved = resolveChannelOptions(options);
    // The handshake core copies the secret at once, so our copy can go now.
    const keys = localKeys(options?.secretKey);
    try {
      return startDial(target, keys, resolved).channel;
    } finally {
      keys.secretKey.fill(0);
    }
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Runs the handshake as responder on an accepted socket; the peer's key comes from act three. */
export function accept(socket: Socket, options: ConnectOptions): Promise<Channel> {
  try {
    if (typeof socket !== 'object' || socket === null || typeof socket.write !== 'function') {
      throw new TransportError('BAD_ARGUMENT', 'accept() needs a connected net.Socket.');
    }
    const resolved = resolveChannelOptions(options);
    const keys = localKeys(options?.secretKey);
    try {
      return acceptWith(socket, keys, resolved);
    } finally {
      keys.secretKey.fill(0);
    }
  } catch (err) {
    return Promise.reject(err);
  }
}
