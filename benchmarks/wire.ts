/**
 * Encode + decode of a typical signed envelope (~200 bytes): our canonical, bounded,
 * schema-checked path against JSON (bytes as hex strings) and cbor-x's defaults.
 */
import { decode as cborxDecode, encode as cborxEncode } from 'cbor-x';
import * as s from '../edge-agent/src/schema/index.js';
import { coreMessages, decodeBounded, decodeEnvelope, defineMessage, encodeEnvelope, type Envelope } from '../edge-agent/src/wire/index.js';
import type { BenchResult } from './run.js';
import { compareOpsPerSec, round } from './lib/measure.js';

const status = defineMessage(
  'status',
  s.object({
    seq: s.int({ min: 0 }),
    uptime: s.int({ min: 0 }),
    temp: s.int(),
    load: s.number({ min: 0 }),
    board: s.text({ max: 64 }),
    config: s.bytes({ len: 32 }),
  }),
);
const registry = coreMessages.with(status);

const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed) & 0xff);

type Status = Envelope<'status', { seq: number; uptime: number; temp: number; load: number; board: string; config: Uint8Array }>;
const envelope: Status = {
  v: 1,
  type: 'status',
  from: fill(32, 1),
  ts: 1_760_000_000_123,
  nonce: fill(16, 3),
  body: { seq: 48_213, uptime: 1_209_600, temp: -4_250, load: 0.37, board: 'rpi4-b-rev1.4', config: fill(32, 4) },
  sig: fill(64, 5),
};

const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

interface JsonStatus extends Omit<Status, 'from' | 'nonce' | 'sig' | 'body'> {
  from: string;
  nonce: string;
  sig: string;
  body: Omit<Status['body'], 'config'> & { config: string };
}

// What a JSON user does: bytes as hex strings on the way out, back to bytes on the way in.
function jsonEncode(env: Status): string {
  const wire: JsonStatus = {
    ...env,
    from: toHex(env.from),
    nonce: toHex(env.nonce),
    sig: toHex(env.sig!),
    body: { ...env.body, config: toHex(env.body.config) },
  };
  return JSON.stringify(wire);
}
function jsonDecode(text: string): Status {
  const wire = JSON.parse(text) as JsonStatus;
  return {
    ...wire,
    from: fromHex(wire.from),
    nonce: fromHex(wire.nonce),
    sig: fromHex(wire.sig),
    body: { ...wire.body, config: fromHex(wire.body.config) },
  };
}

export default async function (): Promise<BenchResult> {
  const ours = encodeEnvelope(envelope);
  const json = jsonEncode(envelope);
  // sanity: every candidate really round-trips the envelope
  if (decodeEnvelope(ours, registry).type !== 'status') throw new Error('wire bench: our round trip failed');
  if (jsonDecode(json).body.board !== envelope.body.board) throw new Error('wire bench: JSON round trip failed');
  if ((cborxDecode(cborxEncode(envelope)) as Status).ts !== envelope.ts) throw new Error('wire bench: cbor-x round trip failed');

  const roundTrip = compareOpsPerSec({
    ours: () => decodeEnvelope(encodeEnvelope(envelope), registry),
    json: () => jsonDecode(jsonEncode(envelope)),
    cborx: () => cborxDecode(cborxEncode(envelope)),
  });
  const halves = compareOpsPerSec(
    {
      encode: () => encodeEnvelope(envelope),
      decode: () => decodeEnvelope(ours, registry),
    },
    { rounds: 5, roundMs: 200 },
  );
  // A 9-byte frame declaring a 4 GiB string: refused by the header walk alone.
  const hostile = new Uint8Array([0x5b, 0, 0, 0, 1, 0, 0, 0, 0]);
  const refusal = compareOpsPerSec(
    {
      reject: () => {
        try {
          decodeBounded(hostile);
        } catch {
          return;
        }
        throw new Error('wire bench: the 4 GiB frame was accepted');
      },
    },
    { rounds: 3, roundMs: 200 },
  );

  const jsonBytes = Buffer.byteLength(json, 'utf8');
  return {
    opsPerSec: Math.round(roundTrip.ours),
    vsJson: round(roundTrip.ours / roundTrip.json),
    vsCborxDefault: round(roundTrip.ours / roundTrip.cborx),
    bytesVsJson: round(ours.length / jsonBytes),
    jsonOpsPerSec: Math.round(roundTrip.json),
    cborxDefaultOpsPerSec: Math.round(roundTrip.cborx),
    encodeOpsPerSec: Math.round(halves.encode),
    decodeOpsPerSec: Math.round(halves.decode),
    reject4GiBFrameOpsPerSec: Math.round(refusal.reject),
    ourBytes: ours.length,
    jsonBytes,
  };
}
