import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { AuditTrail } from '../audit/index.js';
import { detectBoard, type BoardProfile } from '../board/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { CommandVerifier, ReplayGuard, parseOperatorKey } from '../commands/index.js';
import type { AgentConfig } from '../config/index.js';
import { Keystore, loadIdentity, shortId, toHex, type LocalIdentity } from '../identity/index.js';
import { LivenessChallenger, registerLivenessResponder, withLivenessMessages, type PeerStats } from '../liveness/index.js';
import { OverlayNode, loadReports, saveReports, withOverlayMessages } from '../mesh/index.js';
import { PtpClock, PtpNode, clockIdentityFromMac, openTransport, timePropertiesFor } from '../ptp/index.js';
import { MetricsRegistry } from '../metrics/index.js';
import { Orchestrator, type OrchestratorState } from '../orchestrator/index.js';
import { DurableQueue } from '../store/index.js';
import { BoardSampler, TelemetryService, type LinkTls } from '../telemetry/index.js';
import { withDkgMessages, withDkgProposalMessages, withThresholdMessages } from '../threshold/index.js';
import { withConsensusMessages } from '../consensus/index.js';
import { ConnectionManager, Messenger } from '../transport/index.js';
import { coreMessages } from '../wire/index.js';
import { withZkpMessages } from '../zkp/index.js';
import { withSealedMessages } from '../sealed/index.js';
import { AgreementError, CommitteeAgreement } from './agreement.js';
import { CommandDesk } from './command-desk.js';
import { CommitteeError, CommitteeService } from './committee.js';
import { FleetProofs } from './fleet-proofs.js';
import { Lifecycle, type AgentState, type Service, type StopReport } from './lifecycle.js';
import { SealedConfigError, SealedConfigService } from './sealed-config.js';
import { SdNotifier, type Notifier } from './notify.js';

export interface AgentStatus {
  /** The process lifecycle: created, starting, ready, stopping, stopped, failed. */
  readonly state: AgentState;
  /** The orchestrator's state: what the agent is in the fleet. */
  readonly orchestrator: OrchestratorState | null;
  readonly pid: number;
  readonly fleet: string;
  readonly peerId: string | null;
  readonly board: string | null;
  /** Where the transport listens, once it does. */
  readonly listen: string | null;
  /** Open channels to other agents. */
  readonly channels: number;
  /** Whether the MQTT broker is connected (null: no broker configured). */
  readonly mqtt: boolean | null;
  readonly uptimeMs: number;
}

