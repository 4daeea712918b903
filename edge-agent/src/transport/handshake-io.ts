/**
 * Runs the BOLT 8 handshake core over a connected (or connecting) socket: reads
 * exactly one act at a time, writes the answers, enforces the deadline, and
 * names every failure with its close reason. An honest peer never sends more
 * than the act we wait for (the next act depends on our answer), so extra
 * bytes are UNEXPECTED_ACT, as is an act cut short by EOF.
 */
import type { Socket } from 'node:net';
import type { Clock } from '../clock/index.js';
import { TransportError } from './errors.js';
import { ACT_ONE_SIZE, ACT_THREE_SIZE, ACT_TWO_SIZE, type HandshakeResult, type Initiator, type Responder } from './handshake.js';
import { reasonOf } from './reasons.js';

export interface HandshakeOutcome {
  readonly result: HandshakeResult;
  /** Bytes after act three (the initiator may start sending at once). */
  readonly leftover: Uint8Array;
}

export interface HandshakeIo {
  readonly socket: Socket;
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** True while the socket is still connecting (the dialler's case). */
  readonly connecting: boolean;
}

export type Role = { readonly kind: 'initiator'; readonly core: Initiator } | { readonly kind: 'responder'; readonly core: Responder };

/**
 * Resolves with what `build` makes of the handshake result, or rejects with a
 * TransportError whose code is the close reason; the socket is destroyed and
 * the core's secrets wiped on every failure. `build` runs synchronously in the
 * read that completed the handshake, so no socket event can slip in between.
 */
export function runHandshake<T>(io: HandshakeIo, role: Role, build: (outcome: HandshakeOutcome) => T): Promise<T> {
  const { socket, clock } = io;
  return new Promise<T>((resolve, reject) => {
    let connected = !io.connecting;
    // The act being read: its size, its bytes so far.
    let want = role.kind === 'initiator' ? ACT_TWO_SIZE : ACT_ONE_SIZE;
    let act = Buffer.alloc(want);
    let fill = 0;
    let actsSent = 0;
    let settled = false;

    const timer = clock.setTimer(io.timeoutMs, () =>
      fail(new TransportError('HANDSHAKE_TIMEOUT', `The handshake did not complete within ${io.timeoutMs} ms.`)),
    );

    function detach(): void {
      settled = true;
      timer.cancel();
      socket.off('connect', onConnect);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
    }

    function fail(err: unknown): void {
      if (settled) return;
      detach();
      abort(err);
    }

    function abort(err: unknown): void {
      role.core.destroy();
      // Keep a listener: a late socket error must not crash the process.
      socket.on('error', () => {});
      socket.destroy();
      reject(err instanceof TransportError ? err : new TransportError(reasonOf(err), `The handshake failed: ${String(err)}`));
    }

    function succeed(result: HandshakeResult, leftover: Uint8Array): void {
      detach();
      let built: T;
      try {
        built = build({ result, leftover });
      } catch (err) {
        abort(err);
        return;
      }
      resolve(built);
    }

    function send(bytes: Uint8Array): void {
      actsSent += 1;
      socket.write(bytes);
    }

    function onConnect(): void {
      connected = true;
      if (role.kind === 'initiator') send(role.core.actOne());
    }

    /** Runs the core on a complete act; returns false once the handshake ended. */
    function step(input: Uint8Array, rest: Uint8Array): boolean {
      if (role.kind === 'initiator') {
        // Nothing may follow act two before we answer it.
        if (rest.length > 0) throw new TransportError('UNEXPECTED_ACT', 'Bytes followed act two before act three was sent.');
        let actThree: Uint8Array;
        try {
          actThree = role.core.actTwo(input);
        } catch (err) {
          // Act two only authenticates if the responder holds the key we dialled.
          if (err instanceof TransportError && err.code === 'BAD_MAC') {
            throw new TransportError('WRONG_KEY', 'The responder could not prove it holds the public key that was dialled.');
          }
          throw err;
        }
        send(actThree);
        succeed(role.core.result(), rest);
        return false;
      }
      if (want === ACT_ONE_SIZE) {
        if (rest.length > 0) throw new TransportError('UNEXPECTED_ACT', 'Bytes followed act one before act two was sent.');
        send(role.core.actOne(input));
        want = ACT_THREE_SIZE;
        act = Buffer.alloc(want);
        fill = 0;
        return true;
      }
      succeed(role.core.actThree(input), rest);
      return false;
    }

    function onData(chunk: Buffer): void {
      try {
        let offset = 0;
        while (!settled && offset < chunk.length) {
          const n = Math.min(want - fill, chunk.length - offset);
          act.set(chunk.subarray(offset, offset + n), fill);
          fill += n;
          offset += n;
          if (fill < want) return;
          if (!step(act, chunk.subarray(offset))) return;
        }
      } catch (err) {
        fail(err);
      }
    }

    function onEnd(): void {
      if (fill > 0) fail(new TransportError('UNEXPECTED_ACT', `The peer closed the connection inside a handshake act (${fill} of ${want} bytes).`));
      // A BOLT 8 responder hangs up after act one exactly when it cannot
      // authenticate it, i.e. when it does not hold the key we dialled.
      else if (role.kind === 'initiator' && actsSent === 1) fail(new TransportError('WRONG_KEY', 'The responder hung up after act one: it does not hold the public key that was dialled.'));
      else fail(new TransportError('CLOSED_BY_PEER', 'The peer closed the connection during the handshake.'));
    }

    function onError(err: Error): void {
      fail(new TransportError(connected ? 'SOCKET_ERROR' : 'CONNECT_FAILED', `The connection failed during the handshake: ${err.message}`));
    }

    function onClose(): void {
      fail(new TransportError('CLOSED_BY_PEER', 'The connection closed during the handshake.'));
    }

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (io.connecting) socket.once('connect', onConnect);
    else onConnect();
  });
}
