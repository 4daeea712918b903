/**
 * The sealing core: who can open what, what tampering is caught and how,
 * updates and removal from a role, and the chain of signed states.
 */
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  SealedError,
  createRecord,
  decodeState,
  encodeState,
  openAttribute,
  openSealed,
  readableBy,
  readersOf,
  stateHash,
  unwrapKey,
  updateRecord,
  verifyChain,
  verifySuccessor,
  wrapKey,
  type SealOutput,
  type SealedState,
} from '../../src/sealed/index.js';
import { signState } from '../../src/sealed/state.js';
import { blobOf, fleetRecord, member, text, utf8, wrapFor } from './fixtures.js';

const code = (c: string) => ({ instanceOf: SealedError, code: c });

/** The previous state's material as the author holds it: its own wraps and the blobs. */
function materialOf(outs: SealOutput[], author: { secretKey: Uint8Array; id: string }) {
  return {
    key: (attribute: string, entry: { keyState: number }) => {
      const wrap = outs.flatMap((o) => o.wraps).find((w) => w.attribute === attribute && w.keyState === entry.keyState && w.member === author.id);
      if (wrap === undefined) throw new Error('author has no wrap');
      return unwrapKey(wrap, author.secretKey);
    },
    blob: (commitment: Uint8Array) => outs.flatMap((o) => o.blobs).find((b) => Buffer.compare(b.commitment, commitment) === 0)!.blob,
  };
}

test('each reader opens exactly the attributes its roles name', (t) => {
  const { operator, boardA, boardB, out } = fleetRecord();
  const st = out.state;
  t.deepEqual(readersOf(st, 'wifi/psk'), [operator.id, boardA.id, boardB.id].sort());
  t.deepEqual(readableBy(st, boardA.id), ['wifi/psk']);
  for (const m of [operator, boardA, boardB]) {
    t.is(text(openSealed(st, 'wifi/psk', m, wrapFor(out, 'wifi/psk', m.id), blobOf(out, 'wifi/psk'))), 'correct horse battery staple');
  }
  t.is(text(openSealed(st, 'telemetry/key', operator, wrapFor(out, 'telemetry/key', operator.id), blobOf(out, 'telemetry/key'))), 'tk-0001');
  t.is(out.wraps.length, 4, 'one wrap per reader per attribute, no more');
  t.deepEqual(st.public, { site: 'north-field', version: 3 });
});

test('an unauthorized member cannot decrypt: refused by policy, and its key unwraps nothing', (t) => {
  const { operator, boardA, outsider, out } = fleetRecord();
  const st = out.state;
  // By policy: not a reader.
  t.throws(() => openSealed(st, 'telemetry/key', boardA, wrapFor(out, 'telemetry/key', operator.id), blobOf(out, 'telemetry/key')), code('NOT_AUTHORIZED'));
  t.throws(() => openSealed(st, 'wifi/psk', outsider, wrapFor(out, 'wifi/psk', boardA.id), blobOf(out, 'wifi/psk')), code('NOT_AUTHORIZED'));
  // By cryptography: someone else's wrap does not open with its key.
  t.throws(() => unwrapKey(wrapFor(out, 'telemetry/key', operator.id), boardA.secretKey), code('TAMPERED'));
  t.throws(() => unwrapKey(wrapFor(out, 'wifi/psk', boardA.id), outsider.secretKey), code('TAMPERED'));
  // Nor does a random key open the blob.
  const entry = st.private['wifi/psk']!;
  t.throws(() => openAttribute(st.record, entry.keyState, 'wifi/psk', randomBytes(32), blobOf(out, 'wifi/psk'), entry), code('BAD_KEY'));
});

