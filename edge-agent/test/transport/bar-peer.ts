/**
 * Child process of bar.test.ts, run with `node --import tsx`: listens on
 * 127.0.0.1:0, prints {port, publicKey} as one JSON line, runs exchange() with
 * whoever connects, prints its result as a second JSON line and exits when the
 * channel closes. Seeds and count come from the environment.
 */
import { generateKeyPair, toHex } from '../../src/identity/index.js';
import { ConnectionManager, Messenger } from '../../src/transport/index.js';
import { barRegistry, exchange } from './bar-plan.js';

const count = Number(process.env['BAR_COUNT']);
const ourSeed = Number(process.env['BAR_CHILD_SEED']);
const theirSeed = Number(process.env['BAR_PARENT_SEED']);

const keys = generateKeyPair();
const manager = new ConnectionManager({ secretKey: keys.secretKey, rateLimit: { messagesPerSec: Infinity, bytesPerSec: Infinity } });
const messenger = new Messenger({ manager, registry: barRegistry });

manager.onOpen((channel) => {
  channel.onClose(() => process.exit(0));
  exchange(messenger, channel.remotePeerId, ourSeed, theirSeed, count).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      process.stdout.write(`${JSON.stringify({ errors: [`child failed: ${String(err)}`] })}\n`);
      process.exit(1);
    },
  );
});

manager.listen('127.0.0.1:0').then(({ port }) => {
  process.stdout.write(`${JSON.stringify({ port, publicKey: toHex(keys.publicKey) })}\n`);
});
