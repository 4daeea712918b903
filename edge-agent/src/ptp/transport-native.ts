/**
 * Kernel or NIC timestamps through the Rust addon: one SO_TIMESTAMPING socket
 * on the event port (RX stamps from control messages, TX stamps from the
 * error queue) and a plain one on the general port, both members of the PTP
 * group on one interface. With hardware stamps, local time is the interface's
 * PTP hardware clock (the stamps are in it); otherwise CLOCK_REALTIME.
 */
import { TimestampedSocket, fromAddonError, timespecToNs, type NativeAddon } from '../native/index.js';
import { EVENT_PORT, GENERAL_PORT, PTP_PRIMARY_MULTICAST, type Channel } from '../time/index.js';
import { PtpShellError } from './errors.js';
import type { PtpTransport, StampSource, TransportOptions } from './transport.js';

export interface NativeTransportOptions extends TransportOptions {
  /** 'auto': hardware when the interface offers it, else software. */
  readonly timestamping?: 'auto' | 'hardware' | 'software';
}

export function openNativeTransport(addon: NativeAddon, options: NativeTransportOptions): PtpTransport {
  const iface = options.interface;
  if (typeof iface !== 'string' || iface === '') throw new PtpShellError('BAD_ARGUMENT', 'native transport: interface must be a non-empty string');
  const group = options.group ?? PTP_PRIMARY_MULTICAST;
  const eventPort = options.eventPort ?? EVENT_PORT;
  const generalPort = options.generalPort ?? GENERAL_PORT;
  const common = { address: '0.0.0.0', interface: iface, multicastGroup: group, multicastLoop: false, multicastTtl: 1, reuseAddress: options.shareable === true };
  let event: TimestampedSocket | undefined;
  let general: TimestampedSocket | undefined;
  let phc: number | undefined;
  try {
    event = TimestampedSocket.open(addon, { ...common, port: eventPort, timestamping: options.timestamping ?? 'auto' });
    general = TimestampedSocket.open(addon, { ...common, port: generalPort, timestamping: 'none' });
    if (event.mode === 'hardware') {
      const index = addon.interfaceTimestamping(iface).phcIndex;
      if (index < 0) throw new PtpShellError('UNAVAILABLE', `${iface} stamps in hardware but reports no PTP hardware clock`);
      phc = addon.phcOpen(`/dev/ptp${index}`);
    }
  } catch (err) {
    event?.close();
    general?.close();
    throw err instanceof PtpShellError ? err : fromAddonError(err);
  }
  const ev = event;
  const gen = general;
  const stamps: StampSource = ev.mode === 'hardware' ? 'hardware' : 'software';
  const errorListeners: ((err: Error) => void)[] = [];
  // Sends leave from the socket's own thread (so that no thread sleeps on the socket while a stamp is taken);
  // their failures come back here.
  for (const socket of [ev, gen]) socket.onSendError((_id, err) => errorListeners.forEach((l) => l(err)));
  const now = (): bigint => {
    const [sec, nsec] = phc === undefined ? addon.clockGettime('realtime') : addon.phcGettime(phc);
    return timespecToNs(sec, nsec);
  };
  return {
    stamps,
    reason: `native ${stamps} timestamps on ${iface} (${ev.modeReason})`,
    nowNs: now,
    send(channel: Channel, bytes: Uint8Array): number {
      const socket = channel === 'event' ? ev : gen;
      try {
        return socket.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), group, channel === 'event' ? eventPort : generalPort);
      } catch (err) {
        const e = fromAddonError(err);
        for (const l of errorListeners) l(e);
        return -1;
      }
    },
    onMessage(listener) {
      ev.onMessage((m) => listener('event', m.data, m.rxNs));
      // General messages need no stamp; the port reads them at `nowNs`.
      gen.onMessage((m) => listener('general', m.data, null));
    },
    onTxStamp(listener) {
      ev.onTxTimestamp((t) => listener(t.id, t.txNs));
    },
    onError(listener) {
      errorListeners.push(listener);
    },
    close() {
      ev.close();
      gen.close();
      if (phc !== undefined) addon.phcClose(phc);
      phc = undefined;
    },
  };
}
