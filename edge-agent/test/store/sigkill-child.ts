/**
 * Child of sigkill.test.ts (not a test file itself): opens the log named on the
 * command line and appends to it until killed, with a few appends in flight so that
 * group commit batches them. Given an aim (NTH:MICROS) it SIGKILLs itself that long
 * into its nth big write, which the parent cannot time that finely through a pipe.
 * Protocol on stdout, one line each:
 *   opening                       about to open (and recover) the log
 *   ready RECORDS DROPPED_BYTES   opened; what recovery found
 *   w BYTES                       the log is about to write BYTES
 *   a INDEX                       append INDEX resolved, so it is on disk
 * Lines go out with a blocking write(2) on fd 1, not through process.stdout, which
 * queues writes in-process whenever the pipe is full, and a SIGKILL loses the queue.
 * Once say() returns, the line is in the kernel's pipe and reaches the parent even if
 * this process dies the next instant; if the parent is slow, this child waits.
 */
import { writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { AppendLog } from '../../src/store/index.js';
import { type Aim, BIG_WRITE, IN_FLIGHT, payloadFor } from './sigkill-shared.js';

const MAX_APPENDS = 2000;

const [path, seedText, aimText] = process.argv.slice(2);
const seed = Number(seedText);
if (path === undefined || !Number.isInteger(seed)) throw new Error('usage: sigkill-child LOG SEED [NTH:MICROS]');
const [nth, micros] = (aimText ?? '').split(':').map(Number);
const aim: Aim | null = aimText === undefined ? null : { nth: nth!, micros: micros! };

function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length; ) done += writeSync(1, bytes, done);
}
// Stay alive until killed, but never outlive the parent: its end of stdin closes when it dies.
process.stdin.on('end', () => process.exit(0)).resume();

/**
 * Test instrumentation around FileHandle.write, the log's only write: announce each
 * write ("w BYTES") just before it starts, so that the parent can aim kills at writes
 * in progress, and carry out this child's own aim, if it has one.
 */
async function watchWrites(): Promise<void> {
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => unknown };
  await probe.close();
  const write = proto.write;
  let big = 0;
  proto.write = function (this: unknown, ...args: unknown[]) {
    const bytes = Number(args[2]); // write(buffer, offset, length, position)
    say(`w ${bytes}`);
    const writing = Reflect.apply(write, this, args); // now under way in a libuv thread
    if (aim !== null && bytes >= BIG_WRITE && ++big === aim.nth) {
      const until = process.hrtime.bigint() + BigInt(aim.micros * 1000);
      while (process.hrtime.bigint() < until); // spin: a timer is far too coarse
      process.kill(process.pid, 'SIGKILL');
    }
    return writing;
  };
}
await watchWrites();

say('opening');
const { log, recovery } = await AppendLog.open(path);
say(`ready ${recovery.records} ${recovery.dropped?.bytes ?? 0}`);

let next = recovery.records;
const limit = next + MAX_APPENDS;
async function appender(): Promise<void> {
  while (next < limit) {
    const index = next++;
    const got = await log.append(payloadFor(seed, index));
    if (got !== index) throw new Error(`append ${index} resolved as ${got}`);
    say(`a ${index}`);
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, appender));
