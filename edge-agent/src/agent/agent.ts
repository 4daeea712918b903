import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AuditTrail } from '../audit/index.js';
import { detectBoard, type BoardProfile } from '../board/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import { loadIdentity, shortId, toHex, type LocalIdentity } from '../identity/index.js';
import { ConnectionManager } from '../transport/index.js';
import { Lifecycle, type AgentState, type Service, type StopReport } from './lifecycle.js';

export interface AgentStatus {
  readonly state: AgentState;
  readonly pid: number;
  readonly fleet: string;
  readonly peerId: string | null;
  readonly board: string | null;
  /** Where the transport listens, once it does. */
  readonly listen: string | null;
  /** Open channels to other agents. */
  readonly channels: number;
  readonly uptimeMs: number;
}

export interface AgentDeps {
  readonly log: Logger;
  readonly clock?: Clock;
}

/** The secret that, with the device secret, unlocks the keystore; absent means the device secret alone. */
export async function readPassphrase(file: string | undefined): Promise<Uint8Array | undefined> {
  if (file === undefined) return undefined;
  const raw = await readFile(file);
  // A trailing newline comes from editors and `echo`, not from the passphrase.
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  const passphrase = new Uint8Array(raw.subarray(0, end));
  raw.fill(0);
  return passphrase;
}

/**
 * The composition root: builds the agent's services from its config, starts them
 * in order, stops them in reverse, and reports its state. Later capabilities add
 * their services here.
 */
export class Agent {
  private readonly lifecycle: Lifecycle;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private identity: LocalIdentity | undefined;
  private profile: BoardProfile | undefined;
  private audit: AuditTrail | undefined;
  private transport: ConnectionManager | undefined;
  private listening: string | null = null;

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.lifecycle = new Lifecycle(this.services());
    this.lifecycle.onState((state) => deps.log.info({ event: 'state', ...this.status(), state }, `agent ${state}`));
  }

  private services(): Service[] {
    const { config, deps } = this;
    return [
      {
        name: 'board',
        start: async () => {
          const detected = await detectBoard({ override: config.board === 'auto' ? undefined : config.board });
          this.profile = detected.profile;
          deps.log.info({ event: 'board', board: detected.profile.id, detectedBy: detected.detectedBy, model: detected.model }, `board ${detected.profile.name}`);
        },
        stop: async () => {},
      },
      {
        name: 'identity',
        start: async () => {
          const passphrase = await readPassphrase(config.identity.passphraseFile);
          try {
            this.identity = await loadIdentity(config.dataDir, { passphrase });
          } finally {
            passphrase?.fill(0);
          }
          deps.log.info({ event: 'identity', peerId: toHex(this.identity.peerId) }, `identity ${shortId(this.identity.peerId)}`);
        },
        stop: async () => {
          this.identity?.destroy();
        },
      },
      {
        name: 'audit',
        start: async () => {
          this.audit = await AuditTrail.open(join(config.dataDir, 'audit'), { clock: this.clock });
          await this.audit.append('agent.start', { pid: process.pid, fleet: config.fleet });
        },
        stop: async () => {
          if (!this.audit) return;
          await this.audit.append('agent.stop', { pid: process.pid });
          await this.audit.close();
        },
      },
      this.transportService(),
      this.statusReporter(),
    ];
  }

  /** Secure channels (BOLT 8 over TCP): listen, dial the bootstrap peers, keep one channel per peer. */
  private transportService(): Service {
    const { config, deps } = this;
    return {
      name: 'transport',
      start: async () => {
        const secretKey = this.identity!.secretKeyCopy();
        try {
          this.transport = new ConnectionManager({ secretKey, logger: deps.log });
        } finally {
          secretKey.fill(0); // the manager keeps its own copy and wipes it on close
        }
        const manager = this.transport;
        const report = (event: 'open' | 'closed', peer: string, reason?: string): void =>
          deps.log.info({ event: 'channel', channel: event, peer, reason, channels: manager.channels().length }, `channel ${event} ${peer.slice(0, 8)}`);
        manager.onOpen((channel) => report('open', toHex(channel.remotePeerId)));
        manager.onClose((closed) => report('closed', closed.peer, closed.info.reason));
        const bound = await manager.listen(config.network.listen);
        this.listening = bound.host.includes(':') ? `[${bound.host}]:${bound.port}` : `${bound.host}:${bound.port}`;
        deps.log.info({ event: 'listening', address: this.listening, publicKey: toHex(manager.publicKey) }, `listening on ${this.listening}`);
        manager.connect(config.network.bootstrap);
      },
      stop: async () => {
        await this.transport?.close();
      },
    };
  }

  /** A periodic status line: the heartbeat an operator (and the demo) reads from the journal. */
  private statusReporter(): Service {
    let timer: { cancel(): void } | undefined;
    const tick = (): void => {
      this.deps.log.info({ event: 'status', ...this.status() }, 'status');
      timer = this.clock.setTimer(this.config.status.intervalMs, tick);
    };
    return {
      name: 'status',
      start: async () => {
        timer = this.clock.setTimer(this.config.status.intervalMs, tick);
      },
      stop: async () => timer?.cancel(),
    };
  }

  get state(): AgentState {
    return this.lifecycle.state;
  }

  status(): AgentStatus {
    return {
      state: this.lifecycle.state,
      pid: process.pid,
      fleet: this.config.fleet,
      peerId: this.identity ? toHex(this.identity.peerId) : null,
      board: this.profile?.id ?? null,
      listen: this.listening,
      channels: this.transport?.channels().length ?? 0,
      uptimeMs: this.clock.now() - this.startedAt,
    };
  }

  start(): Promise<void> {
    return this.lifecycle.start(this.config.shutdownTimeoutMs);
  }

  stop(): Promise<StopReport> {
    return this.lifecycle.stop(this.config.shutdownTimeoutMs);
  }
}