test('a tampered blob, a wrong commitment, a tampered or moved wrap and a forged key are each detected', (t) => {
  const { operator, boardA, out } = fleetRecord();
  const st = out.state;
  const wrap = wrapFor(out, 'wifi/psk', boardA.id);
  const blob = blobOf(out, 'wifi/psk');
  for (const at of [0, 12, blob.length - 1]) {
    const bad = Uint8Array.from(blob);
    bad[at]! ^= 0x01;
    t.throws(() => openSealed(st, 'wifi/psk', boardA, wrap, bad), code('BAD_COMMITMENT'), `byte ${at}`);
  }
  // The right-looking blob of another attribute: its hash is not this commitment.
  t.throws(() => openSealed(st, 'wifi/psk', boardA, wrap, blobOf(out, 'telemetry/key')), code('BAD_COMMITMENT'));
  // Changing the commitment in the state breaks the author's signature.
  const forged = { ...st, private: { ...st.private, 'wifi/psk': { ...st.private['wifi/psk']!, commitment: randomBytes(32) } } } as SealedState;
  t.throws(() => decodeState(encodeState(forged)), code('BAD_SIGNATURE'));
  // A flipped bit in the wrap.
  const box = Uint8Array.from(wrap.box);
  box[20]! ^= 0x80;
  t.throws(() => unwrapKey({ ...wrap, box }, boardA.secretKey), code('TAMPERED'));
  // The wrap relabelled to another attribute or key state: its context (HKDF info and AAD) no longer matches.
  t.throws(() => unwrapKey({ ...wrap, attribute: 'telemetry/key' }, boardA.secretKey), code('TAMPERED'));
  t.throws(() => unwrapKey({ ...wrap, keyState: 1 }, boardA.secretKey), code('TAMPERED'));
  // A peer that wraps a key of its own for the member: unwraps fine, but the state's key check refuses it.
  const fake = wrapKey(randomBytes(32), boardA.publicKey, st.record, 0, 'wifi/psk');
  t.throws(() => openSealed(st, 'wifi/psk', boardA, fake, blob), code('BAD_KEY'));
  // Truncated sealed bytes.
  t.throws(() => openAttribute(st.record, 0, 'wifi/psk', unwrapKey(wrap, boardA.secretKey), blob.subarray(0, 20), st.private['wifi/psk']!), code('BAD_COMMITMENT'));
  t.truthy(operator);
});

test('an update re-keys what changed, keeps what did not, and wraps kept keys for new readers only', (t) => {
  const { operator, boardA, boardB, outsider, out } = fleetRecord();
  const s0 = out.state;
  const roles = { ...s0.roles, auditors: { attributes: ['telemetry/key'], members: [outsider.id] } };
  const one = updateRecord(s0, { roles, set: { 'wifi/psk': utf8('new passphrase') }, public: { site: 'north-field', version: 4 } }, operator.secretKey, materialOf([out], operator));
  const s1 = one.state;
  verifySuccessor(s0, s1);
  t.is(s1.n, 1);
  t.deepEqual(s1.prev, stateHash(s0));
  t.is(s1.private['wifi/psk']!.keyState, 1, 'changed: a fresh key');
  t.notDeepEqual(s1.private['wifi/psk']!.commitment, s0.private['wifi/psk']!.commitment);
  t.deepEqual(s1.private['telemetry/key'], s0.private['telemetry/key'], 'unchanged: same key state, commitment and key check');
  t.deepEqual(one.blobs.length, 1, 'only the changed blob is new');
  // New wraps: wifi for its 3 readers, and telemetry only for the new auditor, under key state 0.
  t.deepEqual(one.wraps.map((w) => `${w.attribute}@${w.keyState}`).sort(), ['telemetry/key@0', 'wifi/psk@1', 'wifi/psk@1', 'wifi/psk@1']);
  const auditorWrap = wrapFor(one, 'telemetry/key', outsider.id);
  t.is(text(openSealed(s1, 'telemetry/key', outsider, auditorWrap, blobOf(out, 'telemetry/key'))), 'tk-0001');
  t.is(text(openSealed(s1, 'wifi/psk', boardB, wrapFor(one, 'wifi/psk', boardB.id), blobOf(one, 'wifi/psk'))), 'new passphrase');
  // The operator's old wrap of the carried key still opens it in state 1.
  t.is(text(openSealed(s1, 'telemetry/key', operator, wrapFor(out, 'telemetry/key', operator.id), blobOf(out, 'telemetry/key'))), 'tk-0001');
  t.truthy(boardA);
});

