import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCommand } from '../commands/index.js';
import { createIdentity, DEFAULT_POW_DIFFICULTY, generateKeyPair, toHex, type KeyPair } from '../identity/index.js';
import { topicsFor } from '../telemetry/index.js';
import { startEmbeddedBroker } from './broker.js';
import { opensslVerify } from './committee.js';
import { AgentProcess, type AgentEvent } from './process.js';
import { ProofLines } from './proofs.js';
import { renderTable, type AgentRow } from './table.js';
import { FleetWatcher } from './watcher.js';

export interface DemoOptions {
  readonly agents: number;
  /** Exit 0 once every agent is ready (after stopping them), non-zero if one fails. */
  readonly exitWhenReady: boolean;
  /** How long agents may take to become ready. */
  readonly timeoutSec: number;
  /** Keep the temporary data directories (for inspecting audit trails and keystores). */
  readonly keep: boolean;
  /** An MQTT broker to use instead of the embedded one. */
  readonly broker?: string;
}

const FLEET = 'demo';

/** The demo's MQTT side: the broker URL, the watcher reading it back, and the operator key that signs commands. */
interface Monitor {
  readonly url: string;
  readonly watcher: FleetWatcher;
  readonly operator: KeyPair;
  readonly pinged: Set<string>;
  /** The agents' membership proofs to each other, one line each. */
  readonly proofs: ProofLines;
  /** The committee's signature, once the fleet is up: asked of member agent-1, checked by openssl. */
  committee?: CommitteeCheck;
  /** A committee of ORDER_COMMITTEE_SIZE orders an operation through PBFT once its signature is verified. */
  order?: OrderCheck;
  /** With four agents or more: agent-1 seals SEALED_ATTRIBUTE for the gateways (agents 2 and 3); agents 2, 3 and 4 try to read it. */
  sealed?: SealedCheck;
}

interface SealedCheck {
  state: 'waiting' | 'seal-sent' | 'reads-sent' | 'done' | 'failed';
  /** The outcome, shown under the table: one line per board once the reads are in. */
  lines: string[];
}

const SEALED_ATTRIBUTE = 'wifi-psk';
const SEALED_VALUE = 'demo gateway wifi passphrase';

interface OrderCheck {
  readonly value: Uint8Array;
  state: 'waiting' | 'put-sent' | 'get-sent' | 'done' | 'failed';
  line?: string;
}

interface CommitteeCheck {
  /** Peer ids of the committee's agents (the first COMMITTEE_SIZE). */
  readonly members: string[];
  readonly message: Uint8Array;
  state: 'waiting' | 'sent' | 'checking' | 'verified' | 'failed';
  /** The outcome, shown under the table. */
  line?: string;
}

/** The demo fleet's committee: its first agents, any two of which sign; four of them (with four agents or more) also run PBFT. */
const COMMITTEE_SIZE = 3;
const ORDER_COMMITTEE_SIZE = 4;
const COMMITTEE_THRESHOLD = 2;
const ORDER_KEY = 'demo-key';

interface Slot {
  row: { -readonly [K in keyof AgentRow]: AgentRow[K] };
  publicKey?: string;
  proc?: AgentProcess;
}

const STOP_GRACE_MS = 12_000;

function onAgentEvent(slot: Slot, event: AgentEvent): void {
  const { row } = slot;
  if (event.kind === 'log') {
    const r = event.record;
    if (typeof r.state === 'string') row.state = r.state;
    if (typeof r.peerId === 'string') row.peerId = r.peerId;
    if (r.event === 'listening' && typeof r.address === 'string') row.listen = r.address;
    if (typeof r.channels === 'number') row.channels = r.channels;
    // The board once, from its own line (status lines repeat it and would hide the committee's news).
    if (r.event === 'board' && typeof r.board === 'string') row.detail = `board ${r.board}`;
    if (r.event === 'committee.key' && typeof r.groupKey === 'string') row.detail = `committee key ${r.groupKey.slice(0, 16)}… (${String(r.source)})`;
    else if (r.event === 'committee.dkg' && (r.proposal === 'sent' || r.proposal === 'accepted')) row.detail = 'committee: DKG running';
    if (typeof r.level === 'number' && r.level >= 50 && typeof r.msg === 'string') row.detail = r.msg;
  } else if (event.kind === 'stderr') {
    row.detail = event.line.slice(0, 100);
  } else {
    row.state = event.signal ? `killed (${event.signal})` : `exited (${event.code})`;
  }
}

