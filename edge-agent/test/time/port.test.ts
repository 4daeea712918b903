/** The PtpPort core: two ports back to back in virtual time, and its reactions to single messages. */
import test from 'ava';
import fc from 'fast-check';
import { FLAGS, PtpPort, decodeMessage, encodeMessage, nsToTimestamp, type PtpAction, type PtpMessage, type SendAction } from '../../src/time/index.js';
import { Link, S, identity, type NodeSpec } from './link.js';

const BASE = 1_700_000_000n * S;
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function pair(servo: 'pi' | 'median', extra: Partial<NodeSpec['options']> = {}): NodeSpec[] {
  return [
    { options: { clockIdentity: identity(1), priority1: 100, logSyncInterval: -3, logAnnounceInterval: 0 }, offsetNs: BASE, freqPpb: 0n },
    // The slave's clock: 2.5 ms ahead and 40 ppm fast.
    { options: { clockIdentity: identity(2), servo, logSyncInterval: -3, logAnnounceInterval: 0, ...extra }, offsetNs: BASE + 2_500_000n, freqPpb: 40_000n },
  ];
}

/** Runs the link, returning |ptp(slave) - ptp(master)| sampled once a second after `from` s. */
function errorsAfter(link: Link, until: bigint, from: bigint): number[] {
  const out: number[] = [];
  let next = from * S;
  link.run(until * S, (t) => {
    if (t >= next) {
      next += S;
      out.push(Math.abs(Number(link.ptp(1, t) - link.ptp(0, t))));
    }
  });
  return out;
}

for (const servo of ['pi', 'median'] as const) {
  test(`${servo}: the slave selects the master and converges on it despite offset, drift and jitter`, (t) => {
    const link = new Link(pair(servo), { seed: 11, latencyNs: 40_000, jitterNs: 1_500, stampNoiseNs: 500 });
    const errors = errorsAfter(link, 240n, 150n);
    const [master, slave] = link.ports;
    t.is(master!.state, 'MASTER');
    t.is(slave!.state, 'SLAVE');
    t.deepEqual(slave!.stats().parent, master!.portIdentity);
    t.true(link.states[1]!.some((s) => s.to === 'UNCALIBRATED' && s.reason === 'BMC S1'));
    t.true(link.states[1]!.some((s) => s.from === 'UNCALIBRATED' && s.to === 'SLAVE'));
    t.true(Math.max(...errors) < 5_000, `max |error| over the last 90 s: ${Math.max(...errors)} ns`);
    // The injected 2.5 ms (plus 40 ppm of elapsed time) is what the disciplined clock took off.
    const t0 = link.now;
    const injected = link.local(1, t0) - link.local(0, t0);
    const removed = -slave!.clock.offsetNs(link.local(1, t0));
    t.true(Math.abs(Number(removed - injected)) < 5_000, `injected ${injected} ns, removed ${removed} ns`);
    // The path delay estimate is the link's 40 us within the jitter.
    t.true(Math.abs((slave!.stats().meanPathDelayNs ?? 0) - 40_000) < 2_000);
    const samples = link.samples[1]!;
    t.true(samples.length > 1000);
    t.is(samples.filter((s) => s.stepNs !== undefined).length, 1);
    const drops = slave!.stats().drops;
    // (Syncs heard before it chose its master are dropped as notFromMaster; none of these.)
    t.is(drops.malformed + drops.unmatched + drops.staleSequence + drops.wrongChannel, 0, JSON.stringify(drops));
    t.is(master!.stats().drops.notMaster, 0);
  });
}

test('Follow_Up before its Sync (faster general socket) still pairs up by sequenceId', (t) => {
  // General messages 35 us faster: each Follow_Up (sent 20 us after its Sync) overtakes it.
  const link = new Link(pair('pi'), { seed: 5, latencyNs: 40_000, jitterNs: 500, generalExtraNs: -35_000 });
  const errors = errorsAfter(link, 150n, 120n);
  const order = link.arrivals[1]!.filter((n) => n === 0x0 || n === 0x8);
  t.is(order[0], 0x8, 'the first of the pair to arrive is the Follow_Up');
  t.is(link.ports[1]!.state, 'SLAVE');
  t.is(link.ports[1]!.stats().drops.unmatched, 0);
  t.true(link.samples[1]!.length > 500);
  t.true(Math.max(...errors) < 5_000, `max |error| ${Math.max(...errors)}`);
});

