/**
 * Picks the transport: the addon's kernel or hardware stamps when it loaded,
 * else Node's dgram with user-space stamps, and says which and why.
 */
import { loadNative, type NativeLoad } from '../native/index.js';
import { PtpShellError } from './errors.js';
import type { PtpTransport, TransportOptions } from './transport.js';
import { openDgramTransport } from './transport-dgram.js';
import { openNativeTransport } from './transport-native.js';

export type Timestamping = 'auto' | 'hardware' | 'software' | 'user-space';

export interface OpenTransportOptions extends TransportOptions {
  /** auto: hardware, else kernel software stamps, else user space (no addon). Default auto. */
  readonly timestamping?: Timestamping;
  /** The addon load to use (default: loadNative()). */
  readonly native?: NativeLoad;
}

export async function openTransport(options: OpenTransportOptions): Promise<PtpTransport> {
  const want = options.timestamping ?? 'auto';
  if (!['auto', 'hardware', 'software', 'user-space'].includes(want)) throw new PtpShellError('BAD_ARGUMENT', `timestamping must be auto, hardware, software or user-space, got ${String(want)}`);
  if (want === 'user-space') return openDgramTransport(options);
  const load = options.native ?? loadNative();
  const status = load.capabilities.find((c) => c.capability === 'ptp-timestamping');
  if (load.addon === null || status?.backend !== 'native') {
    const why = status?.reason ?? 'the native addon is not loaded';
    if (want !== 'auto') throw new PtpShellError('UNAVAILABLE', `${want} timestamps need the native addon: ${why}`);
    const t = await openDgramTransport(options);
    return { ...t, reason: `${t.reason}; ${why}` };
  }
  return openNativeTransport(load.addon, { ...options, timestamping: want });
}
