/**
 * native/: the Rust addon (native-napi) behind a loader that never throws and
 * reports, per capability, whether the native backend or a TypeScript fallback
 * is in use and why.
 */
export { NativeError, fromAddonError, type NativeErrorCode } from './errors.js';
export {
  DEFAULT_ADDON_PATH,
  describeCapabilities,
  loadNative,
  loadNativeUncached,
  requireNative,
  type LoadOptions,
} from './load.js';
export {
  TimestampedSocket,
  timespecToNs,
  type ReceivedMessage,
  type TimestampedSocketOptions,
  type TxTimestamp,
} from './timestamped-socket.js';
export {
  ADDON_FUNCTIONS,
  type AddonMessageCallback,
  type AddonSendErrorCallback,
  type AddonTxCallback,
  type Backend,
  type Capability,
  type CapabilityStatus,
  type ClockName,
  type InterfaceTimestamping,
  type NativeAddon,
  type NativeLoad,
  type Timespec,
  type TimestampingMode,
  type UdpOpenOptions,
  type UdpStats,
} from './types.js';
