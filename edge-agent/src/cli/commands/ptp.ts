/**
 * `edge-agent ptp`: one PTP port on one interface, as a standalone process.
 * It prints one JSON line per state change and per offset sample, and a
 * summary at the end; what the interop tests and the ptp-interop benchmark
 * read. It never adjusts a system or hardware clock: the servo disciplines
 * the agent's own virtual clock only.
 */
import { describeCapabilities, loadNative } from '../../native/index.js';
import { PtpNode, clockIdentityFromMac, openTransport, timePropertiesFor, type Timestamping } from '../../ptp/index.js';
import type { ServoKind } from '../../time/index.js';
import { intOption, parse } from '../args.js';
import { UsageError } from '../errors.js';

const ROLES = ['auto', 'master', 'slave'] as const;
const SERVOS: readonly ServoKind[] = ['pi', 'median'];
const STAMPS: readonly Timestamping[] = ['auto', 'hardware', 'software', 'user-space'];

const line = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
};

export async function ptp(args: string[]): Promise<number> {
  const { values } = parse(args, {
    interface: { type: 'string' },
    role: { type: 'string' },
    servo: { type: 'string' },
    timestamping: { type: 'string' },
    'log-sync-interval': { type: 'string' },
    domain: { type: 'string' },
    priority1: { type: 'string' },
    duration: { type: 'string' },
    'identity-variant': { type: 'string' },
    shareable: { type: 'boolean' },
  });
  const iface = values.interface;
  if (iface === undefined) throw new UsageError('ptp: --interface IF is required');
  const role = (values.role ?? 'auto') as (typeof ROLES)[number];
  if (!ROLES.includes(role)) throw new UsageError(`ptp: --role must be one of ${ROLES.join(', ')}`);
  const servo = (values.servo ?? 'pi') as ServoKind;
  if (!SERVOS.includes(servo)) throw new UsageError(`ptp: --servo must be one of ${SERVOS.join(', ')}`);
  const timestamping = (values.timestamping ?? 'auto') as Timestamping;
  if (!STAMPS.includes(timestamping)) throw new UsageError(`ptp: --timestamping must be one of ${STAMPS.join(', ')}`);
  const logSyncInterval = intOption('log-sync-interval', values['log-sync-interval'], -7, 4) ?? -3;
  const domain = intOption('domain', values.domain, 0, 255) ?? 0;
  const priority1 = intOption('priority1', values.priority1, 0, 255) ?? 128;
  const duration = intOption('duration', values.duration, 1, 86_400);
  const variant = intOption('identity-variant', values['identity-variant'], 0, 255);

  const native = loadNative();
  for (const c of describeCapabilities(native)) line({ event: 'ptp.capability', detail: c });
  const transport = await openTransport({ interface: iface, timestamping, native, shareable: values.shareable === true });
  line({ event: 'ptp.backend', stamps: transport.stamps, reason: transport.reason });
  const node = new PtpNode({
    transport,
    port: {
      clockIdentity: clockIdentityFromMac(iface, variant),
      domain,
      priority1,
      logSyncInterval,
      logMinDelayReqInterval: logSyncInterval,
      logAnnounceInterval: 0,
      slaveOnly: role === 'slave',
      masterOnly: role === 'master',
      servo,
      ...(timePropertiesFor(transport.stamps) === undefined ? {} : { timeProperties: timePropertiesFor(transport.stamps) }),
    },
    onState: (s) => line({ event: 'ptp.state', from: s.from, to: s.to, reason: s.reason }),
    onSample: (s, n) =>
      line({
        event: 'ptp.sample',
        seq: s.sequenceId,
        offsetNs: s.offsetNs,
        delayNs: s.meanPathDelayNs,
        servo: s.servoState,
        freqPpb: s.freqPpb,
        stepNs: s.stepNs,
        t1: s.t1,
        t2: s.t2,
        t3: s.t3,
        t4: s.t4,
        // PTP time minus local time after this sample: in a lab where both ends share one clock, pure error.
        clockOffsetNs: Number(n.offsetNs()),
      }),
  });
  node.start();
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      clearTimeout(timer);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    if (duration !== undefined) timer = setTimeout(stop, duration * 1000);
  });
  const stats = node.stats();
  node.close();
  line({ event: 'ptp.stopped', ...stats });
  return 0;
}
