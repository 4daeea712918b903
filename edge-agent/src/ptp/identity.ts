import { createHash } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { PtpShellError } from './errors.js';

/**
 * The clock identity of a port on `iface`: from its MAC as IEEE 1588 and ptp4l derive it (EUI-48 -> EUI-64 with
 * ff:fe in the middle); an interface without a MAC (lo, tun) gets the first 8 bytes of SHA-256 over host and
 * interface name, stable across restarts. Two PTP instances on one interface must not share it: `variant`
 * (0-255) replaces the fe (or the fifth byte) for a second one.
 */
export function clockIdentityFromMac(iface: string, variant?: number): Uint8Array {
  const list = networkInterfaces()[iface];
  if (list === undefined) throw new PtpShellError('NO_INTERFACE', `no network interface named ${iface}`);
  if (variant !== undefined && !(Number.isInteger(variant) && variant >= 0 && variant <= 255)) throw new PtpShellError('BAD_ARGUMENT', 'clock identity variant must be an integer in [0, 255]');
  const mac = list.find((a) => a.mac !== '00:00:00:00:00:00')?.mac;
  if (mac === undefined) {
    const id = Uint8Array.from(createHash('sha256').update(`${hostname()}\0${iface}`).digest().subarray(0, 8));
    if (variant !== undefined) id[4] = variant;
    return id;
  }
  const b = mac.split(':').map((h) => parseInt(h, 16));
  return Uint8Array.from([b[0]!, b[1]!, b[2]!, 0xff, variant ?? 0xfe, b[3]!, b[4]!, b[5]!]);
}
