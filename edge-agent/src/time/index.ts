/**
 * Public face of time/: PTP version 2 (IEEE 1588-2008) over UDPv4 as cores
 * without I/O: the message codec, the best master clock algorithm, a port
 * (master and slave, end-to-end delay, two-step), two servos (linuxptp's PI
 * servo and the reference design's median servo) and the disciplined virtual
 * clock that gives the agent PTP time. Nothing here touches a socket or the
 * system clock; the shell (sockets, timestamps, timers) lives elsewhere.
 */
export { TimeError, type TimeErrorCode } from './errors.js';
export {
  MAX_TIMESTAMP_NS,
  NS_PER_S,
  ZERO_TIMESTAMP,
  correctionToNs,
  nsToCorrection,
  nsToTimestamp,
  timestampToNs,
  type PtpTimestamp,
} from './timestamp.js';
export {
  FLAGS,
  HEADER_LENGTH,
  LOG_INTERVAL_UNSPECIFIED,
  PTP_VERSION,
  comparePortIdentity,
  portIdentityEquals,
  portIdentityHex,
  type PortIdentity,
  type PtpHeader,
} from './header.js';
export {
  BASE_LENGTHS,
  CONTROL_FIELDS,
  EVENT_PORT,
  GENERAL_PORT,
  MESSAGE_TYPE_CODES,
  PTP_PRIMARY_MULTICAST,
  channelOf,
  decodeMessage,
  encodeMessage,
  type AnnounceMessage,
  type Channel,
  type ClockQuality,
  type DelayReqMessage,
  type DelayRespMessage,
  type FollowUpMessage,
  type MessageType,
  type PtpMessage,
  type PtpMessageInit,
  type SyncMessage,
} from './messages.js';
export {
  A_BETTER,
  A_BETTER_BY_TOPOLOGY,
  B_BETTER,
  B_BETTER_BY_TOPOLOGY,
  compareDatasets,
  datasetFromAnnounce,
  decideState,
  localDataset,
  type BmcDataset,
  type Comparison,
  type DecisionCode,
  type DecisionInput,
  type RecommendedState,
  type StateDecision,
} from './bmca.js';
export { FOREIGN_MASTER_THRESHOLD, FOREIGN_MASTER_TIME_WINDOW } from './foreign.js';
export { MovingMedian, median } from './filter.js';
export { createServo, type Servo, type ServoKind, type ServoOptions, type ServoOutput, type ServoState } from './servo.js';
export { PI_DEFAULTS, PiServo, type PiServoOptions, type Timestamping } from './servo-pi.js';
export { MEDIAN_DEFAULTS, MedianServo, type MedianServoOptions } from './servo-median.js';
export { DisciplinedClock, type DisciplinedClockOptions } from './disciplined-clock.js';
export { PtpPort } from './port.js';
export {
  DROP_REASONS,
  type DropReason,
  type PortState,
  type PortStats,
  type PtpAction,
  type PtpPortOptions,
  type SampleAction,
  type SendAction,
  type StateAction,
  type TimeProperties,
} from './port-types.js';
