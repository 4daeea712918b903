import test from 'ava';
import { NativeError, TimestampedSocket } from '../../src/native/index.js';
import { nextMessage, realtimeNs, requireAddon, txStamps, warmUpStamps } from './helpers.js';

const local = { address: '127.0.0.1', port: 0 } as const;

test('two software-stamped sockets exchange datagrams with RX and TX stamps', async (t) => {
  const addon = requireAddon();
  const a = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  const b = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  try {
    t.is(a.mode, 'software');
    t.true(a.port > 0 && b.port > 0 && a.port !== b.port);
    await warmUpStamps(a, b);
    const warmUpSends = a.stats().sent;
    const received = nextMessage(b);
    const stamped = txStamps(a, 1, (tx) => tx.id === warmUpSends);
    const before = realtimeNs(addon);
    const id = a.send(Buffer.from('sync'), '127.0.0.1', b.port);
    t.is(id, warmUpSends);
    const msg = await received;
    const after = realtimeNs(addon);
    t.is(msg.data.toString(), 'sync');
    t.is(msg.address, '127.0.0.1');
    t.is(msg.port, a.port);
    t.not(msg.rxNs, null);
    const rx = msg.rxNs as bigint;
    // The kernel stamped it between our two readings of the same clock.
    t.true(rx >= before && rx <= after, `rx ${rx} not within [${before}, ${after}]`);
    const [tx] = await stamped;
    t.is(tx?.id, id);
    t.true((tx?.txNs ?? 0n) >= before);
    t.true((tx?.txNs ?? rx + 1n) <= rx, 'sent before the peer received');

    const reply = nextMessage(a);
    b.send(Buffer.from('delay_resp'), '127.0.0.1', a.port);
    t.is((await reply).data.toString(), 'delay_resp');
  } finally {
    a.close();
    b.close();
  }
});

test('send ids count from 0 and each TX stamp carries its id', async (t) => {
  const addon = requireAddon();
  const a = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  const b = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  try {
    const stamped = txStamps(a, 3);
    const ids = [0, 1, 2].map((i) => a.send(Buffer.from([i]), '127.0.0.1', b.port));
    t.deepEqual(ids, [0, 1, 2]);
    const stamps = await stamped;
    t.deepEqual(stamps.map((s) => s.id).sort(), [0, 1, 2]);
    t.deepEqual(a.stats(), { dropped: 0, sent: 3, queued: 0, sendErrors: 0 });
  } finally {
    a.close();
    b.close();
  }
});

test("timestamping 'none' delivers datagrams without stamps", async (t) => {
  const addon = requireAddon();
  const a = TimestampedSocket.open(addon, { ...local, timestamping: 'none' });
  try {
    const got = nextMessage(a);
    a.send(Buffer.from('self'), '127.0.0.1', a.port);
    const msg = await got;
    t.is(msg.rxNs, null);
    t.is(msg.data.toString(), 'self');
  } finally {
    a.close();
  }
});

test('closing twice is harmless; a closed socket refuses to send', (t) => {
  const addon = requireAddon();
  const raw = addon.udpOpen({ ...local, timestamping: 'software' }, () => {}, () => {});
  addon.udpClose(raw.handle);
  t.notThrows(() => addon.udpClose(raw.handle));
  const e = t.throws(() => addon.udpSend(raw.handle, Buffer.from('x'), '127.0.0.1', 9));
  t.is((e as Error & { code?: string }).code, 'EBADF');
  t.notThrows(() => addon.udpClose(2 ** 31));

  const s = TimestampedSocket.open(addon, { ...local, timestamping: 'software' });
  s.close();
  t.notThrows(() => s.close());
  t.true(s.closed);
  t.is(t.throws(() => s.send(Buffer.from('x'), '127.0.0.1', 9), { instanceOf: NativeError })?.code, 'CLOSED');
});

test('udpOpen validates every option with a precise TypeError or RangeError', (t) => {
  const addon = requireAddon();
  const noop = (): void => {};
  const open = (o: unknown, m: unknown = noop, x: unknown = noop) => () =>
    addon.udpOpen(o as Parameters<typeof addon.udpOpen>[0], m as () => void, x as () => void);
  const base = { ...local, timestamping: 'software' };
  t.throws(open(undefined), { instanceOf: TypeError, message: /options must be a object, got undefined/ });
  t.throws(open({ ...base, address: 5 }), { instanceOf: TypeError, message: /options.address must be a string, got number/ });
  t.throws(open({ ...base, address: '1.2.3.256' }), { instanceOf: RangeError, message: /options.address must be an IPv4 address/ });
  t.throws(open({ ...base, address: '::1' }), { instanceOf: RangeError });
  t.throws(open({ ...base, port: 65536 }), { instanceOf: RangeError, message: /options.port must be an integer in 0..65535, got 65536/ });
  t.throws(open({ ...base, port: -1 }), { instanceOf: RangeError });
  t.throws(open({ ...base, port: 1.5 }), { instanceOf: RangeError });
  t.throws(open({ ...base, port: '319' }), { instanceOf: TypeError });
  t.throws(open({ ...base, timestamping: 'best' }), { instanceOf: RangeError, message: /'hardware', 'software' or 'none'/ });
  t.throws(open({ ...base, timestamping: 'hardware' }), { instanceOf: RangeError, message: /needs options.interface/ });
  t.throws(open({ ...base, interface: 'a/b' }), { instanceOf: RangeError });
  t.throws(open({ ...base, multicastGroup: '10.0.0.1' }), { instanceOf: RangeError, message: /multicast address/ });
  t.throws(open({ ...base, multicastTtl: 256 }), { instanceOf: RangeError });
  t.throws(open({ ...base, multicastLoop: 1 }), { instanceOf: TypeError });
  t.throws(open(base, 'nope'), { instanceOf: TypeError, message: /onMessage must be a function/ });
  t.throws(open(base, noop, null), { instanceOf: TypeError, message: /onTxTimestamp must be a function, got null/ });
  t.is((t.throws(open({ ...base, interface: 'nope0' })) as Error & { code?: string }).code, 'ENODEV');
});