test('removal from a role takes effect: a fresh key for everything the member could read', (t) => {
  const { operator, boardA, boardB, out } = fleetRecord();
  const s0 = out.state;
  const roles = { ...s0.roles, boards: { attributes: ['wifi/psk'], members: [boardA.id] } };
  const one = updateRecord(s0, { roles }, operator.secretKey, materialOf([out], operator));
  const s1 = one.state;
  t.is(s1.private['wifi/psk']!.keyState, 1, 're-keyed although its value did not change');
  t.deepEqual(s1.private['telemetry/key'], s0.private['telemetry/key'], 'what boardB never read keeps its key');
  t.false(one.wraps.some((w) => w.member === boardB.id), 'no wrap for the removed member');
  // The remaining readers read the same value under the new key.
  t.is(text(openSealed(s1, 'wifi/psk', boardA, wrapFor(one, 'wifi/psk', boardA.id), blobOf(one, 'wifi/psk'))), 'correct horse battery staple');
  // boardB: refused by policy, and its old key opens nothing of state 1.
  const oldWrap = wrapFor(out, 'wifi/psk', boardB.id);
  t.throws(() => openSealed(s1, 'wifi/psk', boardB, oldWrap, blobOf(one, 'wifi/psk')), code('NOT_AUTHORIZED'));
  const oldKey = unwrapKey(oldWrap, boardB.secretKey);
  t.throws(() => openAttribute(s1.record, 1, 'wifi/psk', oldKey, blobOf(one, 'wifi/psk'), s1.private['wifi/psk']!), code('BAD_KEY'));
  t.throws(() => openAttribute(s1.record, 0, 'wifi/psk', oldKey, blobOf(one, 'wifi/psk'), { ...s1.private['wifi/psk']!, keyCheck: s0.private['wifi/psk']!.keyCheck }), code('TAMPERED'));
  // Dropping the member altogether re-keys the same way; later states stay closed to it.
  const two = updateRecord(s1, { members: [operator.publicKey, boardA.publicKey] }, operator.secretKey, materialOf([out, one], operator));
  t.false(Object.hasOwn(two.state.members, boardB.id));
  t.throws(() => updateRecord(s1, { roles: s0.roles }, operator.secretKey), code('BAD_ARGUMENT'), 'material is needed to wrap a kept key for a returning reader');
});

test('the chain: successors verify, gaps, forks, reordering and non-writers do not', (t) => {
  const { operator, boardA, out } = fleetRecord();
  const s0 = out.state;
  const s1 = updateRecord(s0, { public: { site: 'south' } }, operator.secretKey).state;
  const s2 = updateRecord(s1, { public: { site: 'east' }, writers: [operator.id, boardA.id] }, operator.secretKey).state;
  const s3 = updateRecord(s2, { public: { site: 'west' } }, boardA.secretKey).state;
  verifyChain([s0, s1, s2, s3]);
  t.throws(() => verifyChain([s0, s2]), code('BAD_CHAIN'));
  t.throws(() => verifyChain([s1]), code('BAD_CHAIN'));
  t.throws(() => verifySuccessor(s1, s1), code('BAD_CHAIN'));
  const fork = updateRecord(s0, { public: { site: 'fork' } }, operator.secretKey).state;
  t.throws(() => verifyChain([s0, fork, s2]), code('BAD_CHAIN'));
  // boardA was not a writer of state 0 or 1.
  t.throws(() => updateRecord(s0, { public: {} }, boardA.secretKey), code('NOT_AUTHORIZED'));
  const other = createRecord({ secretKey: boardA.secretKey, record: s0.record, members: [boardA.publicKey], roles: {}, private: {} }).state;
  t.throws(() => verifySuccessor(s0, { ...updateRecord(other, {}, boardA.secretKey).state }), code('BAD_CHAIN'));
  // A state signed by a non-writer (self-consistent otherwise) is refused.
  const intruder = member();
  const rogue = updateRecord({ ...s1, writers: [intruder.id], members: { ...s1.members, [intruder.id]: intruder.publicKey } }, {}, intruder.secretKey).state;
  t.throws(() => verifySuccessor(s1, rogue), code('BAD_CHAIN'), 'made from a doctored s1, it does not name the real one');
  const { sig: _sig, ...body } = rogue;
  const named = signState({ ...body, prev: stateHash(s1) }, intruder.secretKey);
  t.throws(() => verifySuccessor(s1, named), code('BAD_SIGNATURE'), 'names s1, but s1 does not let it write');
  t.throws(() => verifyChain([s0, { ...s1, n: 1, author: intruder.publicKey }]), code('BAD_SIGNATURE'));
});

