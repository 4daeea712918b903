/**
 * The bar: two processes over real TCP exchange 10,000 messages each way at
 * the same time, 0 bytes to ~455 KiB (so some are fragmented), through the
 * whole stack (manager, channel, messenger envelopes). At one or more BOLT 8
 * messages per application message, each direction rotates its key at least
 * 20 times (every 500 messages). Nothing may be lost, duplicated, reordered
 * or changed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { generateKeyPair } from '../../src/identity/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { barRegistry, exchange, type ExchangeResult } from './bar-plan.js';

const COUNT = 10_000;
const PARENT_SEED = 1;
const CHILD_SEED = 2;

test('10,000 messages each way between two processes arrive once, in order, intact', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bar-peer.ts', import.meta.url))], {
    env: { ...process.env, BAR_COUNT: String(COUNT), BAR_CHILD_SEED: String(CHILD_SEED), BAR_PARENT_SEED: String(PARENT_SEED) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done === true) throw new Error(`the peer process ended early (exit ${String(await exited)})`);
    return line.value;
  };

  const keys = generateKeyPair();
  const manager = new ConnectionManager({ secretKey: keys.secretKey, rateLimit: { messagesPerSec: Infinity, bytesPerSec: Infinity } });
  const messenger = new Messenger({ manager, registry: barRegistry });
  try {
    const { port, publicKey } = JSON.parse(await next()) as { port: number; publicKey: string };
    const channel = await manager.dial(`${publicKey}@127.0.0.1:${port}`);
    const ours = await exchange(messenger, channel.remotePeerId, PARENT_SEED, CHILD_SEED, COUNT);
    const theirs = JSON.parse(await next()) as ExchangeResult;

    t.deepEqual(ours.errors, [], 'what the child sent arrived intact and in order');
    t.deepEqual(theirs.errors, [], 'what we sent arrived intact and in order');
    t.is(ours.received, COUNT);
    t.is(theirs.received, COUNT);
    t.true(ours.bytesReceived > 10 * 1024 * 1024, `${ours.bytesReceived} bytes received`);
    t.true(channel.isOpen, 'the channel stayed up throughout');
    t.deepEqual(manager.counters(), {}, 'no connection ended');
  } finally {
    messenger.close();
    await manager.close();
    child.kill();
    await exited;
  }
});
