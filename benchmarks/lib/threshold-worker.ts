/**
 * One committee member for the `threshold` benchmark, in its own process:
 * its own identity key, ConnectionManager (BOLT 8 over TCP on 127.0.0.1) and
 * Messenger. It speaks JSON lines with the benchmark: stdin carries commands
 * `{id, cmd, ...}`, stdout carries `{t: 'ready', port, publicKey}` once, then
 * one `{t: 'ok', id, ...}` or `{t: 'error', id, message}` per command.
 *
 * Commands: mesh (dial the higher-numbered members, wait for a channel to
 * everyone), dkg (runDkg at the agreed start), serve (a SignerService with a
 * DKG's share), sign (coordinate `count` signatures one after another and time
 * each; with a pool of commitments fetched ahead and refilled between
 * signatures, unless `pool: false`), refresh (runRefresh of a DKG's key), exit. The worker exits when its
 * stdin closes, so it never outlives the benchmark.
 */
import { createHash } from 'node:crypto';
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { generateKeyPair, peerIdOf, sign, toHex, verify } from '../../edge-agent/src/identity/index.js';
import {
  CommitmentPool,
  DkgMember,
  MemoryNonceStore,
  SignerCore,
  SignerService,
  commitmentAnnouncer,
  commitmentFetcher,
  coordinateSignature,
  groupPublicFromFrost,
  hmacSignatures,
  makeMemberShare,
  runDkg,
  runRefresh,
  simulate,
  verifyGroupSignature,
  withDkgMessages,
  withThresholdMessages,
  type DkgOutcome,
  type GroupPublic,
} from '../../edge-agent/src/threshold/index.js';
import { ConnectionManager, Messenger } from '../../edge-agent/src/transport/index.js';
import { coreMessages } from '../../edge-agent/src/wire/index.js';
import { fromHex, num, serveCommands, str, type Command } from '../../edge-agent/test/helpers/worker-rpc.js';

interface PeerInfo {
  readonly member: number;
  readonly publicKey: string;
  readonly port: number;
}

interface Key {
  readonly public: FrostPublic;
  readonly share: FrostSecret;
  readonly members: readonly number[];
}


const members = (v: unknown): number[] => {
  if (!Array.isArray(v) || !v.every((m) => Number.isSafeInteger(m))) throw new Error('members must be an array of member numbers');
  return v as number[];
};
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
/** A digest of a public package, so the benchmark can check that every member holds the same one. */
function digestOf(pub: FrostPublic): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(pub.signers));
  for (const c of pub.commitments) h.update(c);
  for (const id of Object.keys(pub.verifyingShares).sort()) h.update(id).update(pub.verifyingShares[id]!);
  return h.digest('hex');
}

const keys = generateKeyPair();
const manager = new ConnectionManager({ secretKey: keys.secretKey });
const messenger = new Messenger({ manager, registry: withDkgMessages(withThresholdMessages(coreMessages)) });
const { port } = await manager.listen('127.0.0.1:0');

let self = 0;
const peers = new Map<number, PeerInfo>();
const groups = new Map<string, Key>();
let serving: { group: GroupPublic; signer: SignerCore; roster: Map<number, Uint8Array> } | undefined;

/** Member -> identity public key, for the members of one run. */
function identityRoster(of: readonly number[]): Map<number, Uint8Array> {
  const roster = new Map<number, Uint8Array>();
  for (const m of of) {
    const p = peers.get(m);
    if (m !== self && p === undefined) throw new Error(`member ${m} is not in the mesh`);
    roster.set(m, m === self ? keys.publicKey : fromHex(p!.publicKey));
  }
  return roster;
}

function keyOf(label: string): Key {
  const k = groups.get(label);
  if (k === undefined) throw new Error(`no key "${label}" here`);
  return k;
}

function report(o: DkgOutcome, since: NodeJS.CpuUsage, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const doneAt = Date.now();
  const base = { kind: o.kind, cpuMs: cpuMs(since), doneAt, disqualified: o.disqualified.map((d) => `${d.party}:${d.reason}`) };
  if (o.kind === 'abort') return { ...base, reason: o.reason, culprits: o.culprits };
  return { ...base, groupKey: toHex(o.groupKey), qualified: o.qualified, publicDigest: digestOf(o.public), ...extra };
}

