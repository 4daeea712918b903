import test from 'ava';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  ConfigError,
  configTemplate,
  DEFAULT_PORT,
  defaultConfig,
  LOG_LEVELS,
  parseConfig,
} from '../../src/config/index.js';

const FILE = '/etc/edge-agent/config.json';
const KEY = Buffer.from(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)).toString('hex');
const PEER_A = 'a'.repeat(64);
const PEER_B = 'b'.repeat(64);
const PEER_C = 'c'.repeat(64);

function invalid(t: import('ava').ExecutionContext, value: unknown): string {
  const err = t.throws(() => parseConfig(value, FILE), { instanceOf: ConfigError });
  t.is(err?.code, 'INVALID');
  return err?.message ?? '';
}

test('an empty object gives every default', (t) => {
  t.deepEqual(parseConfig({}), {
    fleet: 'default',
    dataDir: '/var/lib/edge-agent',
    board: 'auto',
    role: 'worker',
    log: { level: 'info' },
    identity: {},
    network: { listen: `127.0.0.1:${DEFAULT_PORT}`, bootstrap: [] },
    shutdownTimeoutMs: 10000,
    status: { intervalMs: 2000 },
    telemetry: { format: 'cbor', intervalMs: 10000, keepaliveSec: 30, queue: { maxEntries: 10000, maxBytes: 8 * 1024 * 1024 } },
    operators: [],
    ptp: { enabled: false, interface: null, role: 'auto', servo: 'median', timestamping: 'auto', domain: 0, priority1: 128, logSyncInterval: -3 },
    zkp: { challenge: false },
    liveness: { challenge: true, intervalMs: 10000, deadlineMs: 5000, missesOffline: 3 },
  });
  t.is(DEFAULT_PORT, 7450);
  t.deepEqual(defaultConfig(), parseConfig({}));
});

test('a full config is kept as written', (t) => {
  const full = {
    fleet: 'greenhouse-7',
    nodeName: 'pi-north.lan',
    dataDir: '/srv/edge',
    board: 'rpi-4b',
    role: 'committee',
    committee: { threshold: 2, members: [PEER_A, PEER_B, PEER_C] },
    log: { level: 'debug' },
    identity: { powDifficulty: 20, passphraseFile: '/etc/edge-agent/passphrase' },
    network: { listen: '[::]:7450', bootstrap: [`${KEY}@10.0.0.2:7450`, `${KEY}@[fe80::1]:7451`, `${KEY}@seed.example.org:1`] },
    shutdownTimeoutMs: 100,
    status: { intervalMs: 600000 },
    telemetry: {
      broker: 'mqtts://broker.example.org:8883',
      format: 'json',
      intervalMs: 60000,
      keepaliveSec: 10,
      tls: { caFile: '/etc/edge-agent/ca.pem', certFile: '/etc/edge-agent/client.pem', keyFile: '/etc/edge-agent/client.key' },
      queue: { maxEntries: 100, maxBytes: 65536 },
    },
    operators: [{ name: 'alice', publicKey: KEY }],
    ptp: { enabled: true, interface: 'eth1', role: 'slave', servo: 'pi', timestamping: 'software', domain: 24, priority1: 200, logSyncInterval: -4 },
    zkp: { challenge: true },
    liveness: { challenge: false, intervalMs: 1000, deadlineMs: 500, missesOffline: 5 },
  };
  t.deepEqual(parseConfig(JSON.parse(JSON.stringify(full))), full);
});

test('a partial section keeps the defaults of the fields it leaves out', (t) => {
  const c = parseConfig({ network: { bootstrap: [`${KEY}@h:1`] }, identity: { powDifficulty: 0 } });
  t.is(c.network.listen, `127.0.0.1:${DEFAULT_PORT}`);
  t.deepEqual(c.network.bootstrap, [`${KEY}@h:1`]);
  t.is(c.identity.powDifficulty, 0);
  t.false('passphraseFile' in c.identity);
});

test('the result is frozen all the way down, and defaults are not shared mutable state', (t) => {
  const c = parseConfig({});
  t.true(Object.isFrozen(c));
  t.true(Object.isFrozen(c.network));
  t.true(Object.isFrozen(c.network.bootstrap));
  t.throws(() => {
    (c.log as { level: string }).level = 'trace';
  });
  t.is(parseConfig({}).log.level, 'info');
});

