import { loadNative, type NativeAddon } from '../../src/native/index.js';
import type { NativeError, ReceivedMessage, TimestampedSocket, TxTimestamp } from '../../src/native/index.js';

/**
 * The addon, or a failure that says how to build it: these tests never skip
 * silently (CI has cargo, and `npm install` builds the addon).
 */
export function requireAddon(): NativeAddon {
  const load = loadNative();
  if (load.addon === null) {
    const reason = load.capabilities[0]?.reason ?? 'unknown';
    const hint = reason.includes('build.mjs') ? '' : '; run `node native-napi/build.mjs` first';
    throw new Error(`native addon not loaded: ${reason}${hint}`);
  }
  return load.addon;
}

/** A liveness guard, not a speed check: a lost datagram fails the test instead of hanging it. */
const GUARD_MS = 10_000;

function guarded<T>(what: string, register: (resolve: (v: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let off = (): void => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within ${GUARD_MS} ms`));
    }, GUARD_MS);
    off = register((v) => {
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

export function nextMessage(socket: TimestampedSocket, match: (m: ReceivedMessage) => boolean = () => true): Promise<ReceivedMessage> {
  return guarded(`message on port ${socket.port}`, (resolve) => socket.onMessage((m) => match(m) && resolve(m)));
}

export function txStamps(socket: TimestampedSocket, count: number, match: (tx: TxTimestamp) => boolean = () => true): Promise<TxTimestamp[]> {
  const got: TxTimestamp[] = [];
  return guarded(`${count} TX stamps on port ${socket.port}`, (resolve) =>
    socket.onTxTimestamp((tx) => {
      if (!match(tx)) return;
      got.push(tx);
      if (got.length === count) resolve(got);
    }),
  );
}

export function nextSendError(socket: TimestampedSocket): Promise<{ id: number; error: NativeError }> {
  return guarded(`send error on port ${socket.port}`, (resolve) => socket.onSendError((id, error) => resolve({ id, error })));
}

/** CLOCK_REALTIME in ns, from the addon (the clock the software stamps use). */
export function realtimeNs(addon: NativeAddon): bigint {
  const [s, ns] = addon.clockGettime('realtime');
  return BigInt(s) * 1_000_000_000n + BigInt(ns);
}

/**
 * Linux switches receive timestamping on asynchronously (net_enable_timestamp
 * defers it to a workqueue) when the first stamping socket appears, so the
 * first datagrams may arrive unstamped. This pings `to` from `from` until one
 * arrives with a stamp (the liveness guard bounds it).
 */
export async function warmUpStamps(from: TimestampedSocket, to: TimestampedSocket): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const got = nextMessage(to, (m) => m.data.toString() === `warm-up ${i}`);
    from.send(Buffer.from(`warm-up ${i}`), '127.0.0.1', to.port);
    if ((await got).rxNs !== null) return;
  }
  throw new Error('receive stamps never appeared after 1000 datagrams');
}
