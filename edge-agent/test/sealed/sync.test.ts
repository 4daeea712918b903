/**
 * Sync over real Messengers on loopback TCP: a member fetches the states, its
 * wrapped key and the blob from peers; a non-reader gets blobs but no key; a
 * served blob off its commitment is refused; removal holds across the wire;
 * and no byte stored or sent holds the plaintext of a private attribute.
 */
import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../src/identity/index.js';
import {
  SealedError,
  SealedSync,
  SealedVault,
  createRecord,
  openAttribute,
  sealedGetBlob,
  sealedGetKey,
  unwrapKey,
  withSealedMessages,
} from '../../src/sealed/index.js';
import { Messenger, TransportError, type Channel } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { seededRandom } from '../helpers/random.js';
import { address, startManager, until } from '../transport/net-helpers.js';
import { text, utf8 } from './fixtures.js';

const registry = withSealedMessages(coreMessages);
const code = (c: string) => ({ instanceOf: SealedError, code: c });

type Started = Awaited<ReturnType<typeof startManager>>;
interface Node extends Started {
  readonly messenger: Messenger;
  readonly vault: SealedVault;
  readonly sync: SealedSync;
  readonly dir: string;
}

async function node(t: { teardown(fn: () => Promise<void> | void): void }, opts: { started?: Started } = {}): Promise<Node> {
  const started = opts.started ?? (await startManager());
  const dir = await mkdtemp(join(tmpdir(), 'sealed-sync-'));
  const messenger = new Messenger({ manager: started.manager, registry, requestTimeoutMs: 10_000 });
  const vault = await SealedVault.open(dir);
  const peers = () => started.manager.channels().map((c) => c.remotePeerId);
  const sync = new SealedSync({ messenger, vault, peers });
  t.teardown(async () => {
    messenger.close();
    await started.manager.close();
    vault.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { ...started, messenger, vault, sync, dir };
}

/** A peer that answers sealed requests with whatever the test says, no vault behind it. */
async function bareNode(t: { teardown(fn: () => Promise<void> | void): void }): Promise<Started & { messenger: Messenger }> {
  const started = await startManager();
  const messenger = new Messenger({ manager: started.manager, registry });
  t.teardown(async () => {
    messenger.close();
    await started.manager.close();
  });
  return { ...started, messenger };
}

async function connect(a: Started, b: Started): Promise<void> {
  await a.manager.dial(address(b.keys, b.port));
  await until(() => a.manager.channel(b.manager.peerId) !== undefined && b.manager.channel(a.manager.peerId) !== undefined, 10_000, 'channel');
}

/** Members whose identity keys are the nodes' transport keys, as in the agent. */
const asMember = (n: Node) => ({ ...n.keys, id: toHex(n.manager.peerId) });

function recordFor(author: Node, readers: Node[], outsiders: Node[], plaintext: Uint8Array) {
  const a = asMember(author);
  return createRecord({
    secretKey: a.secretKey,
    members: [author, ...readers, ...outsiders].map((n) => n.keys.publicKey),
    roles: { boards: { attributes: ['config/token'], members: [a.id, ...readers.map((n) => asMember(n).id)] } },
    public: { purpose: 'sync test' },
    private: { 'config/token': plaintext },
  });
}

test('a member fetches the states, its wrapped key and the blob from a peer; a non-reader gets no key', async (t) => {
  const a = await node(t);
  const b = await node(t);
  const c = await node(t);
  await connect(b, a);
  await connect(c, a);
  const out = recordFor(a, [b], [c], utf8('token for boards only'));
  await a.vault.addSealed(out);
  const record = out.state.record;

  t.is(await b.sync.pull(a.manager.peerId, record), 1);
  t.is(b.vault.latest(record)?.n, 0);
  await t.throwsAsync(b.vault.read(record, 0, 'config/token', asMember(b)), code('NOT_FOUND'), 'nothing but the state is held yet');
  t.is(text(await b.sync.read(record, 0, 'config/token', asMember(b))), 'token for boards only');
  t.like(b.sync.stats(), { keysFetched: 1, blobsFetched: 1, statesFetched: 1, rejected: 0 });
  t.like(a.sync.stats(), { keysServed: 1, blobsServed: 1, statesServed: 1 });
  t.is(text(await b.vault.read(record, 0, 'config/token', asMember(b))), 'token for boards only', 'now held locally');

  // c is a member of no role: it may hold and serve the blob, never get a key.
  await c.sync.pull(a.manager.peerId, record);
  const entry = out.state.private['config/token']!;
  t.truthy(await c.sync.blob(record, entry.commitment));
  await t.throwsAsync(c.sync.read(record, 0, 'config/token', asMember(c)), code('NOT_AUTHORIZED'));
  const asked = await t.throwsAsync(c.messenger.request(a.manager.peerId, sealedGetKey, { record, n: 0, attribute: 'config/token' }), { instanceOf: TransportError });
  t.regex(asked?.message ?? '', /NOT_AUTHORIZED/);
  // Even handed b's wrap, c's key opens nothing.
  const bWrap = (await a.vault.wrap(record, 0, 'config/token', asMember(b).id))!;
  t.throws(() => unwrapKey(bWrap, c.keys.secretKey), code('TAMPERED'));
  t.throws(() => unwrapKey({ ...bWrap, member: asMember(c).id }, c.keys.secretKey), code('TAMPERED'));
});

test('any peer may serve blobs: a non-member relays one; a blob off its commitment is rejected', async (t) => {
  const a = await node(t);
  const relay = await node(t);
  const b = await node(t);
  const evil = await bareNode(t);
  const out = recordFor(a, [b], [], utf8('relayed secret'));
  await a.vault.addSealed(out);
  const record = out.state.record;
  const entry = out.state.private['config/token']!;
  // The relay got the blob and b's wrap earlier (from anyone: both are sealed); a is gone.
  await relay.vault.addState(out.state);
  await relay.vault.addBlob(record, entry.commitment, out.blobs[0]!.blob);
  for (const w of out.wraps) await relay.vault.addWrap(w);
  await b.vault.addState(out.state);

  // Evil serves a blob that does not hash to the commitment.
  const bad = Uint8Array.from(out.blobs[0]!.blob);
  bad[bad.length - 1]! ^= 1;
  evil.messenger.handle(sealedGetBlob, () => ({ blob: bad }));
  await connect(b, evil);
  await t.throwsAsync(b.sync.blob(record, entry.commitment), code('BAD_COMMITMENT'));
  t.is(b.sync.stats().rejected, 1);
  t.false(b.vault.hasBlob(entry.commitment), 'nothing bad was kept');

  // With the relay also connected, b falls through to it and reads.
  await connect(b, relay);
  t.is(text(await b.sync.read(record, 0, 'config/token', asMember(b))), 'relayed secret');
  t.like(relay.sync.stats(), { blobsServed: 1, keysServed: 1 });
});

test('removal from a role holds across the wire: the removed member gets no key of the next state', async (t) => {
  const a = await node(t);
  const b = await node(t);
  const d = await node(t);
  await connect(b, a);
  await connect(d, a);
  const out = recordFor(a, [b, d], [], utf8('before removal'));
  await a.vault.addSealed(out);
  const record = out.state.record;
  await d.sync.pull(a.manager.peerId, record);
  t.is(text(await d.sync.read(record, 0, 'config/token', asMember(d))), 'before removal');

  const roles = { boards: { attributes: ['config/token'], members: [asMember(a).id, asMember(b).id] } };
  const one = await a.vault.update(record, { roles, set: { 'config/token': utf8('after removal') } }, asMember(a));
  t.is(one.state.n, 1);
  t.is(await d.sync.pull(a.manager.peerId, record), 1);
  t.is(await b.sync.pull(a.manager.peerId, record), 2);
  t.is(text(await b.sync.read(record, 1, 'config/token', asMember(b))), 'after removal');
  await t.throwsAsync(d.sync.read(record, 1, 'config/token', asMember(d)), code('NOT_AUTHORIZED'));
  await t.throwsAsync(d.messenger.request(a.manager.peerId, sealedGetKey, { record, n: 1, attribute: 'config/token' }), { instanceOf: TransportError, code: 'REMOTE_ERROR' });
  // d's old key (key state 0) does not open state 1's blob either.
  const oldWrap = (await d.vault.wrap(record, 0, 'config/token', asMember(d).id))!;
  const blob = await d.sync.blob(record, one.state.private['config/token']!.commitment);
  const oldKey = unwrapKey(oldWrap, d.keys.secretKey);
  const now = one.state.private['config/token']!;
  t.throws(() => openAttribute(record, now.keyState, 'config/token', oldKey, blob, now), code('BAD_KEY'));
  t.throws(() => openAttribute(record, 0, 'config/token', oldKey, blob, { ...now, keyCheck: out.state.private['config/token']!.keyCheck }), code('TAMPERED'));
});

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The marker as raw bytes, hex and base64: a leak in any of these encodings counts. */
function needles(marker: string): Buffer[] {
  const raw = Buffer.from(marker);
  return [raw, Buffer.from(raw.toString('hex')), Buffer.from(raw.toString('base64').slice(0, 24))];
}

function contains(haystacks: readonly Uint8Array[], marker: string): boolean {
  return haystacks.some((h) => needles(marker).some((n) => Buffer.from(h.buffer, h.byteOffset, h.byteLength).includes(n)));
}

test('no stored file and no byte sent holds the plaintext of a private attribute', async (t) => {
  // Every byte any socket in this process writes (both ends of every channel), and every
  // application message before the channel encrypts it.
  const socketBytes: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array) socketBytes.push(Uint8Array.from(chunk));
    else if (typeof chunk === 'string') socketBytes.push(Buffer.from(chunk));
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  t.teardown(() => {
    Socket.prototype.write = write;
  });
  const tap = (channel: Channel) => {
    const trySend = channel.trySend.bind(channel);
    channel.trySend = (message: Uint8Array) => {
      const sent = trySend(message);
      if (sent) frames.push(Uint8Array.from(message));
      return sent;
    };
  };
  const startedA = await startManager();
  const startedB = await startManager();
  startedA.manager.onOpen(tap);
  startedB.manager.onOpen(tap);
  const a = await node(t, { started: startedA });
  const b = await node(t, { started: startedB });
  await connect(b, a);

  const random = seededRandom(0x5ea1ed);
  const marker = `MARKER-${Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('')}`;
  const out = recordFor(a, [b], [], utf8(`wifi psk = ${marker}`));
  await a.vault.addSealed(out);
  const record = out.state.record;
  t.is(await b.sync.pull(a.manager.peerId, record), 1);
  t.is(text(await b.sync.read(record, 0, 'config/token', asMember(b))), `wifi psk = ${marker}`, 'the sync really carried the attribute');
  await a.vault.storage(record).rotate(); // and a rotation, so old and new epochs are on disk
  t.is(text(await a.vault.read(record, 0, 'config/token', asMember(a))), `wifi psk = ${marker}`);

  const stored = await Promise.all([...(await filesUnder(a.dir)), ...(await filesUnder(b.dir))].map((f) => readFile(f)));
  t.true(stored.length >= 8, `searched ${stored.length} files`);
  t.true(frames.length >= 6 && socketBytes.length >= 6, `captured ${frames.length} messages and ${socketBytes.length} socket writes`);
  t.false(contains(stored, marker), 'no stored file holds the plaintext');
  t.false(contains(frames, marker), 'no message sent holds the plaintext');
  t.false(contains(socketBytes, marker), 'no byte written to a socket holds the plaintext');

  // Positive controls: the search finds the marker where it is, and the capture sees message content.
  t.true(contains([...frames, utf8(`x${marker}y`)], marker));
  const leak = join(a.dir, 'leak.txt');
  await writeFile(leak, `wifi psk = ${marker}`);
  t.true(contains(await Promise.all((await filesUnder(a.dir)).map((f) => readFile(f))), marker));
  await rm(leak);
  t.true(contains(frames, 'sealed/get-blob'), 'the captured messages are the plaintext envelopes');
  t.true(
    frames.some((f) => Buffer.from(f).includes(Buffer.from(out.blobs[0]!.blob))),
    'the blob itself (ciphertext) was captured on its way',
  );
  t.false(contains(socketBytes, 'sealed/get-blob'), 'while on the sockets even the envelopes are encrypted');
});
