/**
 * One PTP port of an ordinary clock (IEEE 1588-2008, end-to-end, two-step,
 * UDPv4) as a core without I/O. The shell hands it datagrams with their
 * receive stamps, TX stamps of the event messages it sent, and timer ticks;
 * it returns actions: datagrams to send, state changes, offset samples. All
 * times are readings of one local time source (bigint ns); the port maps them
 * through its DisciplinedClock, which its servo steers.
 *
 * As master: Announce every 2^logAnnounceInterval s, two-step Sync every
 * 2^logSyncInterval s with a Follow_Up carrying the Sync's TX stamp, and a
 * Delay_Resp for every Delay_Req. As slave: Sync and Follow_Up are matched by
 * sequenceId in either order (they come on different sockets), Delay_Req goes
 * out at random intervals in [0, 2 * 2^logMinDelayReqInterval] s as ptp4l
 * does, the path delay is a moving median, and each matched pair with a known
 * delay is a servo sample. Nothing from the network makes it throw: bad input
 * is counted by reason in stats().
 */
import { TimeError, requireBigInt, requireBytes, requireInt } from './errors.js';
import { ForeignMasters } from './foreign.js';
import { MovingMedian } from './filter.js';
import { FLAGS, LOG_INTERVAL_UNSPECIFIED, portIdentityEquals, type PortIdentity, type PtpHeader } from './header.js';
import { CONTROL_FIELDS, channelOf, checkClockQuality, decodeMessage, encodeMessage, type AnnounceMessage, type Channel, type ClockQuality, type DelayReqMessage, type DelayRespMessage, type FollowUpMessage, type PtpMessage, type PtpMessageInit, type SyncMessage } from './messages.js';
import { compareDatasets, datasetFromAnnounce, decideState, localDataset, type BmcDataset } from './bmca.js';
import { createServo, type Servo } from './servo.js';
import { DisciplinedClock } from './disciplined-clock.js';
import { MAX_TIMESTAMP_NS, ZERO_TIMESTAMP, correctionToNs, nsToTimestamp } from './timestamp.js';
import { seededUniform } from './random.js';
import { DROP_REASONS, type DropReason, type PortState, type PortStats, type PtpAction, type PtpPortOptions, type TimeProperties } from './port-types.js';

const S = 1_000_000_000;

/** 2^log seconds in ns. */
function intervalNs(log: number): bigint {
  return BigInt(Math.round(2 ** log * S));
}

