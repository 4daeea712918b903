/**
 * What the shell needs from the network: datagrams on the PTP event (319) and
 * general (320) ports with a receive stamp, transmit stamps for the event
 * messages it asks for, and the local time source those stamps are in.
 */
import type { Channel } from '../time/index.js';

/** hardware: the NIC's stamps (PHC time); software: the kernel's (CLOCK_REALTIME); user-space: read by Node on arrival. */
export type StampSource = 'hardware' | 'software' | 'user-space';

export interface PtpTransport {
  readonly stamps: StampSource;
  /** Why this backend, in one line (for the log and the capability report). */
  readonly reason: string;
  /** Local time (ns) in the stamps' clock. */
  nowNs(): bigint;
  /** Sends to the PTP multicast group; for event messages, the id that onTxStamp will carry. */
  send(channel: Channel, bytes: Uint8Array): number;
  onMessage(listener: (channel: Channel, bytes: Uint8Array, rxNs: bigint | null) => void): void;
  onTxStamp(listener: (id: number, txNs: bigint) => void): void;
  /** A socket failed: the port goes FAULTY. */
  onError(listener: (err: Error) => void): void;
  close(): void;
}

export interface TransportOptions {
  /** The interface PTP runs on (multicast membership, outgoing interface). */
  readonly interface: string;
  /** Default 224.0.1.129 (PTP primary). */
  readonly group?: string;
  /** Default 319 and 320; tests may move them. */
  readonly eventPort?: number;
  readonly generalPort?: number;
  /** Let another PTP instance on this host bind the same ports (multicast: each gets a copy). */
  readonly shareable?: boolean;
}

/**
 * What a master built on these stamps announces. Kernel and user-space stamps are CLOCK_REALTIME, which is UTC,
 * so the timescale is ARB (as ptp4l announces on a system clock); a PHC runs the PTP timescale (TAI).
 */
export function timePropertiesFor(stamps: StampSource): { flags: number } | undefined {
  return stamps === 'hardware' ? undefined : { flags: 0 };
}
