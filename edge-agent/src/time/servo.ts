/**
 * The servo interface both servos implement, and the factory that picks one.
 * Sign convention: `offsetNs` is the disciplined clock minus the master
 * (positive: we are ahead); `freqPpb` is the absolute frequency correction to
 * apply to the clock (positive: run faster); `stepNs` is to be added to the
 * clock at once (only in JUMP).
 */
import { TimeError } from './errors.js';
import { PiServo, type PiServoOptions } from './servo-pi.js';
import { MedianServo, type MedianServoOptions } from './servo-median.js';

export type ServoKind = 'pi' | 'median';
export type ServoState = 'UNLOCKED' | 'JUMP' | 'LOCKED';

export interface ServoOutput {
  readonly state: ServoState;
  readonly freqPpb: number;
  readonly stepNs?: number;
}

export interface Servo {
  readonly kind: ServoKind;
  /** One offset measurement taken at local time `localNs` (increasing). */
  sample(offsetNs: number, localNs: bigint): ServoOutput;
  /** The master's sync interval in seconds (gains of the PI servo depend on it). */
  setSyncInterval(seconds: number): void;
  /** Forget everything but the current frequency (new master, or a fault). */
  reset(): void;
  readonly state: ServoState;
  readonly freqPpb: number;
}

export type ServoOptions = ({ kind: 'pi' } & PiServoOptions) | ({ kind: 'median' } & MedianServoOptions);

export function createServo(kind: ServoKind, options: PiServoOptions | MedianServoOptions = {}): Servo {
  if (kind === 'pi') return new PiServo(options as PiServoOptions);
  if (kind === 'median') return new MedianServo(options as MedianServoOptions);
  throw new TimeError('BAD_ARGUMENT', `servo kind must be 'pi' or 'median', got ${String(kind)}`);
}