/** True when sequenceId a comes after b (16-bit serial arithmetic). */
function seqAfter(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

interface PendingTx {
  readonly kind: 'sync' | 'delayReq';
  readonly sequenceId: number;
  readonly sentAt: bigint;
}

interface DelayExchange {
  readonly sequenceId: number;
  readonly ref: number;
  t3: bigint | null;
  t4: bigint | null;
}

export class PtpPort {
  readonly portIdentity: PortIdentity;
  readonly domain: number;
  readonly clock: DisciplinedClock;
  readonly servo: Servo;
  private readonly priority1: number;
  private readonly priority2: number;
  private readonly clockQuality: ClockQuality;
  private readonly logSyncInterval: number;
  private readonly logAnnounceInterval: number;
  private logMinDelayReqInterval: number;
  private readonly announceReceiptTimeout: number;
  private readonly slaveOnly: boolean;
  private readonly masterOnly: boolean;
  private readonly rng: () => number;
  private readonly timeProperties: TimeProperties;
  private readonly txTimeoutNs: bigint;
  private readonly faultResetNs: bigint;
  private readonly delayFilter: MovingMedian;
  private readonly foreign = new ForeignMasters();
  /** The followed master's timescale and UTC offset, from its Announce: what turns PTP time into UTC. */
  private parentTime: { readonly ptpTimescale: boolean; readonly currentUtcOffset: number } | null = null;

  private current: PortState = 'INITIALIZING';
  private started = false;
  private parent: PortIdentity | null = null;
  // Timers (local ns), null when not armed.
  private announceTxAt: bigint | null = null;
  private syncTxAt: bigint | null = null;
  private delayReqAt: bigint | null = null;
  private announceReceiptAt: bigint | null = null;
  private faultClearAt: bigint | null = null;
  // Sequence counters.
  private announceSeq = 0;
  private syncSeq = 0;
  private delayReqSeq = 0;
  private nextRef = 1;
  private readonly pendingTx = new Map<number, PendingTx>();
  // Slave bookkeeping.
  private pendingSync: { sequenceId: number; t2: bigint; correctionNs: bigint } | null = null;
  private pendingFollowUp: { sequenceId: number; preciseOriginNs: bigint; correctionNs: bigint } | null = null;
  private lastSyncSeq: number | null = null;
  private lastSync: { t1: bigint; t2: bigint } | null = null;
  private readonly exchanges: DelayExchange[] = [];
  private lastT3t4: { t3: bigint; t4: bigint } | null = null;
  private lastOffsetNs: number | null = null;
  private windowLog: number;
  // Counters.
  private received = 0;
  private sent = 0;
  private samples = 0;
  private readonly drops: Record<DropReason, number>;

  constructor(options: PtpPortOptions) {
    if (typeof options !== 'object' || options === null) throw new TimeError('BAD_ARGUMENT', 'PtpPort options must be an object');
    requireBytes(options.clockIdentity, 'clockIdentity', 8);
    const portNumber = requireInt(options.portNumber ?? 1, 'portNumber', 1, 0xfffe);
    this.portIdentity = { clockIdentity: options.clockIdentity.slice(), portNumber };
    this.domain = requireInt(options.domain ?? 0, 'domain', 0, 255);
    this.priority1 = requireInt(options.priority1 ?? 128, 'priority1', 0, 255);
    this.priority2 = requireInt(options.priority2 ?? 128, 'priority2', 0, 255);
    this.clockQuality = options.clockQuality ?? { clockClass: 248, clockAccuracy: 0xfe, offsetScaledLogVariance: 0xffff };
    checkClockQuality(this.clockQuality, 'clockQuality');
    this.logSyncInterval = requireInt(options.logSyncInterval ?? 0, 'logSyncInterval', -10, 10);
    this.logAnnounceInterval = requireInt(options.logAnnounceInterval ?? 1, 'logAnnounceInterval', -10, 10);
    this.logMinDelayReqInterval = requireInt(options.logMinDelayReqInterval ?? 0, 'logMinDelayReqInterval', -10, 10);
    this.windowLog = this.logAnnounceInterval;
    this.announceReceiptTimeout = requireInt(options.announceReceiptTimeout ?? 3, 'announceReceiptTimeout', 2, 255);
    this.slaveOnly = options.slaveOnly === true;
    this.masterOnly = options.masterOnly === true;
    if (this.slaveOnly && this.masterOnly) throw new TimeError('BAD_ARGUMENT', 'slaveOnly and masterOnly exclude each other');
    const servo = options.servo ?? 'pi';
    this.servo = typeof servo === 'string' ? createServo(servo, { syncIntervalS: 2 ** this.logSyncInterval }) : servo;
    if (typeof this.servo?.sample !== 'function') throw new TimeError('BAD_ARGUMENT', "servo must be a Servo or 'pi' | 'median'");
    this.servo.setSyncInterval(2 ** this.logSyncInterval);
    this.delayFilter = new MovingMedian(requireInt(options.delayFilterLength ?? 10, 'delayFilterLength', 1, 4096));
    this.clock = options.clock ?? new DisciplinedClock();
    if (!(this.clock instanceof DisciplinedClock)) throw new TimeError('BAD_ARGUMENT', 'clock must be a DisciplinedClock');
    if (options.rng !== undefined && typeof options.rng !== 'function') throw new TimeError('BAD_ARGUMENT', 'rng must be a function');
    this.rng = options.rng ?? seededUniform(this.portIdentity.clockIdentity);
    const tp = options.timeProperties ?? {};
    this.timeProperties = {
      currentUtcOffset: requireInt(tp.currentUtcOffset ?? 37, 'timeProperties.currentUtcOffset', -32768, 32767),
      flags: requireInt(tp.flags ?? FLAGS.PTP_TIMESCALE, 'timeProperties.flags', 0, 0xff),
      timeSource: requireInt(tp.timeSource ?? 0xa0, 'timeProperties.timeSource', 0, 255),
    };
    this.txTimeoutNs = requireBigInt(options.txTimestampTimeoutNs ?? 100_000_000n, 'txTimestampTimeoutNs', 1n);
    this.faultResetNs = requireBigInt(options.faultResetNs ?? 16_000_000_000n, 'faultResetNs', 1n);
    this.drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  }

  get state(): PortState {
    return this.current;
  }

  /** The earliest instant tick() has work to do, or null: the shell keeps one timer for it. */
  get nextDeadlineNs(): bigint | null {
    let next: bigint | null = null;
    for (const t of [this.announceTxAt, this.syncTxAt, this.delayReqAt, this.announceReceiptAt, this.faultClearAt]) {
      if (t !== null && (next === null || t < next)) next = t;
    }
    return next;
  }

  /**
   * TAI minus UTC (ns) for the time this port keeps: the followed master's currentUtcOffset when it announces the
   * PTP timescale, ours when we are master on it, else 0 (ARB timescale: PTP time is UTC already, as ptp4l on a
   * system clock sends it).
   */
  get utcOffsetNs(): bigint {
    const t = this.parentTime ?? (this.current === 'MASTER' ? { ptpTimescale: (this.timeProperties.flags & FLAGS.PTP_TIMESCALE) !== 0, currentUtcOffset: this.timeProperties.currentUtcOffset } : null);
    return t !== null && t.ptpTimescale ? BigInt(t.currentUtcOffset) * 1_000_000_000n : 0n;
  }

  /** PTP time at local reading `localNs` (what the agent's clock reports). */
  ptpTimeNs(localNs: bigint): bigint {
    return this.clock.nowNs(localNs);
  }

  stats(): PortStats {
    const delay = this.delayFilter.count > 0 ? this.delayFilter.value : null;
    return {
      state: this.current,
      received: this.received,
      sent: this.sent,
      samples: this.samples,
      drops: { ...this.drops },
      parent: this.parent,
      meanPathDelayNs: delay,
      lastOffsetNs: this.lastOffsetNs,
      servoState: this.servo.state,
      freqPpb: this.servo.freqPpb,
      foreignMasters: this.foreign.size,
    };
  }

  /** INITIALIZING -> LISTENING (or MASTER for a master-only port). Called by the first receive/tick if not before. */
  start(nowNs: bigint): PtpAction[] {
    requireBigInt(nowNs, 'nowNs');
    const out: PtpAction[] = [];
    if (this.started) return out;
    this.started = true;
    this.enterListening(nowNs, 'INITIALIZE', out);
    if (this.masterOnly) this.setState('MASTER', 'MASTER_ONLY', nowNs, out);
    return out;
  }

  /** The shell reports a fault (a socket error): FAULTY until faultResetNs passed. */
  fault(nowNs: bigint, reason: string): PtpAction[] {
    requireBigInt(nowNs, 'nowNs');
    const out: PtpAction[] = [];
    if (!this.started) this.started = true;
    this.setState('FAULTY', `FAULT_DETECTED: ${String(reason)}`, nowNs, out);
    return out;
  }

  /** A datagram from `channel`, stamped `rxNs` on arrival (null if the stamp was lost), at local time `nowNs`. */
  receive(bytes: Uint8Array, channel: Channel, rxNs: bigint | null, nowNs: bigint): PtpAction[] {
    requireBytes(bytes, 'bytes');
    if (channel !== 'event' && channel !== 'general') throw new TimeError('BAD_ARGUMENT', `channel must be 'event' or 'general', got ${String(channel)}`);
    if (rxNs !== null) requireBigInt(rxNs, 'rxNs');
    requireBigInt(nowNs, 'nowNs');
    const out = this.start(nowNs);
    this.received++;
    if (this.current === 'FAULTY') return this.drop('faulty', out);
    let msg: PtpMessage;
    try {
      msg = decodeMessage(bytes);
    } catch (err) {
      if (err instanceof TimeError && err.code === 'UNSUPPORTED') return this.drop('unsupported', out);
      return this.drop('malformed', out);
    }
    if (channelOf(msg.type) !== channel) return this.drop('wrongChannel', out);
    if (msg.header.domainNumber !== this.domain) return this.drop('wrongDomain', out);
    if (sameClock(msg.header.sourcePortIdentity, this.portIdentity)) return this.drop('ownMessage', out);
    switch (msg.type) {
      case 'Announce':
        this.onAnnounce(msg, nowNs, out);
        break;
      case 'Sync':
        this.onSync(msg, rxNs, nowNs, out);
        break;
      case 'Follow_Up':
        this.onFollowUp(msg, nowNs, out);
        break;
      case 'Delay_Req':
        this.onDelayReq(msg, rxNs, out);
        break;
      case 'Delay_Resp':
        this.onDelayResp(msg, out);
        break;
    }
    return out;
  }

  /** The TX stamp of the event message sent with `ref`. */
  txTimestamp(ref: number, txNs: bigint): PtpAction[] {
    requireInt(ref, 'ref', 1, Number.MAX_SAFE_INTEGER);
    requireBigInt(txNs, 'txNs');
    const out: PtpAction[] = [];
    const pending = this.pendingTx.get(ref);
    if (pending === undefined) return this.drop('txTimestampLate', out);
    this.pendingTx.delete(ref);
    if (pending.kind === 'sync') {
      if (this.current !== 'MASTER') return out;
      const origin = this.clock.nowNs(txNs);
      if (origin < 0n || origin > MAX_TIMESTAMP_NS) return out;
      this.send(out, {
        type: 'Follow_Up',
        header: this.header(pending.sequenceId, CONTROL_FIELDS.Follow_Up, this.logSyncInterval, 0),
        preciseOriginTimestamp: nsToTimestamp(origin),
      });
      return out;
    }
    const ex = this.exchanges.find((e) => e.ref === ref);
    if (ex !== undefined) {
      ex.t3 = txNs;
      if (ex.t4 !== null) this.completeDelay(ex);
    }
    return out;
  }

  /** Runs whatever timers are due at `nowNs`. */
  tick(nowNs: bigint): PtpAction[] {
    requireBigInt(nowNs, 'nowNs');
    const out = this.start(nowNs);
    this.expireTx(nowNs);
    if (this.faultClearAt !== null && nowNs >= this.faultClearAt) {
      this.faultClearAt = null;
      this.setState('INITIALIZING', 'FAULT_CLEARED', nowNs, out);
      this.enterListening(nowNs, 'INITIALIZE', out);
      if (this.masterOnly) this.setState('MASTER', 'MASTER_ONLY', nowNs, out);
    }
    if (this.announceReceiptAt !== null && nowNs >= this.announceReceiptAt) {
      this.announceReceiptAt = null;
      this.foreign.clear();
      if (this.slaveOnly) {
        this.enterListening(nowNs, 'ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES', out);
      } else {
        this.setState('MASTER', 'ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES', nowNs, out);
      }
    }
    if (this.announceTxAt !== null && nowNs >= this.announceTxAt) {
      this.announceTxAt = this.reschedule(this.announceTxAt, intervalNs(this.logAnnounceInterval), nowNs);
      this.sendAnnounce(out);
    }
    if (this.syncTxAt !== null && nowNs >= this.syncTxAt) {
      this.syncTxAt = this.reschedule(this.syncTxAt, intervalNs(this.logSyncInterval), nowNs);
      this.sendSync(nowNs, out);
    }
    if (this.delayReqAt !== null && nowNs >= this.delayReqAt) {
      this.delayReqAt = nowNs + this.delayReqDelay();
      this.sendDelayReq(nowNs, out);
    }
    return out;
  }

  // ---- receive paths ------------------------------------------------------

  private onAnnounce(msg: AnnounceMessage, nowNs: bigint, out: PtpAction[]): void {
    if (this.masterOnly) return void this.drop('masterOnly', out);
    if (msg.stepsRemoved >= 255) return void this.drop('stepsRemoved', out);
    if (!this.foreign.add(msg, nowNs, this.foreignWindowNs(msg))) return void this.drop('foreignTableFull', out);
    const fromParent = this.parent !== null && portIdentityEquals(msg.header.sourcePortIdentity, this.parent);
    // A slave listens for its master; a passive port for whoever keeps it passive.
    if ((fromParent && (this.current === 'SLAVE' || this.current === 'UNCALIBRATED')) || this.current === 'PASSIVE') this.armAnnounceReceipt(nowNs);
    this.stateDecision(nowNs, out);
  }

  private onSync(msg: SyncMessage, rxNs: bigint | null, nowNs: bigint, out: PtpAction[]): void {
    if (!this.fromParent(msg.header)) return void this.drop('notFromMaster', out);
    if (rxNs === null) return void this.drop('noTimestamp', out);
    const seq = msg.header.sequenceId;
    if (this.lastSyncSeq !== null && !seqAfter(seq, this.lastSyncSeq)) return void this.drop('staleSequence', out);
    this.followInterval(msg.header.logMessageInterval);
    const correctionNs = correctionToNs(msg.header.correction);
    if ((msg.header.flags & FLAGS.TWO_STEP) === 0) {
      // One-step master: the origin is in the Sync itself.
      this.pendingSync = null;
      this.processSync(seq, timestampToNsSafe(msg.originTimestamp) + correctionNs, rxNs, nowNs, out);
      return;
    }
    const fu = this.pendingFollowUp;
    if (fu !== null && fu.sequenceId === seq) {
      this.pendingFollowUp = null;
      this.processSync(seq, fu.preciseOriginNs + fu.correctionNs + correctionNs, rxNs, nowNs, out);
      return;
    }
    if (this.pendingSync !== null) this.drops.unmatched++;
    this.pendingSync = { sequenceId: seq, t2: rxNs, correctionNs };
  }

  private onFollowUp(msg: FollowUpMessage, nowNs: bigint, out: PtpAction[]): void {
    if (!this.fromParent(msg.header)) return void this.drop('notFromMaster', out);
    const seq = msg.header.sequenceId;
    if (this.lastSyncSeq !== null && !seqAfter(seq, this.lastSyncSeq)) return void this.drop('staleSequence', out);
    const origin = timestampToNsSafe(msg.preciseOriginTimestamp);
    const correctionNs = correctionToNs(msg.header.correction);
    const sync = this.pendingSync;
    if (sync !== null && sync.sequenceId === seq) {
      this.pendingSync = null;
      this.processSync(seq, origin + correctionNs + sync.correctionNs, sync.t2, nowNs, out);
      return;
    }
    // Came before its Sync (the general socket was faster): keep it for the Sync.
    if (this.pendingFollowUp !== null) this.drops.unmatched++;
    this.pendingFollowUp = { sequenceId: seq, preciseOriginNs: origin, correctionNs };
  }

  private onDelayReq(msg: DelayReqMessage, rxNs: bigint | null, out: PtpAction[]): void {
    if (this.current !== 'MASTER') return void this.drop('notMaster', out);
    if (rxNs === null) return void this.drop('noTimestamp', out);
    const t4 = this.clock.nowNs(rxNs);
    if (t4 < 0n || t4 > MAX_TIMESTAMP_NS) return void this.drop('noTimestamp', out);
    this.send(out, {
      type: 'Delay_Resp',
      header: {
        ...this.header(msg.header.sequenceId, CONTROL_FIELDS.Delay_Resp, this.logMinDelayReqInterval, msg.header.flags & FLAGS.UNICAST),
        correction: msg.header.correction,
      },
      receiveTimestamp: nsToTimestamp(t4),
      requestingPortIdentity: msg.header.sourcePortIdentity,
    });
  }

  private onDelayResp(msg: DelayRespMessage, out: PtpAction[]): void {
    if (!this.fromParent(msg.header)) return void this.drop('notFromMaster', out);
    if (!portIdentityEquals(msg.requestingPortIdentity, this.portIdentity)) return void this.drop('notForUs', out);
    const ex = this.exchanges.find((e) => e.sequenceId === msg.header.sequenceId && e.t4 === null);
    if (ex === undefined) return void this.drop('unmatched', out);
    const log = msg.header.logMessageInterval;
    // ptp4l follows the master's logMinDelayReqInterval from the Delay_Resp.
    if (log !== LOG_INTERVAL_UNSPECIFIED && log >= -10 && log <= 10) this.logMinDelayReqInterval = log;
    ex.t4 = timestampToNsSafe(msg.receiveTimestamp) - correctionToNs(msg.header.correction);
    if (ex.t3 !== null) this.completeDelay(ex);
  }

  // ---- slave computations -------------------------------------------------

  private processSync(seq: number, t1: bigint, t2: bigint, nowNs: bigint, out: PtpAction[]): void {
    this.lastSyncSeq = seq;
    this.lastSync = { t1, t2 };
    if (this.delayFilter.count === 0 || this.lastT3t4 === null) return;
    const delay = this.delayFilter.value;
    const t2p = this.clock.nowNs(t2);
    const offset = Number(t2p - t1) - delay;
    const result = this.servo.sample(offset, t2);
    // Changes apply from now on; a local source that went back must not make us throw.
    let at = nowNs > t2 ? nowNs : t2;
    if (at < this.clock.lastChangeNs) at = this.clock.lastChangeNs;
    if (result.stepNs !== undefined) this.clock.step(BigInt(Math.round(result.stepNs)), at);
    this.clock.setFrequency(Math.max(-this.clock.maxFrequencyPpb, Math.min(this.clock.maxFrequencyPpb, result.freqPpb)), at);
    this.samples++;
    this.lastOffsetNs = offset;
    out.push({
      kind: 'sample',
      sequenceId: seq,
      offsetNs: offset,
      meanPathDelayNs: delay,
      t1,
      t2: t2p,
      t3: this.lastT3t4.t3,
      t4: this.lastT3t4.t4,
      servoState: result.state,
      freqPpb: this.clock.frequencyPpb,
      ...(result.stepNs !== undefined ? { stepNs: result.stepNs } : {}),
    });
    if (result.state === 'LOCKED' && this.current === 'UNCALIBRATED') this.setState('SLAVE', 'MASTER_CLOCK_SELECTED', nowNs, out);
    else if (result.state !== 'LOCKED' && this.current === 'SLAVE') this.setState('UNCALIBRATED', 'SYNCHRONIZATION_FAULT', nowNs, out);
  }

  private completeDelay(ex: DelayExchange): void {
    const i = this.exchanges.indexOf(ex);
    if (i >= 0) this.exchanges.splice(i, 1);
    if (this.lastSync === null || ex.t3 === null || ex.t4 === null) return;
    // Both local stamps through the same (current) mapping: a step between them cancels.
    const t2 = this.clock.nowNs(this.lastSync.t2);
    const t3 = this.clock.nowNs(ex.t3);
    const raw = (Number(t2 - t3) + Number(ex.t4 - this.lastSync.t1)) / 2;
    if (!Number.isFinite(raw)) return;
    this.delayFilter.push(raw);
    this.lastT3t4 = { t3, t4: ex.t4 };
  }

  // ---- state machine ------------------------------------------------------

  private stateDecision(nowNs: bigint, out: PtpAction[]): void {
    if (this.current === 'FAULTY' || this.current === 'INITIALIZING') return;
    const window = this.foreignWindowNs(null);
    let best: AnnounceMessage | null = null;
    let bestSet: BmcDataset | null = null;
    for (const m of this.foreign.qualified(nowNs, window)) {
      const d = datasetFromAnnounce(m, this.portIdentity);
      if (bestSet === null || compareDatasets(d, bestSet) > 0) {
        best = m;
        bestSet = d;
      }
    }
    const local = localDataset(this.portIdentity.clockIdentity, this.priority1, this.clockQuality, this.priority2);
    const decision = decideState({ local, best: bestSet, currentState: this.current, slaveOnly: this.slaveOnly, masterOnly: this.masterOnly });
    switch (decision.state) {
      case 'MASTER':
        if (this.current !== 'MASTER') this.setState('MASTER', `BMC ${decision.code}`, nowNs, out);
        break;
      case 'PASSIVE':
        if (this.current !== 'PASSIVE') this.setState('PASSIVE', `BMC ${decision.code}`, nowNs, out);
        break;
      case 'SLAVE': {
        const sender = best!.header.sourcePortIdentity;
        this.parentTime = { ptpTimescale: (best!.header.flags & FLAGS.PTP_TIMESCALE) !== 0, currentUtcOffset: best!.currentUtcOffset };
        const same = this.parent !== null && portIdentityEquals(this.parent, sender);
        const following = this.current === 'SLAVE' || this.current === 'UNCALIBRATED';
        if (same && following) break;
        this.parent = sender;
        this.resetSlave();
        this.setState('UNCALIBRATED', `BMC ${decision.code}`, nowNs, out);
        // A new master while already following one: its announce timeout starts now.
        if (following) this.armAnnounceReceipt(nowNs);
        break;
      }
      case 'LISTENING':
        break;
    }
  }

  private enterListening(nowNs: bigint, reason: string, out: PtpAction[]): void {
    this.setState('LISTENING', reason, nowNs, out);
  }

  /** Changes state and (re)arms the timers that belong to the new one. */
  private setState(to: PortState, reason: string, nowNs: bigint, out: PtpAction[]): void {
    const from = this.current;
    this.current = to;
    this.announceTxAt = null;
    this.syncTxAt = null;
    this.faultClearAt = null;
    if (to !== 'UNCALIBRATED' && to !== 'SLAVE') {
      this.delayReqAt = null;
      this.parent = null;
      this.parentTime = null;
    }
    switch (to) {
      case 'INITIALIZING':
        this.announceReceiptAt = null;
        break;
      case 'FAULTY':
        this.announceReceiptAt = null;
        this.delayReqAt = null;
        this.foreign.clear();
        this.resetSlave();
        this.faultClearAt = nowNs + this.faultResetNs;
        break;
      case 'LISTENING':
      case 'PASSIVE':
        this.armAnnounceReceipt(nowNs);
        break;
      case 'MASTER':
        this.announceReceiptAt = null;
        // First Announce at once (as ptp4l), first Sync one interval on.
        this.announceTxAt = nowNs;
        this.syncTxAt = nowNs + intervalNs(this.logSyncInterval);
        break;
      case 'UNCALIBRATED':
      case 'SLAVE':
        if (from !== 'UNCALIBRATED' && from !== 'SLAVE') {
          this.armAnnounceReceipt(nowNs);
          this.delayReqAt = nowNs + this.delayReqDelay();
        } else if (this.announceReceiptAt === null) this.armAnnounceReceipt(nowNs);
        break;
    }
    if (from !== to) out.push({ kind: 'state', from, to, reason });
  }

  private resetSlave(): void {
    this.servo.reset();
    this.delayFilter.reset();
    this.pendingSync = null;
    this.pendingFollowUp = null;
    this.lastSyncSeq = null;
    this.lastSync = null;
    this.lastT3t4 = null;
    this.exchanges.length = 0;
  }

  // ---- sending --------------------------------------------------------------

  private header(sequenceId: number, controlField: number, logMessageInterval: number, flags: number): Omit<PtpHeader, 'messageLength'> {
    return {
      transportSpecific: 0,
      minorVersionPTP: 0,
      domainNumber: this.domain,
      minorSdoId: 0,
      flags,
      correction: 0n,
      messageTypeSpecific: 0,
      sourcePortIdentity: this.portIdentity,
      sequenceId,
      controlField,
      logMessageInterval,
    };
  }

  private send(out: PtpAction[], msg: PtpMessageInit, ref?: number): void {
    const bytes = encodeMessage(msg);
    this.sent++;
    out.push(ref === undefined ? { kind: 'send', channel: channelOf(msg.type), messageType: msg.type, bytes } : { kind: 'send', channel: channelOf(msg.type), messageType: msg.type, bytes, ref });
  }

  private sendAnnounce(out: PtpAction[]): void {
    const seq = this.announceSeq;
    this.announceSeq = (seq + 1) & 0xffff;
    this.send(out, {
      type: 'Announce',
      header: this.header(seq, CONTROL_FIELDS.Announce, this.logAnnounceInterval, this.timeProperties.flags),
      originTimestamp: ZERO_TIMESTAMP,
      currentUtcOffset: this.timeProperties.currentUtcOffset,
      grandmasterPriority1: this.priority1,
      grandmasterClockQuality: this.clockQuality,
      grandmasterPriority2: this.priority2,
      grandmasterIdentity: this.portIdentity.clockIdentity,
      stepsRemoved: 0,
      timeSource: this.timeProperties.timeSource,
    });
  }

  private sendSync(nowNs: bigint, out: PtpAction[]): void {
    const seq = this.syncSeq;
    this.syncSeq = (seq + 1) & 0xffff;
    const ref = this.track('sync', seq, nowNs);
    this.send(out, { type: 'Sync', header: this.header(seq, CONTROL_FIELDS.Sync, this.logSyncInterval, FLAGS.TWO_STEP), originTimestamp: ZERO_TIMESTAMP }, ref);
  }

  private sendDelayReq(nowNs: bigint, out: PtpAction[]): void {
    const seq = this.delayReqSeq;
    this.delayReqSeq = (seq + 1) & 0xffff;
    const ref = this.track('delayReq', seq, nowNs);
    this.exchanges.push({ sequenceId: seq, ref, t3: null, t4: null });
    if (this.exchanges.length > 4) this.exchanges.shift();
    this.send(out, { type: 'Delay_Req', header: this.header(seq, CONTROL_FIELDS.Delay_Req, LOG_INTERVAL_UNSPECIFIED, 0), originTimestamp: ZERO_TIMESTAMP }, ref);
  }

  private track(kind: PendingTx['kind'], sequenceId: number, nowNs: bigint): number {
    const ref = this.nextRef;
    this.nextRef = ref >= Number.MAX_SAFE_INTEGER ? 1 : ref + 1;
    this.pendingTx.set(ref, { kind, sequenceId, sentAt: nowNs });
    return ref;
  }

  private expireTx(nowNs: bigint): void {
    for (const [ref, p] of this.pendingTx) if (nowNs - p.sentAt > this.txTimeoutNs) this.pendingTx.delete(ref);
  }

  // ---- helpers -------------------------------------------------------------

  private drop(reason: DropReason, out: PtpAction[]): PtpAction[] {
    this.drops[reason]++;
    return out;
  }

  private fromParent(h: PtpHeader): boolean {
    return (this.current === 'SLAVE' || this.current === 'UNCALIBRATED') && this.parent !== null && portIdentityEquals(h.sourcePortIdentity, this.parent);
  }

  private followInterval(log: number): void {
    if (log === LOG_INTERVAL_UNSPECIFIED || log < -10 || log > 10) return;
    this.servo.setSyncInterval(2 ** log);
  }

  /** The qualification window: 4 announce intervals, the longer of ours and the longest a sender announced. */
  private foreignWindowNs(msg: AnnounceMessage | null): bigint {
    const theirs = msg?.header.logMessageInterval;
    if (theirs !== undefined && theirs >= -10 && theirs <= 10 && theirs > this.windowLog) this.windowLog = theirs;
    return 4n * intervalNs(this.windowLog);
  }

  private armAnnounceReceipt(nowNs: bigint): void {
    // As ptp4l: between announceReceiptTimeout and one more interval, randomly. The
    // interval is the longer of ours and the longest announced to us, so a master
    // configured slower than we are is not given up between two of its Announces.
    const n = this.announceReceiptTimeout + this.draw();
    this.announceReceiptAt = nowNs + BigInt(Math.round(n * 2 ** this.windowLog * S));
  }

  private delayReqDelay(): bigint {
    return BigInt(Math.round(2 * this.draw() * 2 ** this.logMinDelayReqInterval * S));
  }

  /** One draw of the injected rng; a broken one (outside [0, 1)) counts as 0.5 rather than throwing in tick(). */
  private draw(): number {
    const r = this.rng();
    return typeof r === 'number' && r >= 0 && r < 1 ? r : 0.5;
  }

  private reschedule(due: bigint, step: bigint, nowNs: bigint): bigint {
    const next = due + step;
    return next > nowNs ? next : nowNs + step;
  }
}

function sameClock(a: PortIdentity, b: PortIdentity): boolean {
  for (let i = 0; i < 8; i++) if (a.clockIdentity[i] !== b.clockIdentity[i]) return false;
  return true;
}

/** Timestamps from the network: nanoseconds >= 1e9 are taken as they add up, never rejected with a throw. */
function timestampToNsSafe(ts: { seconds: bigint; nanoseconds: number }): bigint {
  return ts.seconds * 1_000_000_000n + BigInt(ts.nanoseconds);
}
