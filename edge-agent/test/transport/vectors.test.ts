import { readFileSync } from 'node:fs';
import { hkdfSync } from 'node:crypto';
import test from 'ava';
import { Decoder, Encryptor, TransportError, initiator, responder } from '../../src/transport/index.js';
import type { TransportErrorCode } from '../../src/transport/index.js';
import { concat, hex, toHex } from './helpers.js';

interface ExpectedError {
  readonly spec: string;
  readonly code: TransportErrorCode;
  readonly act?: 'actOne' | 'actThree';
}

interface InitiatorCase {
  readonly name: string;
  readonly remoteStaticPublic: string;
  readonly localStaticSecret: string;
  readonly ephemeralSecret: string;
  readonly actOneOutput: string;
  readonly actTwoInput: string;
  readonly actThreeOutput?: string;
  readonly sendingKey?: string;
  readonly receivingKey?: string;
  readonly chainingKey?: string;
  readonly handshakeHash?: string;
  readonly error?: ExpectedError;
}

interface ResponderCase {
  readonly name: string;
  readonly localStaticSecret: string;
  readonly ephemeralSecret: string;
  readonly actOneInput: string;
  readonly actTwoOutput?: string;
  readonly actThreeInput?: string;
  readonly remoteStaticPublic?: string;
  readonly sendingKey?: string;
  readonly receivingKey?: string;
  readonly chainingKey?: string;
  readonly handshakeHash?: string;
  readonly error?: ExpectedError;
}

interface MessageVectors {
  readonly chainingKey: string;
  readonly sendingKey: string;
  readonly message: string;
  readonly lastIndex: number;
  readonly outputs: Readonly<Record<string, string>>;
  readonly intermediate: {
    readonly rotations: readonly { readonly chainingKey: string; readonly key: string }[];
  };
}

/** Success-only fields are optional in the JSON; their absence is a broken vector file. */
function must(value: string | undefined): string {
  if (value === undefined) throw new Error('vector file is missing a field');
  return value;
}

function load<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as T;
}

const initiatorCases = load<{ cases: InitiatorCase[] }>('initiator.json').cases;
const responderCases = load<{ cases: ResponderCase[] }>('responder.json').cases;
const messages = load<MessageVectors>('messages.json');

test('vector files hold every BOLT 8 case', (t) => {
  t.is(initiatorCases.length, 5);
  t.is(responderCases.length, 10);
  t.deepEqual(Object.keys(messages.outputs).sort(), ['0', '1', '1000', '1001', '500', '501']);
});

for (const v of initiatorCases) {
  test(`BOLT 8 ${v.name}`, (t) => {
    const hs = initiator({
      localStatic: hex(v.localStaticSecret),
      remoteStatic: hex(v.remoteStaticPublic),
      ephemeral: hex(v.ephemeralSecret),
    });
    t.is(toHex(hs.actOne()), v.actOneOutput);
    if (v.error !== undefined) {
      t.throws(() => hs.actTwo(hex(v.actTwoInput)), { instanceOf: TransportError, code: v.error.code });
      return;
    }
    t.is(toHex(hs.actTwo(hex(v.actTwoInput))), must(v.actThreeOutput));
    const result = hs.result();
    t.is(toHex(result.sendingKey), must(v.sendingKey));
    t.is(toHex(result.receivingKey), must(v.receivingKey));
    t.is(toHex(result.chainingKey), must(v.chainingKey));
    t.is(toHex(result.handshakeHash), must(v.handshakeHash));
    t.is(toHex(result.remoteStatic), must(v.remoteStaticPublic));
  });
}

for (const v of responderCases) {
  test(`BOLT 8 ${v.name}`, (t) => {
    const hs = responder({ localStatic: hex(v.localStaticSecret), ephemeral: hex(v.ephemeralSecret) });
    if (v.error?.act === 'actOne') {
      t.throws(() => hs.actOne(hex(v.actOneInput)), { instanceOf: TransportError, code: v.error.code });
      return;
    }
    t.is(toHex(hs.actOne(hex(v.actOneInput))), must(v.actTwoOutput));
    const actThree = hex(must(v.actThreeInput));
    if (v.error !== undefined) {
      t.throws(() => hs.actThree(actThree), { instanceOf: TransportError, code: v.error.code });
      return;
    }
    const result = hs.actThree(actThree);
    t.is(toHex(result.remoteStatic), must(v.remoteStaticPublic));
    t.is(toHex(result.sendingKey), must(v.sendingKey));
    t.is(toHex(result.receivingKey), must(v.receivingKey));
    t.is(toHex(result.chainingKey), must(v.chainingKey));
    t.is(toHex(result.handshakeHash), must(v.handshakeHash));
    t.is(hs.result(), result);
  });
}

test('BOLT 8 transport-message test: outputs 0, 1, 500, 501, 1000, 1001', (t) => {
  const keys = { key: hex(messages.sendingKey), chainingKey: hex(messages.chainingKey) };
  const encryptor = new Encryptor(keys);
  const hello = hex(messages.message);
  const frames: Uint8Array[] = [];
  for (let i = 0; i <= messages.lastIndex; i += 1) {
    const frame = encryptor.encrypt(hello);
    frames.push(frame);
    const expected = messages.outputs[String(i)];
    if (expected !== undefined) t.is(toHex(frame), expected, `output ${i}`);
  }
  // The receiving side (responder: rk = initiator's sk) decodes the whole stream.
  const received = new Decoder(keys).push(concat(frames));
  t.is(received.length, messages.lastIndex + 1);
  t.true(received.every((m) => toHex(m) === messages.message));
});

test('BOLT 8 transport-message test: rotation intermediates', (t) => {
  let ck = hex(messages.chainingKey);
  let key = hex(messages.sendingKey);
  for (const [i, rotation] of messages.intermediate.rotations.entries()) {
    const out = new Uint8Array(hkdfSync('sha256', key, ck, new Uint8Array(0), 64));
    ck = out.subarray(0, 32);
    key = out.subarray(32);
    t.is(toHex(ck), rotation.chainingKey);
    t.is(toHex(key), rotation.key);
    // A fresh encryptor on the rotated keys reproduces the first frame after that rotation.
    const frame = new Encryptor({ key, chainingKey: ck }).encrypt(hex(messages.message));
    t.is(toHex(frame), must(messages.outputs[String((i + 1) * 500)]));
  }
});
