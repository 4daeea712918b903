/**
 * PtpNode, the shell, without sockets: two nodes joined by an in-memory
 * transport pair that stamps on send and on delivery from one clock. What
 * is tested is the shell's part: TX stamps matched to the core's refs, one
 * timer following the core's deadline, states and samples reported, close.
 */
import test from 'ava';
import { PtpNode, type PtpTransport } from '../../src/ptp/index.js';
import type { Channel } from '../../src/time/index.js';

const now = (): bigint => process.hrtime.bigint();

/** Two transports: what one sends the other receives (next tick), stamped now; TX stamps come back the same way. */
function pair(): [PtpTransport & { sent: number }, PtpTransport & { sent: number }] {
  const make = () => {
    const rx: ((channel: Channel, bytes: Uint8Array, rxNs: bigint | null) => void)[] = [];
    const tx: ((id: number, txNs: bigint) => void)[] = [];
    let next = 0;
    let closed = false;
    const t = {
      sent: 0,
      peer: undefined as unknown as { deliver(channel: Channel, bytes: Uint8Array): void },
      deliver(channel: Channel, bytes: Uint8Array) {
        if (closed) return;
        setImmediate(() => rx.forEach((l) => l(channel, bytes, channel === 'event' ? now() : null)));
      },
      stamps: 'software' as const,
      reason: 'in-memory pair',
      nowNs: now,
      send(channel: Channel, bytes: Uint8Array): number {
        const id = next++;
        t.sent++;
        const stamp = now();
        if (channel === 'event') setImmediate(() => tx.forEach((l) => l(id, stamp)));
        t.peer.deliver(channel, Uint8Array.from(bytes));
        return id;
      },
      onMessage: (l: (channel: Channel, bytes: Uint8Array, rxNs: bigint | null) => void) => void rx.push(l),
      onTxStamp: (l: (id: number, txNs: bigint) => void) => void tx.push(l),
      onError: () => {},
      close: () => void (closed = true),
    };
    return t;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

test('a master and a slave over the shell: the slave locks, samples flow, both close cleanly', async (t) => {
  const [ta, tb] = pair();
  const states: string[] = [];
  const samples: number[] = [];
  const master = new PtpNode({ transport: ta, port: { clockIdentity: Uint8Array.of(1, 1, 1, 0xff, 0xfe, 1, 1, 1), masterOnly: true, logSyncInterval: -4, logAnnounceInterval: -2 } });
  const slave = new PtpNode({
    transport: tb,
    port: { clockIdentity: Uint8Array.of(2, 2, 2, 0xff, 0xfe, 2, 2, 2), slaveOnly: true, logSyncInterval: -4, logMinDelayReqInterval: -4, logAnnounceInterval: -2, servo: 'median' },
    onState: (s) => states.push(s.to),
    onSample: (s) => samples.push(s.offsetNs),
  });
  master.start();
  slave.start();
  slave.start(); // idempotent
  const deadline = Date.now() + 15_000;
  while (!(states.includes('SLAVE') && samples.length >= 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  master.close();
  slave.close();
  t.true(states.includes('SLAVE'), `states ${states.join(' ')}`);
  t.true(samples.length >= 20, `${samples.length} samples`);
  // One process, one clock: the true offset is 0 and the error is what the event loop adds between stamps
  // (the fake stamps in user space): milliseconds at worst on a loaded machine, so the median stays small.
  const late = samples.slice(-10).map(Math.abs).sort((x, y) => x - y);
  t.true(late[5]! < 10_000_000, late.join(' '));
  const s = slave.stats();
  t.is(s.drops.txTimestampLate, 0, 'every Delay_Req got its TX stamp back through the shell');
  t.true(s.samples >= 20);
  t.is(s.stamps, 'software');
  // Closed nodes stay quiet.
  const sent = ta.sent + tb.sent;
  await new Promise((r) => setTimeout(r, 200));
  t.is(ta.sent + tb.sent, sent);
});
