/**
 * Issue 6's bar: 30 real agent processes on loopback form the overlay over
 * their secure channels, and every agent's map converges to the true set of
 * confirmed edges. The truth comes from the agents' own link logs (who dialled
 * whom); each agent's map from its 'overlay' log line (a digest of its sorted
 * confirmed edges). The topology is sparse and seeded: each agent bootstraps
 * to at most two earlier ones, so most of the map reaches an agent by gossip
 * and catch-up, not by its own links.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { AgentProcess, type AgentEvent } from '../../src/demo/index.js';
import { DEFAULT_POW_DIFFICULTY, createIdentity, toHex } from '../../src/identity/index.js';
import { freePort } from '../helpers/ports.js';
import { seededRandom } from '../helpers/random.js';

const AGENTS = 30;

interface Agent {
  readonly name: string;
  readonly peerId: string;
  readonly publicKey: string;
  readonly port: number;
  /** Current links: neighbour → direction, from 'overlay.link' lines. */
  readonly links: Map<string, 'in' | 'out'>;
  map: string | null;
  edges: number;
  list: string[];
  last?: string;
  /** The last few warnings the agent logged (failed dials, refused handshakes), for a failure's message. */
  readonly warnings: string[];
  proc?: AgentProcess;
  exit?: string;
  stderr: string[];
}

/** The digest OverlayNode logs: SHA-256 of the sorted "from>to" lines, first 16 hex. */
function mapDigest(edges: readonly string[]): string {
  return createHash('sha256').update([...edges].sort().join('\n')).digest('hex').slice(0, 16);
}

/** The links that exist, as dialled, when both ends agree on them; null while they do not. */
function truth(agents: readonly Agent[]): string[] | null {
  const byId = new Map(agents.map((a) => [a.peerId, a]));
  const out: string[] = [];
  for (const a of agents) {
    for (const [peer, direction] of a.links) {
      if (byId.get(peer)?.links.get(a.peerId) !== (direction === 'out' ? 'in' : 'out')) return null;
      if (direction === 'out') out.push(`${a.peerId}>${peer}`);
    }
  }
  return out;
}

function onEvent(agent: Agent, event: AgentEvent): void {
  if (event.kind === 'exit') {
    agent.exit = event.signal ?? String(event.code);
    return;
  }
  if (event.kind === 'stderr') {
    agent.stderr.push(event.line);
    return;
  }
  const r = event.record;
  if (typeof r.level === 'number' && r.level >= 40) {
    agent.warnings.push(`${String(r.event ?? '')} ${String(r.reason ?? '')} ${String(r.err ?? r.msg ?? '')}`.slice(0, 160));
    if (agent.warnings.length > 3) agent.warnings.shift();
  }
  if (r.event === 'overlay.link' && typeof r.peer === 'string') {
    if (r.link === 'up' && (r.direction === 'in' || r.direction === 'out')) agent.links.set(r.peer, r.direction);
    else if (r.link === 'down') agent.links.delete(r.peer);
  } else if (r.event === 'overlay' && typeof r.map === 'string' && typeof r.edges === 'number') {
    agent.map = r.map;
    agent.edges = r.edges;
    agent.last = JSON.stringify({ rejected: r.rejected, catchUpsSent: r.catchUpsSent, corrections: r.corrections, dropped: r.dropped });
  } else if (r.event === 'overlay.edges' && Array.isArray(r.edges)) {
    agent.list = r.edges.filter((e): e is string => typeof e === 'string');
  }
}