test('errors start with the file, name the field, and say what was expected', (t) => {
  t.is(invalid(t, { network: { listen: 42 } }), `${FILE}: network.listen: expected "host:port", got 42`);
  t.is(
    invalid(t, { network: { listen: '::1:7450' } }),
    `${FILE}: network.listen: expected "host:port" with an IPv6 host in brackets, e.g. "[::1]:7450", got "::1:7450"`,
  );
  t.is(invalid(t, { network: { listen: 'h:65536' } }), `${FILE}: network.listen: expected "host:port" with a port from 0 to 65535, got "h:65536"`);
  t.is(
    invalid(t, { network: { bootstrap: ['nobody@h:1'] } }),
    `${FILE}: network.bootstrap[0]: expected "<66-hex public key>@host:port" with a 66-hex-digit compressed public key (02… or 03…) before the "@", got "nobody@h:1"`,
  );
  t.is(
    invalid(t, { fleet: 'Fleet' }),
    `${FILE}: fleet: expected a fleet name: 1 to 63 lowercase letters, digits or dashes, not starting with a dash, got "Fleet"`,
  );
  t.is(invalid(t, { log: { level: 'verbose' } }), `${FILE}: log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", got "verbose"`);
  t.is(invalid(t, { identity: { powDifficulty: 41 } }), `${FILE}: identity.powDifficulty: expected an integer from 0 to 40, got 41`);
  t.is(invalid(t, { identity: { passphraseFile: 'pass.txt' } }), `${FILE}: identity.passphraseFile: expected an absolute path starting with "/", got "pass.txt"`);
  t.is(invalid(t, { dataDir: '/var/../etc' }), `${FILE}: dataDir: expected an absolute path without "." or ".." segments, got "/var/../etc"`);
  t.is(invalid(t, { shutdownTimeoutMs: 99 }), `${FILE}: shutdownTimeoutMs: expected an integer from 100 to 120000, got 99`);
  t.is(invalid(t, { status: { intervalMs: '2s' } }), `${FILE}: status.intervalMs: expected an integer from 100 to 600000, got "2s"`);
  t.is(invalid(t, { nodeName: 'my pi' }), `${FILE}: nodeName: expected a host name (letters, digits, dashes and dots), got "my pi"`);
  t.is(invalid(t, { board: 'RPi 4' }), `${FILE}: board: expected "auto" or a board profile id such as "rpi-4b", got "RPi 4"`);
});

test('role and committee: a worker by default; the committee threshold fits its members', (t) => {
  t.is(parseConfig({}).role, 'worker');
  t.false('committee' in parseConfig({}));
  t.is(parseConfig({ role: 'committee' }).role, 'committee');
  t.deepEqual(parseConfig({ committee: { threshold: 1, members: [PEER_A] } }).committee, { threshold: 1, members: [PEER_A] });
  t.is(invalid(t, { role: 'leader' }), `${FILE}: role: expected one of "worker", "committee", got "leader"`);
  const expected = 'expected a committee whose threshold is at most its number of members, each member listed once, got an object';
  t.is(invalid(t, { committee: { threshold: 3, members: [PEER_A, PEER_B] } }), `${FILE}: committee: ${expected}`);
  t.is(invalid(t, { committee: { threshold: 1, members: [PEER_A, PEER_A] } }), `${FILE}: committee: ${expected}`);
  t.is(invalid(t, { committee: { threshold: 0, members: [PEER_A] } }), `${FILE}: committee.threshold: expected an integer from 1 to 64, got 0`);
  t.is(invalid(t, { committee: { threshold: 1, members: [] } }), `${FILE}: committee.members: expected a list of 1 to 64 items, got an array of 0`);
  t.is(
    invalid(t, { committee: { threshold: 1, members: ['A'.repeat(64)] } }),
    `${FILE}: committee.members[0]: expected a peer id: 64 lowercase hex digits, got a string of 64 characters`,
  );
  t.regex(invalid(t, { committee: { threshold: 1 } }), /: committee\.members: expected a list of 1 to 64 items, got nothing$/);
});

test('every bound is inclusive: the limit passes, one past it fails', (t) => {
  const peer = `${KEY}@h:1`;
  const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [{ identity: { powDifficulty: 40 } }, { identity: { powDifficulty: 41 } }, 'identity.powDifficulty'],
    [{ identity: { powDifficulty: 0 } }, { identity: { powDifficulty: -1 } }, 'identity.powDifficulty'],
    [{ shutdownTimeoutMs: 120000 }, { shutdownTimeoutMs: 120001 }, 'shutdownTimeoutMs'],
    [{ status: { intervalMs: 100 } }, { status: { intervalMs: 99 } }, 'status.intervalMs'],
    [{ fleet: 'a'.repeat(63) }, { fleet: 'a'.repeat(64) }, 'fleet'],
    [{ network: { bootstrap: Array(64).fill(peer) } }, { network: { bootstrap: Array(65).fill(peer) } }, 'network.bootstrap'],
    [{ nodeName: `${'a'.repeat(63)}.b` }, { nodeName: `${'a'.repeat(64)}.b` }, 'nodeName'],
  ];
  for (const [ok, bad, field] of cases) {
    t.notThrows(() => parseConfig(ok), field);
    t.true(invalid(t, bad).startsWith(`${FILE}: ${field}: expected `), field);
  }
});

