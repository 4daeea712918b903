import test from 'ava';
import { NativeError, TimestampedSocket } from '../../src/native/index.js';
import { nextMessage, nextSendError, requireAddon, txStamps, warmUpStamps } from './helpers.js';

const local = { address: '127.0.0.1', port: 0 } as const;

test('a refused send is reported with its id, and later TX stamps keep their ids', async (t) => {
  const addon = requireAddon();
  const a = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  const b = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  try {
    await warmUpStamps(a, b);
    const base = a.stats().sent;
    const failed = nextSendError(a);
    const stamped = txStamps(a, 2, (tx) => tx.id >= base);
    const after = nextMessage(b, (m) => m.data.toString() === 'after');
    // Limited broadcast without SO_BROADCAST: the kernel refuses it (EACCES) before counting it for OPT_ID.
    const ids = [
      a.send(Buffer.from('before'), '127.0.0.1', b.port),
      a.send(Buffer.from('refused'), '255.255.255.255', b.port),
      a.send(Buffer.from('after'), '127.0.0.1', b.port),
    ];
    t.deepEqual(ids, [base, base + 1, base + 2]);
    const { id, error } = await failed;
    t.is(id, base + 1);
    t.true(error instanceof NativeError);
    t.is(error.code, 'OS_ERROR');
    t.is(error.errno, 'EACCES');
    t.regex(error.message, /udpSend: to 255\.255\.255\.255:\d+: .*\(EACCES\)/);
    const stamps = await stamped;
    t.deepEqual(stamps.map((s) => s.id).sort((x, y) => x - y), [base, base + 2]);
    // The stamp carrying id base + 2 is that of 'after': taken before b received it.
    const msg = await after;
    const txAfter = stamps.find((s) => s.id === base + 2)?.txNs ?? -1n;
    t.true(msg.rxNs !== null && txAfter > 0n && txAfter <= msg.rxNs, `tx ${txAfter} rx ${msg.rxNs}`);
    t.deepEqual(a.stats(), { dropped: 0, sent: base + 3, queued: 0, sendErrors: 1 });
  } finally {
    a.close();
    b.close();
  }
});

test('the raw addon reports a refused send as (id, errno name, message) to onSendError', async (t) => {
  const addon = requireAddon();
  const noop = (): void => {};
  let resolve: (v: [number, string, string]) => void = noop;
  const reported = new Promise<[number, string, string]>((r) => (resolve = r));
  const { handle } = addon.udpOpen({ ...local, timestamping: 'none' }, noop, noop, (id, code, message) => resolve([id, code, message]));
  try {
    t.is(addon.udpSend(handle, Buffer.from('x'), '255.255.255.255', 9), 0);
    const [id, code, message] = await reported;
    t.is(id, 0);
    t.is(code, 'EACCES');
    t.regex(message, /^udpSend: to 255\.255\.255\.255:9: /);
    t.is(addon.udpStats(handle).sendErrors, 1);
  } finally {
    addon.udpClose(handle);
  }
  t.throws(() => addon.udpOpen({ ...local, timestamping: 'none' }, noop, noop, 5 as unknown as () => void), {
    instanceOf: TypeError,
    message: /onSendError must be a function, got number/,
  });
  const s = TimestampedSocket.open(addon, { ...local, timestamping: 'none' });
  try {
    t.is(t.throws(() => s.onSendError(null as unknown as () => void), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
  } finally {
    s.close();
  }
});

test('udpSend throws EAGAIN once 1024 datagrams wait, uses no id for it, and close drops the queue', (t) => {
  const addon = requireAddon();
  const s = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  const sink = TimestampedSocket.open(addon, { ...local, timestamping: 'none' });
  try {
    // The JS loop queues far faster than the thread sends, so the bound is reached.
    let last = -1;
    let refused: unknown = null;
    for (let i = 0; i < 200_000 && refused === null; i++) {
      try {
        last = s.send(Buffer.from([i & 0xff]), '127.0.0.1', sink.port);
      } catch (err) {
        refused = err;
      }
    }
    t.true(refused instanceof NativeError, String(refused));
    t.is((refused as NativeError).code, 'OS_ERROR');
    t.is((refused as NativeError).errno, 'EAGAIN');
    t.regex((refused as NativeError).message, /1024 datagrams already wait/);
    const stats = s.stats();
    t.is(stats.sent, last + 1);
    t.true(stats.queued <= 1024);
  } finally {
    s.close();
    sink.close();
  }
  t.true(s.closed);
});
