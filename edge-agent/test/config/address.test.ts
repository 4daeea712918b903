import test from 'ava';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ConfigError, parseHostPort, parsePeerAddress } from '../../src/config/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KEY = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);

function invalid(t: import('ava').ExecutionContext, fn: () => unknown): string {
  const err = t.throws(fn, { instanceOf: ConfigError });
  t.is(err?.code, 'INVALID');
  return err?.message ?? '';
}

test('host:port with names, IPv4 and bracketed IPv6', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:7450'), { host: '127.0.0.1', port: 7450 });
  t.deepEqual(parseHostPort('seed-1.example.org:1'), { host: 'seed-1.example.org', port: 1 });
  t.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
  t.deepEqual(parseHostPort('[::]:65535'), { host: '::', port: 65535 });
  t.deepEqual(parseHostPort('[fe80::1%eth0]:7450'), { host: 'fe80::1%eth0', port: 7450 });
  t.true(Object.isFrozen(parseHostPort('h:1')));
});

test('host:port refusals say what is wrong', (t) => {
  const e = (s: unknown): string => invalid(t, () => parseHostPort(s));
  t.is(e(42), 'address: expected "host:port", got 42');
  t.is(e('localhost'), 'address: expected "host:port" with a ":port" at the end, got "localhost"');
  t.is(e('::1:80'), 'address: expected "host:port" with an IPv6 host in brackets, e.g. "[::1]:7450", got "::1:80"');
  t.is(e('[::1]80'), 'address: expected "host:port" with "]:port" after the bracketed IPv6 address, got "[::1]80"');
  t.is(e('[::g]:80'), 'address: expected "host:port" with a valid IPv6 address inside the brackets, got "[::g]:80"');
  t.is(e('[1.2.3.4]:80'), 'address: expected "host:port" with a valid IPv6 address inside the brackets, got "[1.2.3.4]:80"');
  t.is(e('10.0.0.256:80'), 'address: expected "host:port" with a host name or an IPv4 address as the host, got "10.0.0.256:80"');
  t.is(e('bad_host:80'), 'address: expected "host:port" with a host name or an IPv4 address as the host, got "bad_host:80"');
  t.is(e(':80'), 'address: expected "host:port" with a host name or an IPv4 address as the host, got ":80"');
  for (const port of ['65536', '-1', '+80', '080', ' 80', '80 ', '', '1e3', '0x50']) {
    t.is(e(`h:${port}`), `address: expected "host:port" with a port from 0 to 65535, got ${JSON.stringify(`h:${port}`)}`);
  }
});

test('any IPv4, IPv6 or domain with any port round-trips (property)', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.ipV4().map((h) => [h, h] as const),
        fc.domain().map((h) => [h, h] as const),
        fc.ipV6().map((h) => [`[${h}]`, h] as const),
      ),
      fc.integer({ min: 0, max: 65535 }),
      ([written, host], port) => {
        const parsed = parseHostPort(`${written}:${port}`);
        return parsed.host === host && parsed.port === port;
      },
    ),
  );
  t.pass();
});

test('arbitrary strings give an address or ConfigError INVALID, nothing else (property)', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'[]:.%@0123456789abcdefx-_ '.split('')), maxLength: 30 }), (s) => {
      try {
        const { host, port } = parseHostPort(s);
        return typeof host === 'string' && Number.isInteger(port) && port >= 0 && port <= 65535;
      } catch (err) {
        return err instanceof ConfigError && err.code === 'INVALID';
      }
    }),
  );
  t.pass();
});

test('peer address: key, host and port', (t) => {
  const peer = parsePeerAddress(`${hex(KEY)}@[2001:db8::7]:7450`);
  t.deepEqual(peer.publicKey, KEY);
  t.true(peer.publicKey instanceof Uint8Array);
  t.is(peer.publicKey.length, 33);
  t.is(peer.host, '2001:db8::7');
  t.is(peer.port, 7450);
  t.deepEqual(parsePeerAddress(`${hex(KEY).toUpperCase()}@h:1`).publicKey, KEY);
});

test('peer address refusals say what is wrong', (t) => {
  const e = (s: unknown): string => invalid(t, () => parsePeerAddress(s));
  const noKey = 'with a 66-hex-digit compressed public key (02… or 03…) before the "@"';
  t.is(e(null), 'peer address: expected "<66-hex public key>@host:port", got null');
  t.is(e('h:1'), `peer address: expected "<66-hex public key>@host:port" ${noKey}, got "h:1"`);
  t.regex(e(`${hex(KEY).slice(2)}@h:1`), /02… or 03…/);
  t.regex(e(`04${hex(KEY).slice(2)}@h:1`), /02… or 03…/);
  t.regex(e(`${hex(KEY)}00@h:1`), /02… or 03…/);
  // x = 0 is not on secp256k1 (7 is not a square mod p).
  t.regex(e(`02${'00'.repeat(32)}@h:1`), /whose public key is a point on secp256k1, got/);
  // Peers are dialled: port 0 is meaningless.
  t.regex(e(`${hex(KEY)}@h:0`), /with a port from 1 to 65535, got/);
  t.regex(e(`${hex(KEY)}@::1:80`), /IPv6 host in brackets/);
  t.regex(e(`${hex(KEY)}@`), /with a ":port" at the end/);
});

test('any real public key and address round-trips (property)', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
      fc.ipV4(),
      fc.integer({ min: 1, max: 65535 }),
      (secret, host, port) => {
        const key = secp256k1.getPublicKey(secret, true);
        const peer = parsePeerAddress(`${hex(key)}@${host}:${port}`);
        return hex(peer.publicKey) === hex(key) && peer.host === host && peer.port === port;
      },
    ),
    { numRuns: 50 },
  );
  t.pass();
});