test('unknown fields are refused at any depth, by name', (t) => {
  t.regex(invalid(t, { netwrk: {} }), /^\/etc\/edge-agent\/config\.json: netwrk: unknown property \(known: fleet, nodeName, /);
  t.regex(invalid(t, { network: { listen: '127.0.0.1:1', peers: [] } }), /: network\.peers: unknown property \(known: listen, bootstrap\)/);
  t.regex(invalid(t, JSON.parse('{"__proto__": {"fleet": "x"}}')), /: __proto__: unknown property/);
});

test('a top level that is not an object says so', (t) => {
  t.regex(invalid(t, []), /^\/etc\/edge-agent\/config\.json: top level: expected an object with fleet, .*, got an array of 0$/);
  t.regex(invalid(t, null), /: top level: expected an object with .*, got null$/);
  t.regex(invalid(t, { log: 'debug' }), /: log: expected an object with level, got "debug"$/);
});

test('without a source the message starts at the field', (t) => {
  const err = t.throws(() => parseConfig({ fleet: 1 }), { instanceOf: ConfigError });
  t.regex(err?.message ?? '', /^fleet: expected a fleet name/);
});

test('a bad source is a caller error', (t) => {
  const err = t.throws(() => parseConfig({}, 42 as unknown as string), { instanceOf: ConfigError });
  t.is(err?.code, 'BAD_ARGUMENT');
  t.is(t.throws(() => parseConfig({}, ''), { instanceOf: ConfigError })?.code, 'BAD_ARGUMENT');
});

test('the template is the defaults as JSON, and parses back to them', (t) => {
  const template = configTemplate();
  t.true(template.endsWith('}\n'));
  t.deepEqual(parseConfig(JSON.parse(template)), defaultConfig());
  t.true(template.includes(`"listen": "127.0.0.1:${DEFAULT_PORT}"`));
});

test('any JSON value gives a config or a ConfigError INVALID, nothing else (property)', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      try {
        parseConfig(v, FILE);
        return true;
      } catch (err) {
        return err instanceof ConfigError && err.code === 'INVALID' && err.message.startsWith(`${FILE}: `);
      }
    }),
  );
  // Objects with the right keys and random values reach the field checks.
  const keys = ['fleet', 'nodeName', 'dataDir', 'board', 'role', 'committee', 'log', 'identity', 'network', 'shutdownTimeoutMs', 'status'];
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue()), (v) => {
      try {
        parseConfig(v);
        return true;
      } catch (err) {
        return err instanceof ConfigError && err.code === 'INVALID';
      }
    }),
  );
  t.pass();
});

test('valid configs survive a JSON round trip unchanged (property)', (t) => {
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
  const config = fc.record(
    {
      fleet: name,
      nodeName: fc.domain(),
      dataDir: fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`),
      board: name,
      log: fc.record({ level: fc.constantFrom(...LOG_LEVELS) }),
      identity: fc.record({ powDifficulty: fc.integer({ min: 0, max: 40 }) }, { requiredKeys: [] }),
      network: fc.record(
        {
          listen: fc.tuple(fc.oneof(fc.ipV4(), fc.domain(), fc.ipV6().map((h) => `[${h}]`)), fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `${h}:${p}`),
          bootstrap: fc.array(fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${KEY}@${h}:${p}`), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      shutdownTimeoutMs: fc.integer({ min: 100, max: 120000 }),
      status: fc.record({ intervalMs: fc.integer({ min: 100, max: 600000 }) }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(config, (c) => {
      const parsed = parseConfig(JSON.parse(JSON.stringify(c)));
      return JSON.stringify(parseConfig(JSON.parse(JSON.stringify(parsed)))) === JSON.stringify(parsed) &&
        Object.entries(c).every(([k, v]) => typeof v === 'object' || (parsed as Record<string, unknown>)[k] === v);
    }),
    { numRuns: 100 },
  );
  t.pass();
});
