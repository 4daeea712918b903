import test from 'ava';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import type { NativeAddon } from '../../src/native/index.js';
import { requireAddon } from './helpers.js';

/** What the addon may throw: argument errors, or an OS error named by errno. Anything else is a bug. */
function isTypedFailure(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

function attempt(t: { fail(m: string): void }, what: string, f: () => unknown, ok: (v: unknown) => boolean): boolean {
  try {
    const v = f();
    if (!ok(v)) {
      t.fail(`${what} returned ${String(v)}`);
      return false;
    }
  } catch (err) {
    if (!isTypedFailure(err)) {
      t.fail(`${what} threw an untyped failure: ${String(err)}`);
      return false;
    }
  }
  return true;
}

// Destinations stay on this machine: loopback, the unspecified address, and broadcast (refused without SO_BROADCAST).
const address = fc.oneof(
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `127.${a}.${b}.${c}`),
  fc.constantFrom('0.0.0.0', '255.255.255.255', '127.0.0.1', '1.2.3', '::1', '127.0.0.1 ', ''),
  fc.string({ maxLength: 20 }),
  fc.anything(),
);
const port = (sink: number) => fc.oneof(fc.constant(sink), fc.integer({ min: -5, max: 70_000 }), fc.double(), fc.anything());
const data = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)),
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 16 }),
  fc.anything(),
);

test('udpSend with random buffers, addresses, ports and handles never crashes the process', async (t) => {
  const addon: NativeAddon = requireAddon();
  let onAfter: (() => void) | null = null;
  const after = new Promise<void>((resolve) => (onAfter = resolve));
  const sink = addon.udpOpen(
    { address: '127.0.0.1', port: 0, timestamping: 'software' },
    (d) => d.toString() === 'after fuzz' && onAfter?.(),
    () => {},
  );
  const src = addon.udpOpen({ address: '127.0.0.1', port: 0, timestamping: 'software' }, () => {}, () => {});
  let sent = 0;
  try {
    fc.assert(
      fc.property(fc.oneof(fc.constant(src.handle), fc.constant(src.handle), fc.anything()), data, address, port(sink.port), (h, d, a, p) =>
        attempt(
          t,
          'udpSend',
          () => addon.udpSend(h as number, d as Buffer, a as string, p as number),
          (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v === sent++,
        ),
      ),
      { seed: 0x5eed7, numRuns: 300 },
    );
    // The process is still here and the sockets still work.
    t.is(addon.udpSend(src.handle, Buffer.from('after fuzz'), '127.0.0.1', sink.port), sent);
    await after;
  } finally {
    addon.udpClose(src.handle);
    addon.udpClose(sink.handle);
  }
});

const openFds = (): number => readdirSync('/proc/self/fd').length;

test.serial('udpOpen and clockGettime with random arguments never crash and leak no fds', (t) => {
  const addon = requireAddon();
  const fdsBefore = openFds();
  const options = fc.record(
    {
      address: fc.oneof(fc.constantFrom('127.0.0.1', '0.0.0.0', '127.0.0.2', '300.1.1.1'), fc.anything()),
      port: fc.oneof(fc.constant(0), fc.integer({ min: -2, max: 70_000 }), fc.anything()),
      interface: fc.oneof(fc.constantFrom('lo', 'nope0', '', 'x'.repeat(20)), fc.anything()),
      multicastGroup: fc.oneof(fc.constantFrom('224.0.1.129', '224.0.0.107', '10.0.0.1'), fc.anything()),
      multicastLoop: fc.oneof(fc.boolean(), fc.anything()),
      multicastTtl: fc.oneof(fc.integer({ min: -1, max: 300 }), fc.anything()),
      timestamping: fc.oneof(fc.constantFrom('software', 'none', 'hardware', 'auto'), fc.anything()),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(options, fc.anything()), fc.oneof(fc.constant(() => {}), fc.anything()), (o, cb) =>
      attempt(
        t,
        'udpOpen',
        () => {
          const r = addon.udpOpen(o as Parameters<NativeAddon['udpOpen']>[0], cb as () => void, cb as () => void);
          addon.udpClose(r.handle);
          return r;
        },
        (v) => typeof v === 'object' && v !== null,
      ),
    ),
    { seed: 0x0be7, numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.anything(), (w) =>
      attempt(t, 'clockGettime', () => addon.clockGettime(w as number), (v) => Array.isArray(v) && v.length === 2),
    ),
    { seed: 0xc10c, numRuns: 200 },
  );
  // A leak shows as growth; the count may also drop, when something else in this process closes an fd meanwhile.
  const after = openFds();
  t.true(after <= fdsBefore, `${after} fds open after the fuzz, ${fdsBefore} before`);
});