test('losing the master: announce receipt timeout takes a slave to MASTER, a slave-only one to LISTENING', (t) => {
  for (const slaveOnly of [false, true]) {
    const link = new Link(pair('pi', { slaveOnly }), { seed: 3, latencyNs: 30_000, jitterNs: 500 });
    link.run(60n * S);
    t.is(link.ports[1]!.state, 'SLAVE');
    const cut = link.now;
    link.setUp(false);
    link.run(cut + 10n * S);
    const last = link.states[1]!.at(-1)!;
    t.is(last.reason, 'ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES');
    t.is(last.to, slaveOnly ? 'LISTENING' : 'MASTER');
    // 3 to 4 announce intervals (1 s) after the last Announce.
    t.is(link.ports[1]!.state, slaveOnly ? 'LISTENING' : 'MASTER');
    // Back up: the better master wins again.
    link.setUp(true);
    link.run(link.now + 60n * S); // the PI servo waits 0.016/ki = 37 s before it locks
    t.is(link.ports[1]!.state, 'SLAVE');
  }
});

// ---- single-message reactions ---------------------------------------------------------

function sends(actions: PtpAction[]): SendAction[] {
  return actions.filter((a): a is SendAction => a.kind === 'send');
}

function masterPort(): PtpPort {
  return new PtpPort({ clockIdentity: identity(1), masterOnly: true, logSyncInterval: -3, logAnnounceInterval: 1, logMinDelayReqInterval: -2 });
}

test('as master: Announce at once, two-step Sync on time, Follow_Up with its TX stamp, byte for byte', (t) => {
  const m = masterPort();
  const start = m.start(BASE);
  t.deepEqual(start.filter((a) => a.kind === 'state').map((a) => a.kind === 'state' && a.to), ['LISTENING', 'MASTER']);
  const first = sends(m.tick(BASE));
  t.is(first.length, 1);
  t.is(
    toHex(first[0]!.bytes),
    toHex(hex(`0b 02 0040 00 00 0008 0000000000000000 00000000 001b21fffe000001 0001 0000 05 01
      000000000000 00000000 0025 00 80 f8 fe ffff 80 001b21fffe000001 0000 a0`)),
  );
  t.is(m.nextDeadlineNs, BASE + 125_000_000n);
  const sync = sends(m.tick(BASE + 125_000_000n));
  t.is(sync.length, 1);
  t.is(sync[0]!.channel, 'event');
  t.is(toHex(sync[0]!.bytes), toHex(hex(`00 02 002c 00 00 0200 0000000000000000 00000000 001b21fffe000001 0001 0000 00 fd 000000000000 00000000`)));
  const tx = BASE + 125_000_123n;
  const fu = sends(m.txTimestamp(sync[0]!.ref!, tx));
  t.is(fu[0]!.channel, 'general');
  t.is(
    toHex(fu[0]!.bytes),
    toHex(hex(`08 02 002c 00 00 0000 0000000000000000 00000000 001b21fffe000001 0001 0000 02 fd 00006553f100 077359bb`)),
  );
  // A TX stamp nobody waits for is counted, not thrown.
  t.deepEqual(m.txTimestamp(sync[0]!.ref!, tx), []);
  t.is(m.stats().drops.txTimestampLate, 1);
});

test('as master: Delay_Req gets a Delay_Resp with its rx stamp, correction and requester', (t) => {
  const m = masterPort();
  m.start(BASE);
  const req = encodeMessage({
    type: 'Delay_Req',
    header: { transportSpecific: 0, minorVersionPTP: 0, domainNumber: 0, minorSdoId: 0, flags: 0, correction: 0x28000n, messageTypeSpecific: 0, sourcePortIdentity: { clockIdentity: identity(2), portNumber: 1 }, sequenceId: 77, controlField: 1, logMessageInterval: 0x7f },
    originTimestamp: nsToTimestamp(0n),
  });
  const rx = BASE + 5_000_000_042n;
  const out = sends(m.receive(req, 'event', rx, rx + 1000n));
  t.is(out.length, 1);
  t.is(
    toHex(out[0]!.bytes),
    toHex(hex(`09 02 0036 00 00 0000 0000000000028000 00000000 001b21fffe000001 0001 004d 03 fe
      00006553f105 0000002a 001b21fffe000002 0001`)),
  );
  // Without an rx stamp there is nothing to answer with.
  t.deepEqual(sends(m.receive(req, 'event', null, rx)), []);
  t.is(m.stats().drops.noTimestamp, 1);
});