async function handle(c: Command): Promise<Record<string, unknown>> {
  switch (c.cmd) {
    case 'mesh': {
      self = num(c['self'], 'self');
      for (const p of c['peers'] as PeerInfo[]) if (p.member !== self) peers.set(p.member, p);
      // Each pair dials once: the lower number dials the higher.
      await Promise.all([...peers.values()].filter((p) => p.member > self).map((p) => manager.dial(`${p.publicKey}@127.0.0.1:${p.port}`)));
      const want = [...peers.values()].map((p) => toHex(peerIdOf(fromHex(p.publicKey))));
      const deadline = Date.now() + 20_000;
      while (!want.every((id) => manager.channel(fromHex(id))?.isOpen === true)) {
        if (Date.now() > deadline) throw new Error(`member ${self}: no channel to every member after 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return {};
    }
    case 'dkg': {
      const of = members(c['members']);
      const since = process.cpuUsage();
      const o = await runDkg({
        messenger,
        roster: identityRoster(of),
        self,
        threshold: num(c['threshold'], 'threshold'),
        sessionId: fromHex(str(c['sessionId'], 'sessionId')),
        start: num(c['start'], 'start'),
        deltaMs: num(c['deltaMs'], 'deltaMs'),
        secretKey: keys.secretKey,
      });
      const r = report(o, since);
      if (o.kind === 'done' && o.share !== undefined) groups.set(str(c['label'], 'label'), { public: o.public, share: o.share, members: of });
      return r;
    }
    case 'serve': {
      const k = keyOf(str(c['label'], 'label'));
      const group = groupPublicFromFrost(k.public);
      const roster = new Map(k.members.map((m) => [m, m === self ? manager.peerId : peerIdOf(fromHex(peers.get(m)!.publicKey))] as const));
      const signer = new SignerCore({ group, share: makeMemberShare(self, k.share.signingShare), nonces: new MemoryNonceStore() });
      new SignerService({ messenger, signer, roster }).start();
      serving = { group, signer, roster };
      return {};
    }
    case 'sign': {
      if (serving === undefined) throw new Error('sign before serve');
      const { group, signer, roster } = serving;
      const count = num(c['count'], 'count');
      const available = members(c['available']);
      const local = available.includes(self) ? signer : undefined;
      // The coordinator keeps commitments fetched ahead (one round trip per signature), refilled between
      // signatures as a real coordinator's would be; the refill is awaited outside the timing.
      const peers = { messenger, group, roster, ...(local ? { local } : {}) };
      const pool = c['pool'] === false ? undefined : new CommitmentPool({ members: available, fetch: commitmentFetcher(peers), announce: commitmentAnnouncer(peers) });
      const times: number[] = [];
      const signers: number[][] = [];
      for (let i = 0; i < count; i++) {
        await pool?.refill();
        const message = new TextEncoder().encode(`threshold bench ${self} ${i} ${Date.now()}`);
        const t0 = performance.now();
        const r = await coordinateSignature({ messenger, group, roster, message, available, ...(local ? { local } : {}), ...(pool ? { pool } : {}) });
        times.push(performance.now() - t0);
        // Outside the timing: the coordinator already checked the aggregate; check it once more as plain Ed25519.
        if (!verifyGroupSignature(group, r.signature, message)) throw new Error(`signature ${i} does not verify`);
        signers.push([...r.signers]);
      }
      pool?.close();
      return { times, signers };
    }
    case 'refresh': {
      const label = str(c['label'], 'label');
      const k = keyOf(label);
      const since = process.cpuUsage();
      const o = await runRefresh({
        messenger,
        roster: identityRoster(k.members),
        public: k.public,
        share: k.share,
        sessionId: fromHex(str(c['sessionId'], 'sessionId')),
        start: num(c['start'], 'start'),
        deltaMs: num(c['deltaMs'], 'deltaMs'),
        secretKey: keys.secretKey,
      });
      const changed = o.kind === 'done' && o.share !== undefined && toHex(o.share.signingShare) !== toHex(k.share.signingShare);
      const r = report(o, since, { shareChanged: changed });
      if (o.kind === 'done' && o.share !== undefined) groups.set(`${label}:refreshed`, { public: o.public, share: o.share, members: k.members });
      return r;
    }
    case 'warm': {
      // JIT and noble's precomputed tables, off the clock: a 3-of-4 DKG in the simulator (the dealing core's
      // code paths and ed25519) and some secp256k1 signatures (what signs and checks every DKG message).
      const sigs = hmacSignatures(1);
      const sessionId = new Uint8Array(16).fill(7);
      const parties = [1, 2, 3, 4].map((party) => ({
        party,
        signer: sigs.signer(party),
        session: new DkgMember({ sessionId, self: party, n: 4, threshold: 3, start: 0, delta: 100, signer: sigs.signer(party), verifier: sigs.verifier }),
      }));
      const r = simulate({ seed: 1, sessionId, parties, delta: 100, start: 0 });
      if (![...r.outcomes.values()].every((o) => o?.kind === 'done')) throw new Error('warm-up DKG did not finish');
      const m = new Uint8Array(256);
      for (let i = 0; i < 30; i++) if (!verify(keys.publicKey, m, sign(keys.secretKey, m))) throw new Error('secp256k1 warm-up failed');
      return {};
    }
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

async function shutdown(code: number): Promise<void> {
  messenger.close();
  await manager.close().catch(() => {});
  process.exit(code);
}

serveCommands(handle, shutdown, { port, publicKey: toHex(keys.publicKey) });