/** Starts a local fleet of agent processes, shows their status, and stops them cleanly. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = process.stdout;
  const root = await mkdtemp(join(tmpdir(), 'edge-agent-demo-'));
  const slots: Slot[] = Array.from({ length: opts.agents }, (_, i) => ({
    row: {
      name: `agent-${i + 1}`,
      peerId: null,
      pid: null,
      listen: null,
      state: 'preparing',
      channels: null,
      mqtt: null,
      agentState: null,
      telemetry: null,
      alive: null,
      command: null,
      detail: '',
    },
  }));
  const signals = { interrupted: false };
  const onSignal = (): void => {
    signals.interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // If the demo itself dies, its agents (in their own process groups) must not linger.
  const killAll = (): void => slots.forEach((s) => s.proc?.kill());
  process.on('exit', killAll);
  const table = new LiveTable(out);

  let code = 1;
  const embedded = opts.broker === undefined ? await startEmbeddedBroker() : undefined;
  const url = opts.broker ?? embedded!.url;
  let monitor: Monitor | undefined;
  try {
    const proofs = new ProofLines((peer) => slots.find((s) => s.row.peerId === peer)?.row.name);
    monitor = { url, watcher: await FleetWatcher.connect(url, FLEET), operator: generateKeyPair(), pinged: new Set(), proofs };
    out.write(`edge-agent demo: ${opts.agents} agents, MQTT ${embedded ? `embedded broker at ${url}` : url}, data in ${root}\n`);
    if (await provision(root, slots, signals, monitor)) code = await watch(opts, slots, table, signals, monitor, root);
  } finally {
    await Promise.all(slots.map((s) => s.proc?.stop(STOP_GRACE_MS)));
    if (monitor) {
      // Give the clean "offline" statuses a moment to come back, so the last table shows them.
      await new Promise((r) => setTimeout(r, 300));
      readBack(slots, monitor);
      monitor.operator.secretKey.fill(0);
      await monitor.watcher.close();
    }
    await embedded?.close();
    if (slots.some((s) => s.proc)) table.draw(slots, true, notes(monitor));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAll);
    if (opts.keep) out.write(`kept ${root}\n`);
    else await rm(root, { recursive: true, force: true });
  }
  // Ready is not enough: every agent must also have stopped cleanly.
  const unclean = slots.filter((s) => s.proc && s.row.state !== 'exited (0)');
  if (code === 0 && unclean.length > 0) {
    process.stderr.write(`edge-agent demo: unclean stop: ${unclean.map((s) => `${s.row.name} ${s.row.state}`).join(', ')}\n`);
    return 1;
  }
  return code;
}

/**
 * Gives each agent a data directory, an identity with proof of work and a config,
 * then starts them one by one. Each listens on a port of its own choosing and dials
 * every agent started before it, so the fleet ends as a full mesh with no port races.
 */