/** A slave port already following master identity(1), built by feeding it two Announces. */
function slavePort(rng?: () => number): { port: PtpPort; at: bigint } {
  const port = new PtpPort({ clockIdentity: identity(2), slaveOnly: true, logAnnounceInterval: 1, ...(rng ? { rng } : {}) });
  const a = (seq: number) => announce(seq);
  port.receive(a(0), 'general', null, BASE);
  const out = port.receive(a(1), 'general', null, BASE + 2n * S);
  if (!out.some((x) => x.kind === 'state' && x.to === 'UNCALIBRATED')) throw new Error('did not select the master');
  return { port, at: BASE + 2n * S };
}

function header(type: PtpMessage['type'], seq: number, over: Record<string, unknown> = {}) {
  const control = { Sync: 0, Delay_Req: 1, Follow_Up: 2, Delay_Resp: 3, Announce: 5 }[type];
  return { transportSpecific: 0, minorVersionPTP: 0, domainNumber: 0, minorSdoId: 0, flags: 0, correction: 0n, messageTypeSpecific: 0, sourcePortIdentity: { clockIdentity: identity(1), portNumber: 1 }, sequenceId: seq, controlField: control, logMessageInterval: 0, ...over };
}

function announce(seq: number, over: Record<string, unknown> = {}): Uint8Array {
  return encodeMessage({
    type: 'Announce',
    header: header('Announce', seq, { flags: FLAGS.PTP_TIMESCALE, logMessageInterval: 1, ...over }),
    originTimestamp: nsToTimestamp(0n),
    currentUtcOffset: 37,
    grandmasterPriority1: 128,
    grandmasterClockQuality: { clockClass: 248, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff },
    grandmasterPriority2: 128,
    grandmasterIdentity: identity(1),
    stepsRemoved: 0,
    timeSource: 0xa0,
  });
}

const sync = (seq: number, over: Record<string, unknown> = {}) => encodeMessage({ type: 'Sync', header: header('Sync', seq, { flags: FLAGS.TWO_STEP, ...over }), originTimestamp: nsToTimestamp(0n) });
const followUp = (seq: number, t1: bigint, over: Record<string, unknown> = {}) => encodeMessage({ type: 'Follow_Up', header: header('Follow_Up', seq, over), preciseOriginTimestamp: nsToTimestamp(t1) });

/** Completes one delay measurement of `delay` ns for a slave whose clock equals the master's plus `offset`. */
function exchange(port: PtpPort, at: bigint, offset: bigint, delay: bigint): bigint {
  while (port.nextDeadlineNs !== null && port.nextDeadlineNs <= at) {
    const out = sends(port.tick(port.nextDeadlineNs));
    const req = out.find((s) => s.messageType === 'Delay_Req');
    if (req === undefined) continue;
    const t3 = port.nextDeadlineNs; // stamp: sent "now"
    port.txTimestamp(req.ref!, t3);
    const seq = decodeMessage(req.bytes).header.sequenceId;
    const t4 = t3 - offset + delay;
    const resp = encodeMessage({ type: 'Delay_Resp', header: header('Delay_Resp', seq), receiveTimestamp: nsToTimestamp(t4), requestingPortIdentity: port.portIdentity });
    port.receive(resp, 'general', null, t3 + delay);
  }
  return at;
}