export interface AgentDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** Called when a restart command asks the process to exit and be started again (by systemd). */
  readonly onRestart?: () => void;
  /** sd_notify to systemd (READY, STATUS, STOPPING, watchdog); defaults to an SdNotifier on this process's environment. */
  readonly notifier?: Notifier;
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
  /** Set when PTP is enabled: the agent's clock, following the port once it runs. */
  private readonly ptpClock: PtpClock | undefined;
  private ptp: PtpNode | undefined;
  private readonly notifier: Notifier;
  private readonly startedAt: number;
  readonly metrics = new MetricsRegistry();
  private identity: LocalIdentity | undefined;
  private profile: BoardProfile | undefined;
  private audit: AuditTrail | undefined;
  private orchestrator: Orchestrator | undefined;
  private transport: ConnectionManager | undefined;
  private messenger: Messenger | undefined;
  private challenger: LivenessChallenger | undefined;
  private fleetProofs: FleetProofs | undefined;
  private overlay: OverlayNode | undefined;
  private telemetry: TelemetryService | undefined;
  private committee: CommitteeService | undefined;
  private agreement: CommitteeAgreement | undefined;
  private sealedConfig: SealedConfigService | undefined;
  private listening: string | null = null;
  private stopRequested = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.ptpClock = config.ptp.enabled && deps.clock === undefined ? new PtpClock() : undefined;
    this.clock = deps.clock ?? this.ptpClock ?? systemClock;
    this.notifier = deps.notifier ?? new SdNotifier({ log: deps.log, clock: this.clock });
    this.startedAt = this.clock.now();
    this.lifecycle = new Lifecycle(this.services());
    this.lifecycle.onState((state) => deps.log.info({ event: 'state', ...this.status(), state }, `agent ${state}`));
    this.metrics.register('agent', () => ({
      state: this.orchestrator?.state ?? null,
      lifecycle: this.lifecycle.state,
      uptimeMs: this.clock.now() - this.startedAt,
    }));
    this.metrics.register('notify', () => this.notifier.stats());
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
      {
        name: 'orchestrator',
        start: async () => {
          const audit = this.audit!;
          this.orchestrator = new Orchestrator({ clock: this.clock, audit: (kind, data) => audit.append(kind, data), log: deps.log });
          // systemctl status shows what the agent is in the fleet.
          this.orchestrator.onTransition((t) => void this.notifier.status(t.to));
        },
        stop: async () => {},
      },
      this.ptpService(),
      this.transportService(),
      this.committeeService(),
      this.agreementService(),
      this.sealedService(),
      this.telemetryService(),
      this.statusReporter(),
    ];
  }

  /** Secure channels (BOLT 8 over TCP): listen, dial the bootstrap peers, keep one channel per peer; liveness and the overlay on top. */
  private transportService(): Service {
    const { config, deps } = this;
    let responder: { close(): void } | undefined;
    return {
      name: 'transport',
      start: async () => {
        const identity = this.identity!;
        const secretKey = identity.secretKeyCopy();
        try {
          this.transport = new ConnectionManager({ secretKey, logger: deps.log });
          const registry = withSealedMessages(withZkpMessages(withConsensusMessages(withDkgProposalMessages(withDkgMessages(withThresholdMessages(withOverlayMessages(withLivenessMessages(coreMessages))))))));
          this.messenger = new Messenger({ manager: this.transport, registry, clock: this.clock, logger: deps.log });
          responder = registerLivenessResponder(this.messenger, { secretKey, peerId: identity.peerId, clock: this.clock });
          this.fleetProofs = this.startFleetProofs(secretKey, identity.peerId);
        } finally {
          secretKey.fill(0); // each keeps its own copy and wipes it on close
        }
        const manager = this.transport;
        const report = (event: 'open' | 'closed', peer: string, reason?: string): void =>
          deps.log.info({ event: 'channel', channel: event, peer, reason, channels: manager.channels().length }, `channel ${event} ${peer.slice(0, 8)}`);
        manager.onOpen((channel) => report('open', toHex(channel.remotePeerId)));
        manager.onClose((closed) => report('closed', closed.peer, closed.info.reason));
        this.metrics.register('transport', () => ({ channels: manager.channels().length }));
        // The overlay follows every channel from the first one on, so it starts before we listen or dial.
        this.overlay = new OverlayNode({
          messenger: this.messenger,
          manager,
          signer: { secretKey: identity.secretKeyCopy(), publicKey: identity.publicKey, pow: identity.pow.nonce },
          clock: this.clock,
          log: deps.log,
          maxPeers: this.profile?.peerMapMaxPeers,
          onEvent: (kind, data) => void this.telemetry?.event(`overlay.${kind}`, data).catch(() => {}),
        });
        // The map from before a restart, verified again; a damaged file costs the map, not the start.
        try {
          const restored = this.overlay.restore(await loadReports(this.overlaySnapshotPath()));
          if (restored.accepted + restored.rejected > 0) deps.log.info({ event: 'overlay.restore', ...restored }, `overlay map restored: ${restored.accepted} reports (${restored.rejected} stale or refused)`);
        } catch (err) {
          deps.log.warn({ event: 'overlay.restore', err: (err as Error).message }, `overlay snapshot not used: ${(err as Error).message}`);
        }
        this.overlay.start();
        const overlay = this.overlay;
        this.metrics.register('overlay', () => {
          const { rejected, ...figures } = overlay.stats();
          return { ...figures, rejected: Object.values(rejected).reduce((a, b) => a + b, 0) };
        });
        if (config.liveness.challenge) {
          const { intervalMs, deadlineMs, missesOffline } = config.liveness;
          this.challenger = new LivenessChallenger({
            messenger: this.messenger,
            manager,
            clock: this.clock,
            intervalMs,
            deadlineMs,
            missesOffline,
            logger: deps.log,
            onChange: (change) => void this.telemetry?.event('liveness.change', { ...change }).catch(() => {}),
          });
          this.metrics.register('liveness', () => livenessFigures(this.challenger?.stats() ?? {}));
        }
        const bound = await manager.listen(config.network.listen);
        this.listening = bound.host.includes(':') ? `[${bound.host}]:${bound.port}` : `${bound.host}:${bound.port}`;
        deps.log.info({ event: 'listening', address: this.listening, publicKey: toHex(manager.publicKey) }, `listening on ${this.listening}`);
        manager.connect(config.network.bootstrap);
        this.challenger?.start();
      },
      stop: async () => {
        this.challenger?.stop();
        await this.fleetProofs?.stop();
        if (this.overlay !== undefined) {
          await mkdir(dirname(this.overlaySnapshotPath()), { recursive: true, mode: 0o700 }).catch(() => {});
          await saveReports(this.overlaySnapshotPath(), this.overlay.reports()).catch((err: unknown) =>
            deps.log.warn({ event: 'overlay.snapshot', err: (err as Error).message }, `overlay snapshot not saved: ${(err as Error).message}`),
          );
        }
        this.overlay?.close();
        responder?.close();
        this.messenger?.close();
        await this.transport?.close();
      },
    };
  }

  /** Zero-knowledge fleet membership (fleet-proofs.ts), when the circuits were built; the agent runs without it otherwise. */
  private startFleetProofs(secretKey: Uint8Array, peerId: Uint8Array): FleetProofs | undefined {
    const circuits = FleetProofs.artifacts();
    if ('missing' in circuits) {
      this.deps.log.info({ event: 'zkp', enabled: false, reason: circuits.missing }, 'zkp: no circuits build, no membership proofs');
      return undefined;
    }
    const proofs = new FleetProofs({ messenger: this.messenger!, manager: this.transport!, secretKey, peerId, clock: this.clock, log: this.deps.log, circuits });
    proofs.start();
    this.metrics.register('zkp', () => proofs.figures());
    return proofs;
  }

  /**
   * The committee (committee.ts): a member loads its committee key or runs the DKG for it in the background;
   * anyone else has nothing to do. start() never waits for the DKG: the orchestrator shows DKG_PHASE meanwhile.
   */
  private committeeService(): Service {
    const { config, deps } = this;
    return {
      name: 'committee',
      start: async () => {
        const identity = this.identity!;
        const audit = this.audit!;
        this.committee = new CommitteeService({
          config,
          peerId: identity.peerId,
          secretKey: () => identity.secretKeyCopy(),
          messenger: this.messenger!,
          manager: this.transport!,
          audit: (kind, data) => audit.append(kind, data),
          clock: this.clock,
          log: deps.log,
          openKeystore: async () => {
            const passphrase = await readPassphrase(config.identity.passphraseFile);
            try {
              return await Keystore.open(config.dataDir, { passphrase });
            } finally {
              passphrase?.fill(0);
            }
          },
        });
        await this.committee.start();
      },
      stop: async () => {
        await this.committee?.stop();
      },
    };
  }

  /**
   * The committee's agreement (agreement.ts): a member of a committee of at least four runs a PBFT replica of the
   * committee's group once channels to every member are open; anyone else logs why it runs none. Not gated on the DKG.
   */
  private agreementService(): Service {
    const { config, deps } = this;
    return {
      name: 'agreement',
      start: async () => {
        const identity = this.identity!;
        const agreement = new CommitteeAgreement({
          config,
          plan: this.committee!.plan,
          messenger: this.messenger!,
          manager: this.transport!,
          secretKey: () => identity.secretKeyCopy(),
          clock: this.clock,
          log: deps.log,
        });
        this.agreement = agreement;
        agreement.start();
        if (agreement.member) this.metrics.register('consensus', () => agreement.figures());
      },
      stop: async () => {
        await this.agreement?.stop();
      },
    };
  }

  /** The sealed config (sealed-config.ts): this agent's config record, sealed for chosen boards, and reads of other agents' records. */
  private sealedService(): Service {
    const { config, deps } = this;
    return {
      name: 'sealed',
      start: async () => {
        const identity = this.identity!;
        const audit = this.audit!;
        const sealed = await SealedConfigService.open({
          dataDir: config.dataDir,
          messenger: this.messenger!,
          manager: this.transport!,
          secretKey: () => identity.secretKeyCopy(),
          audit: (kind, data) => audit.append(kind, data),
          log: deps.log,
        });
        this.sealedConfig = sealed;
        this.metrics.register('sealed', () => ({ ...sealed.stats() }));
      },
      stop: async () => {
        await this.sealedConfig?.stop();
      },
    };
  }

  /**
   * PTP on the board's Ethernet interface (config.ptp): the agent's clock follows the port's disciplined time.
   * A port that cannot open (no interface, ports taken, no permission) is logged and the agent runs on the system
   * clock: time matters, but not more than the rest of the agent.
   */
  private ptpService(): Service {
    const { config, deps } = this;
    return {
      name: 'ptp',
      start: async () => {
        const c = config.ptp;
        if (!c.enabled) return;
        const iface = c.interface ?? this.profile?.networkInterface ?? null;
        if (iface === null) {
          deps.log.error({ event: 'ptp', enabled: false }, 'ptp: no interface configured and the board profile names none; running on the system clock');
          return;
        }
        let node: PtpNode;
        try {
          const transport = await openTransport({ interface: iface, timestamping: c.timestamping });
          const props = timePropertiesFor(transport.stamps);
          node = new PtpNode({
            transport,
            port: {
              clockIdentity: clockIdentityFromMac(iface),
              domain: c.domain,
              priority1: c.priority1,
              logSyncInterval: c.logSyncInterval,
              logMinDelayReqInterval: c.logSyncInterval,
              slaveOnly: c.role === 'slave',
              masterOnly: c.role === 'master',
              servo: c.servo,
              ...(props === undefined ? {} : { timeProperties: props }),
            },
            onState: (s) => {
              deps.log.info({ event: 'ptp.state', from: s.from, to: s.to, reason: s.reason }, `ptp ${s.from} -> ${s.to} (${s.reason})`);
              void this.telemetry?.event('ptp.state', { from: s.from, to: s.to, reason: s.reason }).catch(() => {});
            },
          });
          deps.log.info({ event: 'ptp', interface: iface, stamps: transport.stamps, reason: transport.reason }, `ptp on ${iface}: ${transport.reason}`);
        } catch (err) {
          deps.log.error({ event: 'ptp', enabled: false, err: (err as Error).message }, `ptp: cannot run on ${iface}: ${(err as Error).message}; running on the system clock`);
          return;
        }
        node.start();
        this.ptp = node;
        // The agent's clock is UTC, like the system clock it replaces.
        this.ptpClock?.attach({ nowNs: () => node.utcNowNs() });
        this.metrics.register('ptp', () => {
          const s = node.stats();
          return { state: s.state, servo: s.servoState, stamps: s.stamps, offsetNs: s.lastOffsetNs, meanPathDelayNs: s.meanPathDelayNs, freqPpb: s.freqPpb, samples: s.samples, faults: s.faults };
        });
      },
      stop: async () => {
        this.ptpClock?.detach();
        this.ptp?.close();
        this.ptp = undefined;
      },
    };
  }

  private overlaySnapshotPath(): string {
    return join(this.config.dataDir, 'overlay', 'reports.cbor');
  }

  /** MQTT: telemetry, events and command results through a durable outbox; signed commands in. */
  private telemetryService(): Service {
    const { config, deps } = this;
    let outbox: DurableQueue | undefined;
    let replay: ReplayGuard | undefined;
    return {
      name: 'telemetry',
      start: async () => {
        const { broker, format, intervalMs, keepaliveSec, queue, tls } = config.telemetry;
        if (broker === undefined) {
          deps.log.info({ event: 'telemetry', enabled: false }, 'telemetry off: no broker configured');
          return;
        }
        const dir = join(config.dataDir, 'telemetry');
        await mkdir(dir, { recursive: true, mode: 0o700 });
        outbox = await DurableQueue.open(join(dir, 'outbox.log'), { maxEntries: queue.maxEntries, maxBytes: queue.maxBytes });
        const opened = await ReplayGuard.open({ clock: this.clock, path: join(dir, 'command-nonces') });
        replay = opened.guard;
        if (opened.recovery) deps.log.warn({ event: 'command', recovery: { ...opened.recovery } }, 'the command replay file was damaged: older commands are refused');
        const peerId = toHex(this.identity!.peerId);
        const desk = new CommandDesk({
          verifier: new CommandVerifier({
            fleet: config.fleet,
            peerId,
            operators: config.operators.map((o) => parseOperatorKey(o.publicKey)),
            clock: this.clock,
            replay,
          }),
          targets: this.commandTargets(),
          audit: this.audit!,
          clock: this.clock,
          log: deps.log,
          accepted: this.metrics.counter('commands', 'accepted'),
          rejected: this.metrics.counter('commands', 'rejected'),
        });
        const sampler = new BoardSampler({ dataDir: config.dataDir, interface: this.profile?.networkInterface ?? null, clock: this.clock });
        const service = new TelemetryService({
          url: broker,
          fleet: config.fleet,
          peerId,
          format,
          intervalMs,
          keepaliveSec,
          clock: this.clock,
          log: deps.log,
          outbox,
          metrics: this.metrics,
          sample: async () => ({ board: { ...(await sampler.sample()) }, liveness: { ...(this.challenger?.stats() ?? {}) } }),
          status: () => ({ agentState: this.orchestrator?.state ?? 'INITIALIZING', board: this.profile?.id ?? null, listen: this.listening }),
          onCommand: (payload) => desk.handle(payload).then((result) => ({ ...result })),
          ...(tls ? { tls: await readTls(tls) } : {}),
        });
        this.telemetry = service;
        const orchestrator = this.orchestrator!;
        orchestrator.onTransition((t) => {
          void service.event('orchestrator.transition', { ...t }).catch(() => {});
          void service.updateStatus();
        });
        orchestrator.onRefused((r) => void service.event('orchestrator.refused', { ...r }).catch(() => {}));
        service.start();
      },
      stop: async () => {
        await this.telemetry?.stop();
        await outbox?.close();
        await replay?.close();
      },
    };
  }

  private commandTargets(): ConstructorParameters<typeof CommandDesk>[0]['targets'] {
    return {
      state: () => this.orchestrator?.state ?? 'INITIALIZING',
      reportNow: () => this.telemetry?.reportNow() ?? Promise.resolve(),
      setLogLevel: (level) => {
        this.deps.log.level = level;
      },
      enterMaintenance: async (reason) => {
        await this.orchestrator!.transition('MAINTENANCE', reason);
      },
      leaveMaintenance: async () => {
        await this.orchestrator!.transition('OPERATIONAL', 'operator command');
      },
      restart: (delayMs) => {
        this.clock.setTimer(delayMs, () => this.deps.onRestart?.());
      },
      committeeSign: async (message) => {
        if (this.committee === undefined) throw new CommitteeError('NO_COMMITTEE_KEY', 'the committee service has not started');
        return this.committee.sign(message);
      },
      committeeOrder: async (request) => {
        if (this.agreement === undefined) throw new AgreementError('REPLICA_NOT_RUNNING', 'the agreement service has not started');
        return this.agreement.order(request);
      },
      sealConfig: async (request) => {
        if (this.sealedConfig === undefined) throw new SealedConfigError('STOPPED', 'the sealed service has not started');
        return this.sealedConfig.seal(request);
      },
      readSealed: async (request) => {
        if (this.sealedConfig === undefined) throw new SealedConfigError('STOPPED', 'the sealed service has not started');
        return this.sealedConfig.read(request);
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
      orchestrator: this.orchestrator?.state ?? null,
      pid: process.pid,
      fleet: this.config.fleet,
      peerId: this.identity ? toHex(this.identity.peerId) : null,
      board: this.profile?.id ?? null,
      listen: this.listening,
      channels: this.transport?.channels().length ?? 0,
      mqtt: this.telemetry ? this.telemetry.connected : null,
      uptimeMs: this.clock.now() - this.startedAt,
    };
  }

  /**
   * Starts the services, then walks the orchestrator to OPERATIONAL. DKG_PHASE
   * lasts until the committee key exists: at once for a worker, a node outside
   * the committee, or a member whose key is in the keystore; after the DKG for
   * a member without one. systemd hears READY=1 once the services run, DKG or
   * not: the orchestrator's state says where the agent is.
   */
  async start(): Promise<void> {
    // Pinged from start to stop: systemd only enforces it once READY=1 is in.
    this.notifier.startWatchdog();
    try {
      await this.lifecycle.start(this.config.shutdownTimeoutMs);
      // A stop that came in the meantime has taken the orchestrator to SHUTDOWN: that is not a failed start.
      if (this.stopRequested) return;
      await this.orchestrator!.transition('DKG_PHASE', 'services started');
      const gate = this.committee!.gate();
      if (gate.kind === 'now') {
        await this.leaveDkgPhase(gate.reason);
      } else {
        // The DKG goes on in the background; the key (or a stop) decides what comes next.
        void gate.reason
          .then((reason) => (reason === undefined ? undefined : this.leaveDkgPhase(reason)))
          .catch((err: unknown) => {
            if (!this.stopRequested) this.deps.log.error({ event: 'committee', err: (err as Error).message }, `committee: could not leave DKG_PHASE: ${(err as Error).message}`);
          });
      }
    } catch (err) {
      this.notifier.stopWatchdog(); // its timer would otherwise keep a failed process alive
      throw err;
    }
    void this.notifier.ready();
  }

  /** DKG_PHASE → READY (saying where the key came from, or why none is needed) → OPERATIONAL. */
  private async leaveDkgPhase(reason: string): Promise<void> {
    const steps: [OrchestratorState, string][] = [
      ['READY', reason],
      ['OPERATIONAL', 'ready to serve'],
    ];
    for (const [to, why] of steps) {
      if (this.stopRequested) return;
      await this.orchestrator!.transition(to, why);
    }
    // Peers are asked for membership proofs only now: proving must not compete with the DKG's timed rounds.
    if (!this.stopRequested && this.config.zkp.challenge) this.fleetProofs?.challengePeers();
  }

  async stop(): Promise<StopReport> {
    this.stopRequested = true;
    void this.notifier.stopping();
    try {
      const o = this.orchestrator;
      if (o && o.state !== 'SHUTDOWN') await o.transition('SHUTDOWN', 'agent stopping').catch(() => {});
      return await this.lifecycle.stop(this.config.shutdownTimeoutMs);
    } finally {
      this.notifier.stopWatchdog();
    }
  }
}

function livenessFigures(stats: Record<string, PeerStats>): Record<string, number> {
  let online = 0;
  let offline = 0;
  for (const s of Object.values(stats)) {
    if (s.status === 'online') online++;
    else if (s.status === 'offline') offline++;
  }
  return { peers: Object.keys(stats).length, peersOnline: online, peersOffline: offline };
}

async function readTls(tls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string }): Promise<LinkTls> {
  return {
    ...(tls.caFile ? { ca: await readFile(tls.caFile) } : {}),
    ...(tls.certFile ? { cert: await readFile(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: await readFile(tls.keyFile) } : {}),
  };
}
