/**
 * The fallback without the addon: Node's dgram sockets, stamped in user space
 * when the 'message' event runs and when send's callback runs. Event-loop
 * latency lands in every stamp (measured here at ~250 µs RMS against ptp4l),
 * so this backend reports itself as degraded.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { EVENT_PORT, GENERAL_PORT, PTP_PRIMARY_MULTICAST, type Channel } from '../time/index.js';
import { PtpShellError } from './errors.js';
import type { PtpTransport, TransportOptions } from './transport.js';

/** CLOCK_REALTIME in ns from the monotonic high-resolution clock, anchored once (ms-accurate anchor, µs steps). */
function realtimeNs(): () => bigint {
  const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => anchor + process.hrtime.bigint();
}

export function ipv4Of(iface: string): string {
  const list = networkInterfaces()[iface];
  if (list === undefined) throw new PtpShellError('NO_INTERFACE', `no network interface named ${iface}`);
  const v4 = list.find((a) => a.family === 'IPv4');
  if (v4 === undefined) throw new PtpShellError('NO_INTERFACE', `${iface} has no IPv4 address (PTP runs over UDPv4)`);
  return v4.address;
}

async function bindSocket(port: number, address: string, group: string, shareable: boolean): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: shareable });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.addMembership(group, address);
  socket.setMulticastInterface(address);
  socket.setMulticastLoopback(false);
  socket.setMulticastTTL(1);
  return socket;
}

export async function openDgramTransport(options: TransportOptions): Promise<PtpTransport> {
  const iface = options.interface;
  if (typeof iface !== 'string' || iface === '') throw new PtpShellError('BAD_ARGUMENT', 'dgram transport: interface must be a non-empty string');
  const address = ipv4Of(iface);
  const group = options.group ?? PTP_PRIMARY_MULTICAST;
  const eventPort = options.eventPort ?? EVENT_PORT;
  const generalPort = options.generalPort ?? GENERAL_PORT;
  const now = realtimeNs();
  const event = await bindSocket(eventPort, address, group, options.shareable === true);
  let general: Socket;
  try {
    general = await bindSocket(generalPort, address, group, options.shareable === true);
  } catch (err) {
    event.close();
    throw err;
  }
  let nextId = 0;
  const txListeners: ((id: number, txNs: bigint) => void)[] = [];
  const errorListeners: ((err: Error) => void)[] = [];
  for (const s of [event, general]) s.on('error', (err) => errorListeners.forEach((l) => l(err)));
  return {
    stamps: 'user-space',
    reason: `user-space stamps on ${iface} (Node dgram; the native addon is not in use): degraded precision`,
    nowNs: now,
    send(channel: Channel, bytes: Uint8Array): number {
      const id = nextId++;
      const socket = channel === 'event' ? event : general;
      socket.send(bytes, channel === 'event' ? eventPort : generalPort, group, (err) => {
        if (err) errorListeners.forEach((l) => l(err));
        else if (channel === 'event') for (const l of txListeners) l(id, now());
      });
      return id;
    },
    onMessage(listener) {
      event.on('message', (msg) => listener('event', msg, now()));
      general.on('message', (msg) => listener('general', msg, null));
    },
    onTxStamp(listener) {
      txListeners.push(listener);
    },
    onError(listener) {
      errorListeners.push(listener);
    },
    close() {
      for (const s of [event, general]) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
    },
  };
}