test('as slave: offset = t2 - t1 - delay from hand-fed messages, Follow_Up first or second alike', (t) => {
  const { port } = slavePort(() => 0.25);
  const offset = 700_000n; // slave ahead by 0.7 ms
  const delay = 30_000n;
  // A first Sync pair so the Delay_Resp has t1/t2 to pair with.
  let now = BASE + 3n * S;
  const feed = (seq: number, fuFirst: boolean): PtpAction[] => {
    const t1 = now;
    const t2 = t1 + delay + offset;
    const out: PtpAction[] = [];
    if (fuFirst) {
      out.push(...port.receive(followUp(seq, t1), 'general', null, t2 - 1000n));
      out.push(...port.receive(sync(seq), 'event', t2, t2));
    } else {
      out.push(...port.receive(sync(seq), 'event', t2, t2));
      out.push(...port.receive(followUp(seq, t1), 'general', null, t2 + 1000n));
    }
    now += S;
    return out;
  };
  feed(0, false);
  exchange(port, now, offset, delay);
  const a = feed(1, true).find((x) => x.kind === 'sample');
  const b = feed(2, false).find((x) => x.kind === 'sample');
  if (a?.kind !== 'sample' || b?.kind !== 'sample') return t.fail('no samples');
  t.is(a.meanPathDelayNs, 30_000);
  t.is(a.offsetNs, 700_000);
  t.is(a.servoState, 'UNLOCKED');
  t.is(b.sequenceId, 2);
  t.is(b.offsetNs, 700_000);
  // Repeats and older sequence ids are stale.
  port.receive(sync(2), 'event', now, now);
  port.receive(followUp(1, now), 'general', null, now);
  t.is(port.stats().drops.staleSequence, 2);
});

test('as slave: Delay_Req goes out at the randomised ptp4l interval, drawn from the injected rng', (t) => {
  const { port, at } = slavePort(() => 0.25);
  // Uniform in [0, 2 * 2^logMinDelayReqInterval] s: 2 * 0.25 * 1 s. The announce timeout is (3 + 0.25) * 2 s.
  t.is(port.nextDeadlineNs, at + 500_000_000n);
  const out = sends(port.tick(at + 500_000_000n));
  t.is(out.length, 1);
  t.is(out[0]!.messageType, 'Delay_Req');
  t.is(out[0]!.channel, 'event');
  t.is(typeof out[0]!.ref, 'number');
  t.is(toHex(out[0]!.bytes), toHex(hex(`01 02 002c 00 00 0000 0000000000000000 00000000 001b21fffe000002 0001 0000 01 7f 000000000000 00000000`)));
});

test('wrong domain, malformed, unsupported, foreign-master and misdirected messages are counted and dropped', (t) => {
  const { port, at } = slavePort();
  const before = port.state;
  const other = { clockIdentity: identity(9), portNumber: 1 };
  port.receive(announce(5, { domainNumber: 1 }), 'general', null, at);
  port.receive(sync(5, { domainNumber: 4 }), 'event', at, at);
  port.receive(new Uint8Array([1, 2, 3]), 'event', at, at);
  const v1 = sync(6);
  v1[1] = 1;
  port.receive(v1, 'event', at, at);
  const pdelay = sync(6);
  pdelay[0] = 0x02;
  port.receive(pdelay, 'event', at, at);
  port.receive(sync(7, { sourcePortIdentity: other }), 'event', at, at);
  port.receive(sync(8), 'general', at, at);
  port.receive(sync(9), 'event', null, at);
  port.receive(sync(10, { sourcePortIdentity: port.portIdentity }), 'event', at, at);
  port.receive(
    encodeMessage({ type: 'Delay_Resp', header: header('Delay_Resp', 0), receiveTimestamp: nsToTimestamp(at), requestingPortIdentity: other }),
    'general',
    null,
    at,
  );
  const d = port.stats().drops;
  t.is(d.wrongDomain, 2);
  t.is(d.malformed, 2);
  t.is(d.unsupported, 1);
  t.is(d.notFromMaster, 1);
  t.is(d.wrongChannel, 1);
  t.is(d.noTimestamp, 1);
  t.is(d.ownMessage, 1);
  t.is(d.notForUs, 1);
  t.is(port.state, before);
  t.is(port.stats().samples, 0);
});

test('nothing from the network makes the port throw', (t) => {
  const { port, at } = slavePort();
  const valid = [announce(9), sync(11), followUp(11, at)];
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([b, flips]) => {
        const c = b.slice();
        for (const [i, v] of flips) c[i % c.length] = v;
        return c;
      })),
      fc.constantFrom('event' as const, 'general' as const),
      fc.boolean(),
      (bytes, channel, stamped) => {
        port.receive(bytes, channel, stamped ? at : null, at);
        port.tick(at);
      },
    ),
    { seed: 1588, numRuns: 2000 },
  );
  t.pass();
});