async function provision(root: string, slots: Slot[], signals: { interrupted: boolean }, monitor: Monitor): Promise<boolean> {
  for (const slot of slots) {
    if (signals.interrupted) return false;
    const dataDir = join(root, slot.row.name);
    await mkdir(dataDir, { mode: 0o700 });
    const identity = await createIdentity(dataDir, { difficulty: DEFAULT_POW_DIFFICULTY });
    slot.row.peerId = toHex(identity.peerId);
    slot.publicKey = toHex(identity.publicKey);
    identity.destroy();
  }
  // A committee needs two members at least (FROST's smallest threshold); a one-agent demo has none.
  const size = slots.length >= ORDER_COMMITTEE_SIZE ? ORDER_COMMITTEE_SIZE : COMMITTEE_SIZE;
  const committee = slots.length >= COMMITTEE_THRESHOLD ? slots.slice(0, size).map((s) => s.row.peerId!) : [];
  if (committee.length > 0) {
    monitor.committee = { members: committee, message: new TextEncoder().encode(`edge-agent demo: signed by ${COMMITTEE_THRESHOLD} of the ${committee.length}-member committee`), state: 'waiting' };
  }
  if (slots.length >= 4) monitor.sealed = { state: 'waiting', lines: [`sealed: after the committee, agent-1 seals ${SEALED_ATTRIBUTE} for role gateway (agent-2, agent-3)`] };
  if (committee.length >= ORDER_COMMITTEE_SIZE) {
    monitor.order = { value: new TextEncoder().encode(`ordered by the ${committee.length}-member committee`), state: 'waiting' };
  }
  const started: Slot[] = [];
  for (const slot of slots) {
    if (signals.interrupted) return false;
    const dataDir = join(root, slot.row.name);
    const config = {
      fleet: FLEET,
      nodeName: slot.row.name,
      dataDir,
      role: committee.includes(slot.row.peerId!) ? 'committee' : 'worker',
      ...(committee.length > 0 ? { committee: { threshold: Math.min(COMMITTEE_THRESHOLD, committee.length), members: committee } } : {}),
      // The demo shows the agents proving their fleet membership to each other.
      zkp: { challenge: true },
      log: { level: 'info' },
      status: { intervalMs: 1000 },
      network: { listen: '127.0.0.1:0', bootstrap: started.map((s) => `${s.publicKey}@${s.row.listen}`) },
      telemetry: { broker: monitor.url, intervalMs: 2000, keepaliveSec: 5 },
      operators: [{ name: 'demo', publicKey: toHex(monitor.operator.publicKey) }],
      liveness: { intervalMs: 2000, deadlineMs: 1000 },
    };
    const file = join(dataDir, 'config.json');
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
    slot.row.state = 'starting';
    slot.proc = new AgentProcess(file, (event) => {
      onAgentEvent(slot, event);
      if (event.kind === 'log') monitor.proofs.take(slot.row.name, event.record);
    });
    slot.row.pid = slot.proc.pid;
    if (!(await listening(slot, signals))) return true; // watch() reports the agent that failed
    started.push(slot);
  }
  return true;
}

