/** The addon's JS face (native-napi/src/*.rs), typed. Seconds and nanoseconds are separate exact numbers. */

export type TimestampingMode = 'hardware' | 'software' | 'none';
export type ClockName = 'realtime' | 'monotonic' | 'tai';
/** [seconds, nanoseconds] of a clock reading. */
export type Timespec = readonly [sec: number, nsec: number];

/** ETHTOOL_GET_TS_INFO for one interface. */
export interface InterfaceTimestamping {
  readonly ifindex: number;
  /** The PHC behind the interface (/dev/ptpN), -1 if none. */
  readonly phcIndex: number;
  /** SOF_TIMESTAMPING_* capability bits. */
  readonly soTimestamping: number;
  /** Bit n set: HWTSTAMP_TX type n supported. */
  readonly txTypes: number;
  /** Bit n set: HWTSTAMP_FILTER n supported. */
  readonly rxFilters: number;
  /** TX, RX and raw hardware stamps all offered. */
  readonly hardware: boolean;
  /** TX and RX software stamps offered. */
  readonly software: boolean;
}

export interface UdpOpenOptions {
  /** IPv4 address to bind, e.g. '0.0.0.0'. */
  readonly address: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  /** SO_BINDTODEVICE and IP_MULTICAST_IF; required for hardware timestamping. */
  readonly interface?: string;
  readonly multicastGroup?: string;
  readonly multicastLoop?: boolean;
  readonly multicastTtl?: number;
  readonly reuseAddress?: boolean;
  readonly timestamping: TimestampingMode;
}

/** rxSec and rxNsec are -1 when the datagram carried no stamp. */
export type AddonMessageCallback = (data: Buffer, address: string, port: number, rxSec: number, rxNsec: number) => void;
/** `id` is the value udpSend returned for the datagram. */
export type AddonTxCallback = (id: number, sec: number, nsec: number) => void;
/**
 * The socket's thread could not send datagram `id` (sendto failed): `code` is
 * the errno name (e.g. 'EACCES'), `message` names the destination. No TX stamp
 * follows for that id; later ids are unaffected.
 */
export type AddonSendErrorCallback = (id: number, code: string, message: string) => void;

export interface UdpStats {
  /** Events dropped because JS was not taking them (queue of 4096 per socket full). */
  readonly dropped: number;
  /** Datagrams udpSend accepted (failed sends included), which is the next send id. */
  readonly sent: number;
  /** Datagrams waiting for the socket's thread to send them (at most 1024). */
  readonly queued: number;
  /** Sends the OS refused (each reported to onSendError when given). */
  readonly sendErrors: number;
}

export interface NativeAddon {
  version(): string;
  interfaceTimestamping(ifname: string): InterfaceTimestamping;
  udpOpen(
    options: UdpOpenOptions,
    onMessage: AddonMessageCallback,
    onTxTimestamp: AddonTxCallback,
    onSendError?: AddonSendErrorCallback,
  ): { handle: number; port: number };
  /**
   * Queues the datagram for the socket's thread, which sends it, and returns
   * the id its TX stamp (or send error) will carry. Throws EMSGSIZE over 65507
   * bytes and EAGAIN when 1024 datagrams are already queued (no id is used then).
   */
  udpSend(handle: number, data: Buffer, address: string, port: number): number;
  udpClose(handle: number): void;
  udpStats(handle: number): UdpStats;
  clockGettime(which: ClockName | number): Timespec;
  phcOpen(path: string): number;
  phcGettime(fd: number): Timespec;
  /** clock_adjtime ADJ_FREQUENCY, in parts per billion (within ±32e6). */
  phcAdjustFrequency(fd: number, ppb: number): void;
  /** The PHC's current frequency offset in ppb. */
  phcFrequency(fd: number): number;
  /** clock_adjtime ADJ_SETOFFSET: adds sec + nsec (each may be negative) to the PHC. */
  phcStep(fd: number, sec: number, nsec: number): void;
  /** True if the fd was open here and is now closed; false (harmless) otherwise. */
  phcClose(fd: number): boolean;
  /** False when NOTIFY_SOCKET is unset. */
  sdNotify(state: string): boolean;
}

/** Every function the loader requires before it trusts a .node file (a stale build lacks some). */
export const ADDON_FUNCTIONS = [
  'version',
  'interfaceTimestamping',
  'udpOpen',
  'udpSend',
  'udpClose',
  'udpStats',
  'clockGettime',
  'phcOpen',
  'phcGettime',
  'phcAdjustFrequency',
  'phcFrequency',
  'phcStep',
  'phcClose',
  'sdNotify',
] as const satisfies readonly (keyof NativeAddon)[];

export type Capability = 'ptp-timestamping' | 'phc' | 'sd-notify';
export type Backend = 'native' | 'fallback';

export interface CapabilityStatus {
  readonly capability: Capability;
  readonly backend: Backend;
  readonly reason: string;
}

export interface NativeLoad {
  readonly addon: NativeAddon | null;
  /** Where the loader looked for the .node file. */
  readonly path: string;
  readonly capabilities: readonly CapabilityStatus[];
}