test('options are validated', (t) => {
  t.throws(() => new PtpPort({ clockIdentity: new Uint8Array(6) }));
  t.throws(() => new PtpPort({ clockIdentity: identity(1), domain: 256 }));
  t.throws(() => new PtpPort({ clockIdentity: identity(1), slaveOnly: true, masterOnly: true }));
  t.throws(() => new PtpPort({ clockIdentity: identity(1), delayFilterLength: 0 }));
  t.throws(() => new PtpPort({ clockIdentity: identity(1), servo: 'kalman' as 'pi' }));
});

test('a reported fault makes the port FAULTY, deaf, and it starts over after the reset interval', (t) => {
  const { port, at } = slavePort();
  const out = port.fault(at, 'socket closed');
  t.deepEqual(out, [{ kind: 'state', from: 'UNCALIBRATED', to: 'FAULTY', reason: 'FAULT_DETECTED: socket closed' }]);
  port.receive(announce(7), 'general', null, at + 1n);
  t.is(port.stats().drops.faulty, 1);
  t.is(port.nextDeadlineNs, at + 16n * S);
  const back = port.tick(at + 16n * S);
  t.deepEqual(
    back.map((a) => a.kind === 'state' && `${a.from}->${a.to}`),
    ['FAULTY->INITIALIZING', 'INITIALIZING->LISTENING'],
  );
});

test('a local time source that goes back does not make receive throw', (t) => {
  const { port } = slavePort(() => 0.25);
  let now = BASE + 3n * S;
  const feed = (seq: number, shift: bigint) => {
    const t2 = now + shift;
    port.receive(sync(seq), 'event', t2, t2);
    port.receive(followUp(seq, now), 'general', null, t2);
    now += S;
  };
  feed(0, 0n);
  exchange(port, now, 0n, 30_000n);
  feed(1, 0n);
  t.notThrows(() => feed(2, -10n * S)); // the source stepped back 10 s
  t.notThrows(() => feed(3, 0n));
});

test('three clocks: all follow the best; when it falls silent the next best takes over', (t) => {
  const node = (n: number, priority1: number, offsetNs: bigint): NodeSpec => ({
    options: { clockIdentity: identity(n), priority1, logSyncInterval: -3, logAnnounceInterval: 0 },
    offsetNs: BASE + offsetNs,
    freqPpb: BigInt(n * 7_000),
  });
  const link = new Link([node(1, 100, 0n), node(2, 110, 900_000n), node(3, 128, -400_000n)], { seed: 21, latencyNs: 30_000, jitterNs: 800 });
  link.run(60n * S);
  const [a, b, c] = link.ports;
  t.is(a!.state, 'MASTER');
  t.is(b!.state, 'SLAVE');
  t.is(c!.state, 'SLAVE');
  t.deepEqual(b!.stats().parent, a!.portIdentity);
  t.deepEqual(c!.stats().parent, a!.portIdentity);
  link.mute(0, true);
  link.run(link.now + 30n * S);
  t.is(b!.state, 'MASTER');
  t.deepEqual(c!.stats().parent, b!.portIdentity);
  t.true(c!.state === 'UNCALIBRATED' || c!.state === 'SLAVE');
  // The old master comes back: better than b, so both follow it again.
  link.mute(0, false);
  link.run(link.now + 10n * S);
  t.deepEqual(b!.stats().parent, a!.portIdentity);
  t.deepEqual(c!.stats().parent, a!.portIdentity);
});

test('UTC offset: a master on the PTP timescale makes its slave subtract its currentUtcOffset; on ARB, nothing', (t) => {
  for (const [flags, want] of [
    [FLAGS.PTP_TIMESCALE, 37_000_000_000n],
    [0, 0n],
  ] as const) {
    const specs = pair('median');
    const master = { ...specs[0]!, options: { ...specs[0]!.options, timeProperties: { flags, currentUtcOffset: 37 } } };
    const link = new Link([master, specs[1]!], { seed: 3, latencyNs: 40_000, jitterNs: 500, stampNoiseNs: 100 });
    t.is(link.ports[1]!.utcOffsetNs, 0n, 'nothing before a master is chosen');
    link.run(20n * S, () => {});
    t.is(link.ports[1]!.state, 'SLAVE');
    t.is(link.ports[1]!.utcOffsetNs, want, `flags ${flags}`);
    t.is(link.ports[0]!.utcOffsetNs, want, 'the master itself');
  }
});