test('udpSend validates handle, data, address and port', (t) => {
  const addon = requireAddon();
  const { handle } = addon.udpOpen({ ...local, timestamping: 'none' }, () => {}, () => {});
  try {
    const send = (h: unknown, d: unknown, a: unknown, p: unknown) => () => addon.udpSend(h as number, d as Buffer, a as string, p as number);
    t.throws(send('1', Buffer.alloc(1), '127.0.0.1', 9), { instanceOf: TypeError, message: /handle must be a number/ });
    t.throws(send(0, Buffer.alloc(1), '127.0.0.1', 9), { instanceOf: RangeError });
    t.throws(send(handle, 'text', '127.0.0.1', 9), { instanceOf: TypeError, message: /data must be a Buffer, got string/ });
    t.throws(send(handle, Buffer.alloc(1), 'localhost', 9), { instanceOf: RangeError, message: /address must be an IPv4 address/ });
    t.throws(send(handle, Buffer.alloc(1), '127.0.0.1', 0), { instanceOf: RangeError, message: /port must be an integer in 1..65535/ });
    t.throws(send(handle, Buffer.alloc(1), '127.0.0.1', 65536), { instanceOf: RangeError });
    t.is((t.throws(send(handle, Buffer.alloc(70_000), '127.0.0.1', 9)) as Error & { code?: string }).code, 'EMSGSIZE');
    // TimestampedSocket turns the same failures into NativeError.
  } finally {
    addon.udpClose(handle);
  }
  const s = TimestampedSocket.open(addon, { ...local, timestamping: 'none' });
  try {
    t.is(t.throws(() => s.send(Buffer.alloc(1), 'x', 9), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
    const e = t.throws(() => s.send(Buffer.alloc(70_000), '127.0.0.1', 9), { instanceOf: NativeError });
    t.is(e?.code, 'OS_ERROR');
    t.is(e?.errno, 'EMSGSIZE');
  } finally {
    s.close();
  }
  t.is(t.throws(() => TimestampedSocket.open(addon, { ...local, port: -5, timestamping: 'none' }), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => TimestampedSocket.open({} as typeof addon, { ...local, timestamping: 'none' }), { instanceOf: NativeError })?.code, 'BAD_ARGUMENT');
});

test('a port in use is EADDRINUSE', (t) => {
  const addon = requireAddon();
  const a = TimestampedSocket.open(addon, { ...local, timestamping: 'none' });
  try {
    const e = t.throws(() => TimestampedSocket.open(addon, { address: '127.0.0.1', port: a.port, timestamping: 'none' }), { instanceOf: NativeError });
    t.is(e?.errno, 'EADDRINUSE');
    t.regex(e?.message ?? '', /bind/);
  } finally {
    a.close();
  }
});

test("hardware timestamping on lo fails clearly; 'auto' falls back to software and says why", (t) => {
  const addon = requireAddon();
  const e = t.throws(() => TimestampedSocket.open(addon, { ...local, interface: 'lo', timestamping: 'hardware' }), { instanceOf: NativeError });
  t.is(e?.code, 'OS_ERROR');
  t.is(e?.errno, 'EOPNOTSUPP');
  t.regex(e?.message ?? '', /"lo" offers no hardware timestamping/);
  const s = TimestampedSocket.open(addon, { ...local, interface: 'lo', timestamping: 'auto' });
  try {
    t.is(s.mode, 'software');
    t.regex(s.modeReason, /lo offers no hardware timestamping/);
  } finally {
    s.close();
  }
  const n = TimestampedSocket.open(addon, { ...local, timestamping: 'auto' });
  n.close();
  t.is(n.mode, 'software');
});

test('a socket joined to 224.0.1.129 on lo either works or fails with a clear error', async (t) => {
  const addon = requireAddon();
  let s: TimestampedSocket;
  try {
    s = TimestampedSocket.open(addon, {
      address: '0.0.0.0',
      port: 0,
      interface: 'lo',
      multicastGroup: '224.0.1.129',
      multicastLoop: true,
      multicastTtl: 1,
      timestamping: 'software',
    });
  } catch (err) {
    // Acceptable only as a typed OS error that names the step that failed.
    t.true(err instanceof NativeError && err.code === 'OS_ERROR' && /IP_ADD_MEMBERSHIP|SO_BINDTODEVICE|IP_MULTICAST/.test(err.message), String(err));
    t.log(`multicast on lo refused here: ${(err as Error).message}`);
    return;
  }
  try {
    const got = nextMessage(s);
    // The socket's thread sends, so an OS refusal arrives as a send error, not a throw.
    const refused = new Promise<NativeError>((resolve) => s.onSendError((_, e) => resolve(e)));
    t.is(s.send(Buffer.from('announce'), '224.0.1.129', s.port), 0);
    const outcome = await Promise.race([got, refused]);
    if (outcome instanceof NativeError) {
      t.is(outcome.code, 'OS_ERROR');
      t.log(`multicast send on lo refused here: ${outcome.message}`);
      return;
    }
    t.is(outcome.data.toString(), 'announce');
    t.not(outcome.rxNs, null);
  } finally {
    s.close();
  }
});
