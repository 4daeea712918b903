/** The PtpPort's options, actions, states and counters (kept apart from its logic). */
import type { PortIdentity } from './header.js';
import type { Channel, ClockQuality, MessageType } from './messages.js';
import type { Servo, ServoKind, ServoState } from './servo.js';
import type { DisciplinedClock } from './disciplined-clock.js';

export type PortState = 'INITIALIZING' | 'FAULTY' | 'LISTENING' | 'MASTER' | 'PASSIVE' | 'UNCALIBRATED' | 'SLAVE';

export interface TimeProperties {
  /** TAI - UTC advertised as grandmaster (default 37, ptp4l's utc_offset). */
  readonly currentUtcOffset: number;
  /** Low octet of flagField (leap61/59, utcOffsetValid, ptpTimescale, traceable); default PTP_TIMESCALE. */
  readonly flags: number;
  /** Default 0xA0, INTERNAL_OSCILLATOR. */
  readonly timeSource: number;
}

export interface PtpPortOptions {
  /** 8 bytes; ptp4l makes it from the MAC (EUI-48 with ff:fe in the middle). */
  readonly clockIdentity: Uint8Array;
  /** Default 1. */
  readonly portNumber?: number;
  /** Default 0. */
  readonly domain?: number;
  /** Defaults 128 / 128. */
  readonly priority1?: number;
  readonly priority2?: number;
  /** Default { clockClass 248, clockAccuracy 0xfe, offsetScaledLogVariance 0xffff } (ptp4l's). */
  readonly clockQuality?: ClockQuality;
  /** Log2 seconds; defaults as ptp4l: sync 0, announce 1, min delay request 0. */
  readonly logSyncInterval?: number;
  readonly logAnnounceInterval?: number;
  readonly logMinDelayReqInterval?: number;
  /** Announce intervals without an Announce before the master is given up (default 3). */
  readonly announceReceiptTimeout?: number;
  readonly slaveOnly?: boolean;
  readonly masterOnly?: boolean;
  /** A servo, or which one to create with its defaults (default 'pi', software timestamping). */
  readonly servo?: Servo | ServoKind;
  /** Path delay samples in the moving median (default 10, ptp4l's delay_filter_length). */
  readonly delayFilterLength?: number;
  /** The clock the servo disciplines (default: a new one, PTP time = local time). */
  readonly clock?: DisciplinedClock;
  /** Uniform in [0, 1): the Delay_Req and announce timeout randomisation. Default: seeded from the clock identity. */
  readonly rng?: () => number;
  readonly timeProperties?: Partial<TimeProperties>;
  /** A sent event message whose TX stamp has not come after this long is forgotten (default 100 ms). */
  readonly txTimestampTimeoutNs?: bigint;
  /** FAULTY lasts this long before the port starts over (default 16 s, ptp4l's fault_reset_interval 4). */
  readonly faultResetNs?: bigint;
}

export interface SendAction {
  readonly kind: 'send';
  readonly channel: Channel;
  readonly messageType: MessageType;
  readonly bytes: Uint8Array;
  /** Present on event messages whose TX stamp the core needs back through txTimestamp(ref, txNs). */
  readonly ref?: number;
}

export interface StateAction {
  readonly kind: 'state';
  readonly from: PortState;
  readonly to: PortState;
  readonly reason: string;
}

/**
 * One offset measurement and what the servo made of it. t1 and t4 are master
 * time; t2 and t3 are the local stamps mapped through the disciplined clock as
 * it was when the sample was taken. Offset is ours minus the master's.
 */
export interface SampleAction {
  readonly kind: 'sample';
  readonly sequenceId: number;
  readonly offsetNs: number;
  readonly meanPathDelayNs: number;
  readonly t1: bigint;
  readonly t2: bigint;
  readonly t3: bigint;
  readonly t4: bigint;
  readonly servoState: ServoState;
  /** The frequency correction now in force on the disciplined clock. */
  readonly freqPpb: number;
  /** Present when the servo stepped the disciplined clock by this much. */
  readonly stepNs?: number;
}

export type PtpAction = SendAction | StateAction | SampleAction;

export type DropReason =
  | 'malformed'
  | 'unsupported'
  | 'wrongChannel'
  | 'wrongDomain'
  | 'ownMessage'
  | 'noTimestamp'
  | 'notFromMaster'
  | 'staleSequence'
  | 'unmatched'
  | 'notForUs'
  | 'notMaster'
  | 'masterOnly'
  | 'stepsRemoved'
  | 'foreignTableFull'
  | 'faulty'
  | 'txTimestampLate';

export interface PortStats {
  readonly state: PortState;
  readonly received: number;
  readonly sent: number;
  readonly samples: number;
  readonly drops: Readonly<Record<DropReason, number>>;
  readonly parent: PortIdentity | null;
  readonly meanPathDelayNs: number | null;
  readonly lastOffsetNs: number | null;
  readonly servoState: ServoState;
  readonly freqPpb: number;
  readonly foreignMasters: number;
}

export const DROP_REASONS: readonly DropReason[] = [
  'malformed',
  'unsupported',
  'wrongChannel',
  'wrongDomain',
  'ownMessage',
  'noTimestamp',
  'notFromMaster',
  'staleSequence',
  'unmatched',
  'notForUs',
  'notMaster',
  'masterOnly',
  'stepsRemoved',
  'foreignTableFull',
  'faulty',
  'txTimestampLate',
];