test('bad inputs are refused with BAD_ARGUMENT before anything is sealed', (t) => {
  const a = member();
  const base = { secretKey: a.secretKey, members: [a.publicKey], roles: {}, private: {} };
  t.throws(() => createRecord({ ...base, roles: { r: { attributes: ['nope'], members: [a.id] } } }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, roles: { r: { attributes: [], members: ['00'.repeat(32)] } } }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, private: { 'bad name!': utf8('x') } }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, private: { __proto__x: 5 as unknown as Uint8Array } }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, members: [new Uint8Array(33)] }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, secretKey: new Uint8Array(5) }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, writers: [member().id] }), code('BAD_ARGUMENT'));
  t.throws(() => createRecord({ ...base, record: new Uint8Array(3) }), code('BAD_ARGUMENT'));
  t.throws(() => wrapKey(new Uint8Array(32), new Uint8Array(33), new Uint8Array(32), 0, 'a'), code('BAD_ARGUMENT'));
  const { out } = fleetRecord();
  t.throws(() => updateRecord(out.state, { delete: ['missing'] }, a.secretKey), code('NOT_AUTHORIZED'));
});

test('property: over random role changes, readers always open, and no key a non-reader ever held opens the current blob', (t) => {
  const author = member();
  const others = [member(), member(), member()];
  const attrs = ['a', 'b'] as const;
  const subset = fc.subarray([0, 1, 2]);
  const step = fc.record({ a: subset, b: subset, setA: fc.option(fc.string({ maxLength: 8 })), setB: fc.option(fc.string({ maxLength: 8 })) });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 4 }), (steps) => {
      const rolesOf = (s: { a: number[]; b: number[] }) => ({
        ra: { attributes: ['a'], members: [author.id, ...s.a.map((i) => others[i]!.id)] },
        rb: { attributes: ['b'], members: [author.id, ...s.b.map((i) => others[i]!.id)] },
      });
      const values: Record<string, string> = { a: 'a0', b: 'b0' };
      const outs = [createRecord({ secretKey: author.secretKey, members: [author, ...others].map((m) => m.publicKey), roles: rolesOf({ a: [], b: [] }), private: { a: utf8('a0'), b: utf8('b0') } })];
      const held = new Map<string, Uint8Array[]>(); // member id → every attribute key it ever unwrapped
      for (const s of steps) {
        const set: Record<string, Uint8Array> = {};
        if (s.setA !== null) set.a = utf8((values.a = `a:${s.setA}`));
        if (s.setB !== null) set.b = utf8((values.b = `b:${s.setB}`));
        const prev = outs[outs.length - 1]!.state;
        outs.push(updateRecord(prev, { roles: rolesOf(s), set }, author.secretKey, materialOf(outs, author)));
        const out = outs[outs.length - 1]!;
        for (const w of out.wraps) {
          const m = others.find((o) => o.id === w.member);
          if (m !== undefined) held.set(m.id, [...(held.get(m.id) ?? []), unwrapKey(w, m.secretKey)]);
        }
        const st = out.state;
        for (const attr of attrs) {
          const entry = st.private[attr]!;
          const blob = outs.flatMap((o) => o.blobs).find((b) => Buffer.compare(b.commitment, entry.commitment) === 0)!.blob;
          const readers = readersOf(st, attr);
          for (const m of others) {
            if (readers.includes(m.id)) {
              const wrap = outs.flatMap((o) => o.wraps).find((w) => w.member === m.id && w.attribute === attr && w.keyState === entry.keyState)!;
              if (text(openSealed(st, attr, m, wrap, blob)) !== values[attr]) return false;
            } else {
              for (const key of held.get(m.id) ?? []) {
                try {
                  openAttribute(st.record, entry.keyState, attr, key, blob, entry);
                  return false;
                } catch (err) {
                  if (!(err instanceof SealedError)) throw err;
                }
              }
            }
          }
        }
      }
      verifyChain(outs.map((o) => o.state));
      return true;
    }),
    { seed: 1306, numRuns: 12 },
  );
  t.pass();
});