/** Waits until the agent reports the address it listens on, or stops trying if it exits. */
async function listening(slot: Slot, signals: { interrupted: boolean }): Promise<boolean> {
  while (slot.row.listen === null) {
    if (!slot.proc?.running || signals.interrupted) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Shows the table until every agent is ready (with --exit-when-ready), one fails, or a signal comes. */
async function watch(opts: DemoOptions, slots: Slot[], table: LiveTable, signals: { interrupted: boolean }, monitor: Monitor, root: string): Promise<number> {
  const deadline = performance.now() + opts.timeoutSec * 1000;
  for (;;) {
    readBack(slots, monitor);
    await pingOperational(slots, monitor);
    table.draw(slots, false, notes(monitor));
    const failed = slots.find((s) => !s.proc?.running);
    if (failed) {
      process.stderr.write(`edge-agent demo: ${failed.row.name} ${failed.row.state}: ${failed.row.detail}\n`);
      return 1;
    }
    const others = slots.length - 1;
    const meshed = slots.every(
      (s) =>
        s.row.state === 'ready' &&
        s.row.channels === others &&
        s.row.mqtt === 'online' &&
        s.row.agentState === 'OPERATIONAL' &&
        s.row.telemetry !== null &&
        s.row.alive === others &&
        s.row.command === 'ping ok',
    );
    // Once the fleet is up, the committee signs (its members reached OPERATIONAL only with their key).
    if (meshed) await committeeSignature(slots, monitor, root);
    const signed = monitor.committee === undefined || monitor.committee.state === 'verified';
    // Then, with a committee of four or more, an operation ordered through PBFT.
    if (meshed && signed) await committeeOrder(slots, monitor);
    const ordered = monitor.order === undefined || monitor.order.state === 'done';
    // Then a sealed attribute that only the gateways read.
    if (meshed && signed && ordered) await sealedConfig(slots, monitor);
    const sealed = monitor.sealed === undefined || monitor.sealed.state === 'done';
    if (opts.exitWhenReady && monitor.sealed?.state === 'failed') {
      table.draw(slots, true, notes(monitor));
      process.stderr.write(`edge-agent demo: ${monitor.sealed.lines.join('; ')}\n`);
      return 1;
    }
    // Every agent proves its fleet membership to every other one (when the circuits were built).
    const proven = monitor.proofs.complete(slots.length);
    if (opts.exitWhenReady && monitor.proofs.refused > 0) {
      table.draw(slots, true, notes(monitor));
      process.stderr.write(`edge-agent demo: ${monitor.proofs.refused} membership proof(s) refused\n`);
      return 1;
    }
    if (opts.exitWhenReady && monitor.committee?.state === 'failed') {
      table.draw(slots, true, notes(monitor));
      process.stderr.write(`edge-agent demo: ${monitor.committee.line ?? 'committee signature failed'}\n`);
      return 1;
    }
    if (opts.exitWhenReady && monitor.order?.state === 'failed') {
      table.draw(slots, true, notes(monitor));
      process.stderr.write(`edge-agent demo: ${monitor.order.line ?? 'committee order failed'}\n`);
      return 1;
    }
    if (opts.exitWhenReady && meshed && signed && ordered && sealed && proven) {
      table.draw(slots, false, notes(monitor));
      table.out.write(`all agents OPERATIONAL on MQTT, each with ${others} channels and ${others} live peers, signed ping answered\n`);
      if (monitor.proofs.enabled) table.out.write(`zkp: ${monitor.proofs.lines().length} membership proofs between the agents, all accepted\n`);
      return 0;
    }
    if (opts.exitWhenReady && performance.now() > deadline) {
      process.stderr.write(`edge-agent demo: agents not ready after ${opts.timeoutSec} s\n`);
      return 1;
    }
    if (signals.interrupted) return 0;
    await new Promise((r) => setTimeout(r, table.out.isTTY ? 500 : 100));
  }
}

/** Lines shown under the table. */
function notes(monitor: Monitor | undefined): string[] {
  return [...committeeNotes(monitor), ...(monitor?.sealed?.lines ?? []), ...(monitor?.proofs.lines() ?? [])];
}

function committeeNotes(monitor: Monitor | undefined): string[] {
  const c = monitor?.committee;
  if (c === undefined) return [];
  const state =
    c.line ??
    (c.state === 'waiting' ? `committee: ${c.members.length} members, threshold ${COMMITTEE_THRESHOLD}; DKG, then a committee signature` : `committee signature: ${c.state}`);
  const o = monitor?.order;
  if (o === undefined) return [state];
  return [state, o.line ?? (o.state === 'waiting' ? 'committee order: after the signature, a put through PBFT' : `committee order: ${o.state}`)];
}

/**
 * Asks committee member agent-1 to order `put demo-key <value>` through the committee's PBFT (a signed command over
 * MQTT), then a get of the same key, and shows where they executed. One step per call, like committeeSignature.
 */
async function committeeOrder(slots: readonly Slot[], monitor: Monitor): Promise<void> {
  const o = monitor.order;
  const target = monitor.committee?.members[0];
  if (o === undefined || target === undefined || o.state === 'done' || o.state === 'failed') return;
  const send = async (args: { op: 'put' | 'get'; key: string; value?: string }): Promise<void> => {
    const command = signCommand({ secretKey: monitor.operator.secretKey, fleet: FLEET, target, name: 'committee-order', args, ttlMs: 60_000 });
    await monitor.watcher.publish(topicsFor(FLEET, target).cmd, command);
  };
  if (o.state === 'waiting') {
    o.state = 'put-sent';
    await send({ op: 'put', key: ORDER_KEY, value: Buffer.from(o.value).toString('hex') });
    return;
  }
  // The watcher starts with the demo: agent-1's first committee-order result is the put's, the second the get's.
  const results = monitor.watcher.agents.get(target)?.committeeOrders ?? [];
  const name = slots.find((s) => s.row.peerId === target)?.row.name ?? target.slice(0, 8);
  const put = results[0];
  if (put === undefined) return;
  if (!put.ok || put.view === undefined || put.seq === undefined) {
    o.state = 'failed';
    o.line = `committee order: ${name} could not order the put (${put.reason ?? 'no view or seq in the answer'})`;
    return;
  }
  const committed = `committee order: committed in view ${put.view} at seq ${put.seq} (put ${ORDER_KEY}, asked of ${name})`;
  if (o.state === 'put-sent') {
    o.state = 'get-sent';
    o.line = committed;
    await send({ op: 'get', key: ORDER_KEY });
    return;
  }
  const get = results[1];
  if (get === undefined) return;
  const same = get.ok && get.value === Buffer.from(o.value).toString('hex');
  // The put is what --exit-when-ready needs; the read-back is shown, and a mismatch fails the demo.
  o.state = same ? 'done' : 'failed';
  o.line = same ? `${committed}; read back by a get at seq ${String(get.seq)}: the same value` : `${committed}; the get answered ${get.ok ? `another value (${String(get.value)})` : String(get.reason)}`;
}

/**
 * agent-1 seals SEALED_ATTRIBUTE for the boards of role "gateway" (agents 2 and 3), then agents 2, 3 and 4 each
 * read it from agent-1: the gateways read it, agent-4 is refused (NOT_AUTHORIZED). One step per call.
 */
async function sealedConfig(slots: readonly Slot[], monitor: Monitor): Promise<void> {
  const s = monitor.sealed;
  if (s === undefined || s.state === 'done' || s.state === 'failed') return;
  const owner = slots[0]!.row.peerId!;
  const gateways = slots.slice(1, 3).map((x) => x.row.peerId!);
  const boards = slots.slice(1, 4).map((x) => x.row.peerId!);
  const nameOf = (peer: string): string => slots.find((x) => x.row.peerId === peer)?.row.name ?? peer.slice(0, 8);
  const send = async (target: string, command: Uint8Array): Promise<void> => monitor.watcher.publish(topicsFor(FLEET, target).cmd, command);
  if (s.state === 'waiting') {
    s.state = 'seal-sent';
    const args = { attribute: SEALED_ATTRIBUTE, value: Buffer.from(SEALED_VALUE).toString('hex'), readers: gateways.join(',') };
    await send(owner, signCommand({ secretKey: monitor.operator.secretKey, fleet: FLEET, target: owner, name: 'seal-config', args, ttlMs: 60_000 }));
    return;
  }
  if (s.state === 'seal-sent') {
    const sealed = monitor.watcher.agents.get(owner)?.sealed?.find((r) => r.name === 'seal-config');
    if (sealed === undefined) return;
    if (!sealed.ok || sealed.record === undefined) {
      s.state = 'failed';
      s.lines = [`sealed: ${nameOf(owner)} could not seal ${SEALED_ATTRIBUTE} (${sealed.reason ?? 'no record in the answer'})`];
      return;
    }
    s.state = 'reads-sent';
    s.lines = [`sealed: ${nameOf(owner)} sealed ${SEALED_ATTRIBUTE} for role gateway (${gateways.map(nameOf).join(', ')}), record ${sealed.record.slice(0, 16)}… state ${String(sealed.state)}`];
    const args = { record: sealed.record, attribute: SEALED_ATTRIBUTE, from: owner };
    for (const board of boards) await send(board, signCommand({ secretKey: monitor.operator.secretKey, fleet: FLEET, target: board, name: 'read-sealed', args, ttlMs: 60_000 }));
    return;
  }
  const reads = boards.map((b) => monitor.watcher.agents.get(b)?.sealed?.find((r) => r.name === 'read-sealed'));
  if (reads.some((r) => r === undefined)) return;
  s.lines = [
    s.lines[0]!,
    ...boards.map((b, i) => {
      const r = reads[i]!;
      return `sealed: ${nameOf(b)} ${r.ok ? `read ok (${String(r.valueBytes)} bytes)` : `refused (${r.reason ?? 'no code'})`}`;
    }),
  ];
  // The point of the step: exactly the gateways read, and the other board is refused for the policy's reason.
  const right = boards.every((b, i) => (gateways.includes(b) ? reads[i]!.ok && reads[i]!.valueBytes === Buffer.byteLength(SEALED_VALUE) : reads[i]!.reason === 'NOT_AUTHORIZED'));
  s.state = right ? 'done' : 'failed';
}

/**
 * Asks committee member agent-1 for a committee signature (a signed command over MQTT), then has openssl check
 * the answer against the group key. One step per call: the watch loop keeps drawing meanwhile.
 */
async function committeeSignature(slots: readonly Slot[], monitor: Monitor, root: string): Promise<void> {
  const c = monitor.committee;
  if (c === undefined) return;
  const target = c.members[0]!;
  if (c.state === 'waiting') {
    const command = signCommand({
      secretKey: monitor.operator.secretKey,
      fleet: FLEET,
      target,
      name: 'committee-sign',
      args: { message: Buffer.from(c.message).toString('hex') },
      ttlMs: 60_000,
    });
    c.state = 'sent';
    await monitor.watcher.publish(topicsFor(FLEET, target).cmd, command);
    return;
  }
  if (c.state !== 'sent') return;
  const answer = monitor.watcher.agents.get(target)?.committeeSign;
  if (answer === undefined) return;
  const name = slots.find((s) => s.row.peerId === target)?.row.name ?? target.slice(0, 8);
  if (!answer.ok || answer.signature === undefined || answer.groupKey === undefined) {
    c.state = 'failed';
    c.line = `committee signature: ${name} could not sign (${answer.reason ?? 'no signature in the answer'})`;
    return;
  }
  c.state = 'checking';
  const verdict = await opensslVerify(join(root, 'committee'), Buffer.from(answer.groupKey, 'hex'), c.message, Buffer.from(answer.signature, 'hex'));
  c.state = verdict.verified ? 'verified' : 'failed';
  c.line = verdict.verified
    ? `committee signature: verified by openssl (group key ${answer.groupKey.slice(0, 16)}…, signers ${(answer.signers ?? []).join(',')}, coordinated by ${name})`
    : `committee signature: NOT verified by openssl: ${verdict.output}`;
}

/** Copies what the watcher read from MQTT into the rows. */
function readBack(slots: readonly Slot[], monitor: Monitor): void {
  for (const slot of slots) {
    const seen = slot.row.peerId ? monitor.watcher.agents.get(slot.row.peerId) : undefined;
    if (!seen) continue;
    slot.row.mqtt = seen.mqtt ?? null;
    slot.row.agentState = seen.agentState ?? null;
    if (seen.telemetrySeq !== undefined) {
      slot.row.telemetry = `#${seen.telemetrySeq}${seen.cpuLoadPercent !== undefined ? ` cpu ${seen.cpuLoadPercent.toFixed(0)}%` : ''}`;
    }
    slot.row.alive = seen.peersAlive ?? null;
    slot.row.command = seen.lastCommand ?? null;
  }
}

/** Sends each agent, once it is OPERATIONAL on MQTT, a ping signed by the demo's operator key. */
async function pingOperational(slots: readonly Slot[], monitor: Monitor): Promise<void> {
  for (const slot of slots) {
    const peer = slot.row.peerId;
    if (!peer || slot.row.agentState !== 'OPERATIONAL' || slot.row.mqtt !== 'online' || monitor.pinged.has(peer)) continue;
    monitor.pinged.add(peer);
    const command = signCommand({ secretKey: monitor.operator.secretKey, fleet: FLEET, target: peer, name: 'ping', ttlMs: 60_000 });
    slot.row.command = 'ping sent';
    await monitor.watcher.publish(topicsFor(FLEET, peer).cmd, command);
  }
}

/** A terminal gets a table redrawn in place; a pipe or log gets a new table only when something changed. */
class LiveTable {
  private lines = 0;
  private last = '';
  constructor(readonly out: NodeJS.WriteStream) {}

  draw(slots: readonly Slot[], fresh: boolean, notes: readonly string[] = []): void {
    const text = [renderTable(slots.map((s) => s.row as AgentRow)), ...notes].join('\n');
    if (!fresh && !this.out.isTTY && text === this.last) return;
    if (this.out.isTTY && this.lines > 0 && !fresh) this.out.write(`\x1b[${this.lines}A\x1b[J`);
    this.out.write(`${text}\n`);
    this.lines = text.split('\n').length;
    this.last = text;
  }
}