test('30 agent processes: every map converges to the true set of confirmed edges', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'edge-agent-fleet-'));
  const agents: Agent[] = [];
  t.teardown(async () => {
    await Promise.all(agents.map((a) => a.proc?.stop(5_000)));
    await rm(root, { recursive: true, force: true });
  });
  for (let i = 0; i < AGENTS; i++) {
    const dataDir = join(root, `agent-${i}`);
    await mkdir(dataDir, { mode: 0o700 });
    const identity = await createIdentity(dataDir, { difficulty: DEFAULT_POW_DIFFICULTY });
    agents.push({
      name: `agent-${i}`,
      peerId: toHex(identity.peerId),
      publicKey: toHex(identity.publicKey),
      port: await freePort(),
      links: new Map(),
      map: null,
      edges: 0,
      list: [],
      warnings: [],
      stderr: [],
    });
    identity.destroy();
  }
  // Ports are chosen up front so that all agents start at once; dials to a peer not up yet are retried.
  const random = seededRandom(6); // the same topology on every run
  for (const [i, agent] of agents.entries()) {
    const earlier = agents.slice(0, i);
    const picks = new Set<Agent>();
    while (picks.size < Math.min(2, earlier.length)) picks.add(earlier[Math.floor(random() * earlier.length)]!);
    const config = {
      fleet: 'overlay-test',
      nodeName: agent.name,
      dataDir: join(root, agent.name),
      log: { level: 'debug' },
      status: { intervalMs: 60_000 },
      network: { listen: `127.0.0.1:${agent.port}`, bootstrap: [...picks].map((p) => `${p.publicKey}@127.0.0.1:${p.port}`) },
      liveness: { challenge: false },
    };
    const file = join(root, agent.name, 'config.json');
    await writeFile(file, JSON.stringify(config));
    agent.proc = new AgentProcess(file, (event) => onEvent(agent, event));
  }

  // A safety net, not a speed bar: under CI load 30 starting processes can be slow to dial each other.
  const deadline = Date.now() + 140_000; // under ava's 3-minute inactivity timeout
  let want: string[] | null = null;
  for (;;) {
    const gone = agents.find((a) => a.exit !== undefined);
    if (gone) t.fail(`${gone.name} exited (${gone.exit}): ${gone.stderr.slice(-3).join(' | ')}`);
    want = truth(agents);
    const expected = want === null ? null : mapDigest(want);
    const linked = agents.every((a) => a.links.size > 0);
    if (gone || (linked && expected !== null && want!.length >= AGENTS - 1 && agents.every((a) => a.map === expected))) break;
    if (Date.now() > deadline) {
      const counts = agents.map((a) => `${a.name}:${a.edges}${a.map === expected ? '' : '!'}`).join(' ');
      const lonely = agents.filter((a) => a.links.size === 0).map((a) => `${a.name} has no link; last warnings: ${a.warnings.join(' | ')}`);
      t.fail(`maps not converged in 140 s; true edges ${want?.length ?? 'unsettled'}; per agent (! = differs): ${counts}. ${lonely.join('. ')}`);
      const diagnosis: string[] = [];
      const name = (h: string): string => agents.find((a) => a.peerId === h)?.name ?? h.slice(0, 8);
      const named = (e: string): string => e.split('>').map(name).join('>');
      for (const a of agents.filter((x) => x.map !== expected)) {
        const have = new Set(a.list);
        const missing = (want ?? []).filter((e) => !have.has(e)).map(named);
        const extra = a.list.filter((e) => !(want ?? []).includes(e)).map(named);
        diagnosis.push(`${a.name} missing ${missing.join(' ')} extra ${extra.join(' ')} last: ${a.last}`);
      }
      await writeFile(join(tmpdir(), 'edge-agent-fleet-diagnosis.txt'), diagnosis.join('\n'));
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (want !== null) {
    t.true(want.length >= AGENTS - 1, `the overlay connects the fleet (${want.length} edges)`);
    t.true(agents.every((a) => a.edges === want!.length));
  }

  // A clean stop still works with the overlay running.
  await Promise.all(agents.map((a) => a.proc?.stop(10_000)));
  t.deepEqual(
    agents.filter((a) => a.exit !== '0').map((a) => `${a.name}:${a.exit}`),
    [],
  );
});
